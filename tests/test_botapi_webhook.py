"""The fake Bot API delivers updates by webhook as Telegram does, and counts paid broadcasts.

A small aiohttp endpoint on 127.0.0.1 plays the bot's webhook: it records each POST, how
many were in flight at once, and answers as a test plans (an error status, a dropped
connection, a hang). The last test runs the real bot on PTB's webhook server, fed by the
fake. Nothing here asserts how long anything took: back-offs are real milliseconds, and
tests wait for counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web
from telegram import Update

from bot.app import ALLOWED_UPDATES, build_application
from sandbox.botapi import SECRET_HEADER, TOKEN, FakeTelegram
from tests.conftest import FakeClock, make_settings
from tests.test_startup import free_port

CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


class Endpoint:
    """A webhook endpoint. ``plan[update_id]`` lists how to answer that update's next
    attempts ("500", "drop", "hang"); anything unplanned is acknowledged with 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[int, str | None, str]] = []  # (update_id, secret, type)
        self.acknowledged: list[dict[str, Any]] = []
        self.plan: dict[int, list[str]] = {}
        self.in_flight = 0
        self.peak = 0
        self.gate: asyncio.Event | None = None  # when set, every POST waits for it
        self.released = asyncio.Event()  # ends hanging POSTs
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self, port: int = 0) -> str:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert isinstance(server, asyncio.Server)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"
        return self.url

    async def stop(self) -> None:
        self.released.set()
        if self.gate is not None:
            self.gate.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            body = await request.json()
            update_id = body["update_id"]
            self.requests.append(
                (update_id, request.headers.get(SECRET_HEADER), request.content_type)
            )
            if self.gate is not None:
                await self.gate.wait()
            planned = self.plan.get(update_id) or []
            outcome = planned.pop(0) if planned else "ok"
            if outcome == "500":
                return web.Response(status=500)
            if outcome == "drop":
                assert request.transport is not None
                request.transport.abort()
                return web.Response(status=500)
            if outcome == "hang":
                await asyncio.wait_for(self.released.wait(), 30)
            self.acknowledged.append(body)
            return web.Response()
        finally:
            self.in_flight -= 1

    @property
    def acknowledged_ids(self) -> list[int]:
        return [body["update_id"] for body in self.acknowledged]


@pytest_asyncio.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    receiver = Endpoint()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(
    http: aiohttp.ClientSession, fake: FakeTelegram, method: str, **params: Any
) -> dict[str, Any]:
    """A Bot API call as JSON; the whole answer ({"ok": ..., "result"/"description"})."""
    async with http.post(f"{fake.url}/bot{TOKEN}/{method}", json=params) as response:
        answer: dict[str, Any] = await response.json()
        assert answer["ok"] == (response.status == 200)
        return answer


async def result(
    http: aiohttp.ClientSession, fake: FakeTelegram, method: str, **params: Any
) -> Any:
    answer = await call(http, fake, method, **params)
    assert answer["ok"], answer
    return answer["result"]


async def delivered(fake: FakeTelegram, count: int) -> None:
    """Wait until the fake has had ``count`` updates acknowledged (the endpoint records a
    POST before its answer reaches the fake)."""
    await fake.wait_for(lambda: fake.webhook_stats.delivered == count)


def typed(fake: FakeTelegram, user_id: int, text: str) -> int:
    """A person types ``text``; returns the update's id."""
    person = fake.user(user_id, f"User{user_id}")
    return fake.push_update(person.text_update(text))


# -- delivery ------------------------------------------------------------------------------


