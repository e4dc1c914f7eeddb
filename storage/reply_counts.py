"""How many interactive replies each bot process sent in each recent second.

Telegram's ~30 messages a second are the bot's, shared by every process. A process that
does not send bulk messages writes its replies' count here once a second at most (only
for seconds in which it replied), and the one process sending bulk reads the others'
recent counts to leave them room. Each process keeps one row per second of the minute
(``slot``, overwritten a minute later), and the sender deletes what is older than an hour
(processes that stopped), so the table stays small.
"""

from __future__ import annotations

from datetime import UTC, datetime

from storage.engine import Conn, sql
from storage.timeutil import from_db, to_db

_UPSERT = sql(
    "INSERT INTO reply_counts (replica, slot, second_at, replies)"
    " VALUES (:replica, :slot, :second_at, :replies)"
    " ON CONFLICT (replica, slot) DO UPDATE"
    " SET second_at = excluded.second_at, replies = excluded.replies"
)
_FORGET = sql("DELETE FROM reply_counts WHERE second_at < :before")
_RECENT = sql(
    "SELECT second_at, SUM(replies) AS replies FROM reply_counts"
    " WHERE second_at >= :since AND replica <> :replica GROUP BY second_at"
)


def _second(epoch_second: int) -> datetime:
    return datetime.fromtimestamp(epoch_second, UTC)


async def record(tx: Conn, replica: str, counts: dict[int, int]) -> None:
    """Store ``replica``'s reply count for each second (Unix seconds) in ``counts``,
    replacing what an earlier flush stored for that second."""
    await tx.run_many(
        _UPSERT,
        [
            {
                "replica": replica,
                "slot": second % 60,
                "second_at": to_db(_second(second)),
                "replies": replies,
            }
            for second, replies in sorted(counts.items())
        ],
    )


async def recent(conn: Conn, since: int, *, besides: str) -> dict[int, int]:
    """Every other process's replies per second (Unix seconds) from ``since`` on."""
    rows = await conn.all(_RECENT, since=to_db(_second(since)), replica=besides)
    return {int(from_db(row["second_at"]).timestamp()): int(row["replies"]) for row in rows}


async def forget(tx: Conn, before: datetime) -> int:
    """Delete the counts of seconds before ``before``."""
    return await tx.run(_FORGET, before=to_db(before))
