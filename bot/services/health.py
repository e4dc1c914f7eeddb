"""Liveness: each running replica records a heartbeat; ``loyalty-bot health`` and
/healthz read them, with who holds each job's lease.

The heartbeat is written by a job on each replica's own event loop, so a fresh one means
that loop is turning and the database takes writes: what a container health check needs.
The bot is healthy while at least one replica is alive (seen within two heartbeats) and
no job's lease is overdue (expired a minute ago with no live replica taking it over).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.clock import Clock
from bot.services.leases import Lease, LeaseService, lease_overdue
from bot.services.replicas import HEARTBEAT_EVERY, Replica, ReplicaService, is_alive
from bot.settings import Settings
from storage import Database
from storage import replicas as replica_store
from storage.backup import backup, prune
from storage.db import describe_url

logger = logging.getLogger(__name__)

__all__ = [
    "HEARTBEAT_EVERY",
    "BackupService",
    "HealthReport",
    "HealthService",
    "health_now",
    "heartbeat_problem",
]


def _seconds(moment: datetime, now: datetime) -> int:
    return int((now - moment).total_seconds())


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@dataclass(frozen=True, slots=True)
class HealthReport:
    """What the replicas' heartbeats and the job leases say, at ``now``."""

    replicas: list[Replica]
    leases: list[Lease]
    now: datetime
    where: str

    @property
    def alive(self) -> list[Replica]:
        return [replica for replica in self.replicas if is_alive(replica, self.now)]

    @property
    def overdue(self) -> list[Lease]:
        return [lease for lease in self.leases if lease_overdue(lease, self.now)]

    @property
    def problem(self) -> str | None:
        """Why the bot looks dead or its jobs stand still, in one line; None when it is
        healthy."""
        if (dead := self.liveness_problem) is not None:
            return dead
        if self.overdue:
            jobs = ", ".join(
                f"{lease.name} (last held by {lease.holder}, expired "
                f"{_seconds(lease.expires_at, self.now)} s ago)"
                for lease in self.overdue
            )
            return f"no live replica runs these jobs: {jobs}"
        return None

    @property
    def liveness_problem(self) -> str | None:
        """Why no replica looks alive; None while one is."""
        if not self.replicas:
            if not self.leases:
                return f"no heartbeat in {self.where} yet: is the bot running?"
            return f"no bot is running on {self.where}: every replica has stopped"
        if not self.alive:
            newest = max(self.replicas, key=lambda replica: replica.seen_at)
            return (
                f"the last heartbeat ({newest.id}) is {_seconds(newest.seen_at, self.now)} s"
                " old: the bot is stuck or stopped"
            )
        return None

    def lines(self) -> list[str]:
        """One line per replica and per job, for ``loyalty-bot health``."""
        alive = self.alive
        lines = [
            f"replica {r.id}: "
            + (
                f"alive, seen {_seconds(r.seen_at, self.now)} s ago"
                if r in alive
                else f"not seen for {_seconds(r.seen_at, self.now)} s"
            )
            + f", version {r.version}, started {_when(r.started_at)}"
            for r in self.replicas
        ]
        for lease in self.leases:
            left = _seconds(self.now, lease.expires_at)
            if left >= 0:
                state = f"held by {lease.holder} for {left} s more"
            elif lease_overdue(lease, self.now):
                state = f"OVERDUE: {lease.holder}'s lease expired {-left} s ago, nobody took it"
            else:
                state = f"free ({lease.holder}'s lease expired {-left} s ago)"
            lines.append(f"job {lease.name}: {state}")
        return lines

    def as_json(self) -> dict[str, Any]:
        """The replicas and jobs, for /healthz."""
        alive = self.alive
        return {
            "replicas": [
                {
                    "id": r.id,
                    "alive": r in alive,
                    "seen_seconds_ago": _seconds(r.seen_at, self.now),
                    "started_at": r.started_at.isoformat(),
                    "version": r.version,
                }
                for r in self.replicas
            ],
            "jobs": [
                {
                    "name": lease.name,
                    "holder": lease.holder,
                    "expires_in_seconds": _seconds(self.now, lease.expires_at),
                    "overdue": lease_overdue(lease, self.now),
                }
                for lease in self.leases
            ],
        }


def _where(database: Path | str) -> str:
    return describe_url(database) if isinstance(database, str) else str(database)


class HealthService:
    def __init__(
        self, db: Database, clock: Clock, replicas: ReplicaService, leases: LeaseService
    ) -> None:
        self._db = db
        self._clock = clock
        self._replicas = replicas
        self._leases = leases

    async def ping(self) -> None:
        """Ask the database for nothing: raises when it does not answer."""
        await self._db.ping()

    async def report(self) -> HealthReport:
        """The replicas and the job leases, as the running bot's clock sees them."""
        replicas = await self._replicas.replicas()
        leases = await self._leases.leases()
        return HealthReport(replicas, leases, self._clock.now(), self._db.describe())


def health_now(database: Path | str, now: datetime) -> HealthReport:
    """The health of the bot using ``database`` (a SQLite file, or a PostgreSQL URL),
    read from outside it (``loyalty-bot health``), synchronously and read-only."""
    snapshot = replica_store.read_now(database)
    if snapshot is None:
        return HealthReport([], [], now, _where(database))
    return HealthReport(snapshot.replicas, snapshot.leases, now, _where(database))


def heartbeat_problem(database: Path | str, now: datetime) -> str | None:
    """Why no bot looks alive on ``database``, or None while a replica is (so it must be
    stopped before the database is moved or restored)."""
    return health_now(database, now).liveness_problem


class BackupService:
    """The optional daily backup (BACKUP_DIR): one file a café day, the newest
    BACKUP_KEEP kept, written while the bot runs. SQLite only: on PostgreSQL backups are
    the server's own (pg_dump, docs/operations.md) and BACKUP_DIR is not used."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock

    async def daily(self) -> Path | None:
        folder = self._settings.backup_dir
        if folder is None or self._settings.uses_postgresql:
            return None
        day = self._clock.now().astimezone(self._settings.tz).date()
        target = folder / f"loyalty-{day.isoformat()}.db"
        if target.exists():
            return None
        await asyncio.to_thread(backup, self._settings.database_path, target)
        deleted = await asyncio.to_thread(prune, folder, "loyalty-*.db", self._settings.backup_keep)
        logger.info("Backed up the database to %s (%s old backups removed)", target, len(deleted))
        return target
