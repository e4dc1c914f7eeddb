"""Limited-time offers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import aiosqlite

from bot.domain import NewOffer, Offer
from storage.timeutil import from_db, from_db_optional, to_db


def _offer(row: aiosqlite.Row) -> Offer:
    return Offer(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        kind=row["kind"],
        multiplier=Decimal(row["multiplier"]) if row["multiplier"] is not None else None,
        bonus_points=row["bonus_points"],
        reward_id=row["reward_id"],
        starts_at=from_db(row["starts_at"]),
        ends_at=from_db(row["ends_at"]),
        window=row["window"],
        audience=row["audience"],
        announce=bool(row["announce"]),
        started_at=from_db_optional(row["started_at"]),
        ended_at=from_db_optional(row["ended_at"]),
        created_by=row["created_by"],
    )


async def create(tx: aiosqlite.Connection, new: NewOffer, created_by: int, now: datetime) -> Offer:
    async with tx.execute(
        "INSERT INTO offers (title, description, kind, multiplier, bonus_points, reward_id,"
        " starts_at, ends_at, window, audience, announce, created_by, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (
            new.title,
            new.description,
            new.kind,
            None if new.multiplier is None else str(new.multiplier),
            new.bonus_points,
            new.reward_id,
            to_db(new.starts_at),
            to_db(new.ends_at),
            new.window,
            new.audience,
            int(new.announce),
            created_by,
            to_db(now),
        ),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return _offer(row)


async def get(conn: aiosqlite.Connection, offer_id: int) -> Offer | None:
    async with conn.execute("SELECT * FROM offers WHERE id = ?", (offer_id,)) as cur:
        row = await cur.fetchone()
    return _offer(row) if row else None


async def _select(
    conn: aiosqlite.Connection, where: str, params: tuple[object, ...]
) -> list[Offer]:
    async with conn.execute(f"SELECT * FROM offers {where}", params) as cur:
        rows = await cur.fetchall()
    return [_offer(row) for row in rows]


_RUNNING = "starts_at <= ?1 AND ends_at > ?1 AND ended_at IS NULL"


async def current(conn: aiosqlite.Connection, now: datetime) -> list[Offer]:
    """Offers that have started and not ended (their hours window is checked by the caller)."""
    return await _select(conn, f"WHERE {_RUNNING} ORDER BY id", (to_db(now),))


async def recent(conn: aiosqlite.Connection, limit: int = 20) -> list[Offer]:
    return await _select(conn, "ORDER BY id DESC LIMIT ?", (limit,))


async def due_to_start(conn: aiosqlite.Connection, now: datetime) -> list[Offer]:
    """Running offers whose start has not been acted on yet (gift coupons, announcement)."""
    return await _select(
        conn, f"WHERE started_at IS NULL AND {_RUNNING} ORDER BY id", (to_db(now),)
    )


async def mark_started(tx: aiosqlite.Connection, offer_id: int, now: datetime) -> bool:
    cur = await tx.execute(
        "UPDATE offers SET started_at = ? WHERE id = ? AND started_at IS NULL",
        (to_db(now), offer_id),
    )
    return cur.rowcount == 1


async def end(tx: aiosqlite.Connection, offer_id: int, now: datetime) -> Offer | None:
    async with tx.execute(
        "UPDATE offers SET ended_at = ? WHERE id = ? AND ended_at IS NULL AND ends_at > ?"
        " RETURNING *",
        (to_db(now), offer_id, to_db(now)),
    ) as cur:
        row = await cur.fetchone()
    return _offer(row) if row else None