async def test_updates_are_posted_as_json_with_the_secret(
    fake: FakeTelegram, endpoint: Endpoint, http: aiohttp.ClientSession
) -> None:
    assert await result(http, fake, "setWebhook", url=endpoint.url, secret_token="s3cret_-X")
    info = await result(http, fake, "getWebhookInfo")
    assert info == {
        "url": endpoint.url,
        "has_custom_certificate": False,
        "pending_update_count": 0,
        "max_connections": 40,
    }
    alice = fake.user(2001, "Alice")
    first = fake.push_update(alice.text_update("/start"))
    await delivered(fake, 1)
    assert endpoint.requests == [(first, "s3cret_-X", "application/json")]
    update = Update.de_json(endpoint.acknowledged[0], None)
    assert update.update_id == first
    assert update.message is not None and update.message.text == "/start"
    assert update.effective_user is not None and update.effective_user.first_name == "Alice"
    stats = fake.webhook_stats
    assert (stats.delivered, stats.redelivered, stats.failed_attempts) == (1, 0, 0)
    assert stats.attempts == {first: 1}
    assert (await result(http, fake, "getWebhookInfo"))["pending_update_count"] == 0

    # Without a secret, no header.
    assert await result(http, fake, "setWebhook", url=endpoint.url)
    second = typed(fake, 2002, "hello")
    await delivered(fake, 2)
    assert endpoint.requests[-1] == (second, None, "application/json")


async def test_an_error_status_and_a_dropped_connection_are_redelivered(
    fake: FakeTelegram, endpoint: Endpoint, http: aiohttp.ClientSession
) -> None:
    assert await result(http, fake, "setWebhook", url=endpoint.url)
    endpoint.plan = {1: ["500", "500"], 2: ["drop"]}
    assert typed(fake, 2001, "one") == 1
    assert typed(fake, 2002, "two") == 2
    assert typed(fake, 2003, "three") == 3
    await delivered(fake, 3)
    assert sorted(endpoint.acknowledged_ids) == [1, 2, 3]  # nothing lost, nothing twice
    stats = fake.webhook_stats
    assert stats.attempts == {1: 3, 2: 2, 3: 1}
    assert (stats.delivered, stats.redelivered, stats.failed_attempts) == (3, 2, 3)
    status = "Wrong response from the webhook: 500 Internal Server Error"
    assert [error for update_id, error in stats.errors if update_id == 1] == [status] * 2
    (dropped,) = [error for update_id, error in stats.errors if update_id == 2]
    assert dropped in {"Webhook connection closed", "Connection reset by peer"}
    info = await result(http, fake, "getWebhookInfo")
    assert info["pending_update_count"] == 0
    assert isinstance(info["last_error_date"], int) and info["last_error_date"] > 0
    assert info["last_error_message"] in {status, dropped}


