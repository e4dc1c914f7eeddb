"""Webhook mode: the bot's own server, updates answered once handled, and several replicas
on one PostgreSQL database taking each chat's updates in turn and each update once.

Replicas here are real Applications in this process, each behind its own webhook server
(bot/telegram/webhook.py), all registered at one URL: a small round-robin proxy standing
in for the load balancer, to which the fake Bot API posts what people send. Tests that
need an update at a given replica post it there themselves.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from bot import cli
from bot.app import build_application
from bot.services.container import Services
from bot.telegram.webhook import (
    HEALTH_PATH,
    MAX_UPDATE_BYTES,
    SECRET_HEADER,
    WebhookServer,
    serve,
)
from sandbox.botapi import TOKEN, FakeTelegram, FakeUser
from storage import TransientError
from storage import changes as change_feed
from storage.engine import sql
from storage.updates import CHAT_TURN, fold
from tests.conftest import BotHarness, FakeClock, make_settings
from tests.databases import fresh_schema, server_url
from tests.helpers import qr_payload, show_card
from tests.test_startup import free_port

SECRET = "replicas-share-this-secret_0123456789"
HOOK_PATH = "/telegram"


class RoundRobin:
    """The load balancer: each POST goes to the next replica in turn."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self._turn = itertools.count()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post(HOOK_PATH, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self._http = aiohttp.ClientSession()
        self.url = f"http://127.0.0.1:{port}{HOOK_PATH}"

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        if not self.targets:
            return web.Response(status=502)
        target = self.targets[next(self._turn) % len(self.targets)]
        headers = {k: v for k, v in request.headers.items() if k == SECRET_HEADER}
        try:
            async with self._http.post(target, data=await request.read(), headers=headers) as r:
                return web.Response(status=r.status)
        except aiohttp.ClientError:
            return web.Response(status=502)


@dataclass
class Replica:
    """One `loyalty-bot run --webhook` process, in this one."""

    server: WebhookServer
    harness: BotHarness
    stopped: asyncio.Event
    task: asyncio.Task[None]

    @property
    def services(self) -> Services:
        return self.harness.services

    @property
    def hook(self) -> str:
        return f"http://127.0.0.1:{self.server.port}{HOOK_PATH}"

    async def post(
        self, update: dict[str, Any], headers: dict[str, str] | None = None, **kwargs: Any
    ) -> int:
        """POST an update as Telegram does; the answer's status."""
        given = {SECRET_HEADER: SECRET} if headers is None else headers
        async with (
            aiohttp.ClientSession() as http,
            http.post(self.hook, json=update, headers=given, **kwargs) as response,
        ):
            return response.status

    async def stop(self) -> None:
        self.stopped.set()
        await self.task


class Replicas:
    """Starts replicas on the test's database, behind one proxy; stops them all."""

    def __init__(
        self, fake: FakeTelegram, clock: FakeClock, tmp_path: Path, database_url: str | None
    ) -> None:
        self.fake = fake
        self.clock = clock
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.proxy = RoundRobin()
        self.running: list[Replica] = []
        self._ids = itertools.count(100_001)  # apart from the fake's own update ids

    async def start(self, *, behind_proxy: bool = True, **overrides: Any) -> Replica:
        port = free_port()
        values: dict[str, Any] = {
            "webhook_url": self.proxy.url,
            "webhook_listen": "127.0.0.1",
            "webhook_port": port,
            "webhook_secret": SECRET,
        }
        values.update(overrides)
        settings = make_settings(self.tmp_path, self.fake.url, self.database_url, **values)
        app = build_application(settings, clock=self.clock, update_processor=self.fake.processor())
        server = WebhookServer.for_settings(app, settings, values["webhook_secret"])
        stopped, ready = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(serve(server, stopped, ready))
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiting}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if task.done():
            await task  # raises what stopped it
        assert ready.is_set(), "the replica did not start in time"
        replica = Replica(server, BotHarness(self.fake, app, self.clock), stopped, task)
        self.running.append(replica)
        if behind_proxy:
            self.proxy.targets.append(replica.hook)
        return replica

    async def stop(self, replica: Replica) -> None:
        if replica.hook in self.proxy.targets:
            self.proxy.targets.remove(replica.hook)
        if replica in self.running:
            self.running.remove(replica)
            await replica.stop()

    def update(self, person: FakeUser, text: str) -> dict[str, Any]:
        """What Telegram would post when ``person`` types ``text`` (a new update id)."""
        self.fake.known_chats.add(person.chat_id)
        return {"update_id": next(self._ids), **person.text_update(text)}

    def set_webhook_calls(self) -> int:
        return sum(method == "setWebhook" for method, _ in self.fake.calls)


