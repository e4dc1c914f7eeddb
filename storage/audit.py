"""The audit log: every staff and owner action, who did it, when, on which member."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.timeutil import to_db


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
