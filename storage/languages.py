"""The language each person chose in /settings (members, staff and owners alike)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Conn, sql
from storage.timeutil import to_db

_CHOSEN = sql("SELECT language FROM languages WHERE tg_user_id = :tg_user_id")
# Both of someone's languages in one read, each by its unique index: their choice (NULL
# without one) and, for a member, their Telegram app's as last stored ('' when Telegram
# never said; NULL for someone who is no member).
_BOTH = sql(
    "SELECT (SELECT language FROM languages WHERE tg_user_id = :tg_user_id) AS chosen,"
    " (SELECT COALESCE(language, '') FROM members"
    "  WHERE tg_user_id = :tg_user_id AND forgotten_at IS NULL) AS stored"
)
_STORE = sql(
    "UPDATE members SET language = :language"
    " WHERE tg_user_id = :tg_user_id AND forgotten_at IS NULL"
)
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


@dataclass(frozen=True, slots=True)
class Languages:
    chosen: str | None  # their choice in /settings
    stored: str | None  # a member's Telegram language as stored ("" unknown); None: no member


async def of(conn: Conn, tg_user_id: int) -> Languages:
    row = await conn.one(_BOTH, tg_user_id=tg_user_id)
    if row is None:
        return Languages(None, None)
    return Languages(row["chosen"], row["stored"])


async def store_telegram(tx: Conn, tg_user_id: int, language: str) -> None:
    """Keep a member's Telegram app language as it is now, for the messages sent later."""
    await tx.run(_STORE, tg_user_id=tg_user_id, language=language)


async def choose(tx: Conn, tg_user_id: int, language: str, now: datetime) -> None:
    await tx.run(_CHOOSE, tg_user_id=tg_user_id, language=language, now=to_db(now))


async def forget(tx: Conn, tg_user_id: int) -> None:
    """Drop the choice (a member who asks to be forgotten)."""
    await tx.run(_FORGET, tg_user_id=tg_user_id)
