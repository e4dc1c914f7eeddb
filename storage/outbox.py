"""Messages to members that nobody asked for at that moment (reminders, treats, questions).

Each is written in the same transaction as what it announces (a bonus, an expiry), with
a unique ``dedup_key``, so a job that runs twice or a restart never sends one twice. The
bulk sender renders and delivers them, paced and outside quiet hours.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from bot.domain import Outgoing
from storage.timeutil import from_db, from_db_optional, to_db


async def enqueue(
    tx: aiosqlite.Connection,
    *,
    member_id: int,
    kind: str,
    dedup_key: str,
    params: dict[str, Any],
    service: bool,
    now: datetime,
    visit_at: datetime | None = None,
) -> bool:
    """Queue a message once per ``dedup_key``; False if it was queued before."""
    cur = await tx.execute(
        "INSERT INTO outbox (member_id, kind, dedup_key, params, service, visit_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
        (
            member_id,
            kind,
            dedup_key,
            json.dumps(params, sort_keys=True),
            int(service),
            None if visit_at is None else to_db(visit_at),
            to_db(now),
        ),
    )
    return cur.rowcount == 1


async def pending(conn: aiosqlite.Connection, limit: int, now: datetime) -> list[Outgoing]:
    async with conn.execute(
        "SELECT o.id, o.member_id, m.chat_id, m.first_name, o.kind, o.params, o.service,"
        " o.visit_at, o.attempts, m.promotions_opt_out, m.service_opt_out, m.unreachable_at,"
        " m.forgotten_at, m.last_visit_at"
        " FROM outbox AS o JOIN members AS m ON m.id = o.member_id"
        " WHERE o.state = 'pending' AND (o.next_try_at IS NULL OR o.next_try_at <= ?)"
        " ORDER BY o.id LIMIT ?",
        (to_db(now), limit),
    ) as cur:
        rows = await cur.fetchall()
    return [
        Outgoing(
            id=row["id"],
            member_id=row["member_id"],
            chat_id=row["chat_id"],
            first_name=row["first_name"],
            kind=row["kind"],
            params=json.loads(row["params"]),
            service=bool(row["service"]),
            visit_at=from_db_optional(row["visit_at"]),
            attempts=row["attempts"],
            promotions_ok=not row["promotions_opt_out"],
            service_ok=not row["service_opt_out"],
            reachable=row["unreachable_at"] is None and row["forgotten_at"] is None,
            last_visit_at=from_db(row["last_visit_at"]),
        )
        for row in rows
    ]


async def finish(
    tx: aiosqlite.Connection, outbox_id: int, state: str, now: datetime, error: str | None = None
) -> None:
    await tx.execute(
        "UPDATE outbox SET state = ?, sent_at = ?, last_error = ?, attempts = attempts + 1"
        " WHERE id = ? AND state = 'pending'",
        (state, to_db(now), error, outbox_id),
    )


async def failed_attempt(
    tx: aiosqlite.Connection, outbox_id: int, error: str, next_try_at: datetime
) -> None:
    await tx.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_try_at = ? WHERE id = ?",
        (error, to_db(next_try_at), outbox_id),
    )


async def count_pending(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def cancel_for_member(tx: aiosqlite.Connection, member_id: int, now: datetime) -> None:
    await tx.execute(
        "UPDATE outbox SET state = 'skipped', sent_at = ?, last_error = 'member forgotten'"
        " WHERE member_id = ? AND state = 'pending'",
        (to_db(now), member_id),
    )
