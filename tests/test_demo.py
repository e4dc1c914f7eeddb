"""``loyalty-bot demo`` over HTTP, as its page uses it: the seeded café, the counter flow
by clicks, photos, broadcasts to a fourth phone, rejections in red, Reset, the phones'
languages and the page's own, and the command itself (its first lines, a taken port,
Ctrl-C)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio

from bot import i18n
from handlers.texts import EN, t
from sandbox.demo import BARISTA, CUSTOMER, DEMO_TOKEN, OWNER, REGULARS, REWARDS, Demo
from sandbox.web import page_text
from storage import Database
from storage.engine import sql
from storage.timeutil import from_db
from tests.test_process import ROOT, command

Message = dict[str, Any]


def flat(nodes: list[Any]) -> str:
    return "".join(n if isinstance(n, str) else flat(n.get("children", [])) for n in nodes)


class Browser:
    """What the page does: read the state, and post what a person does on a phone."""

    def __init__(self, demo: Demo, http: aiohttp.ClientSession) -> None:
        self.demo = demo
        self.http = http

    async def state(self) -> dict[str, Any]:
        async with self.http.get(f"{self.demo.url}/api/state") as response:
            assert response.status == 200
            return await response.json()  # type: ignore[no-any-return]

    async def messages(self, phone: int) -> list[Message]:
        phones = (await self.state())["phones"]
        return next(p["messages"] for p in phones if p["id"] == phone)

    async def post(
        self, path: str, headers: dict[str, str] | None = None, **body: Any
    ) -> tuple[int, dict[str, Any]]:
        async with self.http.post(f"{self.demo.url}{path}", json=body, headers=headers) as response:
            return response.status, await response.json()

    async def labels(self, accept_language: str | None = None) -> dict[str, Any]:
        headers = {"Accept-Language": accept_language} if accept_language else {}
        async with self.http.get(f"{self.demo.url}/api/labels", headers=headers) as response:
            assert response.status == 200
            return await response.json()  # type: ignore[no-any-return]

    async def do(self, phone: int, action: str, **body: Any) -> None:
        status, answer = await self.post(f"/api/phones/{phone}/{action}", **body)
        assert status == 202, answer

    async def wait_for(self, phone: int, needle: str, *, after: int = 0) -> Message:
        """The first bot message after message ``after`` whose text contains ``needle``."""
        found: list[Message] = []

        def seen() -> bool:
            views = (self.demo.page.bot_view(m) for m in self.demo.fake.sent.get(phone, []))
            found[:] = [v for v in views if v["id"] > after and needle in flat(v["nodes"])]
            return bool(found)

        try:
            await self.demo.fake.wait_for(seen, timeout=15)
        except AssertionError:
            texts = [flat(m["nodes"])[:80] for m in await self.messages(phone)][-5:]
            raise AssertionError(f"{needle!r} never reached phone {phone}: {texts}") from None
        return found[0]

    async def keyboard_button(self, phone: int, label_part: str) -> str:
        keyboards = [m["keyboard"] for m in await self.messages(phone) if "keyboard" in m]
        return next(label for row in keyboards[-1] for label in row if label_part in label)


@pytest_asyncio.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    cafe = Demo(db_path=tmp_path / "demo.db", port=0)
    await cafe.start()
    yield cafe
    await cafe.stop()


@pytest_asyncio.fixture
async def browser(demo: Demo) -> AsyncIterator[Browser]:
    async with aiohttp.ClientSession() as http:
        yield Browser(demo, http)


async def balance(demo: Demo, phone: int) -> int | None:
    member = await demo.services.members.find(phone)
    return member.balance if member else None


async def buy(browser: Browser, customer: int, amount: str) -> Message:
    """The counter flow by clicks: My card, click the QR with the barista, type the amount."""
    await browser.do(customer, "text", text=await browser.keyboard_button(customer, "My card"))
    card = await browser.wait_for(customer, "member card")
    assert card["scannable"] and card["photo"].startswith("/files/")
    await browser.do(BARISTA.id, "scan", chat_id=customer, message_id=card["id"])
    await browser.wait_for(BARISTA.id, "Send the purchase amount", after=card["id"] - 99)
    await browser.do(BARISTA.id, "text", text=amount)
    return await browser.wait_for(customer, "for your purchase", after=card["id"])


async def test_the_demo_cafe_is_seeded_by_people_using_the_bot(
    demo: Demo, browser: Browser
) -> None:
    state = await browser.state()
    assert [(p["name"], p["role"]) for p in state["phones"]] == [
        ("Anna", "customer"), ("Ben", "barista"), ("Olga", "owner"),
    ]  # fmt: skip
    assert (state["cafe"], state["bot"], state["rejections"]) == ("Demo Café", "CafeDemoBot", [])
    anna, ben, olga = state["phones"]
    assert anna["messages"] == []  # Anna has not pressed Start yet
    assert "Welcome to the team at Demo Café, Ben" in flat(ben["messages"][-1]["nodes"])
    assert [flat(m["nodes"]) for m in ben["messages"] if m["from"] == "user"] == ["/start"]
    assert {"stats", "broadcast", "staff"} <= {c["command"] for c in olga["menu"]}
    assert "stats" not in {c["command"] for c in anna["menu"]}

    services = demo.services
    assert [(r.title, r.cost) for r in await services.catalog.list()] == list(REWARDS)
    assert sorted(s.first_name for s in await services.staff.list()) == ["Ben", "Sam"]
    (offer,) = await services.offers.recent()
    assert (offer.title, offer.bonus_points) == ("Welcome week", 10)
    earned = await services.db.reader.one(
        sql("SELECT COUNT(*) AS count, MIN(created_at) AS first FROM ledger WHERE kind = 'earn'")
    )
    assert earned is not None
    assert earned["count"] == sum(len(history.split()) for history in REGULARS.values())
    # The regulars' visits go back weeks, for /stats to show.
    assert from_db(earned["first"]) < datetime.now(UTC) - timedelta(days=50)
    priya = await services.members.find(4002)
    assert priya is not None and priya.balance == 6 * 51 - 150  # six visits, one espresso


async def test_the_counter_flow_and_a_coupon_by_clicks(demo: Demo, browser: Browser) -> None:
    await browser.do(CUSTOMER.id, "text", text="/start")
    await browser.wait_for(CUSTOMER.id, "Welcome to Demo Café, Anna")
    receipt = await buy(browser, CUSTOMER.id, "4.50")
    assert "+55 points for your purchase of €4.50 at Demo Café" in flat(receipt["nodes"])
    assert "Served by Ben. New balance: 55 points." in flat(receipt["nodes"])
    assert await balance(demo, CUSTOMER.id) == 55

    await browser.do(
        CUSTOMER.id, "text", text=await browser.keyboard_button(CUSTOMER.id, "Rewards")
    )
    listing = await browser.wait_for(CUSTOMER.id, "Rewards — you have 55 points")
    redeem = next(b for row in listing["buttons"] for b in row if b["text"] == "Redeem Extra shot")
    await browser.do(CUSTOMER.id, "press", message_id=listing["id"], data=redeem["callback_data"])
    coupon = await browser.wait_for(CUSTOMER.id, "Coupon for Anna", after=listing["id"])
    assert coupon["scannable"]
    await browser.do(BARISTA.id, "scan", chat_id=CUSTOMER.id, message_id=coupon["id"])
    shown = await browser.wait_for(BARISTA.id, "Extra shot for Anna")
    confirm = next(b for row in shown["buttons"] for b in row if "Confirm" in b["text"])
    await browser.do(BARISTA.id, "press", message_id=shown["id"], data=confirm["callback_data"])
    await browser.wait_for(CUSTOMER.id, "Your Extra shot coupon was redeemed")
    assert await balance(demo, CUSTOMER.id) == 15
    # Each step reached the page as an event, and nothing was rejected on the way.
    assert (await browser.state())["rejections"] == []


async def test_a_photo_of_a_qr_is_read_as_in_production(demo: Demo, browser: Browser) -> None:
    await browser.do(CUSTOMER.id, "text", text="/start")
    await browser.wait_for(CUSTOMER.id, "Welcome")
    await browser.do(CUSTOMER.id, "text", text="/card")
    card = await browser.wait_for(CUSTOMER.id, "member card")
    async with browser.http.get(f"{demo.url}{card['photo']}") as response:
        assert response.content_type == "image/png"
        picture = await response.read()
    form = aiohttp.FormData()
    form.add_field("photo", picture, filename="card.png", content_type="image/png")
    async with browser.http.post(f"{demo.url}/api/phones/{BARISTA.id}/photo", data=form) as sent:
        assert sent.status == 202
    await browser.wait_for(BARISTA.id, "Anna · Bronze · 0 points")
    (typed,) = [m for m in await browser.messages(BARISTA.id) if m.get("photo")]
    assert typed["from"] == "user"


async def test_a_fourth_phone_gets_the_owners_broadcast(demo: Demo, browser: Browser) -> None:
    status, added = await browser.post("/api/phones")
    assert (status, added) == (201, {"id": CUSTOMER.id + 1, "name": "Chloé"})
    for phone, name in ((CUSTOMER.id, "Anna"), (added["id"], "Chloé")):
        await browser.do(phone, "text", text="/start")
        await browser.wait_for(phone, f"Welcome to Demo Café, {name}")
    assert [p["name"] for p in (await browser.state())["phones"]] == [
        "Anna", "Ben", "Olga", "Chloé",
    ]  # fmt: skip

    await browser.do(OWNER.id, "text", text="/broadcast")
    await browser.wait_for(OWNER.id, "Send the message for")
    await browser.do(OWNER.id, "text", text="Pumpkin spice is back!")
    who = await browser.wait_for(OWNER.id, "Who should get it?")
    everyone = next(b for row in who["buttons"] for b in row if "Everyone" in b["text"])
    await browser.do(OWNER.id, "press", message_id=who["id"], data=everyone["callback_data"])
    question = await browser.wait_for(OWNER.id, "Send it to", after=who["id"])
    send = next(b for row in question["buttons"] for b in row if b["text"].endswith("Send"))
    await browser.do(OWNER.id, "press", message_id=question["id"], data=send["callback_data"])
    for phone in (CUSTOMER.id, added["id"]):
        await browser.wait_for(phone, "Pumpkin spice is back!")


async def test_the_owner_sees_stats_with_a_chart(browser: Browser) -> None:
    await browser.do(OWNER.id, "text", text="/stats")
    await browser.wait_for(OWNER.id, "Members: 6")  # the five regulars and Olga herself
    chart = await browser.wait_for(OWNER.id, "Visits and points per week")
    assert chart["scannable"] is False  # a chart, not a code to scan
    async with browser.http.get(f"{browser.demo.url}{chart['photo']}") as response:
        assert (await response.read()).startswith(b"\x89PNG")


async def test_exports_are_documents_to_download(browser: Browser) -> None:
    await browser.do(OWNER.id, "text", text="/export")
    await browser.demo.fake.wait_for(
        lambda: any(m.document for m in browser.demo.fake.sent[OWNER.id]), timeout=15
    )
    documents = [m["document"] for m in await browser.messages(OWNER.id) if "document" in m]
    assert documents and all(d["name"].endswith(".csv") for d in documents)
    async with browser.http.get(f"{browser.demo.url}{documents[0]['url']}") as response:
        disposition = response.headers["Content-Disposition"]
        body = await response.read()
    assert disposition == f'attachment; filename="{documents[0]["name"]}"'
    assert body.startswith("\ufeff".encode())  # the CSV's BOM: it opens in Excel as UTF-8


async def test_what_telegram_would_reject_is_shown_on_the_phone(
    demo: Demo, browser: Browser
) -> None:
    await browser.do(CUSTOMER.id, "text", text="/start")
    await browser.wait_for(CUSTOMER.id, "Welcome")
    async with aiohttp.ClientSession() as bot:  # the bot, sending what Telegram refuses
        api = f"{demo.url}/bot{DEMO_TOKEN}"
        await bot.post(f"{api}/sendMessage", json={"chat_id": CUSTOMER.id, "text": "x" * 4097})
        too_long_button = {"inline_keyboard": [[{"text": "A", "callback_data": "d" * 65}]]}
        await bot.post(
            f"{api}/sendMessage",
            json={"chat_id": CUSTOMER.id, "text": "ok", "reply_markup": too_long_button},
        )
        await bot.post(f"{api}/sendMessage", json={"chat_id": 4000, "text": "<b>bad"})
        await bot.post(
            f"{api}/sendMessage",
            json={"chat_id": CUSTOMER.id, "text": "<b>bad", "parse_mode": "HTML"},
        )
    rejections = (await browser.state())["rejections"]
    assert [(r["phone"], r["method"], r["code"], r["description"]) for r in rejections] == [
        (CUSTOMER.id, "sendMessage", 400, "Bad Request: message is too long"),
        (CUSTOMER.id, "sendMessage", 400, "Bad Request: BUTTON_DATA_INVALID"),
        (CUSTOMER.id, "sendMessage", 400, "Bad Request: can't parse entities: unclosed tag"),
    ]  # a seeded regular's chat (4000) is not on the page


async def test_the_page_hears_each_change_as_it_happens(demo: Demo, browser: Browser) -> None:
    async with browser.http.get(f"{demo.url}/events") as stream:
        assert stream.headers["Content-Type"] == "text/event-stream"

        async def next_event() -> dict[str, Any]:
            while True:
                line = (await asyncio.wait_for(stream.content.readline(), 15)).decode()
                if line.startswith("data: "):
                    return json.loads(line.removeprefix("data: "))  # type: ignore[no-any-return]

        first = await next_event()
        assert first["type"] == "snapshot" and len(first["phones"]) == 3
        await browser.do(CUSTOMER.id, "text", text="/start")
        typed = await next_event()
        assert (typed["type"], typed["phone"], typed["message"]["from"]) == (
            "message", CUSTOMER.id, "user",
        )  # fmt: skip
        while (event := await next_event())["type"] != "message":
            pass  # menus and receipts of other phones may come first
        assert "Welcome to Demo Café, Anna" in flat(event["message"]["nodes"])


async def test_what_cannot_be_done_is_refused_in_words(demo: Demo, browser: Browser) -> None:
    assert await browser.post("/api/phones/999/text", text="hi") == (
        404, {"error": "There is no such phone: reload the page."},
    )  # fmt: skip
    assert await browser.post(f"/api/phones/{CUSTOMER.id}/text", text="  ") == (
        400, {"error": "Type a message first."},
    )  # fmt: skip
    assert (await browser.post(f"/api/phones/{CUSTOMER.id}/text", text="x" * 4097))[0] == 400
    status, refused = await browser.post(
        f"/api/phones/{BARISTA.id}/open", url="https://evil.example/?start=x"
    )
    assert (status, refused["error"]) == (
        400,
        "This code opens https://evil.example/?start=x, not this bot.",
    )
    welcome = (await browser.messages(BARISTA.id))[-1]
    assert await browser.post(
        f"/api/phones/{BARISTA.id}/press", message_id=welcome["id"], data="forged"
    ) == (400, {"error": "That button is no longer on the message."})
    assert await browser.post(
        f"/api/phones/{OWNER.id}/scan", chat_id=BARISTA.id, message_id=welcome["id"]
    ) == (400, {"error": "There is no QR code in that picture."})
    async with browser.http.post(
        f"{demo.url}/api/phones/{CUSTOMER.id}/text", data=b"not json"
    ) as response:
        assert (response.status, await response.json()) == (400, {"error": "Expected a JSON body."})
    async with browser.http.get(f"{demo.url}/static/../demo.py") as response:
        assert response.status == 404
    assert await balance(demo, CUSTOMER.id) is None  # nothing reached the bot


async def test_a_phone_speaks_the_language_picked_for_its_telegram(
    demo: Demo, browser: Browser
) -> None:
    """Anna's Telegram set to Spanish after she joined in English: the bot answers her next
    message in Spanish, without a new /start, and her menu is the Spanish one; Ben's phone
    stays English. Every open page hears of the change."""
    await browser.do(CUSTOMER.id, "text", text="/start")
    await browser.wait_for(CUSTOMER.id, "Welcome to Demo Café, Anna")
    assert [p["language"] for p in (await browser.state())["phones"]] == ["en", "en", "en"]
    async with browser.http.get(f"{demo.url}/events") as stream:
        events = (json.loads(line.removeprefix(b"data: ")) async for line in stream.content
                  if line.startswith(b"data: "))  # fmt: skip
        assert (await anext(events))["type"] == "snapshot"
        await browser.do(CUSTOMER.id, "language", language="es")
        assert await asyncio.wait_for(anext(events), 15) == {
            "type": "language", "phone": CUSTOMER.id, "language": "es",
        }  # fmt: skip
    anna, ben, _ = (await browser.state())["phones"]
    assert (anna["language"], ben["language"]) == ("es", "en")
    assert demo.user(CUSTOMER).language_code == "es"

    last = (await browser.messages(CUSTOMER.id))[-1]["id"]
    await browser.do(CUSTOMER.id, "text", text="hello there")
    spanish = page_text("es", "unknown_text")
    assert spanish != page_text("en", "unknown_text")  # the es catalog has it
    await browser.wait_for(CUSTOMER.id, spanish, after=last)
    await browser.do(BARISTA.id, "text", text="hello there")
    await browser.wait_for(BARISTA.id, page_text("en", "unknown_text"))
    # Her phone shows the command menu the bot set for her app's language.
    menu = {c["command"]: c["description"] for c in anna["menu"]}
    assert menu["card"] == t("es", "cmd_card") != t("en", "cmd_card")

    assert await browser.post(f"/api/phones/{CUSTOMER.id}/language", language="xx") == (
        400, {"error": "Choose one of the languages on the list."},
    )  # fmt: skip
    # A reset keeps the phones' languages: they are the phones', not the café's.
    assert (await browser.post("/api/reset"))[0] == 202
    assert [p["language"] for p in (await browser.state())["phones"]] == ["es", "en", "en"]


async def test_the_page_speaks_the_browsers_language(demo: Demo, browser: Browser) -> None:
    """The page's own words are the catalogs' demo_* texts in the browser's first shipped
    language (English when none is), and the phones' languages are named in their own."""
    english = await browser.labels()
    assert (english["language"], english["dir"]) == ("en", "ltr")
    assert english["labels"] == {
        key.removeprefix("demo_"): text for key, text in EN.items() if key.startswith("demo_")
    }
    assert english["languages"] == [
        {"code": "en", "name": "English"}, {"code": "es", "name": "Español"},
        {"code": "pt-br", "name": "Português (Brasil)"}, {"code": "tr", "name": "Türkçe"},
        {"code": "ru", "name": "Русский"}, {"code": "de", "name": "Deutsch"},
    ]  # fmt: skip
    assert flat(english["hint"]).startswith("The real bot, with a local Telegram")
    assert {"tag": "b", "children": ["My card"]} in english["hint"]

    assert (await browser.labels("fr-CH, fr;q=0.9, pt-BR;q=0.7, es;q=0.8"))["language"] == "es"
    assert (await browser.labels("pt-BR,pt;q=0.9"))["language"] == "pt-BR"
    assert (await browser.labels("fr, *;q=0.5"))["language"] == "en"
    spanish = await browser.labels("es-ES,es;q=0.9")
    assert spanish["labels"]["reset"] == t("es", "demo_reset")
    hint = t("es", "demo_hint", customer="Anna", barista="Ben")
    assert flat(spanish["hint"]) == re.sub(r"<[^>]+>", "", hint)
    # What the server refuses is said in the page's language too, numbers its way.
    status, refused = await browser.post(
        f"/api/phones/{CUSTOMER.id}/text", headers={"Accept-Language": "es"}, text="x" * 4097
    )
    assert (status, refused["error"]) == (400, page_text("es", "demo_refused_too_long", limit=4096))
    assert i18n.number("es", 4096) in refused["error"]


