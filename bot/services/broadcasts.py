"""Broadcasts: the persistent per-recipient queue the delivery worker works through."""

from __future__ import annotations

from datetime import datetime

from bot.clock import Clock
from bot.domain import Broadcast, Counts, Recipient
from bot.offers import parse_audience
from bot.services.audience import AudienceService
from storage import Conn, Database
from storage import audit as audit_store
from storage import broadcasts as broadcast_store
from storage import members as member_store


class BroadcastService:
    def __init__(self, db: Database, clock: Clock, audience: AudienceService) -> None:
        self._db = db
        self._clock = clock
        self._audience = audience

    async def create(
        self,
        *,
        created_by: int,
        text: str,
        photo_file_id: str | None,
        audience: str,
        offer_id: int | None = None,
    ) -> Broadcast:
        """Snapshot the audience into the queue; from here on delivery survives restarts."""
        recipients = await self.recipients(audience)  # read before the write lock
        async with self._db.transaction() as tx:
            return await self.create_in(
                tx,
                created_by=created_by,
                text=text,
                photo_file_id=photo_file_id,
                audience=audience,
                recipients=recipients,
                now=self._clock.now(),
                offer_id=offer_id,
            )

    async def recipients(self, audience: str) -> list[tuple[int, int]]:
        """(member id, chat id) of everyone the audience names right now."""
        return await self._audience.recipients(parse_audience(audience))

    async def create_in(
        self,
        tx: Conn,
        *,
        created_by: int,
        text: str,
        photo_file_id: str | None,
        audience: str,
        recipients: list[tuple[int, int]],
        now: datetime,
        offer_id: int | None = None,
    ) -> Broadcast:
        """Queue a broadcast inside the caller's transaction."""
        broadcast = await broadcast_store.create(
            tx,
            created_by=created_by,
            text=text,
            photo_file_id=photo_file_id,
            audience=audience,
            recipients=recipients,
            now=now,
            offer_id=offer_id,
        )
        await audit_store.record(
            tx,
            actor_id=created_by,
            action="broadcast.create",
            now=now,
            detail=f"broadcast {broadcast.id} to {broadcast.total}",
        )
        return broadcast

    async def next_sending(self) -> Broadcast | None:
        return await broadcast_store.next_sending(self._db.reader)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        return await broadcast_store.get(self._db.reader, broadcast_id)

    async def recent(self) -> list[Broadcast]:
        return await broadcast_store.recent(self._db.reader)

    async def pending(
        self, broadcast_id: int, limit: int = 100, after_member: int = 0
    ) -> list[Recipient]:
        return await broadcast_store.pending(self._db.reader, broadcast_id, limit, after_member)

    async def counts(self, broadcast_id: int) -> Counts:
        return await broadcast_store.counts(self._db.reader, broadcast_id)

    async def queue_length(self) -> int:
        """Messages still to send for broadcasts under way (for /healthz)."""
        return await broadcast_store.queue_length(self._db.reader)

    async def sent(self, recipient: Recipient) -> None:
        async with self._db.transaction() as tx:
            await broadcast_store.mark(tx, recipient, "sent", self._clock.now())

    async def blocked(self, recipient: Recipient, error: str) -> None:
        """The member blocked the bot: skip them now and leave them out of future audiences."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await broadcast_store.mark(tx, recipient, "blocked", now, error=error)
            await member_store.set_reachable(tx, recipient.chat_id, False, now)

    async def failed(self, recipient: Recipient, error: str, *, final: bool) -> None:
        """Count a failed attempt; ``final`` gives up on this recipient."""
        state = "failed" if final else "pending"
        async with self._db.transaction() as tx:
            await broadcast_store.mark(tx, recipient, state, self._clock.now(), error=error[:200])

    async def remember_progress_message(
        self, broadcast_id: int, chat_id: int, message_id: int
    ) -> None:
        async with self._db.transaction() as tx:
            await broadcast_store.set_progress_message(tx, broadcast_id, chat_id, message_id)

    async def finish(self, broadcast_id: int) -> None:
        async with self._db.transaction() as tx:
            await broadcast_store.finish(tx, broadcast_id, self._clock.now())
