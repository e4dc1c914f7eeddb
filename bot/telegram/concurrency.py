"""Updates of different chats are handled side by side; one chat's, in order.

A slow conversation at one counter (a photo to decode, a slow reply from Telegram) never
holds up another, while a barista's scan and the amount typed right after it are still
handled one after the other. The chat's turn is taken before a concurrency slot, so a
chat with many updates waiting never occupies the slots other chats need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.observability import CURRENT, Metrics, UpdateRecord, finish


def update_kind(update: object) -> str:
    """What sort of update, for logs and metrics (never its content)."""
    if not isinstance(update, Update):
        return "other"
    if update.callback_query is not None:
        return "button"
    if update.my_chat_member is not None:
        return "membership"
    message = update.message
    if message is None:
        return "other"
    if message.photo:
        return "photo"
    if message.text and message.text.startswith("/"):
        return "command"
    return "text" if message.text else "other"


def chat_of(update: object) -> int | None:
    if isinstance(update, Update):
        if update.effective_chat is not None:
            return update.effective_chat.id
        if update.effective_user is not None:
            return update.effective_user.id
    return None


# PTB's own semaphore is taken before a chat's turn; it is sized so that it never binds,
# and this processor's own limit is taken after the turn (PTB marks process_update final).
UNBOUNDED = 65_536


class ChatOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int, metrics: Metrics | None = None) -> None:
        super().__init__(UNBOUNDED)
        self.metrics = metrics
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._turns: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = chat_of(update)
        if chat is None:
            async with self._slots:
                await self._observed(update, coroutine)
            return
        turn = self._turns.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with turn, self._slots:  # FIFO turn: this chat's updates in arrival order
                await self._observed(update, coroutine)
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat], self._turns[chat]

    async def _observed(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Handle the update, then write its one log line and its metrics."""
        update_id = update.update_id if isinstance(update, Update) else None
        record = UpdateRecord(update_id, update_kind(update))
        token = CURRENT.set(record)
        try:
            await self.handle(update, coroutine)
        finally:
            finish(record, self.metrics)
            CURRENT.reset(token)

    async def handle(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run one update (a subclass may observe it)."""
        await coroutine

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
