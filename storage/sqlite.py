"""SQLite through aiosqlite: the statements of storage/ as sqlite3 runs them.

sqlite3 takes a statement's ``:name`` parameters as written, so there is nothing to
compile but the lists of ``IN :name`` (SQLAlchemy's compiler expands those). Each read is
one trip to the connection's aiosqlite thread, each write two (docs/database.md says why
this is not SQLAlchemy's async engine).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects import sqlite as sqlite_dialect

from storage.engine import (
    ConstraintViolated,
    DatabaseError,
    DriverConn,
    Engine,
    Reader,
    Row,
    Statement,
    StatementListener,
    TransientError,
)

# SQLite's "busy" and "locked": another process held the file past the busy timeout.
_SQLITE_BUSY = (5, 6)
_DIALECT = sqlite_dialect.dialect(paramstyle="qmark")


def translate(error: sqlite3.Error) -> Exception:
    """The project's own error for one of sqlite3's."""
    if isinstance(error, sqlite3.IntegrityError):
        return ConstraintViolated(str(error))
    if (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF in _SQLITE_BUSY:
        return TransientError(type(error).__name__)
    return DatabaseError(str(error))


def _form(statement: Statement, params: Mapping[str, Any]) -> tuple[str, Any]:
    """The text and parameters sqlite3 is given for ``statement``."""
    clause = statement.sqlite
    if not statement.lists:
        return clause.text, params
    # Expanding a list needs every value at hand: SQLAlchemy renders one placeholder per
    # item (a statement that takes a list is given exactly its own parameters).
    compiled = clause.bindparams(**params).compile(
        dialect=_DIALECT, compile_kwargs={"render_postcompile": True}
    )
    values = compiled.params
    return compiled.string, tuple(values[name] for name in compiled.positiontup or ())


def _mapping_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip([column[0] for column in cursor.description], row, strict=True))


async def connect(path: str, *, pragmas: Sequence[str]) -> aiosqlite.Connection:
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


class SqliteConn(DriverConn):
    """Statements on one aiosqlite connection: the writer's open transaction, or one of
    the readers'."""

    engine = Engine.SQLITE

    def __init__(
        self, connection: aiosqlite.Connection, listeners: Sequence[StatementListener] = ()
    ) -> None:
        self._connection = connection
        self._listeners = listeners

    def _form(self, statement: Statement, params: Mapping[str, Any]) -> tuple[str, Any]:
        return _form(statement, params)

    async def _rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        source, values = self._told(statement, params)
        try:
            return cast(list[Row], await self._connection.execute_fetchall(source, values))
        except sqlite3.Error as error:
            raise translate(error) from error

    async def run(self, statement: Statement, /, **params: Any) -> int:
        source, values = self._told(statement, params)
        try:
            async with self._connection.execute(source, values) as cursor:
                return int(cursor.rowcount)
        except sqlite3.Error as error:
            raise translate(error) from error

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
            raise translate(error) from error

    async def ddl(self, source: str) -> None:
        try:
            await self._connection.execute_fetchall(source)
        except sqlite3.Error as error:
            raise translate(error) from error


class SqliteReaders(Reader):
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
