"""Scans: a barista identified a member and is entering the purchase."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timeutil import from_db, from_db_optional, to_db


@dataclass(frozen=True, slots=True)
class Scan:
    id: str
    staff_id: int
    member_id: int
    created_at: datetime
    amount_minor: int | None
    entry_id: int | None
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def _scan(row: aiosqlite.Row) -> Scan:
    return Scan(
        id=row["id"],
        staff_id=row["staff_id"],
        member_id=row["member_id"],
        created_at=from_db(row["created_at"]),
        amount_minor=row["amount_minor"],
        entry_id=row["entry_id"],
        closed_at=from_db_optional(row["closed_at"]),
    )


async def open_scan(
    tx: aiosqlite.Connection, *, scan_id: str, staff_id: int, member_id: int, now: datetime
) -> Scan:
    """Start a scan; the barista's earlier open scans are closed (one customer at a time)."""
    await tx.execute(
        "UPDATE scans SET closed_at = ? WHERE staff_id = ? AND closed_at IS NULL",
        (to_db(now), staff_id),
    )
    await tx.execute(
        "INSERT INTO scans (id, staff_id, member_id, created_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (id) DO NOTHING",
        (scan_id, staff_id, member_id, to_db(now)),
    )
    scan = await get(tx, scan_id)
    assert scan is not None
    return scan


async def get(conn: aiosqlite.Connection, scan_id: str) -> Scan | None:
    async with conn.execute("SELECT * FROM scans WHERE id = ?", (scan_id,)) as cur:
        row = await cur.fetchone()
    return _scan(row) if row else None


async def latest_open(conn: aiosqlite.Connection, staff_id: int, since: datetime) -> Scan | None:
    async with conn.execute(
        "SELECT * FROM scans WHERE staff_id = ? AND closed_at IS NULL AND created_at >= ?"
        " ORDER BY created_at DESC LIMIT 1",
        (staff_id, to_db(since)),
    ) as cur:
        row = await cur.fetchone()
    return _scan(row) if row else None


async def set_amount(tx: aiosqlite.Connection, scan_id: str, amount_minor: int) -> None:
    await tx.execute(
        "UPDATE scans SET amount_minor = ? WHERE id = ? AND closed_at IS NULL",
        (amount_minor, scan_id),
    )


async def close(
    tx: aiosqlite.Connection, scan_id: str, now: datetime, entry_id: int | None = None
) -> None:
    await tx.execute(
        "UPDATE scans SET closed_at = ?, entry_id = COALESCE(?, entry_id) WHERE id = ?",
        (to_db(now), entry_id, scan_id),
    )
