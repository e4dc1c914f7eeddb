"""Broadcasts and their persistent delivery queue: one row per recipient with its state.

Several bot processes may share the queue: a sender claims the recipients it is about
to send to (see storage/claims.py). On PostgreSQL the claim skips rows another sender's
claim is locking at that moment (``FOR UPDATE SKIP LOCKED``); SQLite has one writer at a
time, so the plain form is already exclusive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from bot.domain import Broadcast, Counts, Recipient
from storage.claims import FREE, claim_params
from storage.engine import Conn, Row, per_engine, sql
from storage.timeutil import from_db, from_db_optional, to_db

_COLUMNS = (
    "id, created_by, created_at, text, photo_file_id, audience, offer_id, state, total,"
    " finished_at, progress_chat_id, progress_message_id, resume_at"
)

_CREATE = sql(
    "INSERT INTO broadcasts (created_by, created_at, text, photo_file_id, audience,"
    " offer_id, total) VALUES (:created_by, :created_at, :text, :photo_file_id, :audience,"
    f" :offer_id, :total) RETURNING {_COLUMNS}"
)
_ADD_RECIPIENT = sql(
    "INSERT INTO broadcast_recipients (broadcast_id, member_id, chat_id)"
    " VALUES (:broadcast_id, :member_id, :chat_id)"
)
_GET = sql(f"SELECT {_COLUMNS} FROM broadcasts WHERE id = :id")
_NEXT_SENDING = sql(
    f"SELECT {_COLUMNS} FROM broadcasts WHERE state = 'sending' ORDER BY id LIMIT 1"
)
_RECENT = sql(f"SELECT {_COLUMNS} FROM broadcasts ORDER BY id DESC LIMIT :limit")
# Due: pending, not claimed by a live claim, and not waiting for its next try. Read
# through broadcast_recipients_due (pending rows only, in member order).
_DUE = (
    f"broadcast_id = :broadcast_id AND state = 'pending' AND {FREE}"
    " AND (next_try_at IS NULL OR next_try_at <= :now)"
)
# Each claimed recipient comes with their language as it is now (their /settings choice,
# else their Telegram's), by two primary keys (members, then languages). SQLite's
# RETURNING cannot name a joined table, so subqueries read them, on both engines alike;
# nested rather than a LEFT JOIN, which PostgreSQL may plan as a walk of all languages.
_CLAIMED = (
    " RETURNING broadcast_id, member_id, chat_id, attempts,"
    " (SELECT COALESCE((SELECT l.language FROM languages AS l"
    " WHERE l.tg_user_id = m.tg_user_id), m.language) FROM members AS m"
    " WHERE m.id = broadcast_recipients.member_id) AS language"
)
_CLAIM = per_engine(
    sqlite="UPDATE broadcast_recipients SET claimed_by = :me, claim_expires_at = :until"
    " WHERE broadcast_id = :broadcast_id AND member_id IN (SELECT member_id"
    f" FROM broadcast_recipients WHERE {_DUE} ORDER BY member_id LIMIT :limit)"
    f"{_CLAIMED}",
    postgresql="UPDATE broadcast_recipients SET claimed_by = :me, claim_expires_at = :until"
    " WHERE broadcast_id = :broadcast_id AND member_id IN (SELECT member_id"
    f" FROM broadcast_recipients WHERE {_DUE} ORDER BY member_id LIMIT :limit"
    " FOR UPDATE SKIP LOCKED)"
    f"{_CLAIMED}",
)
_ADD_VERSION = sql(
    "INSERT INTO broadcast_texts (broadcast_id, language, text)"
    " VALUES (:broadcast_id, :language, :text)"
)
_VERSIONS = sql(
    "SELECT language, text FROM broadcast_texts WHERE broadcast_id = :broadcast_id"
    " ORDER BY language"
)
_RELEASE = sql(
    "UPDATE broadcast_recipients SET claimed_by = NULL, claim_expires_at = NULL"
    " WHERE broadcast_id = :broadcast_id AND state = 'pending'"
    " AND member_id BETWEEN :first AND :last AND claimed_by = :me"
)
# What is still pending once nothing is due: claimed by another sender, or waiting for
# a retry (a few rows; the claim found none of the rest).
_WAITING = sql(
    "SELECT claim_expires_at, next_try_at FROM broadcast_recipients"
    " WHERE broadcast_id = :broadcast_id AND state = 'pending' ORDER BY member_id LIMIT :limit"
)
_COUNTS = sql(
    "SELECT state, COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = :broadcast_id"
    " GROUP BY state"
)
# sent_at is set only by a successful send (:sent_at is NULL for any other outcome). An
# outcome is recorded once: a row no longer pending is never touched again.
_MARK = sql(
    "UPDATE broadcast_recipients SET state = :state, attempts = attempts + :failed,"
    " last_error = :error, sent_at = COALESCE(:sent_at, sent_at), next_try_at = :next_try_at,"
    " claimed_by = NULL, claim_expires_at = NULL"
    " WHERE broadcast_id = :broadcast_id AND member_id = :member_id AND state = 'pending'"
)
# The first progress message stays the one: a sender taking over edits it.
_SET_PROGRESS_MESSAGE = sql(
    "UPDATE broadcasts SET progress_chat_id = :chat_id, progress_message_id = :message_id"
    " WHERE id = :id AND progress_message_id IS NULL"
)
_SET_RESUME_AT = sql("UPDATE broadcasts SET resume_at = :resume_at WHERE id = :id")
_FINISH = sql(
    "UPDATE broadcasts SET state = 'done', finished_at = :now WHERE id = :id AND state = 'sending'"
)
_QUEUE_LENGTH = sql(
    "SELECT COUNT(*) AS n FROM broadcast_recipients WHERE state = 'pending' AND broadcast_id IN"
    " (SELECT id FROM broadcasts WHERE state = 'sending')"
)


def _broadcast(row: Row) -> Broadcast:
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
        resume_at=from_db_optional(row["resume_at"]),
    )


async def create(
    tx: Conn,
    *,
    created_by: int,
    text: str,
    photo_file_id: str | None,
    audience: str,
    recipients: list[tuple[int, int]],
    now: datetime,
    offer_id: int | None = None,
    versions: Mapping[str, str] | None = None,
) -> Broadcast:
    """Queue a broadcast with its recipients (member id, chat id) and its versions in
    other languages (language: text) in one transaction."""
    row = await tx.one(
        _CREATE,
        created_by=created_by,
        created_at=to_db(now),
        text=text,
        photo_file_id=photo_file_id,
        audience=audience,
        offer_id=offer_id,
        total=len(recipients),
    )
    assert row is not None
    broadcast = _broadcast(row)
    await tx.run_many(
        _ADD_RECIPIENT,
        [
            {"broadcast_id": broadcast.id, "member_id": member_id, "chat_id": chat_id}
            for member_id, chat_id in recipients
        ],
    )
    if versions:
        await tx.run_many(
            _ADD_VERSION,
            [
                {"broadcast_id": broadcast.id, "language": language, "text": text}
                for language, text in sorted(versions.items())
            ],
        )
        broadcast = replace(broadcast, versions=dict(versions))
    return broadcast


async def versions(conn: Conn, broadcast_id: int) -> dict[str, str]:
    """The broadcast's versions in other languages (language: text)."""
    rows = await conn.all(_VERSIONS, broadcast_id=broadcast_id)
    return {str(row["language"]): str(row["text"]) for row in rows}


