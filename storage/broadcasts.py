"""Broadcasts and their persistent delivery queue: one row per recipient with its state."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain import Broadcast, Counts, Recipient
from storage.timeutil import from_db, from_db_optional, to_db


def _broadcast(row: aiosqlite.Row) -> Broadcast:
    return Broadcast(
        id=row["id"],
        created_by=row["created_by"],
        created_at=from_db(row["created_at"]),
        text=row["text"],
        photo_file_id=row["photo_file_id"],
        audience=row["audience"],
        offer_id=row["offer_id"],
        state=row["state"],
        total=row["total"],
        finished_at=from_db_optional(row["finished_at"]),
        progress_chat_id=row["progress_chat_id"],
        progress_message_id=row["progress_message_id"],
    )


async def create(
    tx: aiosqlite.Connection,
    *,
    created_by: int,
    text: str,
    photo_file_id: str | None,
    audience: str,
    recipients: list[tuple[int, int]],
    now: datetime,
    offer_id: int | None = None,
) -> Broadcast:
    """Queue a broadcast with its recipients (member id, chat id) in one transaction."""
    async with tx.execute(
        "INSERT INTO broadcasts (created_by, created_at, text, photo_file_id, audience,"
        " offer_id, total) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (created_by, to_db(now), text, photo_file_id, audience, offer_id, len(recipients)),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    broadcast = _broadcast(row)
    await tx.executemany(
        "INSERT INTO broadcast_recipients (broadcast_id, member_id, chat_id) VALUES (?, ?, ?)",
        [(broadcast.id, member_id, chat_id) for member_id, chat_id in recipients],
    )
    return broadcast


async def get(conn: aiosqlite.Connection, broadcast_id: int) -> Broadcast | None:
    async with conn.execute("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,)) as cur:
        row = await cur.fetchone()
    return _broadcast(row) if row else None


async def next_sending(conn: aiosqlite.Connection) -> Broadcast | None:
    async with conn.execute(
        "SELECT * FROM broadcasts WHERE state = 'sending' ORDER BY id LIMIT 1"
    ) as cur:
        row = await cur.fetchone()
    return _broadcast(row) if row else None


async def recent(conn: aiosqlite.Connection, limit: int = 10) -> list[Broadcast]:
    async with conn.execute("SELECT * FROM broadcasts ORDER BY id DESC LIMIT ?", (limit,)) as cur:
        rows = await cur.fetchall()
    return [_broadcast(row) for row in rows]


async def pending(
    conn: aiosqlite.Connection, broadcast_id: int, limit: int, after_member: int = 0
) -> list[Recipient]:
    async with conn.execute(
        "SELECT broadcast_id, member_id, chat_id, attempts FROM broadcast_recipients"
        " WHERE broadcast_id = ? AND state = 'pending' AND member_id > ?"
        " ORDER BY member_id LIMIT ?",
        (broadcast_id, after_member, limit),
    ) as cur:
        rows = await cur.fetchall()
    return [Recipient(r["broadcast_id"], r["member_id"], r["chat_id"], r["attempts"]) for r in rows]


async def counts(conn: aiosqlite.Connection, broadcast_id: int) -> Counts:
    async with conn.execute(
        "SELECT state, COUNT(*) FROM broadcast_recipients WHERE broadcast_id = ? GROUP BY state",
        (broadcast_id,),
    ) as cur:
        rows = await cur.fetchall()
    return Counts(**{row[0]: row[1] for row in rows})


async def mark(
    tx: aiosqlite.Connection,
    recipient: Recipient,
    state: str,
    now: datetime,
    *,
    error: str | None = None,
) -> None:
    await tx.execute(
        "UPDATE broadcast_recipients SET state = ?, attempts = attempts + ?, last_error = ?,"
        " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END"
        " WHERE broadcast_id = ? AND member_id = ?",
        (
            state,
            0 if state == "sent" else 1,
            error,
            state,
            to_db(now),
            recipient.broadcast_id,
            recipient.member_id,
        ),
    )


async def set_progress_message(
    tx: aiosqlite.Connection, broadcast_id: int, chat_id: int, message_id: int
) -> None:
    await tx.execute(
        "UPDATE broadcasts SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
        (chat_id, message_id, broadcast_id),
    )


async def finish(tx: aiosqlite.Connection, broadcast_id: int, now: datetime) -> None:
    await tx.execute(
        "UPDATE broadcasts SET state = 'done', finished_at = ? WHERE id = ? AND state = 'sending'",
        (to_db(now), broadcast_id),
    )


async def queue_length(conn: aiosqlite.Connection) -> int:
    """Messages still to send for broadcasts under way (by index, not the whole queue)."""
    async with conn.execute(
        "SELECT COUNT(*) FROM broadcast_recipients WHERE state = 'pending' AND broadcast_id IN"
        " (SELECT id FROM broadcasts WHERE state = 'sending')"
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
