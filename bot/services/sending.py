"""Sending in bulk when several bot processes (replicas) share one database.

Telegram's limits (about 30 messages a second, one a second per chat) are the bot's, not
a process's. So one replica at a time sends bulk messages (broadcasts and the outbox):
the one holding the ``sending`` lease, renewed while it sends and taken over by another
replica when it dies. The others only tell it how many interactive replies they send,
once a second at most, so it leaves them room. See docs/operations.md, "Several
machines".
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot.clock import Clock
from storage import Database, retry_transient
from storage import leases as lease_store
from storage import reply_counts as reply_store

SENDER_LEASE = "sending"
# A sender that died is replaced within this (plus a standby's next look).
SENDER_LEASE_TTL = timedelta(seconds=20)
COUNTS_KEPT = timedelta(hours=1)


class SendingService:
    def __init__(self, db: Database, clock: Clock, replica_id: str) -> None:
        self._db = db
        self._clock = clock
        self.replica_id = replica_id  # holds the lease: a restarted replica renews it at once
        # Names this sender's claims, new at each start (see storage/claims.py).
        self.me = f"{replica_id}:{secrets.token_hex(3)}"

    @retry_transient
    async def lead(self) -> bool:
        """Take or renew the sender's lease; False while another live replica sends."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            return await lease_store.take(
                tx, SENDER_LEASE, self.replica_id, now, now + SENDER_LEASE_TTL
            )

    async def step_down(self) -> None:
        """Hand the lease on at once (this replica is stopping): the next replica to ask
        takes it. (With it go this replica's job leases, as they do at shutdown.)"""
        # Expired a moment ago, so it is free even to a replica asking in this instant.
        expired = self._clock.now() - timedelta(seconds=1)
        async with self._db.transaction() as tx:
            await lease_store.release(tx, self.replica_id, expired)

    async def record_replies(self, counts: dict[int, int]) -> None:
        """This replica's interactive replies per second (Unix seconds), for the sender."""
        if counts:
            async with self._db.transaction() as tx:
                await reply_store.record(tx, self.replica_id, counts)

    async def others_replies(self, since: int) -> dict[int, int]:
        """The other replicas' replies per second (Unix seconds) from ``since`` on."""
        return await reply_store.recent(self._db.reader, since, besides=self.replica_id)

    async def forget_old_counts(self) -> None:
        """Delete reply counts over an hour old (of replicas that stopped)."""
        async with self._db.transaction() as tx:
            await reply_store.forget(tx, self._clock.now() - COUNTS_KEPT)
