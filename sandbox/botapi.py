"""A local Telegram Bot API server: the test suite's fake and the demo's Telegram.

The real ``Application`` talks to it over HTTP on 127.0.0.1 (``TELEGRAM_API_URL``). It
keeps what the bot sent per chat (and what each user typed), hands out updates through
long-polling ``getUpdates``, and rejects what Telegram rejects: over-long texts and
captions, HTML it cannot parse, callback data over 64 bytes, unknown chats and blocked
users. Listeners (the demo's page) hear of every message, edit and rejected request.

Webhooks, as Telegram delivers them: after ``setWebhook`` with a ``url`` the updates the
simulated people produce are POSTed as JSON to that URL (with
``X-Telegram-Bot-Api-Secret-Token`` when a ``secret_token`` was set) instead of waiting for
``getUpdates``, which then answers 409 Conflict. One chat's updates go one at a time, in
order; different chats' go side by side, at most ``max_connections`` (default 40) at once.
An update whose POST gets no 2xx (an error status, a refused or dropped connection, a
timeout) is sent again after a growing back-off, for as long as the webhook is set: it is
never dropped. ``deleteWebhook`` stops delivery and leaves what was not delivered for
``getUpdates`` (unless ``drop_pending_updates``); ``getWebhookInfo`` reports the URL, the
pending count and the last error. ``webhook_stats`` counts deliveries, redeliveries and
failed attempts, and each update's attempts. Unlike Telegram the fake accepts plain http
to a loopback address (tests run their endpoint on 127.0.0.1), and it never reaches out
to any other host: a webhook elsewhere is recorded but nothing is delivered.

``allow_paid_broadcast=true`` on a send is judged against its own limit of 1,000 messages
a second instead of the free 30 (when a test turns flood limits on); ``paid_messages``
counts such messages and ``paid_charged`` those Telegram would bill (0.1 Star each, for
every message beyond the free 30 in a second).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import html
import ipaddress
import itertools
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from telegram import Update

from bot.telegram.concurrency import ChatOrderedProcessor

TOKEN = "123456:TEST-token-never-logged"
BOT_ID = 123456
BOT_USERNAME = "CafeTestBot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_UPLOAD = 50 * 1024 * 1024  # the Bot API's limit for a file the bot sends
FREE_PER_SECOND = 30  # messages a second Telegram sends for free; beyond, paid broadcasts cost
PAID_PER_SECOND = 1000  # the limit for messages sent with allow_paid_broadcast
STAR_PER_PAID_MESSAGE = Decimal("0.1")
WEBHOOK_PORTS = {80, 88, 443, 8443}  # the only ports Telegram posts to
WEBHOOK_MAX_CONNECTIONS = 40  # setWebhook's default; Telegram clamps it to 1..100
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]*")
# Sent only to a bot that asks for them by name in allowed_updates.
_NOT_BY_DEFAULT = {"chat_member", "message_reaction", "message_reaction_count"}
_JSON_FIELDS = {
    "reply_markup",
    "entities",
    "caption_entities",
    "commands",
    "scope",
    "allowed_updates",
    "media",
    "link_preview_options",
}
_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote", "tg-emoji",
}  # fmt: skip


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _flag(value: Any) -> bool:
    """A boolean parameter, sent as JSON ``true`` or as the form field ``"true"``."""
    return value is True or str(value).lower() == "true"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class WebhookStats:
    """What webhook delivery did, for tests to assert."""

    delivered: int = 0  # updates the endpoint acknowledged with a 2xx
    redelivered: int = 0  # of those, the ones that needed more than one attempt
    failed_attempts: int = 0  # POSTs that got no 2xx: error status, refused, dropped, timeout
    filtered: int = 0  # updates not created because allowed_updates left their kind out
    peak_in_flight: int = 0  # the most POSTs in flight at once
    attempts: dict[int, int] = field(default_factory=dict)  # update_id -> POSTs made
    errors: list[tuple[int, str]] = field(default_factory=list)  # (update_id, what went wrong)


@dataclass
class _Webhook:
    """A webhook set by setWebhook, and the state of its delivery."""

    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    deliverable: bool  # a loopback address: the fake never reaches out to the network
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    in_flight: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    failures: dict[int, int] = field(default_factory=dict)  # update_id -> failed attempts
    retry_at: dict[int, float] = field(default_factory=dict)  # update_id -> loop time
    last_error_date: int | None = None
    last_error_message: str | None = None

    def wants(self, update: dict[str, Any]) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _NOT_BY_DEFAULT


def _update_queue(update: dict[str, Any]) -> object:
    """Telegram's delivery queue for an update: one per chat (a button press goes with its
    presser's private chat); an update of no chat goes on its own."""
    for kind in ("message", "edited_message", "my_chat_member", "chat_member"):
        chat = (update.get(kind) or {}).get("chat") or {}
        if "id" in chat:
            return ("chat", chat["id"])
    presser = (update.get("callback_query") or {}).get("from") or {}
    if "id" in presser:
        return ("chat", presser["id"])
    return ("update", update["update_id"])


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


