"""Replicas: one row per running bot process, its heartbeat (``seen_at``) kept fresh.

Also the health check's synchronous, read-only look at the replicas and the job leases,
for ``loyalty-bot health``, which runs beside the bot (see :func:`read_now`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from storage.engine import Conn, sql
from storage.leases import Lease
from storage.timeutil import from_db, to_db

_BEAT = sql(
    "INSERT INTO replicas (id, started_at, seen_at, version)"
    " VALUES (:id, :started_at, :now, :version)"
    " ON CONFLICT (id) DO UPDATE SET started_at = excluded.started_at,"
    " seen_at = excluded.seen_at, version = excluded.version"
)
_LEAVE = sql("DELETE FROM replicas WHERE id = :id")
_PRUNE = sql("DELETE FROM replicas WHERE seen_at < :before")
_ALL_TEXT = "SELECT id, started_at, seen_at, version FROM replicas ORDER BY id"
_ALL = sql(_ALL_TEXT)
_LEASES_TEXT = "SELECT name, holder, expires_at FROM leases ORDER BY name"


@dataclass(frozen=True, slots=True)
class Replica:
    id: str
    started_at: datetime
    seen_at: datetime
    version: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The replicas and the job leases, as one health check reads them."""

    replicas: list[Replica]
    leases: list[Lease]


def _replica(row: Any) -> Replica:
    return Replica(row[0], from_db(row[1]), from_db(row[2]), row[3])


async def beat(
    tx: Conn, replica_id: str, started_at: datetime, now: datetime, version: str
) -> None:
    await tx.run(
        _BEAT, id=replica_id, started_at=to_db(started_at), now=to_db(now), version=version
    )


async def leave(tx: Conn, replica_id: str) -> None:
    await tx.run(_LEAVE, id=replica_id)


async def prune(tx: Conn, before: datetime) -> int:
    """Forget replicas not seen since ``before`` (killed, never stopped cleanly)."""
    return await tx.run(_PRUNE, before=to_db(before))


async def all_replicas(conn: Conn) -> list[Replica]:
    return [
        Replica(row["id"], from_db(row["started_at"]), from_db(row["seen_at"]), row["version"])
        for row in await conn.all(_ALL)
    ]


def read_now(database: Path | str) -> Snapshot | None:
    """The replicas and leases, read synchronously and read-only (no write lock taken):
    from the SQLite file, or the PostgreSQL database a URL names. None when they cannot be
    read (no database, or one no bot of this version has run on yet)."""
    if isinstance(database, str):
        return _read_postgresql(database)
    try:
        conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            replicas = conn.execute(_ALL_TEXT).fetchall()
            leases = conn.execute(_LEASES_TEXT).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return _snapshot(replicas, leases)


def _read_postgresql(url: str) -> Snapshot | None:
    # psycopg's synchronous connection: no event loop of its own, so this can be called
    # from a running one (as storage.meta.read_now does).
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            replicas = list(connection.exec_driver_sql(_ALL_TEXT).all())
            leases = list(connection.exec_driver_sql(_LEASES_TEXT).all())
    except DBAPIError:
        return None
    finally:
        engine.dispose()
    return _snapshot(replicas, leases)


def _snapshot(replicas: list[Any], leases: list[Any]) -> Snapshot:
    return Snapshot(
        [_replica(row) for row in replicas],
        [Lease(row[0], row[1], from_db(row[2])) for row in leases],
    )
