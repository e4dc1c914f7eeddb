"""The one way storage talks to a database, on SQLite or PostgreSQL.

SQL is written once, in the standard form both engines accept, with named parameters
(``:member_id``): SQLAlchemy Core compiles each statement for the driver it runs on
(aiosqlite or psycopg), so no SQL is rewritten here. Where the engines truly differ (a
locking read, a date function, EXPLAIN) a statement has one text per engine.

Storage functions take a :class:`Conn`: an open transaction, or a reader that runs each
statement on a pooled connection of its own. Rows come back as read-only mappings
(``row["balance"]``); no driver type leaves this package.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

import aiosqlite
from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Row = Mapping[str, Any]
# Told each statement as the driver gets it (text, parameters), for tests and diagnostics.
StatementListener = Callable[[str, Any], None]


class Engine(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement, as each engine runs it."""

    sqlite: TextClause
    postgresql: TextClause
    # Parameters that take a list (``IN :name``), expanded to one placeholder per item.
    lists: frozenset[str] = field(default=frozenset())

    def on(self, engine: Engine) -> TextClause:
        return self.sqlite if engine is Engine.SQLITE else self.postgresql


def sql(source: str) -> Statement:
    """A statement both engines run as written."""
    clause = text(source)
    return Statement(clause, clause)


def per_engine(*, sqlite: str, postgresql: str) -> Statement:
    """A statement the engines spell differently (say why where it is used)."""
    return Statement(text(sqlite), text(postgresql))


def with_list(source: str, name: str) -> Statement:
    """A statement whose ``IN :name`` takes a list: SQLAlchemy writes one parameter per
    item when it runs, on either engine."""
    clause = text(source).bindparams(bindparam(name, expanding=True))
    return Statement(clause, clause, frozenset((name,)))


class ConstraintViolated(Exception):
    """A write broke a constraint (a unique key, a CHECK, a foreign key)."""


class DatabaseError(Exception):
    """The database refused a statement for a reason that running it again would not
    change: a bug, or a schema that is not this bot's."""


class TransientError(Exception):
    """The database gave up on this transaction, not on its content (a deadlock, a
    serialization failure, a lost connection): the same work can be tried again."""


# SQLSTATE classes PostgreSQL uses for "try again": serialization failure, deadlock,
# and the connection exceptions (class 08) and admin shutdown (57P01) of a restart.
_TRANSIENT_SQLSTATES = ("40001", "40P01", "57P01", "57P02", "57P03")


# SQLite's "busy" and "locked": another process held the file past the busy timeout.
_SQLITE_BUSY = (5, 6)


def translate_sqlite(error: sqlite3.Error) -> Exception:
    """The project's own error for one of sqlite3's (see :func:`translate`)."""
    if isinstance(error, sqlite3.IntegrityError):
        return ConstraintViolated(str(error))
    if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF in _SQLITE_BUSY:
        return TransientError(type(error).__name__)
    return DatabaseError(str(error))


def translate(error: DBAPIError) -> Exception:
    """The project's own error for a driver's, so no driver type leaves storage."""
    if isinstance(error, IntegrityError):
        return ConstraintViolated(str(error.orig))
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None) or ""
    lost = error.connection_invalidated or (
        # psycopg: a connection that failed or broke has no SQLSTATE of its own.
        isinstance(error, OperationalError) and not sqlstate and hasattr(original, "sqlstate")
    )
    busy = (getattr(original, "sqlite_errorcode", None) or 0) & 0xFF in _SQLITE_BUSY
    if lost or busy or sqlstate.startswith("08") or sqlstate in _TRANSIENT_SQLSTATES:
        return TransientError(type(original).__name__)
    return DatabaseError(str(original).strip())


