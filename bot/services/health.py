"""Liveness: the running bot records a heartbeat; ``loyalty-bot health`` reads it.

The heartbeat is written by a job on the bot's own event loop, so a fresh one means the
loop is turning and the database takes writes: what a container health check needs.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.settings import Settings
from storage import Database
from storage import meta as meta_store
from storage.backup import backup, prune
from storage.db import describe_url

logger = logging.getLogger(__name__)

HEARTBEAT_META = "heartbeat"
HEARTBEAT_EVERY = timedelta(seconds=30)
STALE_AFTER = timedelta(minutes=2)


class HealthService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def ping(self) -> None:
        """Ask the database for nothing: raises when it does not answer."""
        await self._db.ping()

    async def beat(self) -> None:
        async with self._db.transaction() as tx:
            await meta_store.put(tx, HEARTBEAT_META, self._clock.now().isoformat())


def heartbeat_problem(database: Path | str, now: datetime) -> str | None:
    """Why the bot using ``database`` (a SQLite file, or a PostgreSQL URL) looks dead, or
    None when its heartbeat is fresh."""
    value = meta_store.read_now(database, HEARTBEAT_META)
    if value is None:
        where = describe_url(database) if isinstance(database, str) else database
        return f"no heartbeat in {where} yet: is the bot running?"
    age = now - datetime.fromisoformat(value)
    if age > STALE_AFTER:
        return (
            f"the last heartbeat is {int(age.total_seconds())} s old: the bot is stuck or stopped"
        )
    return None


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
