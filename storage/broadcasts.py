"""Broadcasts and their persistent delivery queue: one row per recipient with its state."""

from __future__ import annotations

from datetime import datetime

from bot.domain import Broadcast, Counts, Recipient
from storage.engine import Conn, Row, sql
from storage.timeutil import from_db, from_db_optional, to_db

_COLUMNS = (
    "id, created_by, created_at, text, photo_file_id, audience, offer_id, state, total,"
    " finished_at, progress_chat_id, progress_message_id"
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
_PENDING = sql(
    "SELECT broadcast_id, member_id, chat_id, attempts FROM broadcast_recipients"
    " WHERE broadcast_id = :broadcast_id AND state = 'pending' AND member_id > :after_member"
    " ORDER BY member_id LIMIT :limit"
)
_COUNTS = sql(
    "SELECT state, COUNT(*) AS n FROM broadcast_recipients WHERE broadcast_id = :broadcast_id"
    " GROUP BY state"
)
# sent_at is set only by a successful send (:sent_at is NULL for any other outcome).
_MARK = sql(
    "UPDATE broadcast_recipients SET state = :state, attempts = attempts + :failed,"
    " last_error = :error, sent_at = COALESCE(:sent_at, sent_at)"
    " WHERE broadcast_id = :broadcast_id AND member_id = :member_id"
)
_SET_PROGRESS_MESSAGE = sql(
    "UPDATE broadcasts SET progress_chat_id = :chat_id, progress_message_id = :message_id"
    " WHERE id = :id"
)
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
) -> Broadcast:
    """Queue a broadcast with its recipients (member id, chat id) in one transaction."""
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
    return broadcast


async def get(conn: Conn, broadcast_id: int) -> Broadcast | None:
    row = await conn.one(_GET, id=broadcast_id)
    return _broadcast(row) if row else None


async def next_sending(conn: Conn) -> Broadcast | None:
    row = await conn.one(_NEXT_SENDING)
    return _broadcast(row) if row else None


async def recent(conn: Conn, limit: int = 10) -> list[Broadcast]:
    return [_broadcast(row) for row in await conn.all(_RECENT, limit=limit)]


async def pending(
    conn: Conn, broadcast_id: int, limit: int, after_member: int = 0
) -> list[Recipient]:
    rows = await conn.all(
        _PENDING, broadcast_id=broadcast_id, after_member=after_member, limit=limit
    )
    return [Recipient(r["broadcast_id"], r["member_id"], r["chat_id"], r["attempts"]) for r in rows]


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
) -> None:
    sent = state == "sent"
    await tx.run(
        _MARK,
        state=state,
        failed=0 if sent else 1,
        error=error,
        sent_at=to_db(now) if sent else None,
        broadcast_id=recipient.broadcast_id,
        member_id=recipient.member_id,
    )


async def set_progress_message(tx: Conn, broadcast_id: int, chat_id: int, message_id: int) -> None:
    await tx.run(_SET_PROGRESS_MESSAGE, chat_id=chat_id, message_id=message_id, id=broadcast_id)


async def finish(tx: Conn, broadcast_id: int, now: datetime) -> None:
    await tx.run(_FINISH, now=to_db(now), id=broadcast_id)


async def queue_length(conn: Conn) -> int:
    """Messages still to send for broadcasts under way (by index, not the whole queue)."""
    return int(await conn.value(_QUEUE_LENGTH) or 0)
