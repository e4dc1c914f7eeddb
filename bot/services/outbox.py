"""Delivering the outbox: what the bulk sender asks before and after each message."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from bot.domain import Outgoing
from storage import Database
from storage import members as member_store
from storage import outbox as outbox_store

MAX_ATTEMPTS = 5
BACKOFF = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))
# Kinds that answer something the person did: they always arrive, whatever the switches
# and the hour.
RECEIPTS = frozenset({"receipt"})


def why_not(message: Outgoing) -> str | None:
    """Why a queued message must not go out now, or None when it may."""
    if not message.reachable:
        return "unreachable"
    if message.kind in RECEIPTS:
        return None
    if message.service and not message.service_ok:
        return "service messages off"
    if not message.service and not message.promotions_ok:
        return "offers and news off"
    if message.visit_at is not None and message.last_visit_at != message.visit_at:
        return "visited since"
    return None


class OutboxService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def claim(self, me: str, limit: int, until: datetime, *, quiet: bool) -> list[Outgoing]:
        """Claim up to ``limit`` of the oldest due messages for the sender ``me`` until
        ``until`` (nobody else sends them meanwhile); in quiet hours, receipts only."""
        (receipt,) = RECEIPTS
        async with self._db.transaction() as tx:
            return await outbox_store.claim(
                tx, me, limit, self._clock.now(), until, kind=receipt if quiet else None
            )

    async def release(self, me: str, messages: list[Outgoing]) -> None:
        """Give back the claimed messages ``me`` did not send."""
        if messages:
            async with self._db.transaction() as tx:
                await outbox_store.release(tx, me, messages)

    async def queue_receipt(self, member_id: int, key: str, facts: Mapping[str, Any]) -> bool:
        """A receipt Telegram could not take just now: sent later, once. It keeps the
        purchase's facts (points, balance, amount, who served, where, the offers), not a
        text, so it is written in the customer's language when it is sent."""
        async with self._db.transaction() as tx:
            return await outbox_store.enqueue(
                tx,
                member_id=member_id,
                kind="receipt",
                dedup_key=f"receipt:{key}",
                params=dict(facts),
                service=True,
                now=self._clock.now(),
            )

    async def count_pending(self) -> int:
        return await outbox_store.count_pending(self._db.reader)

    async def sent(self, message: Outgoing) -> None:
        await self._finish(message, "sent")

    async def skipped(self, message: Outgoing, reason: str) -> None:
        await self._finish(message, "skipped", reason)

    async def blocked(self, message: Outgoing, error: str) -> None:
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await outbox_store.finish(tx, message.id, "blocked", now, error)
            await member_store.set_reachable(tx, message.chat_id, False, now)

    async def failed(self, message: Outgoing, error: str) -> bool:
        """Count a failed attempt; True when it was the last one."""
        final = message.attempts + 1 >= MAX_ATTEMPTS
        if final:
            await self._finish(message, "failed", error)
        else:
            wait = BACKOFF[min(message.attempts, len(BACKOFF) - 1)]
            async with self._db.transaction() as tx:
                await outbox_store.failed_attempt(tx, message.id, error, self._clock.now() + wait)
        return final

    async def _finish(self, message: Outgoing, state: str, error: str | None = None) -> None:
        async with self._db.transaction() as tx:
            await outbox_store.finish(tx, message.id, state, self._clock.now(), error)
