"""Connection management, the one write-transaction helper and migrations."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite

from storage.migrations import MIGRATIONS

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


class StorageError(Exception):
    """Raised for storage problems a caller can act on."""


def check_database_file(path: Path) -> None:
    """Check, without changing anything, that the bot can keep its database at ``path``.

    Raises StorageError with the cause in words: a folder that cannot be created or
    written, a path that is a folder, a file that is not a SQLite database, or one written
    by a newer version of the bot."""
    if path.exists():
        if not path.is_file():
            raise StorageError(f"{path} is a folder, not a database file")
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
            try:
                tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
                version = 0
                if "schema_version" in tables:
                    version = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{path} is not a SQLite database ({exc})") from None
        if (version or 0) > MIGRATIONS[-1][0]:
            raise StorageError(
                f"{path} was written by a newer version of the bot (schema {version}); "
                "upgrade the bot, or restore a backup made by this version"
            )
        folder = path.parent
    else:
        folder = path.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise StorageError(f"cannot create the folder {path.parent}: {folder} is a file")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StorageError(f"the folder {folder} is not writable by this user")


class Database:
    """Owns three aiosqlite connections: one serialised writer, one reader for requests,
    and one reader for reports.

    Every read-modify-write goes through :meth:`transaction`, which holds an asyncio lock
    for the whole ``BEGIN IMMEDIATE`` … ``COMMIT`` so concurrent handlers can never
    interleave statements inside one open transaction. Plain reads use the reader
    connection; with WAL it sees only committed data and never blocks the writer.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._report_reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        # Told how long each transaction waited for the write lock (the bot's metrics).
        self.on_lock_wait: Callable[[float], None] | None = None

    async def open(self) -> None:
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        try:
            await self._writer.execute("PRAGMA journal_mode=WAL")
            await self.migrate()
            self._reader = await self._connect()
            self._report_reader = await self._connect()
        except BaseException:
            await self.close()  # an open connection's thread would keep the process alive
            raise
        logger.info("Database ready at %s (schema version %s)", self.path, await self.version())

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA foreign_keys=ON")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    async def close(self) -> None:
        async with self._write_lock:
            for conn in (self._report_reader, self._reader, self._writer):
                if conn is not None:
                    await conn.close()
            self._report_reader = self._reader = self._writer = None

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise StorageError("database is not open")
        return self._reader

    @property
    def report_reader(self) -> aiosqlite.Connection:
        """A read connection of its own for reports and exports: their long aggregates
        run beside the counter's reads instead of queueing in front of them."""
        if self._report_reader is None:
            raise StorageError("database is not open")
        return self._report_reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one ``BEGIN IMMEDIATE`` transaction; roll back on any error."""
        asked = time.perf_counter()
        async with self._write_lock:
            if self.on_lock_wait is not None:
                self.on_lock_wait(time.perf_counter() - asked)
            conn = self._writer
            if conn is None:
                raise StorageError("database is not open")
            await conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                await conn.execute("COMMIT")
            except BaseException:
                # Also when COMMIT itself fails (a deferred constraint, a full disk): the
                # transaction is still open then, and the writer must not stay inside it.
                if conn.in_transaction:
                    await conn.execute("ROLLBACK")
                raise

    async def version(self) -> int:
        conn = self._writer or self.reader
        async with conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version") as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self) -> None:
        """Apply each migration newer than the stored version, each in its own transaction."""
        assert self._writer is not None
        await self._writer.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
        )
        current = await self.version()
        for version, statements in MIGRATIONS:
            if version <= current:
                continue
            async with self.transaction() as tx:
                for statement in statements:
                    await tx.execute(statement)
                await tx.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            logger.info("Applied migration %s", version)
