"""Even pacing for bulk sending: a steady overall rate and a gap per chat.

Telegram allows about 30 messages a second overall and one a second per chat. Each send
reserves the next free slot before it waits, so concurrent senders never share one, and
no one-second window ever holds more than ``rate`` messages. A paid broadcast
(``allow_paid_broadcast``) has a lane of its own at up to 1,000 a second, outside the free
30; the per-chat gap holds for it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable

from bot.clock import Clock

logger = logging.getLogger(__name__)

PER_CHAT_GAP_SECONDS = 1.0
# Telegram's limit for messages sent with allow_paid_broadcast (0.1 Star each beyond the
# free 30 a second).
PAID_RATE = 1000.0
_FORGET_AFTER = 10_000


class Pacer:
    def __init__(
        self,
        clock: Clock,
        rate: float,
        budget: SendBudget | None = None,
        per_chat_gap: float = PER_CHAT_GAP_SECONDS,
        paid_rate: float = PAID_RATE,
    ) -> None:
        self._clock = clock
        self._interval = 1 / rate
        self._paid_interval = 1 / paid_rate
        self._budget = budget
        self._per_chat_gap = per_chat_gap
        self._next_slot = 0.0
        self._next_paid_slot = 0.0
        self._last_sent: dict[int, float] = {}

    async def wait(self, chat_id: int, *, paid: bool = False) -> None:
        """Wait for this chat's next slot, and for room in the bot's whole budget.
        ``paid``: a paid broadcast's message, paced in its own lane (outside the budget)."""
        now = self._clock.monotonic()
        last = self._last_sent.get(chat_id)
        ready = now if last is None else max(now, last + self._per_chat_gap)
        if paid:
            slot = max(ready, self._next_paid_slot)
            self._next_paid_slot = slot + self._paid_interval
            if slot > now:
                await self._clock.sleep(slot - now)
            return
        slot = max(ready, self._next_slot)
        self._next_slot = slot + self._interval
        if slot > now:
            await self._clock.sleep(slot - now)
        if self._budget is not None:
            # Bounded: each wait lets at least one message of the window age out.
            for _ in range(100):
                if self._budget.sharing is not None:
                    await self._budget.sharing.look()
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
    second; it is retried once, for that reply alone, see ``bot.telegram.retry``.)

    With several replicas only one sends bulk (``bot.services.sending``); the others'
    replies are not in its window, so it learns their counts per second through the
    database (:meth:`unflushed` on their side, :meth:`others` on its side) and keeps room
    for their busiest recent second plus a burst of two. Their counts arrive a second or
    two late, so while they served anyone in the last half minute it keeps room for a
    burst of two anyway."""

    WINDOW = 1.0
    INTERACTIVE_MEMORY = 3.0
    OTHERS_MEMORY = 5  # seconds of the other replicas' counts that set their room
    OTHERS_WARM = 30  # seconds after their last reply that a burst's room is kept

    def __init__(self, clock: Clock, limit: int = 30) -> None:
        self._clock = clock
        self._limit = limit
        self._sends: deque[tuple[float, bool]] = deque()  # (when, interactive)
        self._replies: dict[int, int] = {}  # this process's replies per Unix second
        self._told: dict[int, int] = {}  # what unflushed() last returned for each second
        self._others: dict[int, int] = {}  # the other replicas' replies per Unix second
        self.sharing: BudgetSharing | None = None  # with several replicas

    def record(self, *, interactive: bool) -> None:
        self._sends.append((self._clock.monotonic(), interactive))
        if interactive:
            second = self._second()
            self._replies[second] = self._replies.get(second, 0) + 1
            if self.sharing is not None:
                self.sharing.replied()

    def _second(self) -> int:
        return int(self._clock.now().timestamp())

    def unflushed(self) -> dict[int, int]:
        """This process's reply counts per Unix second that changed since the last call
        (each the second's whole count so far), for the replica sending bulk."""
        changed = {s: n for s, n in self._replies.items() if self._told.get(s) != n}
        self._told.update(changed)
        stale = self._second() - self.OTHERS_MEMORY
        for second in [s for s in self._replies if s < stale]:
            del self._replies[second]
            self._told.pop(second, None)
        return changed

    def others(self, counts: dict[int, int]) -> None:
        """The other replicas' recent replies per Unix second (the sender's view)."""
        self._others = counts

    def _others_room(self) -> int:
        """Messages a second kept for the other replicas' replies."""
        now = self._second()
        recent = [n for s, n in self._others.items() if s >= now - self.OTHERS_MEMORY]
        if any(recent):
            return 2 + max(recent)
        if any(n for s, n in self._others.items() if s >= now - self.OTHERS_WARM):
            return 2
        return 0

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
        reserve += self._others_room()
        excess = len(in_window) - (self._limit - reserve) + 1
        if excess <= 0:
            return 0.0
        if excess > len(in_window):
            # The others' replies take the whole second: wait for the next look at them.
            return self.WINDOW
        # Wait until enough of the window's messages have aged out of it; at least a
        # millisecond, so float rounding never turns the wait into none at all.
        return max(in_window[excess - 1] + self.WINDOW - now, 0.001)


class BudgetSharing:
    """Keeps one replica's :class:`SendBudget` in step with the other replicas' through
    the database, without a database write on any reply's path.

    A standby (``is_sender()`` false) writes its reply counts with ``write`` at most once
    a second, from a task of its own (:meth:`run`), and only in seconds it replied. The
    sender reads the others' counts with ``read`` once a second while it paces
    (:meth:`look`). Both are advisory: a failure is logged and costs only room."""

    FLUSH_EVERY = 1.0
    LOOK_EVERY = 1.0

    def __init__(
        self,
        budget: SendBudget,
        clock: Clock,
        *,
        write: Callable[[dict[int, int]], Awaitable[None]],
        read: Callable[[int], Awaitable[dict[int, int]]],
        is_sender: Callable[[], bool],
    ) -> None:
        self._budget = budget
        self._clock = clock
        self._write = write
        self._read = read
        self._is_sender = is_sender
        self._replied = asyncio.Event()
        self._flush_at = 0.0
        self._look_at = 0.0
        self.stopping = False
        budget.sharing = self

    def replied(self) -> None:
        """An interactive reply went out: wake the flusher if a flush is due (no wait)."""
        if self._clock.monotonic() >= self._flush_at:
            self._replied.set()

    def stop(self) -> None:
        self.stopping = True
        self._replied.set()

    async def run(self) -> None:
        """Write this replica's new counts while it stands by, at most once a second (on
        the clock); a real-time tick picks up replies of a second already flushed."""
        while not self.stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._replied.wait(), self.FLUSH_EVERY)
            self._replied.clear()
            if self._clock.monotonic() >= self._flush_at:
                await self.flush()

    async def flush(self) -> None:
        """Write the counts that changed (a standby's; the sender knows its own)."""
        counts = self._budget.unflushed()
        if not counts or self._is_sender():
            return
        self._flush_at = self._clock.monotonic() + self.FLUSH_EVERY
        try:
            await self._write(counts)
        except Exception as error:
            logger.warning("Could not record this replica's reply counts: %s", error)

    async def look(self) -> None:
        """The sender's look at the other replicas' recent counts, once a second."""
        now = self._clock.monotonic()
        if now < self._look_at:
            return
        self._look_at = now + self.LOOK_EVERY
        since = int(self._clock.now().timestamp()) - SendBudget.OTHERS_WARM
        try:
            self._budget.others(await self._read(since))
        except Exception as error:  # keep the last view; the next look tries again
            logger.warning("Could not read the other replicas' reply counts: %s", error)
