"""Two bot processes (replicas) on one database and one Telegram, sending in bulk: each
broadcast and outbox message is sent exactly once, by whichever replica claimed it; a
replica that stops hands the rest to the other at once, one that dies leaves its claims
to run out; replies on one replica and a broadcast from the other stay within Telegram's
30 a second together; and a paid broadcast goes past them.

The first replica polls the fake Telegram as usual; the second polls nothing, and a test
hands it updates itself (``via``), as a load balancer would.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio
from telegram import Update

from bot.app import build_application
from handlers.broadcaster import CLAIM, Broadcaster
from sandbox.botapi import FakeTelegram, FakeUser, SentMessage
from storage.timeutil import from_db
from tests.conftest import BotFactory, BotHarness, FakeClock, make_settings, stop_bot
from tests.helpers import qr_payload
from tests.test_promotions_e2e import (
    finished,
    members,
    recipients,
    reports,
    send_broadcast,
    start_broadcast,
)

Replica = Callable[..., Awaitable[BotHarness]]
_update_ids = itertools.count(10_000_000)  # apart from the fake's own


@pytest_asyncio.fixture
async def replica(
    fake: FakeTelegram, clock: FakeClock, tmp_path: Path, database_url: str | None
) -> AsyncIterator[Replica]:
    """Start another replica of the bot on the same database, Telegram and clock."""
    running: list[BotHarness] = []

    async def start(**overrides: Any) -> BotHarness:
        settings = make_settings(tmp_path, fake.url, database_url, **overrides)
        app = build_application(settings, clock=clock, update_processor=fake.processor())
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        await app.start()
        harness = BotHarness(fake, app, clock)
        running.append(harness)
        return harness

    yield start
    clock.hold_sleeps = False  # a test that failed with the clock held lets go of it
    clock.advance(seconds=5)
    for harness in running:
        app = harness.app
        await app.stop()
        assert app.post_stop is not None and app.post_shutdown is not None
        await app.post_stop(app)
        await app.shutdown()
        await app.post_shutdown(app)


async def via(replica: BotHarness, person: FakeUser, text: str) -> list[SentMessage]:
    """``person`` types ``text``, and the update reaches ``replica``."""
    before = len(replica.fake.sent[person.chat_id])
    update_id = next(_update_ids)
    data = {"update_id": update_id, **person.text_update(text)}
    await replica.app.update_queue.put(Update.de_json(data, replica.app.bot))
    await replica.fake.wait_processed(update_id)
    return replica.fake.sent[person.chat_id][before:]


def sender(harness: BotHarness) -> Broadcaster:
    worker = harness.app.bot_data.broadcaster
    assert worker is not None
    return worker


def delivered(people: list[FakeUser], needle: str) -> int:
    return sum(person.fake.delivered(person.chat_id, needle) for person in people)


async def stop_sending(harness: BotHarness) -> None:
    """A clean stop of the replica's sender while the clock is held: it finishes the
    message in flight and gives its claims and the lease back."""
    stopping = asyncio.create_task(sender(harness).stop())
    await asyncio.sleep(0)  # it is stopping now
    harness.clock.hold_sleeps = False
    harness.clock.advance(seconds=1)  # the sleeps it was held in end
    await stopping
    await stop_bot(harness)


async def kill_sender(harness: BotHarness) -> None:
    """The replica dies (SIGKILL): its sender stops where it is, its claims and lease
    stay behind."""
    worker = sender(harness)
    harness.app.bot_data.broadcaster = None
    tasks = [task for task in (worker._task, worker._flusher) if task is not None]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await worker.bot.shutdown()
    await stop_bot(harness)


async def step_until(clock: FakeClock, condition: Callable[[], bool]) -> None:
    """Move the held clock a tenth of a second at a time until ``condition``."""
    for _ in range(3000):
        if condition():
            return
        clock.advance(seconds=0.1)
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met")


async def settle(fake: FakeTelegram) -> None:
    """Wait (in real time, the clock held) until the bot has sent what was due."""
    quiet, seen = 0, len(fake.send_log)
    while quiet < 3:
        await asyncio.sleep(0.01)
        quiet, seen = (quiet + 1, seen) if len(fake.send_log) == seen else (0, len(fake.send_log))


async def holder(harness: BotHarness) -> str:
    return str(await harness.value("SELECT holder FROM leases WHERE name = 'sending'"))


async def test_a_broadcast_is_sent_once_to_everyone_when_the_sender_stops_midway(
    bot_factory: BotFactory, replica: Replica
) -> None:
    first = await bot_factory(replica_id="web-1")
    second = await replica(replica_id="web-2")
    fake, clock = first.fake, first.clock
    people = await members(first, 300)
    await first.owner().send("/start")
    assert await holder(first) == "web-1"  # the first to start sends
    question = await start_broadcast(first, "Autumn menu")
    fake.enable_rate_limits(per_second=30)
    clock.hold_sleeps = True
    await first.owner().press(question, "Send")
    await step_until(clock, lambda: delivered(people, "Autumn menu") >= 100)

    await stop_sending(first)  # e.g. a rolling upgrade
    before = delivered(people, "Autumn menu")
    assert 100 <= before < 300
    sender(second).wake()
    await fake.wait_for(lambda: finished(second), timeout=60)

    assert await holder(second) == "web-2"
    for person in people:
        assert fake.delivered(person.chat_id, "Autumn menu") == 1, person.id
    assert fake.rate_limited == 0, fake.rate_limit_log
    assert await recipients(second) == {"sent": 301}  # 300 members and the owner
    assert reports(second) == ["✅ Broadcast #1 finished: 301 sent, 0 failed, 0 blocked the bot."]
    # One progress message, carried on by the second replica, and the report.
    about = [m for m in second.owner().messages if m.body.startswith(("📣", "✅"))]
    assert len(about) == 2 and about[0].edits >= 1
    assert not any("allow_paid_broadcast" in params for _, params in fake.calls)


async def test_a_dead_senders_claims_run_out_and_the_other_replica_sends_them_once(
    bot_factory: BotFactory, replica: Replica
) -> None:
    first = await bot_factory(replica_id="web-1")
    second = await replica(replica_id="web-2")
    fake, clock = first.fake, first.clock
    people = await members(first, 120)
    await first.owner().send("/start")
    question = await start_broadcast(first, "Pumpkin pie")
    fake.enable_rate_limits(per_second=30)
    clock.hold_sleeps = True
    await first.owner().press(question, "Send")
    await step_until(clock, lambda: delivered(people, "Pumpkin pie") >= 40)
    await asyncio.sleep(0.2)  # the message in flight lands; the sender waits on the clock

    await kill_sender(first)
    killed_at = clock.now()
    left_claimed = await second.rows(
        "SELECT member_id, claim_expires_at FROM broadcast_recipients"
        " WHERE state = 'pending' AND claimed_by LIKE 'web-1:%'"
    )
    assert left_claimed  # sent to nobody yet, and nobody else's until the claim runs out
    clock.hold_sleeps = False
    clock.advance(seconds=21)  # the dead sender's lease runs out
    sender(second).wake()
    await fake.wait_for(lambda: finished(second), timeout=60)

    for person in people:
        assert fake.delivered(person.chat_id, "Pumpkin pie") == 1, person.id
    # Its claimed recipients waited for the claim to run out, then got the message once.
    assert clock.now() >= min(from_db(row["claim_expires_at"]) for row in left_claimed)
    assert clock.now() - killed_at < CLAIM + CLAIM  # and no longer than that
    assert await recipients(second) == {"sent": 121}
    assert fake.rate_limited == 0, fake.rate_limit_log
    assert len(reports(second)) == 1


async def test_a_replica_restarted_after_dying_carries_on_at_once(
    bot_factory: BotFactory,
) -> None:
    """Same REPLICA_ID, new process: the lease and the claims of its previous life are
    its own again, with no wait for them to run out."""
    first = await bot_factory(replica_id="web-1")
    fake, clock = first.fake, first.clock
    people = await members(first, 60)
    await first.owner().send("/start")
    question = await start_broadcast(first, "Cinnamon buns")
    fake.enable_rate_limits(per_second=30)
    clock.hold_sleeps = True
    await first.owner().press(question, "Send")
    await step_until(clock, lambda: delivered(people, "Cinnamon buns") >= 20)
    await asyncio.sleep(0.2)  # the message in flight lands; the sender waits on the clock
    await kill_sender(first)
    clock.hold_sleeps = False
    killed_at = clock.now()
    clock.advance(seconds=2)  # it takes a moment to start again

    again = await bot_factory(replica_id="web-1")
    await fake.wait_for(lambda: finished(again), timeout=30)
    for person in people:
        assert fake.delivered(person.chat_id, "Cinnamon buns") == 1, person.id
    assert clock.now() - killed_at < CLAIM / 2  # no claim had to run out
    assert fake.rate_limited == 0, fake.rate_limit_log


async def test_the_outbox_is_sent_once_by_whichever_replica_claims_it(
    bot_factory: BotFactory, replica: Replica
) -> None:
    first = await bot_factory(replica_id="web-1", quiet_hours="off")
    second = await replica(replica_id="web-2", quiet_hours="off")
    fake, clock = first.fake, first.clock
    people = await members(first, 80)
    for person in people:  # receipts Telegram could not take at the counter
        member = await first.services.members.find(person.id)
        assert member is not None
        # (as queued before receipts were kept as facts: their text, sent as written)
        await first.services.outbox.queue_receipt(
            member.id, f"r{person.id}", {"text": "🧾 +3 points"}
        )
    # A replica that died a moment ago had claimed the ten oldest.
    dead = await first.services.outbox.claim("web-9:dead", 10, clock.now() + CLAIM, quiet=False)
    assert len(dead) == 10
    fake.enable_rate_limits(per_second=30)
    clock.hold_sleeps = True
    sender(first).wake()
    await step_until(clock, lambda: delivered(people, "🧾 +3 points") >= 30)

    await stop_sending(first)
    assert delivered(people, "🧾 +3 points") < 70
    sender(second).wake()
    await fake.wait_for(lambda: delivered(people, "🧾 +3 points") == 70, timeout=30)
    assert all(fake.delivered(p.chat_id, "🧾") == 0 for p in people[:10])  # still claimed
    clock.advance(seconds=CLAIM.total_seconds())  # the dead replica's claim runs out
    sender(second).wake()
    await fake.wait_for(lambda: delivered(people, "🧾 +3 points") == 80, timeout=30)

    for person in people:
        assert fake.delivered(person.chat_id, "🧾 +3 points") == 1, person.id
    # The last message is on its way to the database once Telegram has it: wait for that.
    states = "SELECT state, COUNT(*) AS n FROM outbox GROUP BY state"
    for _ in range(500):
        if await second.rows(states) == [{"state": "sent", "n": 80}]:
            break
        await asyncio.sleep(0.01)
    assert await second.rows(states) == [{"state": "sent", "n": 80}]
    assert fake.rate_limited == 0, fake.rate_limit_log


async def purchase(
    counter: BotHarness, barista: FakeUser, customer: FakeUser, amount: int = 4
) -> None:
    """A purchase on ``counter`` (the customer's card, the scan, the amount): four
    replies, all sent by it."""
    # (The broadcast may reach these chats meanwhile: pick the replies by what they are.)
    card = next(m for m in await via(counter, customer, "/card") if m.method == "sendPhoto")
    shown = await via(counter, barista, f"/start {qr_payload(card.photo)}")
    assert any(customer.first_name in m.body for m in shown), shown
    confirmed = await via(counter, barista, f"{amount}.50")
    assert any(m.body.startswith(f"✅ +{amount} points") for m in confirmed), confirmed


async def test_replies_on_one_replica_leave_no_429_with_a_broadcast_from_the_other(
    bot_factory: BotFactory, replica: Replica
) -> None:
    first = await bot_factory(replica_id="web-1")
    counter = await replica(replica_id="web-2")
    fake, clock = first.fake, first.clock
    people = await members(first, 300)
    barista = await first.hire(3001, "Anna")
    customers = [await first.customer(2001 + n, f"Cust{n}") for n in range(6)]
    await first.owner().send("/start")
    question = await start_broadcast(first, "Jazz night")
    fake.enable_rate_limits(per_second=30)
    await purchase(counter, barista, customers[0])  # the counter is busy already
    await first.owner().press(question, "Send")

    # While the broadcast goes out, a purchase at the second replica every 2.5 s (one
    # barista: Telegram allows their chat one message a second).
    served, next_purchase = 1, clock.monotonic()
    while not finished(first):
        if clock.monotonic() >= next_purchase:
            await purchase(counter, barista, customers[served % len(customers)], 4 + served)
            served, next_purchase = served + 1, clock.monotonic() + 2.5
        await asyncio.sleep(0.005)

    assert served >= 4
    assert fake.rate_limited == 0, fake.rate_limit_log
    for person in people:
        assert fake.delivered(person.chat_id, "Jazz night") == 1, person.id
    assert await counter.value("SELECT COUNT(*) FROM reply_counts") >= 1  # told through them


async def test_a_paid_broadcast_goes_past_30_a_second(bot_factory: BotFactory) -> None:
    bot = await bot_factory(paid_broadcast=True)
    fake, clock = bot.fake, bot.clock
    people = await members(bot, 300)
    await bot.owner().send("/start")
    started = clock.monotonic()
    await send_broadcast(bot, "Grand opening", flood_limits=True)
    await fake.wait_for(lambda: finished(bot), timeout=60)
    took = clock.monotonic() - started  # the bot's (moved) clock

    assert took < 3  # at the free 30 a second it would take ten
    for person in people:
        assert fake.delivered(person.chat_id, "Grand opening") == 1, person.id
    assert fake.rate_limited == 0, fake.rate_limit_log
    paid = [p for m, p in fake.calls if m == "sendMessage" and p.get("allow_paid_broadcast")]
    assert len(paid) == fake.paid_messages == 301  # the broadcast's, not the progress or report
    assert all(p["text"] == "Grand opening" for p in paid)
    assert 0 < fake.paid_charged < 301  # only what went beyond the free 30 in a second
