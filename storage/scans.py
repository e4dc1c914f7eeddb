"""Scans: a barista identified a member and is entering the purchase."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Conn, Row, sql
from storage.timeutil import from_db, from_db_optional, to_db

_COLUMNS = "id, staff_id, member_id, created_at, amount_minor, entry_id, closed_at, location_id"
_CLOSE_OPEN_OF_STAFF = sql(
    "UPDATE scans SET closed_at = :now WHERE staff_id = :staff_id AND closed_at IS NULL"
)
_INSERT = sql(
    "INSERT INTO scans (id, staff_id, member_id, created_at, location_id)"
    " VALUES (:id, :staff_id, :member_id, :created_at, :location_id)"
    " ON CONFLICT (id) DO NOTHING"
)
# A scan made before its barista said where they are gets its location once they do.
_SET_LOCATION = sql(
    "UPDATE scans SET location_id = :location_id"
    " WHERE id = :id AND closed_at IS NULL AND location_id IS NULL"
)
_GET = sql(f"SELECT {_COLUMNS} FROM scans WHERE id = :id")
_LATEST_OPEN = sql(
    f"SELECT {_COLUMNS} FROM scans"
    " WHERE staff_id = :staff_id AND closed_at IS NULL AND created_at >= :since"
    " ORDER BY created_at DESC LIMIT 1"
)
_SET_AMOUNT = sql(
    "UPDATE scans SET amount_minor = :amount_minor WHERE id = :id AND closed_at IS NULL"
)
_CLOSE = sql(
    "UPDATE scans SET closed_at = :now, entry_id = COALESCE(:entry_id, entry_id) WHERE id = :id"
)


@dataclass(frozen=True, slots=True)
class Scan:
    id: str
    staff_id: int
    member_id: int
    created_at: datetime
    amount_minor: int | None
    entry_id: int | None
    closed_at: datetime | None
    location_id: int | None = None  # None: waiting for the barista to say where they are

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def _scan(row: Row) -> Scan:
    return Scan(
        id=row["id"],
        staff_id=row["staff_id"],
        member_id=row["member_id"],
        created_at=from_db(row["created_at"]),
        amount_minor=row["amount_minor"],
        entry_id=row["entry_id"],
        closed_at=from_db_optional(row["closed_at"]),
        location_id=row["location_id"],
    )


async def open_scan(
    tx: Conn,
    *,
    scan_id: str,
    staff_id: int,
    member_id: int,
    now: datetime,
    location_id: int | None = None,
) -> Scan:
    """Start a scan; the barista's earlier open scans are closed (one customer at a time)."""
    await tx.run(_CLOSE_OPEN_OF_STAFF, now=to_db(now), staff_id=staff_id)
    await tx.run(
        _INSERT,
        id=scan_id,
        staff_id=staff_id,
        member_id=member_id,
        created_at=to_db(now),
        location_id=location_id,
    )
    scan = await get(tx, scan_id)
    assert scan is not None
    return scan


async def get(conn: Conn, scan_id: str) -> Scan | None:
    row = await conn.one(_GET, id=scan_id)
    return _scan(row) if row else None


async def latest_open(conn: Conn, staff_id: int, since: datetime) -> Scan | None:
    row = await conn.one(_LATEST_OPEN, staff_id=staff_id, since=to_db(since))
    return _scan(row) if row else None


async def set_location(tx: Conn, scan_id: str, location_id: int) -> None:
    await tx.run(_SET_LOCATION, location_id=location_id, id=scan_id)


async def set_amount(tx: Conn, scan_id: str, amount_minor: int) -> None:
    await tx.run(_SET_AMOUNT, amount_minor=amount_minor, id=scan_id)


async def close(tx: Conn, scan_id: str, now: datetime, entry_id: int | None = None) -> None:
    await tx.run(_CLOSE, now=to_db(now), entry_id=entry_id, id=scan_id)