class _PageText(HTMLParser):
    """The words index.html shows or says by itself, and the labels it names."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.keys: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("placeholder", "title", "alt", "aria-label") and value:
                self.words.append(value)
            if name.startswith("data-label") and value:
                self.keys.add(value)

    def handle_data(self, data: str) -> None:
        if re.search(r"[^\W\d_]", data):  # letters: a word, not an emoji or a space
            self.words.append(data.strip())


def test_the_page_has_no_words_of_its_own() -> None:
    """Every word on the demo page comes from the catalogs: index.html and app.js only
    name the demo_* texts they show."""
    static = Path(ROOT) / "sandbox" / "static"
    page = _PageText()
    page.feed(re.sub(r"<!--.*?-->", "", (static / "index.html").read_text(), flags=re.S))
    assert page.words == []
    script = (static / "app.js").read_text()
    keys = page.keys | set(re.findall(r"label\(\s*\"(\w+)\"", script))
    roles = ("customer", "barista", "owner")  # role_… and person_… by each phone's role
    keys |= {f"{kind}_{role}" for kind in ("role", "person") for role in roles}
    assert len(keys) > 30
    assert sorted(key for key in keys if f"demo_{key}" not in EN) == []
    # No sentence of its own in the script (string literals that read as words: a capital,
    # then more words), but for a developer's console message.
    literals = re.findall(r"\"([^\"\n]*)\"|`([^`]*)`", script)
    worded = [a or b for a, b in literals if re.match(r"\W*[A-Z][a-z]* [a-z]", a or b)]
    assert worded == ['The page has no text "${key}".']


async def test_reset_restores_the_demo_cafe(demo: Demo, browser: Browser) -> None:
    await browser.do(CUSTOMER.id, "text", text="/start")
    await browser.wait_for(CUSTOMER.id, "Welcome")
    await buy(browser, CUSTOMER.id, "4.50")
    await browser.post("/api/phones")
    assert await balance(demo, CUSTOMER.id) == 55

    assert (await browser.post("/api/reset"))[0] == 202
    state = await browser.state()
    assert [p["name"] for p in state["phones"]] == ["Anna", "Ben", "Olga"]
    assert state["phones"][0]["messages"] == []
    assert await balance(demo, CUSTOMER.id) is None
    assert len(await demo.services.catalog.list()) == len(REWARDS)
    priya = await demo.services.members.find(4002)
    assert priya is not None and priya.balance == 6 * 51 - 150
    # The café works after a reset, and no picture is mistaken for one from before it.
    await browser.do(CUSTOMER.id, "text", text="/start")
    await browser.wait_for(CUSTOMER.id, "Welcome to Demo Café, Anna")
    receipt = await buy(browser, CUSTOMER.id, "3.00")
    assert "New balance: 40 points." in flat(receipt["nodes"])


async def test_the_default_database_lives_in_a_temporary_folder() -> None:
    cafe = Demo(port=0)
    await cafe.start()
    folder = cafe.db_path.parent
    assert folder.name.startswith("loyalty-demo-") and cafe.db_path.exists()
    await cafe.stop()
    assert not folder.exists()


async def test_a_kept_database_is_not_seeded_twice(tmp_path: Path) -> None:
    first = Demo(db_path=tmp_path / "kept.db", port=0)
    await first.start()
    await first.stop()
    again = Demo(db_path=tmp_path / "kept.db", port=0)
    await again.start()
    try:
        assert len(await again.services.catalog.list()) == len(REWARDS)
        assert len(await again.services.staff.list()) == 2
    finally:
        await again.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_command_ignores_real_settings_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    real_token = "987654:REAL-production-token-do-not-use-xyz"
    (tmp_path / ".env").write_text(f"BOT_TOKEN={real_token}\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": ROOT, "TELEGRAM_API_URL": "http://127.0.0.1:9"}
    env.pop("BOT_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        *command(), "demo", "--port", str(free_port()), cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        second = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert first == (
            "Ignoring BOT_TOKEN and TELEGRAM_API_URL from the environment or .env: the demo"
            " runs its own local Telegram and never contacts the real one.\n"
        )
        assert second.startswith("Demo café running at http://127.0.0.1:")
        url = second.split()[4]
        async with aiohttp.ClientSession() as http, http.get(f"{url}/api/state") as response:
            state = await response.json()
        assert [p["name"] for p in state["phones"]] == ["Anna", "Ben", "Olga"]
    finally:
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGINT)  # an impatient Ctrl-C, twice
        code = await asyncio.wait_for(process.wait(), 30)
    out = first + second + (await process.stdout.read()).decode()
    err = (await process.stderr.read()).decode()
    assert code == 0, err
    assert "Traceback" not in err and real_token not in out + err
    assert out.count("\n") == 2  # nothing more than those two lines


async def refused_demo(tmp_path: Path, *args: str, **env: str) -> str:
    """Run ``loyalty-bot demo`` expecting it to refuse: its stderr (stdout stays empty)."""
    process = await asyncio.create_subprocess_exec(
        *command(), "demo", *args, cwd=tmp_path, env={**os.environ, "PYTHONPATH": ROOT, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert (process.returncode, out) == (1, b""), err
    return err.decode()


async def test_a_taken_port_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = await refused_demo(tmp_path, "--port", str(port))
    assert err == (
        f"Configuration error: --port: 127.0.0.1:{port} is taken or not allowed: stop what"
        f" uses it, or pick another port, e.g. --port {port + 1}\n"
    )


async def test_a_real_cafes_database_is_never_opened(tmp_path: Path) -> None:
    real = tmp_path / "loyalty.db"
    database = Database(real)
    await database.open()
    await database.close()
    before = real.read_bytes()
    err = await refused_demo(tmp_path, "--db", str(real), "--port", "0")
    assert err == (
        f"Configuration error: --db: {real} is not a database the demo made, and the demo"
        " never opens (or resets) a café's real data: give a new file name\n"
    )
    assert real.read_bytes() == before


async def test_a_bad_setting_from_the_environment_is_one_line(tmp_path: Path) -> None:
    err = await refused_demo(tmp_path, "--port", "0", TIMEZONE="Mars/Olympus")
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Configuration error: TIMEZONE:"), lines


async def test_db_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "demo.db"
    err = await refused_demo(tmp_path, "--db", str(missing), "--port", "0")
    assert err == f"Configuration error: --db: the folder {missing.parent} does not exist\n"
