"""Job leases: each scheduled job runs on one replica at a time.

Every replica schedules every job; a job's tick first takes (or renews) the job's lease
and does nothing while another live replica holds it. The holder keeps its leases
renewed every ``LEASE_KEEP_EVERY`` (a job of its own, on every replica), so a lease
outlives the gaps between a job's ticks (an hour for the backup) while its holder lives;
when the holder dies its leases expire within ``LEASE_TTL``, and the next replica to ask
(at its next renewal, at most ``LEASE_KEEP_EVERY`` later) takes them over: within a
minute. A replica that stops cleanly releases its leases at once.

Leases cost one small upsert a job a tick, so a single SQLite process takes them too:
there is one code path. The work itself stays safe when two replicas overlap for a
moment (a holder stalled past its lease): every job's writes are keyed or conditional.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.clock import Clock
from storage import Database, retry_transient
from storage import leases as lease_store
from storage.leases import Lease

LEASE_TTL = timedelta(seconds=45)
LEASE_KEEP_EVERY = timedelta(seconds=15)
# A lease expired this long ago was taken by no live replica: its job is not running.
LEASE_OVERDUE_AFTER = timedelta(minutes=1)

__all__ = [
    "LEASE_KEEP_EVERY",
    "LEASE_OVERDUE_AFTER",
    "LEASE_TTL",
    "Lease",
    "LeaseService",
    "lease_overdue",
]


def lease_overdue(lease: Lease, now: datetime) -> bool:
    return now - lease.expires_at > LEASE_OVERDUE_AFTER


class LeaseService:
    def __init__(self, db: Database, clock: Clock, replica_id: str) -> None:
        self._db = db
        self._clock = clock
        self._me = replica_id

    @retry_transient
    async def take(self, name: str) -> bool:
        """Take or renew the lease ``name``; False while another live replica holds it."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            return await lease_store.take(tx, name, self._me, now, now + LEASE_TTL)

    @retry_transient
    async def keep(self, names: Iterable[str]) -> list[str]:
        """Renew the leases held, take those nobody holds; returns the ones held now.
        In name order, so replicas renewing at once wait for each other, never deadlock."""
        now = self._clock.now()
        held = []
        async with self._db.transaction() as tx:
            for name in sorted(set(names)):
                if await lease_store.take(tx, name, self._me, now, now + LEASE_TTL):
                    held.append(name)
        return held

    async def release(self) -> None:
        """Hand every lease this replica holds on (it is stopping)."""
        async with self._db.transaction() as tx:
            await lease_store.release(tx, self._me, self._clock.now())

    async def leases(self) -> list[Lease]:
        return await lease_store.all_leases(self._db.reader)
