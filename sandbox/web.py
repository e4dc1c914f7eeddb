"""The demo's page: phones in the browser, live over server-sent events.

Served by the same aiohttp server as the local Bot API. The page gets a snapshot when it
connects and then every change as it happens; what a person does on a phone comes back
as an update the bot polls for, exactly as from Telegram.

Two kinds of language. The page's own words (headings, buttons, hints, refusals) are the
catalogs' ``demo_*`` texts in the browser's language (its Accept-Language: the first
language the bot ships, else English). Each phone has its person's Telegram app language,
picked on the phone (🌐) and sent as ``language_code`` with everything they do, so the bot
answers each of them in theirs.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from importlib import resources
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from babel import Locale

from bot import i18n
from bot.qr import decode
from handlers.texts import EN, t, template
from sandbox.botapi import MAX_TEXT, MAX_UPLOAD, ApiError, SentMessage
from sandbox.view import bot_message, text_nodes, typed_message

if TYPE_CHECKING:
    from sandbox.demo import Demo, Phone

logger = logging.getLogger(__name__)

STATIC = {"app.js": "text/javascript", "app.css": "text/css"}
KEEP_ALIVE_SECONDS = 15
# Rejections the bot expects and handles (an edit that changes nothing counts as done):
# they would not fail in production, so the page does not show them as failures.
HANDLED = ("message is not modified",)
# The languages a phone's Telegram app can be set to: each shipped language, by the tag
# Telegram sends as the person's language_code ("pt-br").
PHONE_LANGUAGES: Final = {language.replace("_", "-").lower(): language for language in i18n.SHIPPED}
# The page's own texts, sent to it as templates: their values (names, roles) are filled in
# by the page, which shows them as text, never as HTML.
PAGE_TEXTS: Final = tuple(key for key in EN if key.startswith("demo_"))


class Page:
    """The page's routes, and the events every open page receives."""

    def __init__(self, demo: Demo) -> None:
        self.demo = demo
        self.clients: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._qr: dict[str, str | None] = {}  # file id → what its QR code says
        self.rejections: list[dict[str, Any]] = []
        demo.fake.listeners.append(self._on_telegram)

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/events", self._events)
        app.router.add_get("/api/state", self._state)
        app.router.add_get("/api/labels", self._labels)
        app.router.add_get("/files/{file_id}", self._file)
        app.router.add_post("/api/reset", self._reset)
        app.router.add_post("/api/phones", self._add_phone)
        app.router.add_post("/api/phones/{phone}/text", self._text)
        app.router.add_post("/api/phones/{phone}/press", self._press)
        app.router.add_post("/api/phones/{phone}/scan", self._scan)
        app.router.add_post("/api/phones/{phone}/open", self._open)
        app.router.add_post("/api/phones/{phone}/photo", self._photo)
        app.router.add_post("/api/phones/{phone}/language", self._language)
        app.on_shutdown.append(self._close_streams)
        return app

    # -- what the phones show ------------------------------------------------------------

    def qr_text(self, file_id: str | None, content: bytes | None) -> str | None:
        if not file_id or content is None:
            return None
        if file_id not in self._qr:
            found = decode(content)
            self._qr[file_id] = found[0] if len(found) == 1 else None
        return self._qr[file_id]

    def bot_view(self, message: SentMessage) -> dict[str, Any]:
        scannable = self.qr_text(message.photo_file_id, message.photo) is not None
        return bot_message(message, scannable=scannable)

    def timeline(self, chat_id: int) -> list[dict[str, Any]]:
        fake = self.demo.fake
        views = [self.bot_view(m) for m in fake.sent.get(chat_id, []) if not m.deleted]
        views += [typed_message(m) for m in fake.inbox.get(chat_id, [])]
        return sorted(views, key=lambda view: int(view["id"]))

    def menu(self, phone: Phone) -> list[dict[str, Any]]:
        """The commands the phone's menu shows, as Telegram picks them for its app's
        language (menus are set per ISO 639-1 language: "pt-br" reads "pt")."""
        return self.demo.fake.menu(phone.id, self.demo.language_of(phone).split("-")[0])

    def phone_state(self, phone: Phone) -> dict[str, Any]:
        return {
            "id": phone.id,
            "name": phone.name,
            "role": phone.role,
            "language": self.demo.language_of(phone),
            "menu": self.menu(phone),
            "messages": self.timeline(phone.id),
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "type": "snapshot",
            "cafe": self.demo.fake.name,
            "bot": self.demo.fake.username,
            "phones": [self.phone_state(p) for p in self.demo.phones],
            "rejections": self.rejections,
        }

    # -- events ----------------------------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        for queue in self.clients:
            queue.put_nowait(event)

    def publish_snapshot(self) -> None:
        self.rejections = [
            r for r in self.rejections if r["phone"] is None or self.demo.phone(r["phone"])
        ]
        self.publish(self.snapshot())

    def forget(self) -> None:
        """After a reset: no old rejections, no old files' codes."""
        self.rejections.clear()
        self._qr.clear()

    def _on_telegram(self, event: str, data: dict[str, Any]) -> None:
        """Turn what the local Bot API did into what the open pages show."""
        if event == "sent":
            message: SentMessage = data["message"]
            if self.demo.phone(message.chat_id):
                view = self.bot_view(message)
                self.publish({"type": "message", "phone": message.chat_id, "message": view})
        elif event == "deleted":
            gone: SentMessage = data["message"]
            self.publish({"type": "remove", "phone": gone.chat_id, "id": gone.message_id})
        elif event == "typed" and self.demo.phone(data["chat_id"]):
            view = typed_message(data["message"])
            self.publish({"type": "message", "phone": data["chat_id"], "message": view})
        elif event == "answered" and data["answer"].get("text"):
            answer = data["answer"]
            alert = str(answer.get("show_alert", "")).lower() == "true"
            self.publish(
                {"type": "toast", "phone": data["chat_id"], "text": answer["text"], "alert": alert}
            )
        elif event == "commands":
            for phone in self.demo.phones:
                self.publish({"type": "menu", "phone": phone.id, "commands": self.menu(phone)})
        elif event == "rejected":
            self._rejected(data["chat_id"], data["method"], data["error"])

    def _rejected(self, chat_id: int | None, method: str, error: ApiError) -> None:
        if any(text in error.description for text in HANDLED):
            return
        if chat_id is not None and self.demo.phone(chat_id) is None:
            return  # a seeded regular's chat: not on the page
        rejection = {
            "type": "rejected",
            "phone": chat_id,
            "method": method,
            "code": error.code,
            "description": error.description,
        }
        self.rejections.append(rejection)
        self.publish(rejection)

    async def _events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: a snapshot first, then each change."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.clients.add(queue)
        try:
            await _write_event(response, self.snapshot())
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEP_ALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if event is None:
                    break
                await _write_event(response, event)
        except ConnectionResetError:
            pass  # the page was closed
        finally:
            self.clients.discard(queue)
        return response

    async def _close_streams(self, app: web.Application) -> None:
        for queue in self.clients:
            queue.put_nowait(None)

    # -- pages and files -----------------------------------------------------------------

    async def _index(self, request: web.Request) -> web.Response:
        return web.Response(text=_asset("index.html"), content_type="text/html")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        return web.Response(text=_asset(name), content_type=STATIC[name])

    async def _state(self, request: web.Request) -> web.Response:
        return web.json_response(self.snapshot())

    async def _labels(self, request: web.Request) -> web.Response:
        """The page's own words in the browser's language, and the phones' languages."""
        reader = page_language(request)
        customer = next(p for p in self.demo.phones if p.role == "customer")
        barista = next(p for p in self.demo.phones if p.role == "barista")
        hint = t(reader, "demo_hint", customer=customer.name, barista=barista.name)
        return web.json_response(
            {
                "language": reader.replace("_", "-"),
                "dir": "rtl" if Locale.parse(reader).character_order == "right-to-left" else "ltr",
                "labels": {key.removeprefix("demo_"): template(reader, key) for key in PAGE_TEXTS},
                "hint": text_nodes(hint, "HTML"),
                "languages": [
                    {"code": code, "name": i18n.own_name(language)}
                    for code, language in PHONE_LANGUAGES.items()
                ],
            }
        )

    async def _file(self, request: web.Request) -> web.Response:
        content = self.demo.fake.files.get(request.match_info["file_id"])
        if content is None:
            raise web.HTTPNotFound()
        name = request.query.get("name")
        if name:
            safe = re.sub(r"[^\w.\-]", "_", name)
            disposition = {"Content-Disposition": f'attachment; filename="{safe}"'}
            return web.Response(body=content, headers=disposition)
        kind = "image/png" if content.startswith(b"\x89PNG") else "image/jpeg"
        return web.Response(body=content, content_type=kind)

    # -- what people do ------------------------------------------------------------------

    async def _phone(self, request: web.Request) -> Phone:
        if self.demo.busy.locked():
            raise _refuse(request, 409, "demo_refused_resetting")
        try:
            phone = self.demo.phone(int(request.match_info["phone"]))
        except ValueError:
            phone = None
        if phone is None or self.demo.app is None:
            raise _refuse(request, 404, "demo_refused_no_phone")
        return phone

    async def _body(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _refuse(request, 400, "demo_refused_not_json") from None
        if not isinstance(body, dict):
            raise _refuse(request, 400, "demo_refused_not_object")
        return body

    async def _text(self, request: web.Request) -> web.Response:
        phone = await self._phone(request)
        text = str((await self._body(request)).get("text", "")).strip()
        if not text:
            raise _refuse(request, 400, "demo_refused_empty_text")
        if len(text) > MAX_TEXT:
            raise _refuse(request, 400, "demo_refused_too_long", limit=MAX_TEXT)
        self.demo.fake.push_update(self.demo.user(phone).text_update(text))
        return _accepted()

    async def _press(self, request: web.Request) -> web.Response:
        phone = await self._phone(request)
        body = await self._body(request)
        message = self._message(request, phone.id, body.get("message_id"))
        data = str(body.get("data", ""))
        buttons = [b.callback_data for b in message.buttons]
        if data not in buttons:
            raise _refuse(request, 400, "demo_refused_button_gone")
        self.demo.fake.push_update(
            {"callback_query": self.demo.user(phone).callback(message, data)}
        )
        return _accepted()

    async def _scan(self, request: web.Request) -> web.Response:
        """Point this phone's camera at a QR code on another phone."""
        phone = await self._phone(request)
        body = await self._body(request)
        shown_on = self.demo.phone(int(body.get("chat_id") or 0))
        if shown_on is None:
            raise _refuse(request, 404, "demo_refused_no_phone")
        message = self._message(request, shown_on.id, body.get("message_id"))
        link = self.qr_text(message.photo_file_id, message.photo)
        if link is None:
            raise _refuse(request, 400, "demo_refused_no_qr")
        return self._follow(request, phone, link)

    async def _open(self, request: web.Request) -> web.Response:
        """Tap a t.me link in a message, as Telegram opens it: in this bot's chat."""
        phone = await self._phone(request)
        return self._follow(request, phone, str((await self._body(request)).get("url", "")))

    def _follow(self, request: web.Request, phone: Phone, link: str) -> web.Response:
        found = re.fullmatch(
            rf"https://t\.me/{re.escape(self.demo.fake.username)}(?:\?start=([A-Za-z0-9_-]{{1,64}}))?",
            link,
        )
        if found is None:
            raise _refuse(request, 400, "demo_refused_other_bot", link=link[:80])
        command = f"/start {found.group(1)}" if found.group(1) else "/start"
        self.demo.fake.push_update(self.demo.user(phone).text_update(command))
        return _accepted()

    async def _photo(self, request: web.Request) -> web.Response:
        phone = await self._phone(request)
        form = await request.post()
        upload = form.get("photo")
        if not isinstance(upload, web.FileField):
            raise _refuse(request, 400, "demo_refused_no_photo")
        image = upload.file.read()
        if not image:
            raise _refuse(request, 400, "demo_refused_empty_photo")
        self.demo.fake.push_update(self.demo.user(phone).photo_update(image))
        return _accepted()

    async def _language(self, request: web.Request) -> web.Response:
        """Set the language of a phone's Telegram app: the bot reads it from what the
        person does next, as from a real phone whose settings were changed."""
        phone = await self._phone(request)
        code = str((await self._body(request)).get("language", ""))
        if code not in PHONE_LANGUAGES:
            raise _refuse(request, 400, "demo_refused_language")
        self.demo.languages[phone.id] = code
        self.publish({"type": "language", "phone": phone.id, "language": code})
        self.publish({"type": "menu", "phone": phone.id, "commands": self.menu(phone)})
        return _accepted()

    async def _reset(self, request: web.Request) -> web.Response:
        if self.demo.busy.locked():
            raise _refuse(request, 409, "demo_refused_already_resetting")
        await self.demo.reset()
        return _accepted()

    async def _add_phone(self, request: web.Request) -> web.Response:
        phone = await self.demo.add_customer()
        return web.json_response({"id": phone.id, "name": phone.name}, status=201)

    def _message(self, request: web.Request, chat_id: int, message_id: object) -> SentMessage:
        try:
            wanted = int(str(message_id))
        except ValueError:
            raise _refuse(request, 400, "demo_refused_no_message") from None
        for message in self.demo.fake.sent.get(chat_id, []):
            if message.message_id == wanted and not message.deleted:
                return message
        raise _refuse(request, 404, "demo_refused_message_gone")


def _asset(name: str) -> str:
    return (resources.files("sandbox") / "static" / name).read_text(encoding="utf-8")


async def _write_event(response: web.StreamResponse, event: dict[str, Any]) -> None:
    await response.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())


