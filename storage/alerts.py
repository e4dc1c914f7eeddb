"""When the owners were last alerted about each kind of unexpected error."""

from __future__ import annotations

from datetime import datetime

from storage.engine import Conn, sql
from storage.timeutil import to_db

_CLAIM = sql(
    "INSERT INTO error_alerts (kind, last_sent_at) VALUES (:kind, :now)"
    " ON CONFLICT (kind) DO UPDATE SET last_sent_at = excluded.last_sent_at"
    " WHERE error_alerts.last_sent_at <= :since"
)


async def claim(tx: Conn, kind: str, now: datetime, since: datetime) -> bool:
    """Record an alert about ``kind`` at ``now`` unless one was sent after ``since``.

    One conditional upsert: a new kind is inserted, a known one is moved to ``now`` only
    when its last alert is at or before ``since``. The row count says whether this caller
    won, so of several processes sharing the database exactly one may send."""
    return await tx.run(_CLAIM, kind=kind, now=to_db(now), since=to_db(since)) == 1
