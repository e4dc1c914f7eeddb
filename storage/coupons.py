"""Coupons: rewards bought with points, redeemed once at the counter."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain import Coupon, CouponState
from storage.timeutil import from_db, from_db_optional, to_db


def _coupon(row: aiosqlite.Row) -> Coupon:
    return Coupon(
        id=row["id"],
        token=row["token"],
        code=row["code"],
        member_id=row["member_id"],
        reward_id=row["reward_id"],
        title=row["title"],
        cost=row["cost"],
        state=CouponState(row["state"]),
        issued_at=from_db(row["issued_at"]),
        expires_at=from_db(row["expires_at"]),
        closed_at=from_db_optional(row["closed_at"]),
        closed_by=row["closed_by"],
        closed_by_name=row["closed_by_name"],
        debit_entry_id=row["debit_entry_id"],
        refund_entry_id=row["refund_entry_id"],
    )


async def create(
    tx: aiosqlite.Connection,
    *,
    token: str,
    code: str,
    member_id: int,
    reward_id: int,
    title: str,
    cost: int,
    debit_entry_id: int | None,
    now: datetime,
    expires_at: datetime,
    offer_id: int | None = None,
) -> Coupon | None:
    """Insert a coupon; None when this offer already gave this member one."""
    async with tx.execute(
        "INSERT INTO coupons (token, code, member_id, reward_id, title, cost, issued_at,"
        " expires_at, debit_entry_id, offer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (offer_id, member_id) DO NOTHING RETURNING *",
        (
            token,
            code,
            member_id,
            reward_id,
            title,
            cost,
            to_db(now),
            to_db(expires_at),
            debit_entry_id,
            offer_id,
        ),
    ) as cur:
        row = await cur.fetchone()
    return _coupon(row) if row else None


async def _one(conn: aiosqlite.Connection, where: str, value: object) -> Coupon | None:
    async with conn.execute(f"SELECT * FROM coupons WHERE {where} = ?", (value,)) as cur:
        row = await cur.fetchone()
    return _coupon(row) if row else None


async def get(conn: aiosqlite.Connection, coupon_id: int) -> Coupon | None:
    return await _one(conn, "id", coupon_id)


async def by_token(conn: aiosqlite.Connection, token: str) -> Coupon | None:
    return await _one(conn, "token", token)


async def by_code(conn: aiosqlite.Connection, code: str) -> Coupon | None:
    return await _one(conn, "code", code)


async def by_debit_entry(conn: aiosqlite.Connection, entry_id: int) -> Coupon | None:
    return await _one(conn, "debit_entry_id", entry_id)


async def open_for_member(conn: aiosqlite.Connection, member_id: int) -> list[Coupon]:
    async with conn.execute(
        "SELECT * FROM coupons WHERE member_id = ? AND state = 'issued' ORDER BY expires_at",
        (member_id,),
    ) as cur:
        rows = await cur.fetchall()
    return [_coupon(row) for row in rows]


async def due_for_expiry(conn: aiosqlite.Connection, now: datetime, limit: int) -> list[Coupon]:
    async with conn.execute(
        "SELECT * FROM coupons WHERE state = 'issued' AND expires_at <= ? ORDER BY id LIMIT ?",
        (to_db(now), limit),
    ) as cur:
        rows = await cur.fetchall()
    return [_coupon(row) for row in rows]


async def close(
    tx: aiosqlite.Connection,
    coupon_id: int,
    state: CouponState,
    now: datetime,
    *,
    by: int | None = None,
    by_name: str | None = None,
    refund_entry_id: int | None = None,
) -> bool:
    """Move an issued coupon to a final state; False if it was no longer issued."""
    cur = await tx.execute(
        "UPDATE coupons SET state = ?, closed_at = ?, closed_by = ?, closed_by_name = ?,"
        " refund_entry_id = ? WHERE id = ? AND state = 'issued'",
        (state.value, to_db(now), by, by_name, refund_entry_id, coupon_id),
    )
    return cur.rowcount == 1


async def remember_message(
    tx: aiosqlite.Connection, coupon_id: int, chat_id: int, message_id: int
) -> None:
    """A message that shows the coupon's QR, to be edited when the coupon closes."""
    await tx.execute(
        "INSERT INTO coupon_messages (coupon_id, chat_id, message_id) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (coupon_id, chat_id, message_id),
    )


async def messages(conn: aiosqlite.Connection, coupon_id: int) -> list[tuple[int, int]]:
    async with conn.execute(
        "SELECT chat_id, message_id FROM coupon_messages WHERE coupon_id = ? ORDER BY message_id",
        (coupon_id,),
    ) as cur:
        return [(int(row[0]), int(row[1])) for row in await cur.fetchall()]


async def create_gifts(
    tx: aiosqlite.Connection,
    gifts: list[tuple[str, str, int]],
    *,
    reward_id: int,
    title: str,
    offer_id: int,
    now: datetime,
    expires_at: datetime,
) -> int:
    """Free coupons of one offer, (token, code, member id) each, in one statement; a member
    the offer already gave one is skipped. Returns how many were created."""
    async with tx.execute("SELECT total_changes()") as cur:
        before = (await cur.fetchone())[0]  # type: ignore[index]
    await tx.executemany(
        "INSERT INTO coupons (token, code, member_id, reward_id, title, cost, issued_at,"
        " expires_at, offer_id) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)"
        " ON CONFLICT (offer_id, member_id) DO NOTHING",
        [
            (token, code, member_id, reward_id, title, to_db(now), to_db(expires_at), offer_id)
            for token, code, member_id in gifts
        ],
    )
    async with tx.execute("SELECT total_changes()") as cur:
        after = (await cur.fetchone())[0]  # type: ignore[index]
    return int(after - before)


async def all_of_member(conn: aiosqlite.Connection, member_id: int) -> list[Coupon]:
    async with conn.execute(
        "SELECT * FROM coupons WHERE member_id = ? ORDER BY id", (member_id,)
    ) as cur:
        return [_coupon(row) for row in await cur.fetchall()]
