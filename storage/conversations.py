"""Multi-step conversations kept across restarts: where each one stands, and the drafts.

A conversation's key (Telegram's chat and user ids, sometimes a message id) is stored as
canonical JSON text, so the same key is always the same text. What the drafts contain is
the caller's business: this module keeps them as JSON text it never reads.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

from storage.engine import Conn, sql
from storage.timeutil import to_db

logger = logging.getLogger(__name__)

ConversationKey = tuple[int | str, ...]

_STATES = sql("SELECT conv_key, state FROM conversation_states WHERE name = :name")
_DROP_STATE = sql("DELETE FROM conversation_states WHERE name = :name AND conv_key = :conv_key")
_PUT_STATE = sql(
    "INSERT INTO conversation_states (name, conv_key, state, updated_at)"
    " VALUES (:name, :conv_key, :state, :now)"
    " ON CONFLICT (name, conv_key) DO UPDATE"
    " SET state = excluded.state, updated_at = excluded.updated_at"
)
_USER_DATA = sql("SELECT tg_user_id, data FROM conversation_user_data")
_DROP_USER_DATA = sql("DELETE FROM conversation_user_data WHERE tg_user_id = :tg_user_id")
_PUT_USER_DATA = sql(
    "INSERT INTO conversation_user_data (tg_user_id, data, updated_at)"
    " VALUES (:tg_user_id, :data, :now)"
    " ON CONFLICT (tg_user_id) DO UPDATE"
    " SET data = excluded.data, updated_at = excluded.updated_at"
)


def encode_key(key: ConversationKey) -> str:
    return json.dumps(list(key), separators=(",", ":"))


def decode_key(text: str) -> ConversationKey:
    parts = json.loads(text)
    if not isinstance(parts, list) or not all(
        isinstance(part, int | str) and not isinstance(part, bool) for part in parts
    ):
        raise ValueError(f"not a conversation key: {text!r}")
    return tuple(parts)


async def states(conn: Conn, name: str) -> dict[ConversationKey, int]:
    """Every stored state of the conversation ``name``, by key. A key that cannot be read
    (edited by hand) is left out with a warning: that one conversation starts afresh."""
    found: dict[ConversationKey, int] = {}
    for row in await conn.all(_STATES, name=name):
        try:
            found[decode_key(str(row["conv_key"]))] = int(row["state"])
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            logger.warning("Conversation %s: skipped a stored state (%s)", name, exc)
    return found


async def set_state(
    tx: Conn,
    name: str,
    key: ConversationKey,
    state: int | None,
    now: datetime,
) -> None:
    """Store where one conversation stands; None (it ended) removes it."""
    if state is None:
        await tx.run(_DROP_STATE, name=name, conv_key=encode_key(key))
        return
    await tx.run(_PUT_STATE, name=name, conv_key=encode_key(key), state=state, now=to_db(now))


async def user_data(conn: Conn) -> dict[int, str]:
    """Every stored user's data, as the JSON text it was saved as."""
    rows = await conn.all(_USER_DATA)
    return {int(row["tg_user_id"]): str(row["data"]) for row in rows}


async def save_user_data(tx: Conn, tg_user_id: int, data: str | None, now: datetime) -> None:
    """Store one user's data (JSON text); None removes it."""
    if data is None:
        await tx.run(_DROP_USER_DATA, tg_user_id=tg_user_id)
        return
    await tx.run(_PUT_USER_DATA, tg_user_id=tg_user_id, data=data, now=to_db(now))
