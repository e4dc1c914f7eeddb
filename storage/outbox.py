"""Messages to members that nobody asked for at that moment (reminders, treats, questions).

Each is written in the same transaction as what it announces (a bonus, an expiry), with
a unique ``dedup_key``, so a job that runs twice or a restart never sends one twice. The
bulk sender renders and delivers them, paced and outside quiet hours.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.domain import Outgoing
from storage.engine import Conn, sql
from storage.timeutil import from_db, from_db_optional, to_db

_ENQUEUE = sql(
    "INSERT INTO outbox (member_id, kind, dedup_key, params, service, visit_at, created_at)"
    " VALUES (:member_id, :kind, :dedup_key, :params, :service, :visit_at, :created_at)"
    " ON CONFLICT (dedup_key) DO NOTHING"
)
_PENDING = sql(
    "SELECT o.id, o.member_id, m.chat_id, m.first_name, o.kind, o.params, o.service,"
    " o.visit_at, o.attempts, m.promotions_opt_out, m.service_opt_out, m.unreachable_at,"
    " m.forgotten_at, m.last_visit_at"
    " FROM outbox AS o JOIN members AS m ON m.id = o.member_id"
    " WHERE o.state = 'pending' AND (o.next_try_at IS NULL OR o.next_try_at <= :now)"
    " ORDER BY o.id LIMIT :limit"
)
_FINISH = sql(
    "UPDATE outbox SET state = :state, sent_at = :now, last_error = :error,"
    " attempts = attempts + 1 WHERE id = :id AND state = 'pending'"
)
_FAILED_ATTEMPT = sql(
    "UPDATE outbox SET attempts = attempts + 1, last_error = :error, next_try_at = :next_try_at"
    " WHERE id = :id"
)
_COUNT_PENDING = sql("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")
_CANCEL_FOR_MEMBER = sql(
    "UPDATE outbox SET state = 'skipped', sent_at = :now, last_error = 'member forgotten'"
    " WHERE member_id = :member_id AND state = 'pending'"
)


async def enqueue(
    tx: Conn,
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
    changed = await tx.run(
        _ENQUEUE,
        member_id=member_id,
        kind=kind,
        dedup_key=dedup_key,
        params=json.dumps(params, sort_keys=True),
        service=bool(service),
        visit_at=None if visit_at is None else to_db(visit_at),
        created_at=to_db(now),
    )
    return changed == 1


def _params(stored: str | dict[str, Any]) -> dict[str, Any]:
    """The message's parameters: JSON text (a JSON column's driver may hand a dict)."""
    return dict(stored) if isinstance(stored, dict) else dict(json.loads(stored))


async def pending(conn: Conn, limit: int, now: datetime) -> list[Outgoing]:
    rows = await conn.all(_PENDING, now=to_db(now), limit=limit)
    return [
        Outgoing(
            id=row["id"],
            member_id=row["member_id"],
            chat_id=row["chat_id"],
            first_name=row["first_name"],
            kind=row["kind"],
            params=_params(row["params"]),
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
    tx: Conn, outbox_id: int, state: str, now: datetime, error: str | None = None
) -> None:
    await tx.run(_FINISH, state=state, now=to_db(now), error=error, id=outbox_id)


async def failed_attempt(tx: Conn, outbox_id: int, error: str, next_try_at: datetime) -> None:
    await tx.run(_FAILED_ATTEMPT, error=error, next_try_at=to_db(next_try_at), id=outbox_id)


async def count_pending(conn: Conn) -> int:
    return int(await conn.value(_COUNT_PENDING) or 0)


async def cancel_for_member(tx: Conn, member_id: int, now: datetime) -> None:
    await tx.run(_CANCEL_FOR_MEMBER, now=to_db(now), member_id=member_id)
