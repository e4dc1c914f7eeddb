"""This bot process among the replicas sharing its database.

Each process has a replica id (``REPLICA_ID``, by default ``<hostname>-<pid>``) and keeps
its own row in ``replicas`` fresh with the heartbeat job; a replica is alive while its
row was seen within two heartbeats. A replica that stops cleanly removes its row; one
that was killed is forgotten a day after it was last seen (a job under its own lease).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import __version__
from bot.clock import Clock
from storage import Database, retry_transient
from storage import replicas as replica_store
from storage.replicas import Replica

HEARTBEAT_EVERY = timedelta(seconds=30)
ALIVE_WITHIN = 2 * HEARTBEAT_EVERY
FORGET_AFTER = timedelta(days=1)

__all__ = ["ALIVE_WITHIN", "FORGET_AFTER", "HEARTBEAT_EVERY", "Replica", "ReplicaService"]


def is_alive(replica: Replica, now: datetime) -> bool:
    return now - replica.seen_at <= ALIVE_WITHIN


class ReplicaService:
    def __init__(self, db: Database, clock: Clock, replica_id: str) -> None:
        self._db = db
        self._clock = clock
        self.replica_id = replica_id
        self.started_at = clock.now()

    @retry_transient
    async def beat(self) -> None:
        """This replica is alive: its row's ``seen_at`` is now."""
        async with self._db.transaction() as tx:
            await replica_store.beat(
                tx, self.replica_id, self.started_at, self._clock.now(), __version__
            )

    async def replicas(self) -> list[Replica]:
        """Every replica with a row, alive or not, by id."""
        return await replica_store.all_replicas(self._db.reader)

    async def live_replicas(self) -> list[Replica]:
        """The replicas seen within two heartbeats (this one too, once it has beaten)."""
        now = self._clock.now()
        return [replica for replica in await self.replicas() if is_alive(replica, now)]

    async def leave(self) -> None:
        """This replica stops: its row goes."""
        async with self._db.transaction() as tx:
            await replica_store.leave(tx, self.replica_id)

    async def forget_gone(self) -> int:
        """Remove the rows of replicas not seen for a day (killed ones)."""
        async with self._db.transaction() as tx:
            return await replica_store.prune(tx, self._clock.now() - FORGET_AFTER)