@pytest_asyncio.fixture
async def replicas(
    fake: FakeTelegram, clock: FakeClock, tmp_path: Path, database_url: str | None
) -> AsyncIterator[Replicas]:
    group = Replicas(fake, clock, tmp_path, database_url)
    await group.proxy.start()
    yield group
    for replica in reversed(group.running):
        await group.stop(replica)
    await group.proxy.stop()


@pytest_asyncio.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_schema(server_url()) as url:
        yield url


@pytest_asyncio.fixture
async def pg_replicas(
    fake: FakeTelegram, clock: FakeClock, tmp_path: Path, pg_url: str
) -> AsyncIterator[Replicas]:
    """Replicas on PostgreSQL only: what only several processes can show."""
    group = Replicas(fake, clock, tmp_path, pg_url)
    await group.proxy.start()
    yield group
    for replica in reversed(group.running):
        await group.stop(replica)
    await group.proxy.stop()


async def handled_ids(replica: Replica) -> list[int]:
    rows = await replica.harness.rows("SELECT update_id FROM handled_updates ORDER BY update_id")
    return [row["update_id"] for row in rows]


async def scanned(replica: Replica) -> tuple[FakeUser, FakeUser]:
    """A barista and a customer whose card the barista has just scanned."""
    bot = replica.harness
    await bot.owner().send("/start")
    barista = await bot.hire(3001, "Anna")
    customer = await bot.customer(2001, "Alice")
    await bot.scan(barista, customer)
    return barista, customer


# --- One replica, either engine ---------------------------------------------------------


async def test_a_request_without_the_secret_is_refused_before_it_is_read(
    replicas: Replicas, fake: FakeTelegram
) -> None:
    bot = await replicas.start()
    alice = fake.user(2001, "Alice")
    update = replicas.update(alice, "/start")
    for headers in ({}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: SECRET + "x"}):
        assert await bot.post(update, headers) == 403
    # Too big, or not an update: refused too, and nothing handled.
    assert await bot.post(update | {"padding": "x" * MAX_UPDATE_BYTES}) == 413
    async with (
        aiohttp.ClientSession() as http,
        http.post(bot.hook, data=b"{not json", headers={SECRET_HEADER: SECRET}) as response,
    ):
        assert response.status == 400
    assert not fake.sent[alice.chat_id]
    assert await handled_ids(bot) == []


async def test_an_update_is_answered_only_once_its_reply_is_sent(
    replicas: Replicas, fake: FakeTelegram
) -> None:
    bot = await replicas.start()
    alice = fake.user(2001, "Alice")
    update = replicas.update(alice, "/start")
    fake.slow_chats[alice.chat_id] = released = asyncio.Event()  # Telegram hangs on the reply
    post = asyncio.create_task(bot.post(update))
    await fake.wait_for(
        lambda: any(
            method == "sendMessage" and int(params["chat_id"]) == alice.chat_id
            for method, params in fake.calls
        )
    )
    assert not post.done()  # the reply is on its way: Telegram has no answer yet
    released.set()
    assert await post == 200
    assert any("Welcome" in m.body or "card" in m.body for m in alice.messages)
    assert await handled_ids(bot) == [update["update_id"]]


async def test_people_use_the_bot_through_the_webhook(replicas: Replicas) -> None:
    """The whole counter through Telegram's deliveries: scan, amount, receipt."""
    bot = (await replicas.start()).harness
    barista = await bot.hire(3001, "Anna")
    customer = await bot.customer(2001, "Alice")
    await bot.scan(barista, customer)
    (confirmation,) = await barista.send("4.50")
    assert confirmation.body.startswith("✅ +4 points for Alice")
    assert customer.last.body.startswith("🧾 +4 points")
    assert replicas.fake.webhook_stats.redelivered == 0


async def test_an_update_delivered_twice_issues_points_once(replicas: Replicas) -> None:
    bot = await replicas.start()
    barista, customer = await scanned(bot)
    amount = replicas.update(barista, "4.50")
    seen = len(barista.messages), len(customer.messages)
    # Telegram delivers it again while the first delivery is still being handled.
    assert await asyncio.gather(bot.post(amount), bot.post(amount)) == [200, 200]
    assert await bot.post(amount) == 200  # and once more, later
    earned = await bot.harness.rows("SELECT points FROM ledger WHERE kind = 'earn'")
    assert earned == [{"points": 4}]
    # One confirmation and one receipt: the repeats were not handled at all.
    assert [m.body[:1] for m in barista.messages[seen[0] :]] == ["✅"]
    assert [m.body[:1] for m in customer.messages[seen[1] :]] == ["🧾"]


