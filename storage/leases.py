"""Job leases: which replica runs each scheduled job, until when.

A lease is taken, renewed and taken over by one statement, the same text on both engines:
the row is written when there is none, when this replica holds it already, or when its
holder let it expire; otherwise nothing changes and no row comes back. On PostgreSQL two
replicas upserting one name at once are serialised by the row (the second waits for the
first's commit, then re-checks the WHERE); on SQLite by the write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Conn, sql
from storage.timeutil import from_db, to_db

_TAKE = sql(
    "INSERT INTO leases (name, holder, expires_at) VALUES (:name, :me, :until)"
    " ON CONFLICT (name) DO UPDATE SET holder = :me, expires_at = :until"
    " WHERE leases.holder = :me OR leases.expires_at <= :now"
    " RETURNING holder"
)
# A replica that stops hands its leases on at once: expired now, so the next replica to
# ask takes them (the rows stay, so health still says who ran the job last).
_RELEASE = sql("UPDATE leases SET expires_at = :now WHERE holder = :me AND expires_at > :now")
_ALL = sql("SELECT name, holder, expires_at FROM leases ORDER BY name")


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    expires_at: datetime


async def take(tx: Conn, name: str, me: str, now: datetime, until: datetime) -> bool:
    """Take or renew the lease ``name`` for ``me`` until ``until``; False while another
    replica holds it (its lease has not expired)."""
    row = await tx.one(_TAKE, name=name, me=me, now=to_db(now), until=to_db(until))
    return row is not None


async def release(tx: Conn, me: str, now: datetime) -> int:
    return await tx.run(_RELEASE, me=me, now=to_db(now))


async def all_leases(conn: Conn) -> list[Lease]:
    return [
        Lease(row["name"], row["holder"], from_db(row["expires_at"]))
        for row in await conn.all(_ALL)
    ]
