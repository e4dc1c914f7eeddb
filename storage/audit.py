"""The audit log: every staff and owner action, who did it, when, on which member, and
at which location."""

from __future__ import annotations

from datetime import datetime

from storage.engine import Conn, sql
from storage.timeutil import to_db

_INSERT = sql(
    "INSERT INTO audit_log (actor_id, action, member_id, detail, created_at, location_id)"
    " VALUES (:actor_id, :action, :member_id, :detail, :created_at, :location_id)"
)


async def record(
    tx: Conn,
    *,
    actor_id: int,
    action: str,
    now: datetime,
    member_id: int | None = None,
    detail: str = "",
    location_id: int | None = None,
) -> None:
    """One audit line; ``location_id`` where the action happened at a location (a scan,
    an entry, a hand-over, a location's team), so its manager's /audit shows it."""
    await tx.run(
        _INSERT,
        actor_id=actor_id,
        action=action,
        member_id=member_id,
        detail=detail,
        created_at=to_db(now),
        location_id=location_id,
    )
