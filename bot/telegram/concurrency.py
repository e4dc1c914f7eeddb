"""Updates of different chats are handled side by side; one chat's, in order.

A slow conversation at one counter (a photo to decode, a slow reply from Telegram) never
holds up another, while a barista's scan and the amount typed right after it are still
handled one after the other. The chat's turn is taken before a concurrency slot, so a
chat with many updates waiting never occupies the slots other chats need.

In webhook mode (:meth:`ChatOrderedProcessor.deliver`) each update also takes its chat's
turn across the bot's replicas and is claimed by its ``update_id`` (storage/updates.py),
so one Telegram delivers twice is handled once; the caller learns what became of it, to
answer Telegram.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from enum import StrEnum
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.observability import CURRENT, Metrics, UpdateRecord, finish
from storage import TransientError
from storage.updates import Claim, Conversations, UpdateLedger


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


class Delivery(StrEnum):
    """What became of a webhook update, for the answer to Telegram."""

    HANDLED = "handled"  # 200 (also when a handler failed: the person was told)
    REPEATED = "repeated"  # handled before, by this replica or another: 200, not again
    UNAVAILABLE = "unavailable"  # the database was away: 503, Telegram delivers it again


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
        async with self._turn(chat_of(update)), self._recorded(update):
            await self.handle(update, coroutine)

    async def deliver(
        self,
        update: Update,
        process: Callable[[Claim], Awaitable[Any]],
        ledger: UpdateLedger,
        now: datetime,
        conversations: Conversations | None = None,
    ) -> Delivery:
        """Handle a webhook update in its chat's turn, here and across replicas, unless
        it was handled before; returns what became of it. ``process(claim)`` handles it
        (the claim carries ``conversations``, the sender's, when asked for)."""
        chat = chat_of(update)
        async with self._turn(chat), self._recorded(update) as record:
            try:
                async with ledger.claim(update.update_id, chat, now, conversations) as claim:
                    if not claim.fresh:
                        record.outcome = "repeated"
                        return Delivery.REPEATED
                    await self.handle(update, process(claim))
                    if record.transient:  # the error handler told the person; not kept
                        return Delivery.UNAVAILABLE
                    claim.keep()
            except TransientError:
                if record.outcome == "ok":
                    record.outcome = "unavailable"
                return Delivery.UNAVAILABLE
            return Delivery.HANDLED

    @asynccontextmanager
    async def _turn(self, chat: int | None) -> AsyncIterator[None]:
        """This chat's turn (FIFO: its updates in arrival order), then a slot."""
        if chat is None:
            async with self._slots:
                yield
            return
        turn = self._turns.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with turn, self._slots:
                yield
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:
                del self._waiting[chat], self._turns[chat]

    @asynccontextmanager
    async def _recorded(self, update: object) -> AsyncIterator[UpdateRecord]:
        """The update's record while it is handled; then its one log line and metrics."""
        update_id = update.update_id if isinstance(update, Update) else None
        record = UpdateRecord(update_id, update_kind(update))
        token = CURRENT.set(record)
        try:
            yield record
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
