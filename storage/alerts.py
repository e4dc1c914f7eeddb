"""When the owners were last alerted about each kind of unexpected error."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.timeutil import to_db


async def claim(tx: aiosqlite.Connection, kind: str, now: datetime, since: datetime) -> bool:
    """Record an alert about ``kind`` at ``now`` unless one was sent after ``since``.

    One conditional upsert: a new kind is inserted, a known one is moved to ``now`` only
    when its last alert is at or before ``since``. The row count says whether this caller
    won, so of several processes sharing the database exactly one may send."""
    cur = await tx.execute(
        "INSERT INTO error_alerts (kind, last_sent_at) VALUES (?, ?)"
        " ON CONFLICT (kind) DO UPDATE SET last_sent_at = excluded.last_sent_at"
        " WHERE error_alerts.last_sent_at <= ?",
        (kind, to_db(now), to_db(since)),
    )
    return cur.rowcount == 1
