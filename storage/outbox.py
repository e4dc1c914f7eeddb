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
from storage.claims import FREE, claim_params
from storage.engine import Conn, Row, Statement, per_engine, sql
from storage.timeutil import from_db, from_db_optional, to_db

_ENQUEUE = sql(
    "INSERT INTO outbox (member_id, kind, dedup_key, params, service, visit_at, created_at)"
    " VALUES (:member_id, :kind, :dedup_key, :params, :service, :visit_at, :created_at)"
    " ON CONFLICT (dedup_key) DO NOTHING"
)
# Due: pending, not claimed by a live claim, not waiting for a retry; read through
# outbox_pending (pending rows only, oldest first). In quiet hours only one kind is due
# (receipts).
_DUE = f"state = 'pending' AND (next_try_at IS NULL OR next_try_at <= :now) AND {FREE}"
_DUE_OF_KIND = f"{_DUE} AND kind = :kind"


def _claim(due: str) -> Statement:
    """Claim the oldest due messages (see storage/claims.py)."""
    update = "UPDATE outbox SET claimed_by = :me, claim_expires_at = :until WHERE id IN"
    select = f"SELECT id FROM outbox WHERE {due} ORDER BY id LIMIT :limit"
    return per_engine(
        sqlite=f"{update} ({select}) RETURNING id",
        postgresql=f"{update} ({select} FOR UPDATE SKIP LOCKED) RETURNING id",
    )


_CLAIM = _claim(_DUE)
_CLAIM_OF_KIND = _claim(_DUE_OF_KIND)
# The claimed messages with what the sender asks of their member, read in the claim's
# transaction: the claimed ids lie between :first and :last, among the pending.
_CLAIMED = sql(
    "SELECT o.id, o.member_id, m.chat_id, m.first_name, o.kind, o.params, o.service,"
    " o.visit_at, o.attempts, m.promotions_opt_out, m.service_opt_out, m.unreachable_at,"
    " m.forgotten_at, m.last_visit_at, COALESCE(l.language, m.language) AS language"
    " FROM outbox AS o JOIN members AS m ON m.id = o.member_id"
    " LEFT JOIN languages AS l ON l.tg_user_id = m.tg_user_id"
    " WHERE o.state = 'pending' AND o.id BETWEEN :first AND :last AND o.claimed_by = :me"
    " ORDER BY o.id"
)
_RELEASE = sql(
    "UPDATE outbox SET claimed_by = NULL, claim_expires_at = NULL"
    " WHERE state = 'pending' AND id BETWEEN :first AND :last AND claimed_by = :me"
)
# An outcome is recorded once, and ends the message's claim.
_FINISH = sql(
    "UPDATE outbox SET state = :state, sent_at = :now, last_error = :error,"
    " attempts = attempts + 1, claimed_by = NULL, claim_expires_at = NULL"
    " WHERE id = :id AND state = 'pending'"
)
_FAILED_ATTEMPT = sql(
    "UPDATE outbox SET attempts = attempts + 1, last_error = :error, next_try_at = :next_try_at,"
    " claimed_by = NULL, claim_expires_at = NULL WHERE id = :id AND state = 'pending'"
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


def _outgoing(row: Row) -> Outgoing:
    return Outgoing(
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
        language=row["language"],
    )


async def claim(
    tx: Conn,
    me: str,
    limit: int,
    now: datetime,
    until: datetime,
    *,
    kind: str | None = None,
) -> list[Outgoing]:
    """Claim up to ``limit`` of the oldest due messages (of ``kind`` only, if given) for
    ``me`` until ``until``."""
    params = {"until": to_db(until), "now": to_db(now), "limit": limit, **claim_params(me)}
    if kind is None:
        rows = await tx.all(_CLAIM, **params)
    else:
        rows = await tx.all(_CLAIM_OF_KIND, kind=kind, **params)
    ids = [int(row["id"]) for row in rows]
    if not ids:
        return []
    rows = await tx.all(_CLAIMED, first=min(ids), last=max(ids), me=me)
    return [_outgoing(row) for row in rows]


async def release(tx: Conn, me: str, messages: list[Outgoing]) -> None:
    """Give back what ``me`` claimed of ``messages`` and has not sent."""
    if messages:
        ids = [message.id for message in messages]
        await tx.run(_RELEASE, first=min(ids), last=max(ids), me=me)


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
