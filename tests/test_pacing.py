"""Bulk pacing on a moved clock: the rate, the per-chat gap, and room left for replies."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.telegram.pacing import Pacer, SendBudget
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
