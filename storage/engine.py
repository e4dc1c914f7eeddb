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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import RowMapping, TextClause, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Row = RowMapping


class Engine(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement, as each engine runs it."""

    sqlite: TextClause
    postgresql: TextClause

    def on(self, engine: Engine) -> TextClause:
        return self.sqlite if engine is Engine.SQLITE else self.postgresql


def sql(source: str) -> Statement:
    """A statement both engines run as written."""
    clause = text(source)
    return Statement(clause, clause)


def per_engine(*, sqlite: str, postgresql: str) -> Statement:
    """A statement the engines spell differently (say why where it is used)."""
    return Statement(text(sqlite), text(postgresql))


class ConstraintViolated(Exception):
    """A write broke a constraint (a unique key, a CHECK, a foreign key)."""


class TransientError(Exception):
    """The database gave up on this transaction, not on its content (a deadlock, a
    serialization failure, a lost connection): the same work can be tried again."""


# SQLSTATE classes PostgreSQL uses for "try again": serialization failure, deadlock,
# and the connection exceptions (class 08) and admin shutdown (57P01) of a restart.
_TRANSIENT_SQLSTATES = ("40001", "40P01", "57P01", "57P02", "57P03")


# SQLite's "busy" and "locked": another process held the file past the busy timeout.
_SQLITE_BUSY = (5, 6)


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
    return error


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
            return list(result.mappings().all()) if result.returns_rows else []
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
                return list(result.mappings().all()) if result.returns_rows else []
        except DBAPIError as error:
            raise translate(error) from error

    async def run(self, statement: Statement, /, **params: Any) -> int:
        raise TypeError("a reader does not write; use Database.transaction()")

    async def run_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        raise TypeError("a reader does not write; use Database.transaction()")
