"""Feedback: "how likely are you to recommend us?" after a visit, with an optional comment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Conn, Row, sql
from storage.timeutil import from_db, from_db_optional, to_db

_COLUMNS = "id, member_id, entry_id, asked_at, score, answered_at, comment, comment_until"

_LAST_ASKED = sql("SELECT MAX(asked_at) AS asked_at FROM feedback WHERE member_id = :member_id")
_CREATE = sql(
    "INSERT INTO feedback (member_id, entry_id, asked_at) VALUES (:member_id, :entry_id, :now)"
    " ON CONFLICT (entry_id) DO NOTHING RETURNING id"
)
_GET = sql(f"SELECT {_COLUMNS} FROM feedback WHERE id = :id")
_ANSWER = sql(
    "UPDATE feedback SET score = :score, answered_at = :now, comment_until = :comment_until"
    " WHERE id = :id"
)
_AWAITING_COMMENT = sql(
    f"SELECT {_COLUMNS} FROM feedback WHERE member_id = :member_id AND comment_until > :now"
    " ORDER BY asked_at DESC, id DESC LIMIT 1"
)
_SET_COMMENT = sql("UPDATE feedback SET comment = :comment, comment_until = NULL WHERE id = :id")
_OF_MEMBER = sql(f"SELECT {_COLUMNS} FROM feedback WHERE member_id = :member_id ORDER BY id")
_FORGET_COMMENTS = sql(
    "UPDATE feedback SET comment = NULL, comment_until = NULL WHERE member_id = :member_id"
)


@dataclass(frozen=True, slots=True)
class Feedback:
    id: int
    member_id: int
    entry_id: int
    asked_at: datetime
    score: int | None
    answered_at: datetime | None
    comment: str | None
    comment_until: datetime | None


def _feedback(row: Row) -> Feedback:
    return Feedback(
        id=row["id"],
        member_id=row["member_id"],
        entry_id=row["entry_id"],
        asked_at=from_db(row["asked_at"]),
        score=row["score"],
        answered_at=from_db_optional(row["answered_at"]),
        comment=row["comment"],
        comment_until=from_db_optional(row["comment_until"]),
    )


async def last_asked(conn: Conn, member_id: int) -> datetime | None:
    return from_db_optional(await conn.value(_LAST_ASKED, member_id=member_id))


async def create(tx: Conn, member_id: int, entry_id: int, now: datetime) -> int | None:
    """Ask about the visit ``entry_id``; None when it was asked about already."""
    row = await tx.one(_CREATE, member_id=member_id, entry_id=entry_id, now=to_db(now))
    return None if row is None else int(row["id"])


async def get(conn: Conn, feedback_id: int) -> Feedback | None:
    row = await conn.one(_GET, id=feedback_id)
    return _feedback(row) if row else None


async def answer(
    tx: Conn, feedback_id: int, score: int, now: datetime, comment_until: datetime
) -> None:
    """Record the score; a second tap replaces the first."""
    await tx.run(
        _ANSWER, score=score, now=to_db(now), comment_until=to_db(comment_until), id=feedback_id
    )


async def awaiting_comment(conn: Conn, member_id: int, now: datetime) -> Feedback | None:
    row = await conn.one(_AWAITING_COMMENT, member_id=member_id, now=to_db(now))
    return _feedback(row) if row else None


async def set_comment(tx: Conn, feedback_id: int, comment: str) -> None:
    await tx.run(_SET_COMMENT, comment=comment, id=feedback_id)


async def of_member(conn: Conn, member_id: int) -> list[Feedback]:
    return [_feedback(row) for row in await conn.all(_OF_MEMBER, member_id=member_id)]


async def forget_comments(tx: Conn, member_id: int) -> None:
    await tx.run(_FORGET_COMMENTS, member_id=member_id)
