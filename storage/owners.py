"""Owners who claimed the bot with its one-time owner link, and those links."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.timeutil import to_db


async def all_ids(conn: aiosqlite.Connection) -> tuple[int, ...]:
    async with conn.execute("SELECT tg_user_id FROM owners ORDER BY added_at") as cur:
        return tuple(int(row[0]) for row in await cur.fetchall())


async def is_owner(conn: aiosqlite.Connection, tg_user_id: int) -> bool:
    async with conn.execute("SELECT 1 FROM owners WHERE tg_user_id = ?", (tg_user_id,)) as cur:
        return await cur.fetchone() is not None


async def replace_claim(
    tx: aiosqlite.Connection, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    """A fresh claim link; any earlier unused one stops working."""
    await tx.execute("DELETE FROM owner_claims WHERE used_by IS NULL")
    await tx.execute(
        "INSERT INTO owner_claims (token_hash, created_at, expires_at) VALUES (?, ?, ?)",
        (token_hash, to_db(now), to_db(expires_at)),
    )


async def use_claim(
    tx: aiosqlite.Connection, token_hash: str, tg_user_id: int, now: datetime
) -> bool:
    """Spend the claim (once, before it expires, while nobody owns the bot yet)."""
    if await all_ids(tx):
        return False
    cur = await tx.execute(
        "UPDATE owner_claims SET used_by = ?, used_at = ?"
        " WHERE token_hash = ? AND used_by IS NULL AND expires_at > ?",
        (tg_user_id, to_db(now), token_hash, to_db(now)),
    )
    if cur.rowcount != 1:
        return False
    await tx.execute(
        "INSERT INTO owners (tg_user_id, added_at, added_by) VALUES (?, ?, 'claim link')",
        (tg_user_id, to_db(now)),
    )
    return True
