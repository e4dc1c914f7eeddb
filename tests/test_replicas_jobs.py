"""Several replicas on one database: each job runs on one of them, a dead replica's jobs
are taken over within a minute, every replica's heartbeat is visible to the health
check, and replicas starting at once make one owner claim link between them."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import generate_latest
from telegram.ext import Job

from bot.services.health import HealthReport, health_now
from bot.services.leases import LEASE_TTL, LeaseService
from bot.services.replicas import FORGET_AFTER
from sandbox.botapi import BOT_USERNAME
from tests.conftest import BotFactory, BotHarness, stop_bot
from tests.test_owner_claim_e2e import claim_payloads
from tests.test_rewards_e2e import CUSTOMER_ID, get_coupon, setup
from tests.test_startup import free_port

LEASED = ("backup", "expire-coupons", "lifecycle", "prune-replicas", "start-offers")
EVERY_REPLICA = ("heartbeat", "leases")


def job(bot: BotHarness, name: str) -> Job:  # type: ignore[type-arg]
    assert bot.app.job_queue is not None
    (found,) = bot.app.job_queue.get_jobs_by_name(name)
    return found


async def run(bot: BotHarness, *names: str) -> None:
    for name in names:
        await job(bot, name).run(bot.app)


async def replica(bot_factory: BotFactory, replica_id: str, **settings: object) -> BotHarness:
    """A replica whose jobs tick only when the test runs them (its scheduler is paused
    at once, before the first real tick): a replica the test stops running jobs on is
    one that was killed."""
    bot = await bot_factory(replica_id=replica_id, **settings)
    assert bot.app.job_queue is not None
    bot.app.job_queue.scheduler.pause()
    return bot


async def holders(bot: BotHarness) -> dict[str, str]:
    """Who holds each scheduled job's lease (the bulk sender has a lease of its own)."""
    rows = await bot.rows("SELECT * FROM leases")
    return {row["name"]: row["holder"] for row in rows if row["name"] in LEASED}


async def until_healthy(database: Path | str, *bots: BotHarness) -> HealthReport:
    """The health report once the bulk senders (their own loop, in real time) have
    renewed their lease at the moved clock."""
    for _ in range(200):
        for bot in bots:
            if bot.app.bot_data.broadcaster is not None:
                bot.app.bot_data.broadcaster.wake()
        report = health_now(database, bots[0].clock.now())
        if report.problem is None:
            return report
        await asyncio.sleep(0.05)
    raise AssertionError(report.problem)


def skipped(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        found.group(1)
        for record in caplog.records
        for found in [re.match(r"Job (\S+) skipped", record.getMessage())]
        if found
    ]


def expiry_notices(bot: BotHarness) -> list[str]:
    return [m.body for m in bot.fake.sent[CUSTOMER_ID] if "expired unused" in m.body]


