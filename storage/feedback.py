"""Feedback: "how likely are you to recommend us?" after a visit, with an optional comment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timeutil import from_db, from_db_optional, to_db


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


def _feedback(row: aiosqlite.Row) -> Feedback:
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


async def last_asked(conn: aiosqlite.Connection, member_id: int) -> datetime | None:
    async with conn.execute(
        "SELECT MAX(asked_at) FROM feedback WHERE member_id = ?", (member_id,)
    ) as cur:
        row = await cur.fetchone()
    return from_db_optional(row[0]) if row else None


async def create(tx: aiosqlite.Connection, member_id: int, entry_id: int, now: datetime) -> int:
    async with tx.execute(
        "INSERT INTO feedback (member_id, entry_id, asked_at) VALUES (?, ?, ?) RETURNING id",
        (member_id, entry_id, to_db(now)),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def get(conn: aiosqlite.Connection, feedback_id: int) -> Feedback | None:
    async with conn.execute("SELECT * FROM feedback WHERE id = ?", (feedback_id,)) as cur:
        row = await cur.fetchone()
    return _feedback(row) if row else None


async def answer(
    tx: aiosqlite.Connection, feedback_id: int, score: int, now: datetime, comment_until: datetime
) -> None:
    """Record the score; a second tap replaces the first."""
    await tx.execute(
        "UPDATE feedback SET score = ?, answered_at = ?, comment_until = ? WHERE id = ?",
        (score, to_db(now), to_db(comment_until), feedback_id),
    )


async def awaiting_comment(
    conn: aiosqlite.Connection, member_id: int, now: datetime
) -> Feedback | None:
    async with conn.execute(
        "SELECT * FROM feedback WHERE member_id = ? AND comment_until > ?"
        " ORDER BY asked_at DESC LIMIT 1",
        (member_id, to_db(now)),
    ) as cur:
        row = await cur.fetchone()
    return _feedback(row) if row else None


async def set_comment(tx: aiosqlite.Connection, feedback_id: int, comment: str) -> None:
    await tx.execute(
        "UPDATE feedback SET comment = ?, comment_until = NULL WHERE id = ?",
        (comment, feedback_id),
    )


async def of_member(conn: aiosqlite.Connection, member_id: int) -> list[Feedback]:
    async with conn.execute(
        "SELECT * FROM feedback WHERE member_id = ? ORDER BY id", (member_id,)
    ) as cur:
        return [_feedback(row) for row in await cur.fetchall()]


async def forget_comments(tx: aiosqlite.Connection, member_id: int) -> None:
    await tx.execute(
        "UPDATE feedback SET comment = NULL, comment_until = NULL WHERE member_id = ?",
        (member_id,),
    )