def _accepted() -> web.Response:
    return web.json_response({"ok": True}, status=202)


_REFUSALS: dict[int, type[web.HTTPException]] = {
    400: web.HTTPBadRequest,
    404: web.HTTPNotFound,
    409: web.HTTPConflict,
}


def _refuse(request: web.Request, status: int, key: str, **values: object) -> web.HTTPException:
    """A refusal the page shows to the person, in words of the page's language."""
    message = page_text(page_language(request), key, **values)
    return _REFUSALS[status](text=json.dumps({"error": message}), content_type="application/json")


def page_text(reader: str, key: str, /, **values: object) -> str:
    """A page text as plain text: the page shows it as text (never as HTML), so what
    ``t`` escaped for Telegram's HTML is unescaped again."""
    return html.unescape(t(reader, key, **values))


def page_language(request: web.Request) -> str:
    """The page's language: the browser's first language (by its Accept-Language and
    their weights) that the bot ships, else English."""
    wanted: list[tuple[float, int, str]] = []
    for position, part in enumerate(request.headers.get("Accept-Language", "").split(",")):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if tag and tag != "*" and weight > 0:
            wanted.append((-weight, position, tag))
    for _, _, tag in sorted(wanted):
        language = i18n.shipped_language(tag)
        if language is not None:
            return language
    return i18n.ENGLISH
