"""Bulk pacing on a moved clock: the rate, the per-chat gap, and room left for replies."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.telegram.pacing import BudgetSharing, Pacer, SendBudget
from tests.conftest import FakeClock

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def max_in_any_second(times: list[float]) -> int:
    # The same arithmetic as Telegram's (and the fake's) sliding window.
    return max(sum(1 for t in times if 0 <= t - start < 1) for start in times)


async def test_a_quiet_counter_leaves_the_broadcast_29_of_30_a_second() -> None:
    clock = FakeClock(START)
    budget = SendBudget(clock)
    pacer = Pacer(clock, rate=30, budget=budget)  # even asked for 30, it keeps one free
    times = []
    for chat in range(300):
        await pacer.wait(chat)
        times.append(clock.monotonic())
        pacer.sent(chat)
    assert max_in_any_second(times) == 29
    assert 300 / (times[-1] - times[0]) >= 0.95 * 30


async def test_replies_get_room_before_the_broadcast_takes_it() -> None:
    clock = FakeClock(START)
    budget = SendBudget(clock)
    pacer = Pacer(clock, rate=29, budget=budget)
    bulk: list[float] = []
    replies: list[float] = []
    for chat in range(200):
        if chat % 20 == 10:  # a purchase: confirmation and receipt at once
            budget.record(interactive=True)
            budget.record(interactive=True)
            replies += [clock.monotonic()] * 2
        await pacer.wait(chat)
        bulk.append(clock.monotonic())
        pacer.sent(chat)
    # In no second do replies and broadcast together exceed Telegram's 30…
    assert max_in_any_second(sorted(bulk + replies)) <= 30
    # …and while the counter is busy the broadcast leaves room for another burst.
    busy = [t for t in bulk if any(0 <= t - r < 1 for r in replies)]
    assert busy and max_in_any_second(busy) <= 26


async def test_one_chat_waits_a_second_between_messages() -> None:
    clock = FakeClock(START)
    pacer = Pacer(clock, rate=29)
    await pacer.wait(7)
    first = clock.monotonic()
    pacer.sent(7)
    await pacer.wait(7)
    gap = clock.monotonic() - first  # on the fake clock: the pacer's sleeps moved it
    assert gap >= 1.0
    await pacer.wait(8)  # another chat does not wait for chat 7's gap
    after_other_chat = clock.monotonic() - first
    assert after_other_chat < 1.1


async def test_the_sender_leaves_room_for_another_replicas_replies() -> None:
    """Two replicas: one sends a broadcast, the other serves the counter. The standby's
    counts reach the sender through a store (the database) once a second, late, and no
    second ever holds more than Telegram's 30 from both together."""
    clock = FakeClock(START)
    store: dict[int, int] = {}

    async def write(counts: dict[int, int]) -> None:
        store.update(counts)

    async def read(since: int) -> dict[int, int]:
        return {second: n for second, n in store.items() if second >= since}

    sender, standby = SendBudget(clock), SendBudget(clock)
    BudgetSharing(sender, clock, write=write, read=read, is_sender=lambda: True)
    counter = BudgetSharing(standby, clock, write=write, read=read, is_sender=lambda: False)
    pacer = Pacer(clock, rate=29, budget=sender)
    bulk: list[float] = []
    replies: list[float] = []

    async def purchase() -> None:  # a confirmation and a receipt at once, on the standby
        for _ in range(2):
            standby.record(interactive=True)
            replies.append(clock.monotonic())
        await counter.flush()  # the standby's flusher, when its second is due

    await purchase()  # the counter was busy before the broadcast began
    clock.advance(seconds=1)
    next_purchase = clock.monotonic()
    for chat in range(400):
        if clock.monotonic() >= next_purchase:
            await purchase()
            next_purchase = clock.monotonic() + 0.7  # a busy counter: baristas at once
        await pacer.wait(chat)
        bulk.append(clock.monotonic())
        pacer.sent(chat)
    assert len(replies) > 20
    assert max_in_any_second(sorted(bulk + replies)) <= 30
    # …and it still sends most of what is left.
    assert 400 / (bulk[-1] - bulk[0]) >= 20


async def test_a_quiet_standby_leaves_the_sender_the_whole_budget() -> None:
    clock = FakeClock(START)
    sender = SendBudget(clock)
    # Replies on another replica, over a minute ago: nothing to keep room for now.
    sender.others({int(clock.now().timestamp()) - 60: 4})
    pacer = Pacer(clock, rate=30, budget=sender)
    times = []
    for chat in range(300):
        await pacer.wait(chat)
        times.append(clock.monotonic())
        pacer.sent(chat)
    assert max_in_any_second(times) == 29


async def test_the_paid_lane_goes_past_the_free_30_and_keeps_the_per_chat_gap() -> None:
    clock = FakeClock(START)
    budget = SendBudget(clock)
    pacer = Pacer(clock, rate=29, budget=budget)
    times = []
    for chat in range(1000):
        await pacer.wait(chat, paid=True)
        times.append(clock.monotonic())
        pacer.sent(chat)
    assert max_in_any_second(times) == 1000  # Telegram's paid limit, not the free 30
    assert budget.bulk_delay() == 0  # the free budget is left to replies and the outbox
    await pacer.wait(7, paid=True)
    assert clock.monotonic() - times[7] >= 0.999  # still one a second to one chat