class _StrictHtml(HTMLParser):
    """Parses Telegram's HTML subset the way the Bot API does, collecting the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported start tag {tag!r}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected end tag {tag!r}")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def plain_text(text: str, parse_mode: str | None) -> str:
    """What the user sees: the text with HTML markup parsed away (rejecting bad HTML)."""
    if parse_mode is None or parse_mode.upper() != "HTML":
        return text
    if "<" in text and text.count("<") != text.count(">"):
        raise ApiError(400, "Bad Request: can't parse entities: unclosed tag")
    if re.search(r"&(?!#?\w+;)", text):
        raise ApiError(400, "Bad Request: can't parse entities: unescaped '&'")
    parser = _StrictHtml()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise ApiError(400, "Bad Request: can't parse entities: unclosed tag")
    return html.unescape("".join(parser.text))


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent, as the user's phone would show it."""

    chat_id: int
    message_id: int
    method: str
    text: str | None = None
    caption: str | None = None
    photo: bytes | None = None
    photo_file_id: str | None = None
    document: bytes | None = None
    document_name: str | None = None
    document_file_id: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    silent: bool = False
    edits: int = 0
    deleted: bool = False

    @property
    def body(self) -> str:
        """Visible text (or caption) with markup removed."""
        raw = self.text if self.text is not None else (self.caption or "")
        return plain_text(raw, self.parse_mode)

    @property
    def raw(self) -> str:
        return self.text if self.text is not None else (self.caption or "")

    @property
    def buttons(self) -> list[Button]:
        markup = self.reply_markup or {}
        rows = markup.get("inline_keyboard") or []
        return [
            Button(b["text"], b.get("callback_data"), b.get("url")) for row in rows for b in row
        ]

    @property
    def keyboard(self) -> list[str]:
        markup = self.reply_markup or {}
        rows = markup.get("keyboard") or []
        return [b["text"] if isinstance(b, dict) else b for row in rows for b in row]

    def button(self, label_part: str) -> Button:
        for candidate in self.buttons:
            if label_part in candidate.text:
                return candidate
        raise AssertionError(f"no button containing {label_part!r} in {self.buttons}")

    def __contains__(self, needle: str) -> bool:
        return needle in self.body


class TrackingProcessor(ChatOrderedProcessor):
    """The production processor (chats side by side, each in order), reporting when each
    update is done."""

    def __init__(self, fake: FakeTelegram, max_concurrent_updates: int = 32) -> None:
        super().__init__(max_concurrent_updates)
        self._fake = fake

    async def handle(self, update: object, coroutine: Any) -> None:
        try:
            await coroutine
        finally:
            if isinstance(update, Update):
                self._fake.mark_processed(update.update_id)


