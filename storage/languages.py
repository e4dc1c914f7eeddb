"""The language each person chose in /settings (members, staff and owners alike)."""

from __future__ import annotations

from datetime import datetime

from storage.engine import Conn, sql
from storage.timeutil import to_db

_CHOSEN = sql("SELECT language FROM languages WHERE tg_user_id = :tg_user_id")
_CHOOSE = sql(
    "INSERT INTO languages (tg_user_id, language, chosen_at) VALUES (:tg_user_id, :language, :now)"
    " ON CONFLICT (tg_user_id) DO UPDATE"
    " SET language = excluded.language, chosen_at = excluded.chosen_at"
)
_FORGET = sql("DELETE FROM languages WHERE tg_user_id = :tg_user_id")


async def chosen(conn: Conn, tg_user_id: int) -> str | None:
    """The language someone chose, or None (their Telegram's language is theirs)."""
    value = await conn.value(_CHOSEN, tg_user_id=tg_user_id)
    return None if value is None else str(value)


async def choose(tx: Conn, tg_user_id: int, language: str, now: datetime) -> None:
    await tx.run(_CHOOSE, tg_user_id=tg_user_id, language=language, now=to_db(now))


async def forget(tx: Conn, tg_user_id: int) -> None:
    """Drop the choice (a member who asks to be forgotten)."""
    await tx.run(_FORGET, tg_user_id=tg_user_id)