async def test_a_refused_connection_is_retried_until_the_endpoint_listens(
    fake: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    port = free_port()  # nothing listens here yet
    url = f"http://127.0.0.1:{port}/hook"
    assert await result(http, fake, "setWebhook", url=url)
    update_id = typed(fake, 2001, "hello")
    await fake.wait_for(lambda: fake.webhook_stats.failed_attempts >= 2)
    info = await result(http, fake, "getWebhookInfo")
    assert info["pending_update_count"] == 1
    assert info["last_error_message"] == "Connection refused"
    assert fake.webhook_stats.delivered == 0

    late = Endpoint()
    await late.start(port)
    try:
        await delivered(fake, 1)
    finally:
        await late.stop()
    assert late.acknowledged_ids == [update_id]
    stats = fake.webhook_stats
    assert stats.attempts[update_id] == stats.failed_attempts + 1
    assert (stats.delivered, stats.redelivered) == (1, 1)


async def test_a_post_that_times_out_is_redelivered(
    fake: FakeTelegram, endpoint: Endpoint, http: aiohttp.ClientSession
) -> None:
    fake.webhook_timeout = 0.5
    assert await result(http, fake, "setWebhook", url=endpoint.url)
    endpoint.plan = {1: ["hang"]}
    typed(fake, 2001, "hello")
    await delivered(fake, 1)
    assert endpoint.acknowledged_ids == [1]
    stats = fake.webhook_stats
    assert stats.errors[0] == (1, "Read timeout expired")
    assert stats.attempts[1] == stats.failed_attempts + 1 >= 2


async def test_at_most_max_connections_posts_are_in_flight(
    fake: FakeTelegram, endpoint: Endpoint, http: aiohttp.ClientSession
) -> None:
    assert await result(http, fake, "setWebhook", url=endpoint.url, max_connections=3)
    assert (await result(http, fake, "getWebhookInfo"))["max_connections"] == 3
    endpoint.gate = asyncio.Event()
    for user_id in range(2001, 2011):  # ten chats: each could go at once
        typed(fake, user_id, "hello")
    await fake.wait_for(lambda: endpoint.in_flight == 3)
    await asyncio.sleep(0.05)  # room for a fourth POST, were the limit not kept
    assert endpoint.in_flight == 3
    assert (await result(http, fake, "getWebhookInfo"))["pending_update_count"] == 10
    endpoint.gate.set()
    await delivered(fake, 10)
    assert endpoint.peak == 3 and fake.webhook_stats.peak_in_flight == 3
    assert sorted(endpoint.acknowledged_ids) == list(range(1, 11))


async def test_max_connections_is_clamped_like_telegram(
    fake: FakeTelegram, endpoint: Endpoint, http: aiohttp.ClientSession
) -> None:
    assert await result(http, fake, "setWebhook", url=endpoint.url, max_connections=500)
    assert (await result(http, fake, "getWebhookInfo"))["max_connections"] == 100
    assert await result(http, fake, "setWebhook", url=endpoint.url, max_connections=0)
    assert (await result(http, fake, "getWebhookInfo"))["max_connections"] == 1


async def test_one_chat_is_delivered_in_order_one_at_a_time(
    fake: FakeTelegram, endpoint: Endpoint, http: aiohttp.ClientSession
) -> None:
    assert await result(http, fake, "setWebhook", url=endpoint.url)  # 40 connections
    endpoint.plan = {2: ["500"]}
    ids = [typed(fake, 2001, f"message {n}") for n in range(5)]
    await delivered(fake, 5)
    assert endpoint.acknowledged_ids == ids
    # The failed second message held back the rest of the chat until it got through.
    assert [request[0] for request in endpoint.requests] == [1, 2, 2, 3, 4, 5]
    assert endpoint.peak == 1


async def test_update_id_order_with_one_connection_and_other_chats_go_on_during_a_back_off(
    fake: FakeTelegram, endpoint: Endpoint, http: aiohttp.ClientSession
) -> None:
    assert await result(http, fake, "setWebhook", url=endpoint.url, max_connections=1)
    for user_id in (2001, 2002, 2001, 2003):
        typed(fake, user_id, "hello")
    await delivered(fake, 4)
    assert endpoint.acknowledged_ids == [1, 2, 3, 4]

    endpoint.plan = {5: ["500"]}
    fake.webhook_retry_base = 0.2  # a back-off long enough for Bob's update to go first
    for user_id in (2001, 2001, 2002):  # updates 5 and 6 from Alice, then 7 from Bob
        typed(fake, user_id, "again")
    await delivered(fake, 7)
    # Bob's update went while Alice's backed off; hers stayed in order.
    assert endpoint.acknowledged_ids[4:] == [7, 5, 6]
    assert [request[0] for request in endpoint.requests[4:]] == [5, 7, 5, 6]


async def test_get_updates_conflicts_and_delete_webhook_hands_back_what_was_not_delivered(
    fake: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook"  # refuses: nothing is delivered
    assert await result(http, fake, "setWebhook", url=url, secret_token="abc")
    typed(fake, 2001, "one")
    typed(fake, 2002, "two")
    answer = await call(http, fake, "getUpdates", timeout=0)
    assert answer == {"ok": False, "error_code": 409, "description": CONFLICT}
    await fake.wait_for(lambda: fake.webhook_stats.failed_attempts >= 1)
    assert (await result(http, fake, "getWebhookInfo"))["pending_update_count"] == 2

    assert await result(http, fake, "deleteWebhook")
    assert fake.webhook is None
    info = await result(http, fake, "getWebhookInfo")
    assert info == {"url": "", "has_custom_certificate": False, "pending_update_count": 2}
    updates = await result(http, fake, "getUpdates", timeout=0)
    assert [u["update_id"] for u in updates] == [1, 2]
    assert updates[0]["message"]["text"] == "one"
    attempts = dict(fake.webhook_stats.attempts)
    await asyncio.sleep(0.05)
    assert fake.webhook_stats.attempts == attempts  # delivery has stopped

    # drop_pending_updates forgets them, on deleteWebhook as on setWebhook.
    assert await result(http, fake, "deleteWebhook", drop_pending_updates=True)
    assert await result(http, fake, "getUpdates", offset=0, timeout=0) == []
    typed(fake, 2001, "three")
    assert await result(http, fake, "setWebhook", url=url, drop_pending_updates=True)
    assert (await result(http, fake, "getWebhookInfo"))["pending_update_count"] == 0
    assert await result(http, fake, "setWebhook", url="")  # an empty url removes it
    assert (await result(http, fake, "getWebhookInfo"))["url"] == ""


async def test_set_webhook_refuses_what_telegram_refuses(
    fake: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    refusals = {
        "http://cafe.example.com/hook": "An HTTPS URL must be provided for webhook",
        "https://cafe.example.com:8080/hook": "only on ports 80, 88, 443 or 8443",
        "ftp://127.0.0.1/hook": "Failed to resolve host",
    }
    for url, reason in refusals.items():
        answer = await call(http, fake, "setWebhook", url=url)
        assert answer["error_code"] == 400 and reason in answer["description"], answer
    for secret, reason in [("a:b", "unallowed characters"), ("a" * 257, "too long")]:
        hook = "https://cafe.example.com/hook"
        answer = await call(http, fake, "setWebhook", url=hook, secret_token=secret)
        assert answer["error_code"] == 400 and reason in answer["description"], answer
    assert fake.webhook is None

    # A public https address is taken, but the fake never reaches out to the network:
    # updates wait, as they would for an endpoint that is down.
    assert await result(http, fake, "setWebhook", url="https://cafe.example.com:8443/hook")
    typed(fake, 2001, "hello")
    await asyncio.sleep(0.05)
    assert fake.webhook_stats.attempts == {}
    assert (await result(http, fake, "getWebhookInfo"))["pending_update_count"] == 1


async def test_allowed_updates_leave_other_kinds_out(
    fake: FakeTelegram, endpoint: Endpoint, http: aiohttp.ClientSession
) -> None:
    assert await result(
        http, fake, "setWebhook", url=endpoint.url, allowed_updates=["callback_query"]
    )
    info = await result(http, fake, "getWebhookInfo")
    assert info["allowed_updates"] == ["callback_query"]
    typed(fake, 2001, "hello")  # a message: not wanted
    assert fake.webhook_stats.filtered == 1 and not fake.updates
    alice = fake.user(2001, "Alice")
    keyboard = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await result(
        http, fake, "sendMessage", chat_id=2001, text="Pick one", reply_markup=keyboard
    )
    (message,) = fake.sent[2001]
    assert message.message_id == sent["message_id"]
    fake.push_update({"callback_query": alice.callback(message, "a")})
    await delivered(fake, 1)
    assert endpoint.acknowledged[0]["callback_query"]["data"] == "a"


# -- paid broadcasts -----------------------------------------------------------------------


async def test_paid_broadcasts_have_their_own_limit_and_are_counted(
    fake: FakeTelegram, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    fake.enable_rate_limits()
    chats = range(10_000, 11_100)
    fake.known_chats.update(chats)

    async def send(chat_id: int, paid: bool) -> dict[str, Any]:
        extra = {"allow_paid_broadcast": True} if paid else {}
        return await call(http, fake, "sendMessage", chat_id=chat_id, text="News", **extra)

    async def send_all(chat_ids: range, paid: bool) -> list[dict[str, Any]]:
        answers: list[dict[str, Any]] = []
        for start in range(0, len(chat_ids), 100):
            batch = chat_ids[start : start + 100]
            answers += await asyncio.gather(*(send(c, paid) for c in batch))
        return answers

    # The free limit: 30 in a second, the 31st refused.
    free = await send_all(chats[:31], paid=False)
    assert [a["ok"] for a in free] == [True] * 30 + [False]
    assert free[-1]["error_code"] == 429
    assert fake.paid_messages == 0

    # Paid: up to 1,000 more in the same second; the 1,001st refused.
    paid = await send_all(chats[31:1032], paid=True)
    assert sum(a["ok"] for a in paid) == 1000
    assert paid[-1]["error_code"] == 429 and paid[-1]["parameters"] == {"retry_after": 1}
    assert fake.paid_messages == 1000
    # The free 30 were used up by the free messages: every paid one is billed.
    assert fake.paid_charged == 1000 and fake.paid_stars == Decimal("100.0")

    # A second later both limits start over.
    clock.advance(seconds=1)
    assert (await send(chats[1032], paid=True))["ok"]
    assert (await send(chats[1033], paid=False))["ok"]
    assert fake.paid_messages == 1001


async def test_paid_messages_within_the_free_thirty_are_not_billed(
    fake: FakeTelegram, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    fake.enable_rate_limits()
    fake.known_chats.update(range(5000, 5040))
    for chat_id in range(5000, 5040):  # 40 paid messages in one second: 10 beyond 30
        params = {"chat_id": chat_id, "text": "News", "allow_paid_broadcast": True}
        answer = await call(http, fake, "sendMessage", **params)
        assert answer["ok"], answer
    assert (fake.paid_messages, fake.paid_charged) == (40, 10)
    assert fake.paid_stars == Decimal("1.0")


async def test_the_per_chat_limit_holds_for_paid_messages(
    fake: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    fake.enable_rate_limits()
    fake.known_chats.add(2001)
    answers = [
        await call(
            http, fake, "sendMessage", chat_id=2001, text=f"News {n}", allow_paid_broadcast="true"
        )
        for n in range(4)
    ]
    assert [a["ok"] for a in answers] == [True, True, True, False]
    assert answers[-1]["error_code"] == 429
    assert fake.paid_messages == 3


async def test_a_paid_photo_through_ptb_is_counted(fake: FakeTelegram) -> None:
    from telegram import Bot

    fake.known_chats.add(2001)
    async with Bot(TOKEN, base_url=f"{fake.url}/bot") as bot:
        await bot.send_photo(2001, b"PNG", caption="New menu", allow_paid_broadcast=True)
        await bot.send_message(2001, "No charge")
    assert fake.paid_messages == 1
    assert [m.method for m in fake.sent[2001]] == ["sendPhoto", "sendMessage"]


# -- the real bot --------------------------------------------------------------------------


async def test_the_bot_receives_updates_by_webhook_and_replies(
    fake: FakeTelegram, clock: FakeClock, tmp_path: Path, database_url: str | None
) -> None:
    settings = make_settings(tmp_path, fake.url, database_url)
    app = build_application(settings, clock=clock, update_processor=fake.processor())
    port, secret = free_port(), "webhook-secret_0123456789abcdef"
    await app.initialize()
    assert app.post_init is not None and app.updater is not None
    await app.post_init(app)
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="telegram",
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        secret_token=secret,
        allowed_updates=ALLOWED_UPDATES,
    )
    await app.start()
    try:
        assert fake.webhook is not None and fake.webhook["secret_token"] == secret
        alice = fake.user(2001, "Alice")
        (welcome,) = await alice.send("/start")
        assert "Welcome to Bean There, Alice!" in welcome.body
        (again,) = await alice.send("/start")
        assert again.body == "Welcome back, Alice! You have 0 points."
        stats = fake.webhook_stats
        assert stats.delivered == 2 and stats.failed_attempts == 0
    finally:
        await app.updater.stop()
        await app.stop()
        assert app.post_stop is not None and app.post_shutdown is not None
        await app.post_stop(app)
        await app.shutdown()
        await app.post_shutdown(app)
    # As bot_factory judges: only the owner's menu, set before the owner ever wrote, fails.
    unexpected = [
        (method, error.description)
        for method, error in fake.errors
        if not (method == "setMyCommands" and "chat not found" in error.description)
    ]
    assert not unexpected, unexpected


async def test_polling_is_untouched_without_a_webhook(
    fake: FakeTelegram, http: aiohttp.ClientSession
) -> None:
    typed(fake, 2001, "hello")
    updates = await result(http, fake, "getUpdates", timeout=0)
    assert [u["update_id"] for u in updates] == [1]
    assert fake.webhook_stats.attempts == {}