@dataclass
class FakeUser:
    """A Telegram user in a private chat with the bot."""

    fake: FakeTelegram
    id: int
    first_name: str
    username: str | None = None
    language_code: str = "en"

    @property
    def chat_id(self) -> int:
        return self.id

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            data["username"] = self.username
        return data

    @property
    def messages(self) -> list[SentMessage]:
        return [m for m in self.fake.sent[self.chat_id] if not m.deleted]

    @property
    def last(self) -> SentMessage:
        assert self.messages, f"the bot sent nothing to {self.first_name}"
        return self.messages[-1]

    def message(self, **content: Any) -> dict[str, Any]:
        """A message from this user, as Telegram puts it in an update."""
        return {
            "message_id": self.fake.next_message_id(self.chat_id),
            "date": int(time.time()),
            "chat": {"id": self.chat_id, "type": "private", "first_name": self.first_name},
            "from": self.as_json(),
            **content,
        }

    async def _deliver(self, update: dict[str, Any], timeout: float) -> list[SentMessage]:
        before = len(self.fake.sent[self.chat_id])
        update_id = self.fake.push_update(update)
        await self.fake.wait_processed(update_id, timeout)
        return self.fake.sent[self.chat_id][before:]

    def text_update(self, text: str) -> dict[str, Any]:
        """Typing ``text``, as Telegram delivers it (a command gets its entity)."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split()[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        return {"message": self.message(**content)}

    def photo_update(self, image: bytes, caption: str | None = None) -> dict[str, Any]:
        """Sending a photo, stored like Telegram stores it (a file id to fetch)."""
        file_id = self.fake.store_file(image)
        content: dict[str, Any] = {
            "photo": [
                {
                    "file_id": file_id,
                    "file_unique_id": file_id[-8:],
                    "width": 512,
                    "height": 512,
                    "file_size": len(image),
                }
            ]
        }
        if caption:
            content["caption"] = caption
        return {"message": self.message(**content)}

    async def send(self, text: str, timeout: float = 10) -> list[SentMessage]:
        """Type a message; returns what the bot sent to this chat while handling it."""
        return await self._deliver(self.text_update(text), timeout)

    async def send_photo(self, image: bytes, caption: str | None = None) -> list[SentMessage]:
        return await self._deliver(self.photo_update(image, caption), timeout=10)

    async def press(self, message: SentMessage, label_part: str) -> list[SentMessage]:
        """Tap the inline button whose label contains ``label_part``."""
        button = message.button(label_part)
        assert button.callback_data is not None, f"{button.text!r} is not a callback button"
        return await self.press_data(message, button.callback_data)

    async def press_data(self, message: SentMessage, data: str) -> list[SentMessage]:
        update = {"callback_query": self.callback(message, data)}
        return await self._deliver(update, timeout=10)

    def callback(self, message: SentMessage, data: str) -> dict[str, Any]:
        return {
            "id": str(next(self.fake.ids)),
            "from": self.as_json(),
            "chat_instance": str(self.chat_id),
            "data": data,
            "message": self.fake.message_json(message),
        }

    def block(self) -> None:
        self.fake.blocked.add(self.chat_id)


Listener = Callable[[str, dict[str, Any]], None]


class FakeTelegram:
    """The fake Bot API server. ``await start()``, then point TELEGRAM_API_URL at ``url``."""

    def __init__(
        self,
        token: str = TOKEN,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        username: str = BOT_USERNAME,
        name: str = "Café Test",
    ) -> None:
        self.token = token
        self.monotonic = monotonic  # the clock flood limits are judged by
        self.username = username
        self.name = name
        self.listeners: list[Listener] = []
        self._runner: web.AppRunner | None = None
        self.url = ""
        self._hook: _Webhook | None = None
        # Webhook redelivery waits real time, not ``monotonic``: the endpoint is a real
        # socket, and a test's fake clock moves only when the test moves it, so a back-off
        # on it would wait forever. Telegram waits seconds; these are milliseconds (doubling
        # from the base up to the cap) so tests stay fast, and tests assert counts, never
        # how long anything took.
        self.webhook_retry_base = 0.01
        self.webhook_retry_cap = 2.0
        self.webhook_timeout = 10.0  # seconds a POST may take before it counts as failed
        # File and query ids stay unique across resets: a page never sees an old file
        # under a new file's id.
        self.ids = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        """Forget every chat, message, file and update, as a brand-new Telegram."""
        self.updates: list[dict[str, Any]] = []
        self._update_added = asyncio.Event()
        self._next_update_id = 1
        self._processed: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._message_ids: dict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self.sent: dict[int, list[SentMessage]] = defaultdict(list)
        self.inbox: dict[int, list[dict[str, Any]]] = defaultdict(list)  # what users typed
        self._callback_chats: dict[str, int] = {}
        self.files: dict[str, bytes] = {}
        self.known_chats: set[int] = set()
        self.blocked: set[int] = set()
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.callback_answers: list[dict[str, Any]] = []
        self.uploads = 0
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, ApiError]] = []
        self.expected_error_codes: set[int] = set()
        self.expected_errors: set[str] = set()  # substrings of descriptions a test expects
        self._draining = False
        # Telegram's flood limits, off unless a test turns them on.
        self.global_limit: int | None = None
        self.per_chat_limit: int | None = None
        self._sends: collections.deque[float] = collections.deque()
        self._chat_tokens: dict[int, tuple[float, float]] = {}
        self.rate_limited = 0
        self.rate_limit_log: list[tuple[float, int, int, float]] = []
        self._inject_429: list[tuple[int, int | None]] = []
        self.injected_429s = 0
        self._inject_errors: list[tuple[int, ApiError]] = []
        self.send_log: list[tuple[float, int, str]] = []
        self._drops: list[int] = []  # chats whose next message's connection is dropped
        self.slow_chats: dict[int, asyncio.Event] = {}  # replies to these wait for the event
        # Paid broadcasts (allow_paid_broadcast): their own limit, and what they would cost.
        self.paid_limit = PAID_PER_SECOND
        self._paid_sends: collections.deque[float] = collections.deque()
        self._last_second: collections.deque[float] = collections.deque()  # every send
        self.paid_messages = 0
        self.paid_charged = 0
        # Webhook delivery: what setWebhook was told, and what delivery did.
        if self._hook is not None and self._hook.task is not None:
            self._hook.task.cancel()
        self._hook = None
        self.webhook: dict[str, Any] | None = None
        self.webhook_stats = WebhookStats()
        # For a bot in another process, whose webhook answers only once it has handled the
        # update (the bot's own server does; PTB's answers at once): FakeUser.send returns
        # when the webhook answered 2xx. In-process bots are tracked by their processor.
        self.processed_when_answered = False

    # -- lifecycle ---------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        """Serve the Bot API (``/bot<token>/<method>``) and its files from ``app``."""
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)

    async def start(
        self, app: web.Application | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> str:
        """Listen on ``host:port`` (0: any free port) and return the base URL. ``app`` may
        carry routes of its own (the demo's page); the Bot API's are added to it."""
        app = app or web.Application(client_max_size=MAX_UPLOAD)
        self.add_routes(app)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://{host}:{port}"
        return self.url

    def _emit(self, event: str, **data: Any) -> None:
        for listener in self.listeners:
            listener(event, data)

    async def stop(self) -> None:
        await self._close_webhook(drop_pending=False)
        if self._runner is not None:
            await self._runner.cleanup()

    def enable_rate_limits(
        self, per_second: int = 30, per_chat_burst: int = 3, paid_per_second: int = PAID_PER_SECOND
    ) -> None:
        """Answer 429 like Telegram when more than ``per_second`` messages go out in any one
        second, or when one chat gets more than one a second beyond a burst of
        ``per_chat_burst`` (a token bucket: a reply and a receipt together are fine).
        Messages sent with ``allow_paid_broadcast`` count against ``paid_per_second``
        instead of ``per_second``; the per-chat limit holds for them too."""
        self.global_limit = per_second
        self.per_chat_limit = per_chat_burst
        self.paid_limit = paid_per_second

    @property
    def paid_stars(self) -> Decimal:
        """What Telegram would have charged for paid broadcasts so far."""
        return self.paid_charged * STAR_PER_PAID_MESSAGE

    def inject_429(self, retry_after: int = 1, chat_id: int | None = None) -> None:
        """The next message (to ``chat_id``, or to anyone) gets a 429 with ``retry_after``."""
        self._inject_429.append((retry_after, chat_id))

    def inject_drop(self, chat_id: int) -> None:
        """The next message to ``chat_id`` arrives, but the connection drops before the
        answer: the bot cannot know whether Telegram took it."""
        self._drops.append(chat_id)

    def inject_error(self, chat_id: int, code: int, description: str, times: int = 1) -> None:
        """The next ``times`` messages to ``chat_id`` fail with this error."""
        self._inject_errors.extend([(chat_id, ApiError(code, description))] * times)

    def _throttle(self, chat_id: int, method: str, *, paid: bool = False) -> None:
        """Judge a message against injected failures and the flood limits. ``paid``: sent
        with allow_paid_broadcast, so the paid limit applies instead of the free one."""
        now = self.monotonic()
        for index, (target, error) in enumerate(self._inject_errors):
            if target == chat_id:
                del self._inject_errors[index]
                raise error
        for index, (retry_after, wanted) in enumerate(self._inject_429):
            if wanted in (None, chat_id):
                del self._inject_429[index]
                self.injected_429s += 1
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        if self.global_limit is not None:
            for window in (self._sends, self._paid_sends):
                while window and now - window[0] >= 1:
                    window.popleft()
            sends, limit = (
                (self._paid_sends, self.paid_limit) if paid else (self._sends, self.global_limit)
            )
            burst = float(self.per_chat_limit or 1)
            tokens, last = self._chat_tokens.get(chat_id, (burst, now))
            tokens = min(burst, tokens + (now - last))
            if len(sends) >= limit or tokens < 1:
                self.rate_limited += 1
                self.rate_limit_log.append((now, chat_id, len(sends), tokens))
                raise ApiError(429, "Too Many Requests: retry after 1", 1)
            sends.append(now)
            self._chat_tokens[chat_id] = (tokens - 1, now)
        while self._last_second and now - self._last_second[0] >= 1:
            self._last_second.popleft()
        if paid:
            self.paid_messages += 1
            if len(self._last_second) >= FREE_PER_SECOND:  # beyond the free 30 this second
                self.paid_charged += 1
        self._last_second.append(now)
        self.send_log.append((now, chat_id, method))

    def delivered(self, chat_id: int, needle: str) -> int:
        """How many messages containing ``needle`` a chat received."""
        return sum(needle in m.body for m in self.sent[chat_id] if not m.deleted)

    def drain_polls(self, draining: bool) -> None:
        """While a bot stops, answer long polls at once so shutdown does not wait them out."""
        self._draining = draining
        if draining:
            self._update_added.set()

    def processor(self) -> TrackingProcessor:
        return TrackingProcessor(self)

    # -- acting as users ---------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str = "en",
    ) -> FakeUser:
        """A person; ``language_code`` is their Telegram app's language ("es", "pt-br")."""
        return FakeUser(self, user_id, first_name, username, language_code)

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids[chat_id])

    def push_update(self, update: dict[str, Any]) -> int:
        """Something a person did: queued for getUpdates, or posted to the webhook."""
        update_id = self._next_update_id
        self._next_update_id += 1
        chat = (update.get("message") or update.get("callback_query", {}).get("message") or {}).get(
            "chat", {}
        )
        if "id" in chat:
            self.known_chats.add(chat["id"])
        if "message" in update:
            self.inbox[chat["id"]].append(update["message"])
            self._emit("typed", chat_id=chat["id"], message=update["message"])
        if "callback_query" in update:
            self._callback_chats[update["callback_query"]["id"]] = chat["id"]
        hook = self._hook
        if hook is not None and not hook.wants(update):
            self.webhook_stats.filtered += 1  # allowed_updates: Telegram never creates it
            return update_id
        self.updates.append({"update_id": update_id, **update})
        self._update_added.set()
        if hook is not None:
            hook.wake.set()
        return update_id

    def mark_processed(self, update_id: int) -> None:
        self._processed[update_id].set()

    async def wait_processed(self, update_id: int, timeout: float = 10) -> None:
        try:
            await asyncio.wait_for(self._processed[update_id].wait(), timeout)
        except TimeoutError:
            message = f"the bot did not finish update {update_id} in {timeout}s"
            raise AssertionError(message) from None

    async def wait_for(self, condition: Any, timeout: float = 10, interval: float = 0.01) -> None:
        """Wait until ``condition()`` is true (for work the bot does in the background)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not condition():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(interval)

    def store_file(self, content: bytes) -> str:
        file_id = f"FILE{next(self.ids):06d}"
        self.files[file_id] = content
        return file_id

    def message_json(self, message: SentMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": {"id": message.chat_id, "type": "private"},
            "from": self._me(),
        }
        if message.text is not None:
            data["text"] = message.text
        if message.caption is not None:
            data["caption"] = message.caption
        if message.photo_file_id:
            data["photo"] = [
                {
                    "file_id": message.photo_file_id,
                    "file_unique_id": message.photo_file_id[-8:],
                    "width": 410,
                    "height": 410,
                }
            ]
        if message.document is not None:
            data["document"] = {
                "file_id": message.document_file_id,
                "file_unique_id": f"D{message.message_id}",
                "file_name": message.document_name,
            }
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        return data

    # -- HTTP ----------------------------------------------------------------------------

    def _me(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": self.name,
            "username": self.username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        content = self.files.get(file_id)
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content)

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await self._params(request)
        self.calls.append((method, params))
        chat = params.get("chat_id")
        if method.startswith("send") and chat is not None and int(chat) in self._drops:
            self._drops.remove(int(chat))
            assert request.transport is not None
            request.transport.abort()  # no answer at all
            return web.Response(status=500)
        handler = getattr(self, f"_m_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, f"Not Found: method {method} is not faked")
            result = await handler(params, files)
        except ApiError as exc:
            self.errors.append((method, exc))
            self._emit("rejected", chat_id=_int_or_none(chat), method=method, error=exc)
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return web.json_response(body, status=exc.code)
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            params = await request.json()
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                    params[f"_{key}_filename"] = value.filename
                else:
                    params[key] = value
        for key in _JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        return params, files

    # -- checks --------------------------------------------------------------------------

    def _chat(self, params: dict[str, Any]) -> int:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, ValueError):
            raise ApiError(400, "Bad Request: chat_id is empty") from None
        if chat_id not in self.known_chats:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    @staticmethod
    def _check_markup(markup: dict[str, Any] | None) -> None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")

    @staticmethod
    def _check_text(text: str, parse_mode: str | None, limit: int, what: str) -> None:
        visible = plain_text(text, parse_mode)
        if what == "text" and not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_length(visible) > limit:
            raise ApiError(400, f"Bad Request: message {what} is too long".replace(" text", ""))

    def _find(self, params: dict[str, Any]) -> SentMessage:
        chat_id = self._chat(params)
        message_id = int(params["message_id"])
        for message in self.sent[chat_id]:
            if message.message_id == message_id and not message.deleted:
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    def _store(self, message: SentMessage) -> dict[str, Any]:
        self.sent[message.chat_id].append(message)
        self._emit("sent", message=message)
        return self.message_json(message)

    def _edited(self, message: SentMessage) -> dict[str, Any]:
        message.edits += 1
        self._emit("sent", message=message)
        return self.message_json(message)

    # -- methods -------------------------------------------------------------------------

    async def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self._me()

    async def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        await self._close_webhook(drop_pending=_flag(params.get("drop_pending_updates")))
        return True

    async def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        url = str(params.get("url") or "")
        drop_pending = _flag(params.get("drop_pending_updates"))
        if not url:  # an empty url removes the webhook, as deleteWebhook does
            await self._close_webhook(drop_pending=drop_pending)
            return True
        parts = urlsplit(url)
        host = parts.hostname or ""
        try:
            port = parts.port
        except ValueError:
            raise ApiError(400, "Bad Request: bad webhook: Invalid port specified") from None
        if parts.scheme not in ("http", "https") or not host:
            raise ApiError(400, "Bad Request: bad webhook: Failed to resolve host")
        # Telegram posts only over https, to ports 80, 88, 443 and 8443, and never to a
        # reserved address. The fake also allows a loopback address (http or https, any
        # port): that is where tests run the webhook endpoint it posts to.
        loopback = _is_loopback(host)
        if not loopback and parts.scheme != "https":
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        if not loopback and (port or 443) not in WEBHOOK_PORTS:
            raise ApiError(
                400,
                "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443",
            )
        secret = params.get("secret_token")
        if secret is not None:
            secret = str(secret)
            if len(secret) > 256:
                raise ApiError(400, "Bad Request: secret token is too long")
            if not _SECRET_TOKEN.fullmatch(secret):
                raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        # Like Telegram, a max_connections out of 1..100 is clamped, not refused.
        wanted = _int_or_none(params.get("max_connections"))
        if wanted is None:
            wanted = WEBHOOK_MAX_CONNECTIONS
        allowed = params.get("allowed_updates")
        await self._close_webhook(drop_pending=drop_pending)
        hook = _Webhook(
            url=url,
            secret_token=secret or None,
            max_connections=min(max(wanted, 1), 100),
            allowed_updates=list(allowed) if isinstance(allowed, list) else None,
            deliverable=loopback,
        )
        self.webhook, self._hook = params, hook
        if hook.deliverable:
            hook.task = asyncio.create_task(self._deliver_webhook(hook))
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        hook = self._hook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if hook is None:
            return info
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates is not None:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        return info

    # -- webhook delivery ----------------------------------------------------------------

    async def _close_webhook(self, *, drop_pending: bool) -> None:
        """Stop delivering; what was not delivered stays for getUpdates unless dropped."""
        hook, self._hook, self.webhook = self._hook, None, None
        if hook is not None and hook.task is not None:
            hook.task.cancel()
            await asyncio.gather(hook.task, return_exceptions=True)
        if drop_pending:
            self.updates.clear()
        elif self.updates:
            self._update_added.set()

    async def _deliver_webhook(self, hook: _Webhook) -> None:
        """Post pending updates to the webhook until it is deleted or replaced."""
        loop = asyncio.get_running_loop()
        # A fresh connection for each POST: a connection the endpoint dropped is never
        # reused by the next attempt, so attempt counts are exact.
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        async with aiohttp.ClientSession(connector=connector) as session:
            try:
                while True:
                    hook.wake.clear()
                    wait = self._start_posts(hook, session, loop.time())
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(hook.wake.wait(), wait)
            finally:
                posts = list(hook.in_flight.values())
                for post in posts:
                    post.cancel()
                await asyncio.gather(*posts, return_exceptions=True)

    def _start_posts(
        self, hook: _Webhook, session: aiohttp.ClientSession, now: float
    ) -> float | None:
        """Start posting what may go now, oldest first: the first pending update of each
        chat, unless that one is already on its way or backing off, while connections are
        free. Returns the seconds until a back-off ends (None: wait to be woken)."""
        busy: set[object] = set()
        next_retry: float | None = None
        for update in self.updates:
            if len(hook.in_flight) >= hook.max_connections:
                break
            queue = _update_queue(update)
            if queue in busy:
                continue  # a chat's next update waits until the one before is delivered
            busy.add(queue)
            update_id = update["update_id"]
            if update_id in hook.in_flight:
                continue
            retry_at = hook.retry_at.get(update_id, 0.0)
            if retry_at > now:
                next_retry = retry_at if next_retry is None else min(next_retry, retry_at)
                continue
            hook.in_flight[update_id] = asyncio.create_task(self._post(hook, session, update))
            stats = self.webhook_stats
            stats.peak_in_flight = max(stats.peak_in_flight, len(hook.in_flight))
        return None if next_retry is None else next_retry - now

    async def _post(
        self, hook: _Webhook, session: aiohttp.ClientSession, update: dict[str, Any]
    ) -> None:
        update_id = update["update_id"]
        stats = self.webhook_stats
        stats.attempts[update_id] = stats.attempts.get(update_id, 0) + 1
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
        error: str | None = None
        try:
            async with session.post(
                hook.url, json=update, headers=headers, timeout=timeout
            ) as response:
                if not 200 <= response.status <= 299:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientSSLError:
            error = "SSL error: the webhook's certificate was not accepted"
        except aiohttp.ClientConnectorError:
            error = "Connection refused"
        except aiohttp.ServerDisconnectedError:
            error = "Webhook connection closed"
        except aiohttp.ClientError:
            error = "Connection reset by peer"
        finally:
            del hook.in_flight[update_id]
            hook.wake.set()
        if error is None:
            with contextlib.suppress(ValueError):
                self.updates.remove(update)
            hook.failures.pop(update_id, None)
            hook.retry_at.pop(update_id, None)
            stats.delivered += 1
            if stats.attempts[update_id] > 1:
                stats.redelivered += 1
            if self.processed_when_answered:
                self.mark_processed(update_id)
            return
        # Never dropped: sent again after a back-off doubling up to the cap, for as long
        # as the webhook is set.
        failures = hook.failures[update_id] = hook.failures.get(update_id, 0) + 1
        delay = min(self.webhook_retry_base * 2 ** (failures - 1), self.webhook_retry_cap)
        hook.retry_at[update_id] = asyncio.get_running_loop().time() + delay
        hook.last_error_date, hook.last_error_message = int(time.time()), error
        stats.failed_attempts += 1
        stats.errors.append((update_id, error))

    async def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        scope = params.get("scope") or {"type": "default"}
        if scope.get("type") == "chat" and int(scope["chat_id"]) not in self.known_chats:
            raise ApiError(400, "Bad Request: chat not found")
        key = self._scope_key(scope, params.get("language_code"))
        self.commands[key] = params["commands"]
        self._emit("commands", scope=scope)
        return True

    async def _m_deleteMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        scope = params.get("scope") or {"type": "default"}
        self.commands.pop(self._scope_key(scope, params.get("language_code")), None)
        self._emit("commands", scope=scope)
        return True

    @staticmethod
    def _scope_key(scope: dict[str, Any], language_code: str | None = None) -> str:
        key = (
            f"chat:{int(scope['chat_id'])}"
            if scope.get("type") == "chat"
            else str(scope.get("type", "default"))
        )
        return f"{key}:{language_code}" if language_code else key

    def menu(self, chat_id: int, language_code: str | None = None) -> list[dict[str, Any]]:
        """The commands (with descriptions) a chat's menu shows to a user whose app is in
        ``language_code``, looked up as Telegram does: the chat's scope in that language,
        the chat's scope, the default scope in that language, the default."""
        keys = [f"chat:{chat_id}", "default"]
        if language_code:
            keys = [f"chat:{chat_id}:{language_code}", keys[0], f"default:{language_code}", keys[1]]
        for key in keys:
            if key in self.commands:
                return self.commands[key]
        return []

    def menu_for(self, chat_id: int) -> list[str]:
        """The command names a chat's menu shows."""
        return [c["command"] for c in self.menu(chat_id)]

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if self._hook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates and timeout and not self._draining:
            self._update_added.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_added.wait(), timeout)
        return self.updates[:limit]

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id = self._chat(params)
        if chat_id in self.slow_chats:  # Telegram is slow to answer for this chat
            await self.slow_chats[chat_id].wait()
        self._throttle(chat_id, "sendMessage", paid=_flag(params.get("allow_paid_broadcast")))
        text = str(params.get("text", ""))
        self._check_text(text, params.get("parse_mode"), MAX_TEXT, "text")
        self._check_markup(params.get("reply_markup"))
        return self._store(
            SentMessage(
                chat_id=chat_id,
                message_id=self.next_message_id(chat_id),
                method="sendMessage",
                text=text,
                parse_mode=params.get("parse_mode"),
                reply_markup=params.get("reply_markup"),
                silent=str(params.get("disable_notification", "")).lower() == "true",
            )
        )

    def _upload(self, value: Any, files: dict[str, bytes], name: str) -> tuple[bytes, str]:
        if name in files:
            content = files[name]
            self.uploads += 1
        elif isinstance(value, str) and value.startswith("attach://"):
            content = files[value.removeprefix("attach://")]
            self.uploads += 1
        elif isinstance(value, str) and value in self.files:
            return self.files[value], value
        else:
            raise ApiError(400, f"Bad Request: wrong file identifier/HTTP URL specified ({name})")
        return content, self.store_file(content)

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id = self._chat(params)
        self._throttle(chat_id, "sendPhoto", paid=_flag(params.get("allow_paid_broadcast")))
        caption = params.get("caption")
        if caption is not None:
            self._check_text(caption, params.get("parse_mode"), MAX_CAPTION, "caption")
        self._check_markup(params.get("reply_markup"))
        content, file_id = self._upload(params.get("photo"), files, "photo")
        return self._store(
            SentMessage(
                chat_id=chat_id,
                message_id=self.next_message_id(chat_id),
                method="sendPhoto",
                caption=caption,
                photo=content,
                photo_file_id=file_id,
                parse_mode=params.get("parse_mode"),
                reply_markup=params.get("reply_markup"),
            )
        )

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        chat_id = self._chat(params)
        caption = params.get("caption")
        if caption is not None:
            self._check_text(caption, params.get("parse_mode"), MAX_CAPTION, "caption")
        content, file_id = self._upload(params.get("document"), files, "document")
        return self._store(
            SentMessage(
                chat_id=chat_id,
                message_id=self.next_message_id(chat_id),
                method="sendDocument",
                caption=caption,
                document=content,
                document_file_id=file_id,
                document_name=str(
                    params.get("_document_filename")
                    or str(params.get("document", "")).removeprefix("attach://")
                ),
                parse_mode=params.get("parse_mode"),
            )
        )

    async def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._find(params)
        text = str(params.get("text", ""))
        self._check_text(text, params.get("parse_mode"), MAX_TEXT, "text")
        self._check_markup(params.get("reply_markup"))
        if text == message.text and params.get("reply_markup") == message.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        message.text, message.parse_mode = text, params.get("parse_mode")
        message.reply_markup = params.get("reply_markup")
        return self._edited(message)

    async def _m_editMessageCaption(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._find(params)
        caption = str(params.get("caption", ""))
        self._check_text(caption, params.get("parse_mode"), MAX_CAPTION, "caption")
        self._check_markup(params.get("reply_markup"))
        message.caption, message.parse_mode = caption, params.get("parse_mode")
        message.reply_markup = params.get("reply_markup")
        return self._edited(message)

    async def _m_editMessageMedia(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._find(params)
        media = params.get("media") or {}
        if media.get("type") != "photo" or message.photo is None:
            raise ApiError(400, "Bad Request: there is no photo in the message to edit")
        caption = media.get("caption")
        if caption is not None:
            self._check_text(caption, media.get("parse_mode"), MAX_CAPTION, "caption")
        self._check_markup(params.get("reply_markup"))
        content, file_id = self._upload(media.get("media"), files, "media")
        message.photo, message.photo_file_id = content, file_id
        message.caption, message.parse_mode = caption, media.get("parse_mode")
        message.reply_markup = params.get("reply_markup")
        return self._edited(message)

    async def _m_editMessageReplyMarkup(
        self, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        message = self._find(params)
        self._check_markup(params.get("reply_markup"))
        if (params.get("reply_markup") or None) == (message.reply_markup or None):
            raise ApiError(400, "Bad Request: message is not modified")
        message.reply_markup = params.get("reply_markup")
        return self._edited(message)

    async def _m_deleteMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._find(params)
        message.deleted = True
        self._emit("deleted", message=message)
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if any(
            a["callback_query_id"] == params["callback_query_id"] for a in self.callback_answers
        ):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        self.callback_answers.append(params)
        chat_id = self._callback_chats.get(str(params["callback_query_id"]))
        self._emit("answered", chat_id=chat_id, answer=params)
        return True

    async def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        file_id = str(params.get("file_id"))
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": file_id[-8:],
            "file_size": len(self.files[file_id]),
            "file_path": f"photos/{file_id}",
        }
