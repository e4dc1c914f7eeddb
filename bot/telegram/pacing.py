"""Even pacing for bulk sending: a steady overall rate and a gap per chat.

Telegram allows about 30 messages a second overall and one a second per chat. Each send
reserves the next free slot before it waits, so concurrent senders never share one, and
no one-second window ever holds more than ``rate`` messages.
"""

from __future__ import annotations

import math
from collections import deque

from bot.clock import Clock

PER_CHAT_GAP_SECONDS = 1.0
_FORGET_AFTER = 10_000


class Pacer:
    def __init__(
        self,
        clock: Clock,
        rate: float,
        budget: SendBudget | None = None,
        per_chat_gap: float = PER_CHAT_GAP_SECONDS,
    ) -> None:
        self._clock = clock
        self._interval = 1 / rate
        self._budget = budget
        self._per_chat_gap = per_chat_gap
        self._next_slot = 0.0
        self._last_sent: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        """Wait for this chat's next slot, and for room in the bot's whole budget."""
        now = self._clock.monotonic()
        last = self._last_sent.get(chat_id)
        ready = now if last is None else max(now, last + self._per_chat_gap)
        slot = max(ready, self._next_slot)
        self._next_slot = slot + self._interval
        if slot > now:
            await self._clock.sleep(slot - now)
        if self._budget is not None:
            # Bounded: each wait lets at least one message of the window age out.
            for _ in range(100):
                delay = self._budget.bulk_delay()
                if delay <= 0:
                    break
                await self._clock.sleep(delay)
            self._budget.record(interactive=False)

    def sent(self, chat_id: int) -> None:
        """Record a message to ``chat_id`` (whether Telegram took it or not)."""
        now = self._clock.monotonic()
        self._last_sent[chat_id] = now
        if len(self._last_sent) > _FORGET_AFTER:
            cutoff = now - self._per_chat_gap
            self._last_sent = {c: at for c, at in self._last_sent.items() if at > cutoff}


class SendBudget:
    """Telegram's ~30 messages a second cover everything the bot sends, replies and
    broadcasts alike, and replies to people come first.

    Interactive sends only record themselves here; they never wait. Bulk sending asks
    :meth:`bulk_delay` before each message and waits until the last second holds fewer
    than ``limit`` messages with room to spare for the counter: one message while it is
    quiet, else a burst of two plus twice the rate of its last few seconds. A quiet
    counter leaves the broadcast 29 of the 30; a busy one gets room before the broadcast
    takes it. (A first burst of several replies after a quiet spell can still meet a full
    second; it is retried once, for that reply alone, see ``bot.telegram.retry``.)"""

    WINDOW = 1.0
    INTERACTIVE_MEMORY = 3.0

    def __init__(self, clock: Clock, limit: int = 30) -> None:
        self._clock = clock
        self._limit = limit
        self._sends: deque[tuple[float, bool]] = deque()  # (when, interactive)

    def record(self, *, interactive: bool) -> None:
        self._sends.append((self._clock.monotonic(), interactive))

    def bulk_delay(self) -> float:
        """Seconds a bulk message should wait before it goes out (0: now)."""
        now = self._clock.monotonic()
        while self._sends and now - self._sends[0][0] >= self.INTERACTIVE_MEMORY:
            self._sends.popleft()
        in_window = [at for at, _ in self._sends if now - at < self.WINDOW]
        recent_replies = sum(1 for _, interactive in self._sends if interactive)
        # A busy counter sends in bursts (a confirmation and a receipt at once): keep room
        # for a burst of two plus twice the recent rate.
        reserve = 1
        if recent_replies:
            reserve = 2 + math.ceil(2 * recent_replies / self.INTERACTIVE_MEMORY)
        excess = len(in_window) - (self._limit - reserve) + 1
        if excess <= 0:
            return 0.0
        # Wait until enough of the window's messages have aged out of it; at least a
        # millisecond, so float rounding never turns the wait into none at all.
        return max(in_window[excess - 1] + self.WINDOW - now, 0.001)
