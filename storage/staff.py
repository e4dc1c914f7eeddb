"""Staff members and their one-time invites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Conn, Row, per_engine, sql
from storage.timeutil import from_db, from_db_optional, to_db

_COLUMNS = "tg_user_id, chat_id, first_name, added_by, added_at"
_ACTIVE = sql(f"SELECT {_COLUMNS} FROM staff WHERE tg_user_id = :tg_user_id AND removed_at IS NULL")
_STANDING = sql(
    "SELECT EXISTS (SELECT 1 FROM staff_locations AS p WHERE p.staff_id = s.tg_user_id"
    " AND p.role = 'manager') AS manager"
    " FROM staff AS s WHERE s.tg_user_id = :tg_user_id AND s.removed_at IS NULL"
)
# A read that decides a write (a staff member's daily limit): on PostgreSQL the row stays
# locked until the transaction ends; SQLite's BEGIN IMMEDIATE already serialises writers.
_LOCK = per_engine(
    sqlite="SELECT tg_user_id FROM staff WHERE tg_user_id = :tg_user_id",
    postgresql="SELECT tg_user_id FROM staff WHERE tg_user_id = :tg_user_id FOR UPDATE",
)
_LIST_ACTIVE = sql(
    f"SELECT {_COLUMNS} FROM staff WHERE removed_at IS NULL ORDER BY lower(first_name), tg_user_id"
)
_ADD = sql(
    "INSERT INTO staff (tg_user_id, chat_id, first_name, added_by, added_at)"
    " VALUES (:tg_user_id, :chat_id, :first_name, :added_by, :added_at)"
    " ON CONFLICT (tg_user_id) DO UPDATE SET"
    " chat_id = excluded.chat_id, first_name = excluded.first_name,"
    " added_by = excluded.added_by, added_at = excluded.added_at, removed_at = NULL"
)
_REMOVE = sql(
    "UPDATE staff SET removed_at = :now WHERE tg_user_id = :tg_user_id AND removed_at IS NULL"
    f" RETURNING {_COLUMNS}"
)
_CREATE_INVITE = sql(
    "INSERT INTO staff_invites (token, created_by, created_at, expires_at, location_id, role)"
    " VALUES (:token, :created_by, :created_at, :expires_at, :location_id, :role)"
)
_INVITE = sql(
    "SELECT token, created_by, expires_at, used_by, used_at, location_id, role"
    " FROM staff_invites WHERE token = :token"
)
_USE_INVITE = sql(
    "UPDATE staff_invites SET used_by = :used_by, used_at = :now"
    " WHERE token = :token AND used_by IS NULL"
)


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
    location_id: int | None  # None: an invite made before locations (the default one)
    role: str = "barista"


def _staff(row: Row) -> StaffMember:
    return StaffMember(
        tg_user_id=row["tg_user_id"],
        chat_id=row["chat_id"],
        first_name=row["first_name"],
        added_by=row["added_by"],
        added_at=from_db(row["added_at"]),
    )


async def active(conn: Conn, tg_user_id: int) -> StaffMember | None:
    row = await conn.one(_ACTIVE, tg_user_id=tg_user_id)
    return _staff(row) if row else None


async def standing(conn: Conn, tg_user_id: int) -> bool | None:
    """None for someone not on the staff; else whether they manage a location (one read,
    for the permission check every update makes)."""
    row = await conn.one(_STANDING, tg_user_id=tg_user_id)
    return None if row is None else bool(row["manager"])


async def lock(tx: Conn, tg_user_id: int) -> None:
    """Hold the staff member's row until the transaction ends, so their writes that
    depend on what they did before (the daily limit) run one after the other."""
    await tx.value(_LOCK, tg_user_id=tg_user_id)


async def list_active(conn: Conn) -> list[StaffMember]:
    """Active staff by first name, ignoring case."""
    return [_staff(row) for row in await conn.all(_LIST_ACTIVE)]


async def add(
    tx: Conn,
    *,
    tg_user_id: int,
    chat_id: int,
    first_name: str,
    added_by: int,
    now: datetime,
) -> None:
    """Make someone staff (again, if they were removed before)."""
    await tx.run(
        _ADD,
        tg_user_id=tg_user_id,
        chat_id=chat_id,
        first_name=first_name,
        added_by=added_by,
        added_at=to_db(now),
    )


async def remove(tx: Conn, tg_user_id: int, now: datetime) -> StaffMember | None:
    """Remove an active staff member; returns who was removed, or None."""
    row = await tx.one(_REMOVE, now=to_db(now), tg_user_id=tg_user_id)
    return _staff(row) if row else None


async def create_invite(
    tx: Conn,
    *,
    token: str,
    created_by: int,
    now: datetime,
    expires_at: datetime,
    location_id: int | None = None,
    role: str = "barista",
) -> None:
    """A one-time invite to work at ``location_id`` (None: the café's first open
    location, when it is used) as ``role`` (barista or manager)."""
    await tx.run(
        _CREATE_INVITE,
        token=token,
        created_by=created_by,
        created_at=to_db(now),
        expires_at=to_db(expires_at),
        location_id=location_id,
        role=role,
    )


async def invite(conn: Conn, token: str) -> Invite | None:
    row = await conn.one(_INVITE, token=token)
    if row is None:
        return None
    return Invite(
        token=row["token"],
        created_by=row["created_by"],
        expires_at=from_db(row["expires_at"]),
        used_by=row["used_by"],
        used_at=from_db_optional(row["used_at"]),
        location_id=row["location_id"],
        role=row["role"],
    )


async def use_invite(tx: Conn, token: str, used_by: int, now: datetime) -> bool:
    """Mark an unused invite used; False if someone used it first (one conditional
    UPDATE: of two at once, the second finds the invite used and changes nothing)."""
    return await tx.run(_USE_INVITE, used_by=used_by, now=to_db(now), token=token) == 1
