"""Staff members and their one-time invites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timeutil import from_db, from_db_optional, to_db


@dataclass(frozen=True, slots=True)
class StaffMember:
    tg_user_id: int
    chat_id: int
    first_name: str
    added_by: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class Invite:
    token: str
    created_by: int
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None


def _staff(row: aiosqlite.Row) -> StaffMember:
    return StaffMember(
        tg_user_id=row["tg_user_id"],
        chat_id=row["chat_id"],
        first_name=row["first_name"],
        added_by=row["added_by"],
        added_at=from_db(row["added_at"]),
    )


async def active(conn: aiosqlite.Connection, tg_user_id: int) -> StaffMember | None:
    async with conn.execute(
        "SELECT * FROM staff WHERE tg_user_id = ? AND removed_at IS NULL", (tg_user_id,)
    ) as cur:
        row = await cur.fetchone()
    return _staff(row) if row else None


async def list_active(conn: aiosqlite.Connection) -> list[StaffMember]:
    async with conn.execute(
        "SELECT * FROM staff WHERE removed_at IS NULL ORDER BY first_name COLLATE NOCASE"
    ) as cur:
        rows = await cur.fetchall()
    return [_staff(row) for row in rows]


async def add(
    tx: aiosqlite.Connection,
    *,
    tg_user_id: int,
    chat_id: int,
    first_name: str,
    added_by: int,
    now: datetime,
) -> None:
    """Make someone staff (again, if they were removed before)."""
    await tx.execute(
        "INSERT INTO staff (tg_user_id, chat_id, first_name, added_by, added_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (tg_user_id) DO UPDATE SET"
        " chat_id = excluded.chat_id, first_name = excluded.first_name,"
        " added_by = excluded.added_by, added_at = excluded.added_at, removed_at = NULL",
        (tg_user_id, chat_id, first_name, added_by, to_db(now)),
    )


async def remove(tx: aiosqlite.Connection, tg_user_id: int, now: datetime) -> StaffMember | None:
    """Remove an active staff member; returns who was removed, or None."""
    async with tx.execute(
        "UPDATE staff SET removed_at = ? WHERE tg_user_id = ? AND removed_at IS NULL RETURNING *",
        (to_db(now), tg_user_id),
    ) as cur:
        row = await cur.fetchone()
    return _staff(row) if row else None


async def create_invite(
    tx: aiosqlite.Connection, *, token: str, created_by: int, now: datetime, expires_at: datetime
) -> None:
    await tx.execute(
        "INSERT INTO staff_invites (token, created_by, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (token, created_by, to_db(now), to_db(expires_at)),
    )


async def invite(conn: aiosqlite.Connection, token: str) -> Invite | None:
    async with conn.execute("SELECT * FROM staff_invites WHERE token = ?", (token,)) as cur:
        row = await cur.fetchone()
    if row is None:
        return None
    return Invite(
        token=row["token"],
        created_by=row["created_by"],
        expires_at=from_db(row["expires_at"]),
        used_by=row["used_by"],
        used_at=from_db_optional(row["used_at"]),
    )


async def use_invite(tx: aiosqlite.Connection, token: str, used_by: int, now: datetime) -> bool:
    """Mark an unused invite used; False if someone used it first."""
    cur = await tx.execute(
        "UPDATE staff_invites SET used_by = ?, used_at = ? WHERE token = ? AND used_by IS NULL",
        (used_by, to_db(now), token),
    )
    return cur.rowcount == 1
