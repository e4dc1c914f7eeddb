"""The audit log: every staff and owner action, who did it, when, on which member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timeutil import from_db, to_db


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    actor_id: int
    action: str
    member_id: int | None
    detail: str
    created_at: datetime


async def record(
    tx: aiosqlite.Connection,
    *,
    actor_id: int,
    action: str,
    now: datetime,
    member_id: int | None = None,
    detail: str = "",
) -> None:
    await tx.execute(
        "INSERT INTO audit_log (actor_id, action, member_id, detail, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (actor_id, action, member_id, detail, to_db(now)),
    )


async def recent(conn: aiosqlite.Connection, limit: int = 50) -> list[AuditEntry]:
    async with conn.execute(
        "SELECT id, actor_id, action, member_id, detail, created_at FROM audit_log"
        " ORDER BY id DESC LIMIT ?",
        (limit,),
    ) as cur:
        rows = await cur.fetchall()
    return [
        AuditEntry(
            id=row["id"],
            actor_id=row["actor_id"],
            action=row["action"],
            member_id=row["member_id"],
            detail=row["detail"],
            created_at=from_db(row["created_at"]),
        )
        for row in rows
    ]
