"""The one way storage talks to a database, on SQLite or PostgreSQL.

SQL is written once, in the standard form both engines accept, with named parameters
(``:member_id``). sqlite3 takes them as written (storage/sqlite.py); for psycopg,
SQLAlchemy Core's compiler writes each statement once in psycopg's parameter style
(storage/postgresql.py), so no SQL is rewritten by hand. Where the engines truly differ
(a locking read, a date function, EXPLAIN) a statement has one text per engine.

Storage functions take a :class:`Conn`: an open transaction, or a reader that runs each
statement on a pooled connection of its own. Rows come back as mappings
(``row["balance"]``); no driver type and no driver error leaves this package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import TextClause, bindparam, text

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


def with_list_per_engine(*, sqlite: str, postgresql: str, name: str) -> Statement:
    """:func:`with_list` for a statement the engines spell differently (with a list,
    SQLAlchemy casts the other text parameters to VARCHAR on PostgreSQL: a timestamp
    compared there is cast back by the statement's PostgreSQL text)."""
    return Statement(
        text(sqlite).bindparams(bindparam(name, expanding=True)),
        text(postgresql).bindparams(bindparam(name, expanding=True)),
        frozenset((name,)),
    )


class ConstraintViolated(Exception):
    """A write broke a constraint (a unique key, a CHECK, a foreign key)."""

    def __init__(self, message: str, constraint: str | None = None) -> None:
        super().__init__(message)
        # Its name where the engine tells it (PostgreSQL does; SQLite names columns).
        self.constraint = constraint


class DatabaseError(Exception):
    """The database refused a statement for a reason that running it again would not
    change: a bug, or a schema that is not this bot's."""


class TransientError(Exception):
    """The database gave up on this transaction, not on its content (a deadlock, a
    serialization failure, a lost connection): the same work can be tried again."""


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


class DriverConn(Conn):
    """Statements on one driver connection: tells the statement listeners
    (:meth:`Database.on_statement`) each statement as that driver gets it."""

    _listeners: Sequence[StatementListener]

    def _form(self, statement: Statement, params: Mapping[str, Any]) -> tuple[str, Any]:
        """The text and parameters the driver is given for ``statement``."""
        raise NotImplementedError

    def _told(self, statement: Statement, params: Mapping[str, Any]) -> tuple[str, Any]:
        source, values = self._form(statement, params)
        for listener in self._listeners:
            listener(source, values)
        return source, values


class Reader(Conn):
    """Reads only: each statement on whichever pooled connection is free."""

    async def run(self, statement: Statement, /, **params: Any) -> int:
        raise TypeError("a reader does not write; use Database.transaction()")

    async def run_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        raise TypeError("a reader does not write; use Database.transaction()")

    async def ddl(self, source: str) -> None:
        raise TypeError("a reader does not write; use Database.transaction()")
