"""Connection management, the one write-transaction helper and migrations."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import aiosqlite
import psycopg
from sqlalchemy import make_url

from storage import postgresql, sqlite
from storage.engine import Conn, Engine, StatementListener, TransientError, sql
from storage.migrations import MIGRATIONS, migrate

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# Pooled read connections per SQLite file; on PostgreSQL, connections for transactions
# and as many for reads, per process.
READERS = 4
POSTGRESQL_POOL = 8


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


P = ParamSpec("P")
R = TypeVar("R")
TRANSACTION_ATTEMPTS = 3


def retry_transient(
    operation: Callable[P, Coroutine[Any, Any, R]],
) -> Callable[P, Coroutine[Any, Any, R]]:
    """Run a service operation again when the database gave up on its transaction rather
    than on its content (a deadlock, a serialization failure, a connection lost and
    re-made): at most TRANSACTION_ATTEMPTS times in all, then the error stands and the
    person is asked to try again. Only for operations whose every write is one
    transaction keyed for idempotency, so running them again can never count twice."""

    @functools.wraps(operation)
    async def attempt(*args: P.args, **kwargs: P.kwargs) -> R:
        for number in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                return await operation(*args, **kwargs)
            except TransientError as error:
                if number == TRANSACTION_ATTEMPTS:
                    raise
                logger.info("%s: %s, attempt %s again", operation.__qualname__, error, number + 1)
        raise AssertionError("unreachable")

    return attempt


async def probe_postgresql(url: str) -> int:
    """Connect once and return the schema version (0 for an empty database). Raises
    StorageError with the cause in one line: unreachable, refused credentials, a missing
    database, or a schema newer than this code."""
    try:
        async with await psycopg.AsyncConnection.connect(
            postgresql.conninfo(url), autocommit=True, connect_timeout=10
        ) as connection:
            cursor = await connection.execute("SELECT to_regclass('schema_version')")
            exists = (await cursor.fetchone() or (None,))[0]
            version = 0
            if exists is not None:
                cursor = await connection.execute(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_version"
                )
                version = int((await cursor.fetchone() or (0,))[0] or 0)
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise StorageError(f"cannot use PostgreSQL at {describe_url(url)}: {reason}") from None
    if version > MIGRATIONS[-1][0]:
        raise StorageError(
            f"PostgreSQL at {describe_url(url)} was written by a newer version of the bot "
            f"(schema {version}); upgrade the bot"
        )
    return version


def describe_url(url: str) -> str:
    """Server and database of a PostgreSQL URL, for messages (never the password)."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


