"""Members: one row per Telegram user who pressed Start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timeutil import from_db, to_db


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    tg_user_id: int
    chat_id: int
    first_name: str
    username: str | None
    language: str | None
    balance: int
    created_at: datetime


_COLUMNS = "id, tg_user_id, chat_id, first_name, username, language, balance, created_at"


def _member(row: aiosqlite.Row) -> Member:
    return Member(
        id=row["id"],
        tg_user_id=row["tg_user_id"],
        chat_id=row["chat_id"],
        first_name=row["first_name"],
        username=row["username"],
        language=row["language"],
        balance=row["balance"],
        created_at=from_db(row["created_at"]),
    )


async def upsert(
    tx: aiosqlite.Connection,
    *,
    tg_user_id: int,
    chat_id: int,
    first_name: str,
    username: str | None,
    language: str | None,
    now: datetime,
) -> tuple[Member, bool]:
    """Create the member once; later calls refresh the profile. Returns (member, created)."""
    cur = await tx.execute(
        "INSERT INTO members (tg_user_id, chat_id, first_name, username, language, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tg_user_id) DO NOTHING",
        (tg_user_id, chat_id, first_name, username, language, to_db(now)),
    )
    created = cur.rowcount == 1
    if not created:
        await tx.execute(
            "UPDATE members SET chat_id = ?, first_name = ?, username = ?, language = ?"
            " WHERE tg_user_id = ?",
            (chat_id, first_name, username, language, tg_user_id),
        )
    member = await by_tg_user(tx, tg_user_id)
    assert member is not None
    return member, created


async def by_tg_user(conn: aiosqlite.Connection, tg_user_id: int) -> Member | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM members WHERE tg_user_id = ?", (tg_user_id,)
    ) as cur:
        row = await cur.fetchone()
    return _member(row) if row else None


async def by_id(conn: aiosqlite.Connection, member_id: int) -> Member | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM members WHERE id = ?", (member_id,)) as cur:
        row = await cur.fetchone()
    return _member(row) if row else None


async def count(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COUNT(*) FROM members") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def replace_card_code(
    tx: aiosqlite.Connection, member_id: int, code: str, expires_at: datetime
) -> None:
    """Make ``code`` the member's only valid typed code."""
    await tx.execute("DELETE FROM card_codes WHERE member_id = ?", (member_id,))
    await tx.execute(
        "INSERT INTO card_codes (code, member_id, expires_at) VALUES (?, ?, ?)",
        (code, member_id, to_db(expires_at)),
    )


async def take_card_code(tx: aiosqlite.Connection, code: str, now: datetime) -> int | None:
    """Consume a typed card code; returns the member id if it was valid and unexpired."""
    async with tx.execute(
        "DELETE FROM card_codes WHERE code = ? RETURNING member_id, expires_at", (code,)
    ) as cur:
        row = await cur.fetchone()
    if row is None or from_db(row["expires_at"]) <= now:
        return None
    return int(row["member_id"])