async def get(conn: Conn, broadcast_id: int) -> Broadcast | None:
    row = await conn.one(_GET, id=broadcast_id)
    return _broadcast(row) if row else None


async def next_sending(conn: Conn) -> Broadcast | None:
    row = await conn.one(_NEXT_SENDING)
    return _broadcast(row) if row else None


async def recent(conn: Conn, limit: int = 10) -> list[Broadcast]:
    return [_broadcast(row) for row in await conn.all(_RECENT, limit=limit)]


def _recipient(row: Row) -> Recipient:
    return Recipient(
        row["broadcast_id"], row["member_id"], row["chat_id"], row["attempts"], row["language"]
    )


async def claim(
    tx: Conn, broadcast_id: int, me: str, limit: int, now: datetime, until: datetime
) -> list[Recipient]:
    """Claim up to ``limit`` due recipients for ``me`` until ``until``, in member order."""
    rows = await tx.all(
        _CLAIM,
        until=to_db(until),
        broadcast_id=broadcast_id,
        now=to_db(now),
        limit=limit,
        **claim_params(me),
    )
    return sorted((_recipient(row) for row in rows), key=lambda r: r.member_id)


async def release(tx: Conn, me: str, recipients: list[Recipient]) -> None:
    """Give back what ``me`` claimed of ``recipients`` and has not sent."""
    if not recipients:
        return
    await tx.run(
        _RELEASE,
        broadcast_id=recipients[0].broadcast_id,
        first=min(r.member_id for r in recipients),
        last=max(r.member_id for r in recipients),
        me=me,
    )


async def waiting(conn: Conn, broadcast_id: int, limit: int = 100) -> list[datetime | None]:
    """When each recipient still pending falls due (a claim's end, a retry's time; None:
    due now). Empty when nothing is pending."""
    rows = await conn.all(_WAITING, broadcast_id=broadcast_id, limit=limit)
    due = []
    for row in rows:
        moments = [from_db(m) for m in (row["claim_expires_at"], row["next_try_at"]) if m]
        due.append(max(moments, default=None))
    return due


async def counts(conn: Conn, broadcast_id: int) -> Counts:
    rows = await conn.all(_COUNTS, broadcast_id=broadcast_id)
    return Counts(**{str(row["state"]): int(row["n"]) for row in rows})


async def mark(
    tx: Conn,
    recipient: Recipient,
    state: str,
    now: datetime,
    *,
    error: str | None = None,
    next_try_at: datetime | None = None,
) -> None:
    """Record what became of one message (``pending`` with ``next_try_at``: a failed
    attempt, tried again from then); the recipient's claim ends with it."""
    sent = state == "sent"
    await tx.run(
        _MARK,
        state=state,
        failed=0 if sent else 1,
        error=error,
        sent_at=to_db(now) if sent else None,
        next_try_at=None if next_try_at is None else to_db(next_try_at),
        broadcast_id=recipient.broadcast_id,
        member_id=recipient.member_id,
    )


async def set_progress_message(tx: Conn, broadcast_id: int, chat_id: int, message_id: int) -> None:
    await tx.run(_SET_PROGRESS_MESSAGE, chat_id=chat_id, message_id=message_id, id=broadcast_id)


async def set_resume_at(tx: Conn, broadcast_id: int, resume_at: datetime | None) -> None:
    """Telegram paused sending until ``resume_at`` (None: not paused)."""
    await tx.run(
        _SET_RESUME_AT, resume_at=None if resume_at is None else to_db(resume_at), id=broadcast_id
    )


async def finish(tx: Conn, broadcast_id: int, now: datetime) -> bool:
    """Mark the broadcast done; False if it already was (another sender finished it)."""
    return await tx.run(_FINISH, now=to_db(now), id=broadcast_id) == 1


async def queue_length(conn: Conn) -> int:
    """Messages still to send for broadcasts under way (by index, not the whole queue)."""
    return int(await conn.value(_QUEUE_LENGTH) or 0)
