"""Multi-step conversations kept across restarts (the owners' /offer and /broadcast
wizards): where each stands, and each person's drafts as JSON text.

The Telegram side (bot.telegram.persistence) turns these into what python-telegram-bot's
persistence expects; this service only stores and returns them.
"""

from __future__ import annotations

from bot.clock import Clock
from storage import Database
from storage import conversations as conversation_store
from storage.conversations import ConversationKey


class ConversationService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def states(self, name: str) -> dict[ConversationKey, int]:
        """Where every stored conversation of the handler ``name`` stands."""
        return await conversation_store.states(self._db.reader, name)

    async def set_state(self, name: str, key: ConversationKey, state: int | None) -> None:
        """Store one conversation's state; None (it ended) removes it."""
        async with self._db.transaction() as tx:
            await conversation_store.set_state(tx, name, key, state, self._clock.now())

    async def user_data(self) -> dict[int, str]:
        """Every stored person's data, by Telegram user id, as JSON text."""
        return await conversation_store.user_data(self._db.reader)

    async def save_user_data(self, tg_user_id: int, data: str | None) -> None:
        """Store one person's data (JSON text); None removes it."""
        async with self._db.transaction() as tx:
            await conversation_store.save_user_data(tx, tg_user_id, data, self._clock.now())