class Database:
    """The bot's database, on SQLite (one file) or PostgreSQL (a server).

    :meth:`transaction` is the one way to write: a short transaction that commits at the
    end of the block and rolls back on any error (also when COMMIT itself fails). On
    SQLite it is ``BEGIN IMMEDIATE`` on the one writer connection, behind an asyncio lock
    so concurrent handlers never interleave inside it; on PostgreSQL each transaction
    has a pooled connection of its own and concurrent writers are kept correct by row
    locks and constraints, not by a lock in this process.

    :attr:`reader` runs each read on a pooled connection in autocommit: it sees only
    committed data and never blocks a writer. :attr:`report_reader` does the same on
    connections of its own, so a long report never queues in front of the counter.
    """

    def __init__(self, target: Path | str) -> None:
        """``target``: a SQLite file's path, or a ``postgresql://`` URL."""
        self.url = str(target)
        self.engine = Engine.POSTGRESQL if is_postgresql(self.url) else Engine.SQLITE
        self.path = Path(target) if self.engine is Engine.SQLITE else None
        # PostgreSQL: psycopg pools. SQLite: aiosqlite connections.
        self._pools: list[postgresql.PgPool] = []
        self._pool: postgresql.PgPool | None = None
        self._sqlite_writer: aiosqlite.Connection | None = None
        self._sqlite_readers: list[aiosqlite.Connection] = []
        self._listeners: list[StatementListener] = []
        self._reader: Conn | None = None
        self._report_reader: Conn | None = None
        self._write_lock = asyncio.Lock()
        # Told how long each transaction waited for the write lock (the bot's metrics).
        self.on_lock_wait: Callable[[float], None] | None = None

    async def open(self) -> None:
        try:
            if self.engine is Engine.SQLITE:
                await self._open_sqlite()
            else:
                await self._open_postgresql()
            await self.migrate()
        except BaseException:
            await self.close()  # an open connection's thread would keep the process alive
            raise
        logger.info("Database ready: %s (schema version %s)", self.describe(), await self.version())

    def describe(self) -> str:
        """Where the database is, for logs: the file, or the server and database name
        (never the password)."""
        if self.path is not None:
            return str(self.path)
        return f"PostgreSQL {describe_url(self.url)}"

    async def _open_sqlite(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One writer connection; readers of their own (WAL lets them read beside it).
        self._sqlite_writer = await sqlite.connect(str(self.path), pragmas=SQLITE_WRITER_PRAGMAS)
        for _ in range(READERS + 1):  # the counter's, and one for reports
            self._sqlite_readers.append(
                await sqlite.connect(str(self.path), pragmas=SQLITE_READER_PRAGMAS)
            )
        self._reader = sqlite.SqliteReaders(self._sqlite_readers[:READERS], self._listeners)
        self._report_reader = sqlite.SqliteReaders(self._sqlite_readers[READERS:], self._listeners)

    async def _open_postgresql(self) -> None:
        # Transactions, the counter's reads and reports each have a pool of their own: a
        # transaction that reads on the side while other transactions hold every writer
        # connection still gets its read, so no wait on a pool can wait on itself.
        self._pool = postgresql.PgPool(self.url, size=POSTGRESQL_POOL, listeners=self._listeners)
        readers = postgresql.PgPool(self.url, size=POSTGRESQL_POOL, listeners=self._listeners)
        reports = postgresql.PgPool(self.url, size=2, listeners=self._listeners)
        self._pools = [self._pool, readers, reports]
        for pool in self._pools:
            await pool.open()
        self._reader = postgresql.PgReaders(readers)
        self._report_reader = postgresql.PgReaders(reports)

    async def close(self) -> None:
        async with self._write_lock:
            pools, self._pools, self._pool = self._pools, [], None
            connections = [*self._sqlite_readers, self._sqlite_writer]
            self._sqlite_readers, self._sqlite_writer = [], None
            self._reader = self._report_reader = None
            for pool in pools:
                await pool.close()
            for connection in connections:
                if connection is not None:
                    await connection.close()

    @property
    def reader(self) -> Conn:
        if self._reader is None:
            raise StorageError("database is not open")
        return self._reader

    @property
    def report_reader(self) -> Conn:
        """Reads for reports and exports, on connections of their own: their long
        aggregates run beside the counter's reads instead of queueing in front of them."""
        if self._report_reader is None:
            raise StorageError("database is not open")
        return self._report_reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Conn]:
        """Run the block as one transaction; roll back on any error."""
        if self.engine is Engine.POSTGRESQL:
            if self._pool is None:
                raise StorageError("database is not open")
            async with self._pool.transaction() as conn:
                yield conn
            return
        asked = time.perf_counter()
        async with self._write_lock:
            writer = self._sqlite_writer
            if writer is None:
                raise StorageError("database is not open")
            if self.on_lock_wait is not None:
                self.on_lock_wait(time.perf_counter() - asked)
            tx = sqlite.SqliteConn(writer, self._listeners)
            # IMMEDIATE takes the write lock at once, so a transaction waits for another
            # process's writer here (busy_timeout) instead of failing halfway through.
            await tx.ddl("BEGIN IMMEDIATE")
            try:
                yield tx
                await tx.ddl("COMMIT")
            except BaseException:
                if writer.in_transaction:  # also when COMMIT itself failed
                    await writer.execute_fetchall("ROLLBACK")
                raise

    def on_statement(self, callback: StatementListener) -> Callable[[], None]:
        """Tell ``callback`` every statement this open database sends, as the driver
        gets it (text, parameters: a list of them for a batch), until the returned
        function is called. For the query-plan tests and diagnostics."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback)

    async def ping(self) -> None:
        """One round trip; raises when the database does not answer."""
        await self.reader.value(sql("SELECT 1 AS ok"))

    async def version(self) -> int:
        value = await self.reader.value(
            sql("SELECT COALESCE(MAX(version), 0) AS version FROM schema_version")
        )
        return int(value or 0)

    async def migrate(self) -> None:
        """Bring the schema to this code's version (see storage/migrations.py)."""
        async with self.transaction() as tx:
            await migrate(tx)


def is_postgresql(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://", "postgresql+"))


# Kept in the file once set (WAL, set by the writer); the rest per connection.
SQLITE_WRITER_PRAGMAS = (
    # First: switching to WAL takes the file's lock, which another process opening the
    # same file at that moment may hold; with the timeout set, it waits instead of failing.
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)
# Readers are configured as the writer is (the file is in WAL already), and cannot write,
# even by mistake.
SQLITE_READER_PRAGMAS = (
    *(pragma for pragma in SQLITE_WRITER_PRAGMAS if "journal_mode" not in pragma),
    "PRAGMA query_only=ON",
)