async def test_each_job_runs_on_one_replica_and_a_dead_ones_are_taken_over(
    bot_factory: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    a = await replica(bot_factory, "replica-a")
    _, alice = await setup(a)
    await get_coupon(alice)
    a.clock.advance(days=2)
    await get_coupon(alice)  # another coupon, due two days later
    # (People talk to A only: two test bots polling one fake Bot API would both get each
    # update, which Telegram's own getUpdates refuses; webhooks spread them.)
    b = await replica(bot_factory, "replica-b")
    assert (a.services.replica_id, b.services.replica_id) == ("replica-a", "replica-b")
    assert a.app.job_queue is not None
    scheduled = {j.name for j in a.app.job_queue.jobs()}
    assert scheduled == set(LEASED + EVERY_REPLICA)

    # A month on, the first coupon has expired. Replica A renews its leases first: every shared
    # job then runs on A, and B's ticks of the same jobs do nothing.
    a.clock.advance(days=29)
    await run(a, "leases")
    assert await holders(a) == dict.fromkeys(LEASED, "replica-a")
    caplog.set_level(logging.DEBUG, logger="handlers.jobs")
    caplog.clear()
    await run(b, *LEASED)
    assert sorted(skipped(caplog)) == sorted(LEASED)
    assert expiry_notices(a) == []
    await run(b, "leases")  # B cannot take a lease A holds
    assert await holders(a) == dict.fromkeys(LEASED, "replica-a")
    caplog.clear()
    await run(a, *LEASED)
    await run(b, *LEASED)
    assert sorted(skipped(caplog)) == sorted(LEASED)  # B's only
    await run(a, *LEASED)
    (notice,) = expiry_notices(a)  # the work was done once
    assert "5 points are back" in notice
    states = await a.rows("SELECT state FROM coupons ORDER BY id")
    assert [row["state"] for row in states] == ["expired", "issued"]

    # A is killed. Its leases run out within LEASE_TTL of its last renewal, and B's next
    # renewal (every 15 s) takes them: within a minute.
    a.clock.advance(seconds=30)
    await run(b, "heartbeat", "leases")
    assert set((await holders(a)).values()) == {"replica-a"}  # not yet
    a.clock.advance(seconds=LEASE_TTL.total_seconds() - 30 + 1)
    await run(b, "heartbeat", "leases")
    assert await holders(a) == dict.fromkeys(LEASED, "replica-b")

    # The jobs now run on B; A, waking from a stall, finds its leases taken and does nothing.
    a.clock.advance(days=2)
    await run(b, "leases")
    caplog.clear()
    await run(a, *LEASED)
    assert sorted(skipped(caplog)) == sorted(LEASED)
    assert len(expiry_notices(a)) == 1
    await run(b, *LEASED)
    assert len(expiry_notices(a)) == 2
    assert await a.value("SELECT COUNT(*) FROM coupons WHERE state = 'expired'") == 2


async def test_a_replica_that_stops_hands_its_jobs_on_at_once(bot_factory: BotFactory) -> None:
    a = await replica(bot_factory, "replica-a")
    b = await replica(bot_factory, "replica-b")
    await run(a, "leases")
    await run(b, "leases")
    assert await holders(a) == dict.fromkeys(LEASED, "replica-a")
    await stop_bot(a)
    ids = {row["id"] for row in await b.rows("SELECT id FROM replicas")}
    assert ids == {"replica-b"}  # a clean stop removes its heartbeat
    await run(b, "leases")  # no waiting for the leases to expire
    assert await holders(b) == dict.fromkeys(LEASED, "replica-b")


async def test_only_one_of_racing_replicas_gets_a_lease(bot: BotHarness) -> None:
    services = bot.services
    racers = [LeaseService(services.db, bot.clock, f"racer-{n}") for n in range(8)]
    won = await asyncio.gather(*(racer.take("contested") for racer in racers))
    assert won.count(True) == 1
    winner = racers[won.index(True)]
    assert await winner.take("contested")  # the holder renews
    assert not await racers[won.index(False)].take("contested")
    bot.clock.advance(seconds=LEASE_TTL.total_seconds() + 1)
    assert await racers[won.index(False)].take("contested")  # expired: taken over
    assert not await winner.take("contested")


async def test_health_shows_every_replica_and_fails_without_a_live_one_or_a_job_holder(
    bot_factory: BotFactory,
) -> None:
    a = await replica(bot_factory, "replica-a", metrics_port=free_port())
    b = await replica(bot_factory, "replica-b")
    await run(a, "leases")
    database = a.services.settings.database
    url = f"http://127.0.0.1:{a.app.bot_data.monitor.port}"  # type: ignore[union-attr]

    async def healthz() -> tuple[int, dict[str, object]]:
        async with aiohttp.ClientSession() as http, http.get(f"{url}/healthz") as response:
            return response.status, await response.json()

    # Both heartbeats, written at start-up, in the command's lines and in /healthz.
    report = await until_healthy(database, a, b)
    lines = report.lines()
    assert any(line.startswith("replica replica-a: alive") for line in lines), lines
    assert any(line.startswith("replica replica-b: alive") for line in lines), lines
    assert "job lifecycle: held by replica-a for 45 s more" in lines
    status, facts = await healthz()
    assert status == 200 and facts["status"] == "ok" and facts["replica"] == "replica-a"
    replicas = {r["id"]: r for r in facts["replicas"]}  # type: ignore[attr-defined]
    assert set(replicas) == {"replica-a", "replica-b"}
    assert all(r["alive"] and r["version"] for r in replicas.values())
    jobs = {j["name"]: j for j in facts["jobs"] if j["name"] in LEASED}  # type: ignore[attr-defined]
    assert set(jobs) == set(LEASED)
    assert {j["holder"] for j in jobs.values()} == {"replica-a"}
    assert not any(j["overdue"] for j in jobs.values())

    # Metrics carry the replica's id.
    metrics = generate_latest(a.app.bot_data.metrics.exposed).decode()  # type: ignore[union-attr]
    assert 'replica="replica-a"' in metrics and 'replica="replica-b"' not in metrics

    # A dies; B keeps beating but (for this test) takes no lease: A's jobs have no
    # holder, which fails the health check once they are a minute overdue.
    a.clock.advance(seconds=LEASE_TTL.total_seconds() + 61)
    await b.services.replicas.beat()
    report = health_now(database, a.clock.now())
    assert [r.id for r in report.alive] == ["replica-b"]
    assert report.problem is not None and "no live replica runs these jobs" in report.problem
    assert any(line.startswith("replica replica-a: not seen for 106 s") for line in report.lines())
    status, facts = await healthz()
    assert status == 503 and "lifecycle" in str(facts["problem"])
    await run(b, "leases")
    await until_healthy(database, a, b)
    assert (await healthz())[0] == 200

    # Nobody beats for two heartbeats: no replica is alive.
    a.clock.advance(seconds=61)
    report = health_now(database, a.clock.now())
    assert report.problem == (
        "the last heartbeat (replica-b) is 61 s old: the bot is stuck or stopped"
    )
    status, facts = await healthz()
    assert status == 503 and facts["problem"] == report.problem

    # A day later the prune job (on the lease holder) forgets both; a stopped bot leaves
    # no row of its own.
    a.clock.advance(seconds=FORGET_AFTER.total_seconds())
    await run(b, "leases", "prune-replicas")
    assert await b.rows("SELECT id FROM replicas") == []


async def test_replicas_starting_at_once_make_one_owner_link(
    bot_factory: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    a, b = await asyncio.gather(
        bot_factory(owner_ids=(), replica_id="replica-a"),
        bot_factory(owner_ids=(), replica_id="replica-b"),
    )
    first, second = claim_payloads(caplog)  # each replica logs it ...
    assert first == second  # ... the same one
    assert await a.value("SELECT COUNT(*) FROM owner_claims") == 1

    # A restart within the day logs the same link again, and it still works once.
    await stop_bot(a)
    await stop_bot(b)  # (one bot polls the fake Bot API at a time)
    caplog.clear()
    again = await bot_factory(owner_ids=(), replica_id="replica-a")
    assert claim_payloads(caplog) == [first]
    assert await again.value("SELECT COUNT(*) FROM owner_claims") == 1
    (welcome,) = await again.user(4001, "Olga").send(f"/start {first}")
    assert "you are now the owner" in welcome.body
    assert f"https://t.me/{BOT_USERNAME}?start=" not in welcome.body
    assert await again.rows("SELECT tg_user_id FROM owners") == [{"tg_user_id": 4001}]


def test_claim_links_only_keep_their_hash() -> None:
    """The stored row cannot be turned back into a link without the signing key."""
    from bot.services.roles import _claim_token

    token = _claim_token(b"k" * 32, "nonce")
    assert token.startswith("o") and len(token) <= 64
    assert token != _claim_token(b"j" * 32, "nonce")
