"""PostgreSQL through psycopg 3 and its pool: the statements of storage/ as psycopg runs
them.

SQLAlchemy Core's compiler writes each statement once in psycopg's parameter style
(``:member_id`` becomes ``%(member_id)s``, a literal ``%`` is doubled, a list of
``IN :ids`` gets one placeholder per item); psycopg runs it on a pooled connection, one
round trip for a read. SQLAlchemy's async engine did the same with about six times the
CPU per statement (docs/benchmarks.md), so only its compiler is used.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, cast

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from sqlalchemy import TextClause, make_url
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

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

# SQLSTATEs that mean "try again": serialization failure, deadlock, the connection
# exceptions (class 08) and the shutdowns of a server restart (57P01-57P03).
_TRANSIENT_SQLSTATES = ("40001", "40P01", "57P01", "57P02", "57P03")
_DIALECT = psycopg_dialect.dialect()  # type: ignore[no-untyped-call]
# How long a request waits for a pooled connection: long enough for a busy moment, short
# enough that a barista hears "try again" soon while the server is down.
CONNECTION_WAIT_SECONDS = 3.0
_compiled: dict[int, tuple[TextClause, str]] = {}


def translate(error: psycopg.Error | PoolTimeout) -> Exception:
    """The project's own error for one of psycopg's."""
    if isinstance(error, psycopg.IntegrityError):
        return ConstraintViolated(str(error).strip(), error.diag.constraint_name)
    sqlstate = getattr(error, "sqlstate", None) or ""
    lost = isinstance(error, PoolTimeout | psycopg.OperationalError | psycopg.InterfaceError)
    if (lost and not sqlstate) or sqlstate.startswith("08") or sqlstate in _TRANSIENT_SQLSTATES:
        return TransientError(type(error).__name__)
    return DatabaseError(str(error).strip())


def conninfo(url: str) -> str:
    """A libpq connection URI for a ``postgresql://`` URL (any ``+driver`` dropped)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def read_now(url: str, source: str, params: Mapping[str, Any] | None = None) -> list[Any] | None:
    """Rows of one query, on a connection of its own, synchronously (for the health
    command beside a running bot: no event loop needed). None when it cannot be read."""
    try:
        with psycopg.connect(conninfo(url), autocommit=True, connect_timeout=5) as connection:
            return connection.execute(cast(Any, source), params).fetchall()
    except psycopg.Error:
        return None


def _text(clause: TextClause) -> str:
    """``clause`` in psycopg's parameter style, compiled once per statement."""
    known = _compiled.get(id(clause))
    if known is None:
        if len(_compiled) > 4096:  # statements made on the fly (the mover's) come and go
            _compiled.clear()
        known = _compiled[id(clause)] = (clause, clause.compile(dialect=_DIALECT).string)
    return known[1]


def _form(statement: Statement, params: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The text and parameters psycopg is given for ``statement``."""
    clause = statement.postgresql
    if not statement.lists:
        return _text(clause), params
    # One placeholder per item of each list: SQLAlchemy renders them from the values.
    compiled = clause.bindparams(**params).compile(
        dialect=_DIALECT, compile_kwargs={"render_postcompile": True}
    )
    return compiled.string, compiled.params


def pool(url: str, *, size: int) -> AsyncConnectionPool[psycopg.AsyncConnection[Row]]:
    """A pool of up to ``size`` autocommit connections (a transaction begins explicitly),
    rows as mappings; opened by :func:`open_pool`."""
    return AsyncConnectionPool(
        conninfo(url),
        min_size=1,
        max_size=size,
        kwargs={"autocommit": True, "row_factory": dict_row},
        timeout=CONNECTION_WAIT_SECONDS,
        open=False,
        name="loyalty",
    )


class PgConn(DriverConn):
    """Statements on one pooled connection: an open transaction, or one read."""

    engine = Engine.POSTGRESQL

    def __init__(
        self,
        connection: psycopg.AsyncConnection[Row],
        listeners: Sequence[StatementListener] = (),
    ) -> None:
        self._connection = connection
        self._listeners = listeners

    def _form(self, statement: Statement, params: Mapping[str, Any]) -> tuple[str, Any]:
        return _form(statement, params)

    async def _rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        source, values = self._told(statement, params)
        try:
            cursor = await self._connection.execute(source, values)
            return await cursor.fetchall() if cursor.description else []
        except psycopg.Error as error:
            raise translate(error) from error

    async def run(self, statement: Statement, /, **params: Any) -> int:
        source, values = self._told(statement, params)
        try:
            cursor = await self._connection.execute(source, values)
        except psycopg.Error as error:
            raise translate(error) from error
        return int(cursor.rowcount)

    async def run_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        if statement.lists:
            for row in rows:
                await self.run(statement, **row)
            return
        source = _text(statement.postgresql)
        for listener in self._listeners:
            listener(source, list(rows))
        try:
            async with self._connection.cursor() as cursor:
                await cursor.executemany(source, rows)  # pipelined: one round trip
        except psycopg.Error as error:
            raise translate(error) from error

    async def ddl(self, source: str) -> None:
        try:
            # No parameters: psycopg sends it as written, several statements at once.
            await self._connection.execute(cast(Any, source))
        except psycopg.Error as error:
            raise translate(error) from error


class PgPool:
    """A psycopg pool, and the one place its errors are noticed: after a lost
    connection, every idle one is checked, so a restarted server costs one failed
    request, not one per pooled connection."""

    def __init__(self, url: str, *, size: int, listeners: Sequence[StatementListener]) -> None:
        self._pool = pool(url, size=size)
        self._listeners = listeners
        self._checking: asyncio.Task[None] | None = None

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    def _check_soon(self) -> None:
        if self._checking is None or self._checking.done():
            self._checking = asyncio.create_task(self._pool.check())

    async def heal(self) -> None:
        """Wait until every idle connection has been checked (and a broken one dropped)."""
        self._check_soon()
        assert self._checking is not None
        with contextlib.suppress(psycopg.Error):  # still away: the next attempt says so
            await asyncio.shield(self._checking)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PgConn]:
        try:
            async with self._pool.connection() as connection:
                yield PgConn(connection, self._listeners)
        except (psycopg.Error, PoolTimeout) as error:
            failure = translate(error)
            if isinstance(failure, TransientError):
                self._check_soon()
            raise failure from error
        except TransientError:
            self._check_soon()
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgConn]:
        """BEGIN … COMMIT on a connection of its own; ROLLBACK on any error, also when
        COMMIT itself failed."""
        async with self.connection() as conn:
            try:
                async with conn._connection.transaction():
                    yield conn
            except psycopg.Error as error:  # from BEGIN or COMMIT
                raise translate(error) from error


class PgReaders(Reader):
    """Reads in autocommit, each on whichever pooled connection is free: a read sees
    everything committed before it began and never holds a lock a writer waits for. A
    read that met a lost connection is tried once more on another (a read is safe to
    repeat), so the bot heals after a server restart without failing a request."""

    engine = Engine.POSTGRESQL

    def __init__(self, pool: PgPool) -> None:
        self._pool = pool

    async def _rows(self, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
        try:
            async with self._pool.connection() as conn:
                return await conn._rows(statement, params)
        except TransientError:
            await self._pool.heal()
            async with self._pool.connection() as conn:
                return await conn._rows(statement, params)
