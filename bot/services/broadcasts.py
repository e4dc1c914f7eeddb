"""Broadcasts: the persistent per-recipient queue the delivery worker works through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot import i18n
from bot.clock import Clock
from bot.domain import Broadcast, Counts, Offer, Recipient
from bot.offers import parse_audience
from bot.services.audience import AudienceService
from storage import Conn, Database
from storage import audit as audit_store
from storage import broadcasts as broadcast_store
from storage import members as member_store
from storage import offers as offer_store


def checked_versions(versions: Mapping[str, str] | None) -> dict[str, str]:
    """Versions keyed by shipped languages ("es", "pt_BR"), empty texts left out; any
    other key is a caller's mistake."""
    unknown = sorted(set(versions or {}) - set(i18n.SHIPPED))
    if unknown:
        raise ValueError(f"versions in languages the bot does not ship: {unknown}")
    return {language: text for language, text in (versions or {}).items() if text.strip()}


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
        versions: Mapping[str, str] | None = None,
    ) -> Broadcast:
        """Snapshot the audience into the queue; from here on delivery survives restarts.
        ``versions``: the owner's text in other languages (see :meth:`create_in`)."""
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
                versions=versions,
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
        versions: Mapping[str, str] | None = None,
    ) -> Broadcast:
        """Queue a broadcast inside the caller's transaction.

        ``text`` is the owner's message as written (HTML), sent to every member whose
        language has no version; ``versions`` maps a shipped language ("es", "pt_BR") to
        the owner's own text in it. The sender adds the bot's parts (the opt-out button)
        in each recipient's language. For an offer's announcement (``offer_id``) the
        sender writes the announcement in each recipient's language around the owner's
        words: the offer's title and description, or a ``versions`` entry in place of
        the description."""
        broadcast = await broadcast_store.create(
            tx,
            created_by=created_by,
            text=text,
            photo_file_id=photo_file_id,
            audience=audience,
            recipients=recipients,
            now=now,
            offer_id=offer_id,
            versions=checked_versions(versions),
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
        """The oldest broadcast under way, with its versions."""
        return await self._with_versions(await broadcast_store.next_sending(self._db.reader))

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """One broadcast, with its versions."""
        return await self._with_versions(await broadcast_store.get(self._db.reader, broadcast_id))

    async def _with_versions(self, broadcast: Broadcast | None) -> Broadcast | None:
        if broadcast is None:
            return None
        versions = await broadcast_store.versions(self._db.reader, broadcast.id)
        return replace(broadcast, versions=versions)

    async def announced_offer(self, broadcast: Broadcast) -> Offer | None:
        """The offer a broadcast announces (None: the owner's own broadcast)."""
        if broadcast.offer_id is None:
            return None
        return await offer_store.get(self._db.reader, broadcast.offer_id)

    async def recent(self) -> list[Broadcast]:
        return await broadcast_store.recent(self._db.reader)

    async def claim(
        self, broadcast_id: int, me: str, limit: int, until: datetime
    ) -> list[Recipient]:
        """Claim up to ``limit`` due recipients for the sender ``me`` until ``until``:
        nobody else sends to them meanwhile (see storage/broadcasts.py)."""
        async with self._db.transaction() as tx:
            return await broadcast_store.claim(
                tx, broadcast_id, me, limit, self._clock.now(), until
            )

    async def release(self, me: str, recipients: list[Recipient]) -> None:
        """Give back the claimed recipients ``me`` did not send to (any others' claims
        and recorded outcomes stay)."""
        if recipients:
            async with self._db.transaction() as tx:
                await broadcast_store.release(tx, me, recipients)

    async def seconds_to_next_due(self, broadcast_id: int) -> float | None:
        """Once nothing is due: how long until a pending recipient is (a retry, or another
        sender's claim running out); None when nothing is pending."""
        due = await broadcast_store.waiting(self._db.reader, broadcast_id)
        if not due:
            return None
        now = self._clock.now()
        return max(0.0, min((at - now).total_seconds() if at else 0.0 for at in due))

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

    async def failed(self, recipient: Recipient, error: str, *, retry_in: timedelta | None) -> None:
        """Count a failed attempt: tried again after ``retry_in``, or (None) given up."""
        now = self._clock.now()
        state = "failed" if retry_in is None else "pending"
        retry_at = None if retry_in is None else now + retry_in
        async with self._db.transaction() as tx:
            await broadcast_store.mark(
                tx, recipient, state, now, error=error[:200], next_try_at=retry_at
            )

    async def pause(self, broadcast_id: int, seconds: float | None) -> None:
        """Telegram paused sending for ``seconds`` (None: resumed)."""
        resume_at = None if seconds is None else self._clock.now() + timedelta(seconds=seconds)
        async with self._db.transaction() as tx:
            await broadcast_store.set_resume_at(tx, broadcast_id, resume_at)

    async def remember_progress_message(
        self, broadcast_id: int, chat_id: int, message_id: int
    ) -> None:
        async with self._db.transaction() as tx:
            await broadcast_store.set_progress_message(tx, broadcast_id, chat_id, message_id)

    async def finish(self, broadcast_id: int) -> bool:
        """Mark it done; False if another sender already had."""
        async with self._db.transaction() as tx:
            return await broadcast_store.finish(tx, broadcast_id, self._clock.now())