async def test_a_failing_handler_still_answers_200_and_is_not_handled_again(
    replicas: Replicas, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await replicas.start()
    await bot.harness.owner().send("/start")
    alice = await bot.harness.customer(2001, "Alice")

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(bot.services.catalog, "list", broken)
    update = replicas.update(alice, "/rewards")
    assert await bot.post(update) == 200
    assert "Sorry, something went wrong" in alice.last.body
    apologies = len(alice.messages)
    assert await bot.post(update) == 200  # a second delivery repeats nothing
    assert len(alice.messages) == apologies
    assert update["update_id"] in await handled_ids(bot)


async def test_a_database_away_answers_503_so_telegram_delivers_again(
    replicas: Replicas, fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await replicas.start()
    alice = await bot.harness.customer(2001, "Alice")
    update = replicas.update(alice, "/rewards")
    catalog = bot.services.catalog

    async def away(*args: Any, **kwargs: Any) -> Any:
        raise TransientError("OperationalError")

    with monkeypatch.context() as patch:
        patch.setattr(catalog, "list", away)
        assert await bot.post(update) == 503
    assert "try again" in alice.last.body
    assert update["update_id"] not in await handled_ids(bot)
    # Telegram's next delivery finds the database back.
    assert await bot.post(update) == 200
    assert "Rewards" in alice.last.body or "reward" in alice.last.body.lower()
    assert update["update_id"] in await handled_ids(bot)

    # When the update cannot even be claimed, it is not handled at all.
    second = replicas.update(alice, "/balance")
    before = len(alice.messages)

    def claim_away(*args: Any, **kwargs: Any) -> Any:
        raise TransientError("OperationalError")

    with monkeypatch.context() as patch:
        patch.setattr(bot.server.ledger, "claim", claim_away)
        assert await bot.post(second) == 503
    assert len(alice.messages) == before


async def test_the_health_route_for_the_load_balancer(
    replicas: Replicas, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await replicas.start()
    url = f"http://127.0.0.1:{bot.server.port}{HEALTH_PATH}"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            assert response.status == 200
            assert await response.json() == {"status": "ok", "database": "ok"}

        async def away() -> None:
            raise TransientError("OperationalError")

        monkeypatch.setattr(bot.services.health, "ping", away)
        async with http.get(url) as response:
            assert response.status == 503
            assert (await response.json())["database"] == "unreachable"


async def test_a_stop_finishes_the_updates_in_flight(
    replicas: Replicas, fake: FakeTelegram
) -> None:
    bot = await replicas.start(behind_proxy=False)
    alice = fake.user(2001, "Alice")
    update = replicas.update(alice, "/start")
    fake.slow_chats[alice.chat_id] = released = asyncio.Event()
    post = asyncio.create_task(bot.post(update))
    await fake.wait_for(lambda: any(method == "sendMessage" for method, _ in fake.calls))
    bot.stopped.set()  # SIGTERM
    await fake.wait_for(lambda: not bot.server._accepting)
    late = replicas.update(fake.user(2002, "Bob"), "/start")
    assert await bot.post(late) == 503  # Telegram sends it to another replica
    released.set()
    assert await post == 200
    await replicas.stop(bot)
    assert any("Welcome" in m.body or "card" in m.body for m in alice.messages)
    assert not fake.sent[2002]


async def test_handled_update_ids_are_forgotten_after_a_day(
    replicas: Replicas, clock: FakeClock
) -> None:
    bot = await replicas.start()
    alice = await bot.harness.customer(2001, "Alice")
    first = replicas.update(alice, "/balance")
    assert await bot.post(first) == 200
    clock.advance(hours=23)
    second = replicas.update(alice, "/balance")
    assert await bot.post(second) == 200
    clock.advance(hours=2)
    await bot.server.prune_handled()
    ids = await handled_ids(bot)
    assert first["update_id"] not in ids and second["update_id"] in ids


async def test_polling_keeps_no_handled_updates(bot: BotHarness) -> None:
    alice = await bot.customer(2001, "Alice")
    await alice.send("/balance")
    assert await bot.value("SELECT COUNT(*) FROM handled_updates") == 0


async def test_set_webhook_is_not_repeated_by_a_restart(replicas: Replicas) -> None:
    first = await replicas.start()
    assert replicas.set_webhook_calls() == 1
    hook = replicas.fake.webhook
    assert hook is not None and hook["secret_token"] == SECRET
    assert "drop_pending_updates" not in hook
    await replicas.stop(first)
    await replicas.start()
    assert replicas.set_webhook_calls() == 1
    # A new secret must reach Telegram, though the URL is the same.
    await replicas.stop(replicas.running[0])
    await replicas.start(webhook_secret="a-new-secret_9876543210")
    assert replicas.set_webhook_calls() == 2


# --- Several replicas on one PostgreSQL database -------------------------------------


async def test_replicas_starting_together_set_the_webhook_once(pg_replicas: Replicas) -> None:
    await asyncio.gather(pg_replicas.start(), pg_replicas.start())
    assert pg_replicas.set_webhook_calls() == 1
    await pg_replicas.start()
    assert pg_replicas.set_webhook_calls() == 1


async def test_an_update_delivered_to_two_replicas_at_once_issues_points_once(
    pg_replicas: Replicas,
) -> None:
    a, b = await pg_replicas.start(), await pg_replicas.start()
    barista, customer = await scanned(a)
    amount = pg_replicas.update(barista, "4.50")
    seen = len(barista.messages), len(customer.messages)
    assert await asyncio.gather(a.post(amount), b.post(amount)) == [200, 200]
    assert await asyncio.gather(b.post(amount), a.post(amount)) == [200, 200]
    earned = await a.harness.rows("SELECT points FROM ledger WHERE kind = 'earn'")
    assert earned == [{"points": 4}]
    assert [m.body[:1] for m in barista.messages[seen[0] :]] == ["✅"]
    assert [m.body[:1] for m in customer.messages[seen[1] :]] == ["🧾"]
    assert await handled_ids(a) == await handled_ids(b)


async def test_one_chats_updates_take_turns_across_replicas(
    pg_replicas: Replicas, fake: FakeTelegram
) -> None:
    a, b = await pg_replicas.start(), await pg_replicas.start()
    bot = a.harness
    await bot.owner().send("/start")
    barista = await bot.hire(3001, "Anna")
    customer = await bot.customer(2001, "Alice")
    card = await show_card(customer)
    scan = pg_replicas.update(barista, f"/start {qr_payload(card.photo)}")
    amount = pg_replicas.update(barista, "4.50")
    fake.slow_chats[barista.chat_id] = released = asyncio.Event()
    at_a = asyncio.create_task(a.post(scan))  # the scan's reply hangs: A holds the turn
    await fake.wait_for(
        lambda: any(
            method == "sendMessage" and int(params["chat_id"]) == barista.chat_id
            for method, params in fake.calls[-3:]
        )
    )
    at_b = asyncio.create_task(b.post(amount))  # B gets the amount meanwhile

    async def b_waits_for_the_turn() -> bool:
        waiting = await a.harness.value(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND classid::bigint = :space AND objid::bigint = :key",
            space=CHAT_TURN,
            key=fold(barista.chat_id) % 2**32,
        )
        return bool(waiting)

    for _ in range(500):
        if await b_waits_for_the_turn():
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("B never waited for the chat's turn")
    assert not at_b.done()
    released.set()
    assert await asyncio.gather(at_a, at_b) == [200, 200]
    bodies = [m.body for m in barista.messages[-2:]]
    assert bodies[0].startswith("👤 Alice"), bodies
    assert bodies[1].startswith("✅ +4 points for Alice"), bodies


async def test_a_conversation_across_replicas_through_the_load_balancer(
    pg_replicas: Replicas,
) -> None:
    """Round-robin deliveries: consecutive updates of every chat reach both replicas."""
    a = await pg_replicas.start()
    await pg_replicas.start()
    bot = a.harness
    baristas = [await bot.hire(3001 + n, f"Barista{n}") for n in range(3)]
    customers = [await bot.customer(2001 + n, f"Guest{n}") for n in range(3)]

    async def serve_one(barista: FakeUser, customer: FakeUser, amount: str) -> str:
        await bot.scan(barista, customer)
        (confirmation,) = await barista.send(amount)
        return confirmation.body

    bodies = await asyncio.gather(
        *(
            serve_one(b, c, f"{n + 1}")
            for n, (b, c) in enumerate(zip(baristas, customers, strict=True))
        )
    )
    for n, body in enumerate(bodies):
        noun = "point" if n == 0 else "points"
        assert body.startswith(f"✅ +{n + 1} {noun} for Guest{n}"), body
    assert len(await a.harness.ledger()) == 3


async def test_the_rewards_cache_follows_a_change_made_on_another_replica(
    pg_replicas: Replicas, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = await pg_replicas.start()
    b = await pg_replicas.start(behind_proxy=False)
    reward = await a.services.catalog.add(1, "Extra shot", 50)
    assert [r.cost for r in await b.services.catalog.list(active_only=True)] == [50]  # cached
    await a.services.catalog.change(1, reward.id, cost=40)

    async def b_sees(cost: int) -> bool:
        return [r.cost for r in await b.services.catalog.list(active_only=True)] == [cost]

    for _ in range(500):  # the notice reaches B within moments
        if await b_sees(40):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("B kept the old cost")
    customer = await a.harness.customer(2001, "Alice")
    answer = await b.post(pg_replicas.update(customer, "/rewards"))
    assert answer == 200 and "40" in customer.last.body

    # B loses its listening connection: it keeps no copy until it listens again.
    monkeypatch.setattr(change_feed, "RECONNECT_SECONDS", 3600.0)
    feed = b.services.changes
    assert feed is not None and feed.live
    await a.harness.value("SELECT pg_terminate_backend(:pid) AS done", pid=feed.backend_pid)
    await pg_replicas.fake.wait_for(lambda: not feed.live)
    async with a.services.db.transaction() as tx:  # a change B cannot hear of
        await tx.run(sql("UPDATE rewards SET cost = 30 WHERE id = :id"), id=reward.id)
    assert await b_sees(30)
    await feed.stop()
    await feed.start()
    assert feed.live
    assert await b_sees(30)


# --- Start-up -----------------------------------------------------------------------


def test_several_replicas_need_one_shared_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("WEBHOOK_SECRET", "DATABASE_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@127.0.0.1:1/cafe")
    monkeypatch.setenv("WEBHOOK_URL", "https://cafe.example.com/telegram")
    assert cli.main(["run", "--webhook"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("Configuration error: WEBHOOK_SECRET: required with --webhook")
    assert "openssl rand -hex 32" in line


def test_a_secret_telegram_would_refuse_is_refused_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "https://cafe.example.com/telegram")
    monkeypatch.setenv("WEBHOOK_SECRET", "not allowed: spaces")
    assert cli.main(["run", "--webhook"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("Configuration error: WEBHOOK_SECRET: must be 1-256 characters")
    assert "spaces" not in line  # a secret, even a wrong one, is never repeated


async def test_the_webhook_port_taken_is_one_line(
    replicas: Replicas, tmp_path: Path, fake: FakeTelegram
) -> None:
    first = await replicas.start()
    with pytest.raises(Exception, match=r"^WEBHOOK_PORT: cannot listen on 127\.0\.0\.1:"):
        await replicas.start(webhook_port=first.server.port)


def test_the_fingerprint_never_holds_the_secret() -> None:
    from bot.telegram.webhook import fingerprint

    print_ = fingerprint("https://cafe.example.com/telegram", SECRET)
    assert SECRET not in print_ and len(print_) == 64
    assert print_ != fingerprint("https://cafe.example.com/telegram", SECRET + "x")


async def test_an_owners_wizard_goes_on_whichever_replica_gets_the_next_step(
    pg_replicas: Replicas,
) -> None:
    """Round-robin deliveries: each step of /offer reaches the other replica."""
    a = await pg_replicas.start()
    await pg_replicas.start()
    owner = a.harness.owner()
    await owner.send("/start")
    (ask_title,) = await owner.send("/offer")
    assert "What's its title?" in ask_title.body
    await owner.send("Happy hour")
    (kind,) = await owner.send("Double points every afternoon")
    await owner.press(kind, "Points multiplier")
    (ask_start,) = await owner.send("2")
    assert "When does it start?" in ask_start.body
    await owner.send("now")
    await owner.send("2026-11-30 18:00")
    (audience,) = await owner.send("Mon-Fri 15:00-17:00")
    (announce,) = await owner.press(audience, "Everyone")
    (preview,) = await owner.press(announce, "No")
    assert "🎉 Happy hour\nDouble points every afternoon\nGives: ×2 points" in preview.body
    (saved,) = await owner.press(preview, "Save")
    assert saved.body.startswith("Offer #1 saved.")


async def test_a_replica_whose_connections_were_cut_reconnects_by_itself(
    pg_replicas: Replicas,
) -> None:
    """As after a database restart: the held connections' server processes are gone."""
    bot = await pg_replicas.start()
    alice = await bot.harness.customer(2001, "Alice")
    assert await bot.post(pg_replicas.update(alice, "/balance")) == 200
    idle = [connection.info.backend_pid for connection in bot.server.ledger._idle]
    assert idle
    for pid in idle:
        await bot.harness.value("SELECT pg_terminate_backend(:pid) AS done", pid=pid)
    before = len(alice.messages)
    assert await bot.post(pg_replicas.update(alice, "/balance")) == 200
    assert len(alice.messages) == before + 1