class Conn:
    """Where a storage function runs its statements: see the module's docstring."""

    engine: Engine

    async def one(self, statement: Statement, /, **params: Any) -> Row | None:
        """The first row, or None."""
        rows = await self._rows(statement, params)
        return rows[0] if rows else None

    async def all(self, statement: Statement, /, **params: Any) -> list[Row]:
        return await self._rows(statement, params)

    async def value(self, statement: Statement, /, **params: Any) -> Any:
        """The first column of the first row, or None."""
        rows = await self._rows(statement, params)
        return next(iter(rows[0].values())) if rows else None

    async def run(self, statement: Statement, /, **params: Any) -> int:
        """Run a write; returns how many rows it changed."""
        raise NotImplementedError

    async def run_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one write for each parameter set (one round trip where the driver can)."""
        raise NotImplementedError

    async def ddl(self, source: str) -> None:
        """Run schema SQL as written, with no parameters (migrations)."""
        raise NotImplementedError

    async def _rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        raise NotImplementedError


class BoundConn(Conn):
    """Statements on one connection: an open transaction (or a migration)."""

    def __init__(self, connection: AsyncConnection, engine: Engine) -> None:
        self._connection = connection
        self.engine = engine

    async def _rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        try:
            result = await self._connection.execute(statement.on(self.engine), dict(params))
            return cast(list[Row], result.mappings().all()) if result.returns_rows else []
        except DBAPIError as error:
            raise translate(error) from error

    async def run(self, statement: Statement, /, **params: Any) -> int:
        try:
            result = await self._connection.execute(statement.on(self.engine), params)
        except DBAPIError as error:
            raise translate(error) from error
        return int(result.rowcount)

    async def run_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        try:
            await self._connection.execute(statement.on(self.engine), [dict(r) for r in rows])
        except DBAPIError as error:
            raise translate(error) from error

    async def ddl(self, source: str) -> None:
        try:
            await self._connection.exec_driver_sql(source)
        except DBAPIError as error:
            raise translate(error) from error


class PooledReader(Conn):
    """Reads, each statement on a pooled connection in autocommit: it sees everything
    committed before it began and never holds a lock a writer waits for."""

    def __init__(self, engine: AsyncEngine, kind: Engine) -> None:
        self._engine = engine
        self.engine = kind

    async def _rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        try:
            async with self._engine.connect() as connection:
                result = await connection.execute(statement.on(self.engine), dict(params))
                return cast(list[Row], result.mappings().all()) if result.returns_rows else []
        except DBAPIError as error:
            raise translate(error) from error

    async def run(self, statement: Statement, /, **params: Any) -> int:
        raise TypeError("a reader does not write; use Database.transaction()")

    async def run_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        raise TypeError("a reader does not write; use Database.transaction()")


# SQLite runs on aiosqlite directly. sqlite3 takes a statement's ``:name`` parameters as
# written, so SQLAlchemy has nothing to compile there but the lists of ``IN :name``, and
# its async layer would cost several trips to aiosqlite's thread per statement where
# aiosqlite's own calls make one (docs/benchmarks.md has the figures).
_SQLITE = sqlite_dialect.dialect(paramstyle="qmark")


def _sqlite_form(statement: Statement, params: Mapping[str, Any]) -> tuple[str, Any]:
    """The text and parameters sqlite3 is given for ``statement``."""
    clause = statement.sqlite
    if not statement.lists:
        return clause.text, params
    # Expanding a list needs every value at hand: SQLAlchemy renders one placeholder per
    # item (a statement that takes a list is given exactly its own parameters).
    compiled = clause.bindparams(**params).compile(
        dialect=_SQLITE, compile_kwargs={"render_postcompile": True}
    )
    values = compiled.params
    return compiled.string, tuple(values[name] for name in compiled.positiontup or ())


def _mapping_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip([column[0] for column in cursor.description], row, strict=True))


async def open_sqlite(path: str, *, pragmas: Sequence[str]) -> aiosqlite.Connection:
    """An aiosqlite connection in autocommit mode (transactions are begun explicitly),
    rows as mappings, with ``pragmas`` run on it."""
    connection = await aiosqlite.connect(path, isolation_level=None)
    try:
        connection.row_factory = _mapping_row  # type: ignore[assignment]
        for pragma in pragmas:
            await connection.execute_fetchall(pragma)
    except BaseException:
        await connection.close()
        raise
    return connection


class SqliteConn(Conn):
    """Statements on one aiosqlite connection: the writer's open transaction."""

    engine = Engine.SQLITE

    def __init__(
        self, connection: aiosqlite.Connection, listeners: Sequence[StatementListener] = ()
    ) -> None:
        self._connection = connection
        self._listeners = listeners

    def _told(self, statement: Statement, params: Mapping[str, Any]) -> tuple[str, Any]:
        source, values = _sqlite_form(statement, params)
        for listener in self._listeners:
            listener(source, values)
        return source, values

    async def _rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        source, values = self._told(statement, params)
        try:
            return cast(list[Row], await self._connection.execute_fetchall(source, values))
        except sqlite3.Error as error:
            raise translate_sqlite(error) from error

    async def run(self, statement: Statement, /, **params: Any) -> int:
        source, values = self._told(statement, params)
        try:
            async with self._connection.execute(source, values) as cursor:
                return int(cursor.rowcount)
        except sqlite3.Error as error:
            raise translate_sqlite(error) from error

    async def run_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if statement.lists:
            for row in rows:
                await self.run(statement, **row)
            return
        source = statement.sqlite.text
        for listener in self._listeners:
            listener(source, list(rows))
        try:
            async with self._connection.executemany(source, rows):
                pass
        except sqlite3.Error as error:
            raise translate_sqlite(error) from error

    async def ddl(self, source: str) -> None:
        try:
            await self._connection.execute_fetchall(source)
        except sqlite3.Error as error:
            raise translate_sqlite(error) from error


class SqliteReaders(Conn):
    """Reads on a few read-only connections of one SQLite file, each statement on
    whichever is free: with WAL they see everything committed before the read began and
    never block the writer."""

    engine = Engine.SQLITE

    def __init__(
        self, connections: Sequence[aiosqlite.Connection], listeners: Sequence[StatementListener]
    ) -> None:
        self._idle: asyncio.Queue[SqliteConn] = asyncio.Queue()
        for connection in connections:
            self._idle.put_nowait(SqliteConn(connection, listeners))

    async def _rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        reader = await self._idle.get()
        try:
            return await reader._rows(statement, params)
        finally:
            self._idle.put_nowait(reader)

    async def run(self, statement: Statement, /, **params: Any) -> int:
        raise TypeError("a reader does not write; use Database.transaction()")

    async def run_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        raise TypeError("a reader does not write; use Database.transaction()")
