"""Multi-step conversations kept across restarts: where each one stands, and the drafts.

A conversation's key (Telegram's chat and user ids, sometimes a message id) is stored as
canonical JSON text, so the same key is always the same text. What the drafts contain is
the caller's business: this module keeps them as JSON text it never reads.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import aiosqlite

from storage.timeutil import to_db

logger = logging.getLogger(__name__)

ConversationKey = tuple[int | str, ...]


def encode_key(key: ConversationKey) -> str:
    return json.dumps(list(key), separators=(",", ":"))


def decode_key(text: str) -> ConversationKey:
    parts = json.loads(text)
    if not isinstance(parts, list) or not all(
        isinstance(part, int | str) and not isinstance(part, bool) for part in parts
    ):
        raise ValueError(f"not a conversation key: {text!r}")
    return tuple(parts)


async def states(conn: aiosqlite.Connection, name: str) -> dict[ConversationKey, int]:
    """Every stored state of the conversation ``name``, by key. A key that cannot be read
    (edited by hand) is left out with a warning: that one conversation starts afresh."""
    async with conn.execute(
        "SELECT conv_key, state FROM conversation_states WHERE name = ?", (name,)
    ) as cur:
        rows = await cur.fetchall()
    found: dict[ConversationKey, int] = {}
    for row in rows:
        try:
            found[decode_key(str(row["conv_key"]))] = int(row["state"])
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            logger.warning("Conversation %s: skipped a stored state (%s)", name, exc)
    return found


async def set_state(
    tx: aiosqlite.Connection,
    name: str,
    key: ConversationKey,
    state: int | None,
    now: datetime,
) -> None:
    """Store where one conversation stands; None (it ended) removes it."""
    if state is None:
        await tx.execute(
            "DELETE FROM conversation_states WHERE name = ? AND conv_key = ?",
            (name, encode_key(key)),
        )
        return
    await tx.execute(
        "INSERT INTO conversation_states (name, conv_key, state, updated_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (name, conv_key) DO UPDATE"
        " SET state = excluded.state, updated_at = excluded.updated_at",
        (name, encode_key(key), state, to_db(now)),
    )


async def user_data(conn: aiosqlite.Connection) -> dict[int, str]:
    """Every stored user's data, as the JSON text it was saved as."""
    async with conn.execute("SELECT tg_user_id, data FROM conversation_user_data") as cur:
        rows = await cur.fetchall()
    return {int(row["tg_user_id"]): str(row["data"]) for row in rows}


async def save_user_data(
    tx: aiosqlite.Connection, tg_user_id: int, data: str | None, now: datetime
) -> None:
    """Store one user's data (JSON text); None removes it."""
    if data is None:
        await tx.execute("DELETE FROM conversation_user_data WHERE tg_user_id = ?", (tg_user_id,))
        return
    await tx.execute(
        "INSERT INTO conversation_user_data (tg_user_id, data, updated_at) VALUES (?, ?, ?)"
        " ON CONFLICT (tg_user_id) DO UPDATE"
        " SET data = excluded.data, updated_at = excluded.updated_at",
        (tg_user_id, data, to_db(now)),
    )
