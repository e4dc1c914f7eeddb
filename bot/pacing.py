"""Even pacing for bulk sending: a steady overall rate and a gap per chat.

Telegram allows about 30 messages a second overall and one a second per chat. Each send
reserves the next free slot before it waits, so concurrent senders never share one, and
no one-second window ever holds more than ``rate`` messages.
"""

from __future__ import annotations

from bot.clock import Clock

PER_CHAT_GAP_SECONDS = 1.0
_FORGET_AFTER = 10_000


class Pacer:
    def __init__(self, clock: Clock, rate: float, per_chat_gap: float = PER_CHAT_GAP_SECONDS):
        self._clock = clock
        self._interval = 1 / rate
        self._per_chat_gap = per_chat_gap
        self._next_slot = 0.0
        self._last_sent: dict[int, float] = {}

    async def wait(self, chat_id: int) -> None:
        """Wait for this chat's next slot."""
        now = self._clock.monotonic()
        last = self._last_sent.get(chat_id)
        ready = now if last is None else max(now, last + self._per_chat_gap)
        slot = max(ready, self._next_slot)
        self._next_slot = slot + self._interval
        if slot > now:
            await self._clock.sleep(slot - now)

    def sent(self, chat_id: int) -> None:
        """Record a message to ``chat_id`` (whether Telegram took it or not)."""
        now = self._clock.monotonic()
        self._last_sent[chat_id] = now
        if len(self._last_sent) > _FORGET_AFTER:
            cutoff = now - self._per_chat_gap
            self._last_sent = {c: at for c, at in self._last_sent.items() if at > cutoff}
