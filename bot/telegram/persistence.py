"""python-telegram-bot's persistence, kept in the bot's own database.

The owners' multi-step conversations (the /offer and /broadcast wizards) survive a
restart: where each conversation stands, and each person's ``user_data`` (the drafts, a
pydantic model), are stored through :class:`ConversationService`. Nothing else is kept:
``bot_data`` holds the running bot's parts and is built afresh at every start, and there
is no chat data or callback data to keep.

PTB hands every person who sent an update to :meth:`DatabasePersistence.update_user_data`
at each persistence run, most of them customers whose data is empty: the last JSON
written for each person is kept in memory, so unchanged data costs no write, and empty
(default) data is stored as no row at all.

Replicas sharing a PostgreSQL database each hold the conversations in memory too:
:class:`SharedConversations` sets a sender's to what the database holds before each
webhook update and writes what changed before it counts as handled, so an owner's
wizard goes on whichever replica gets the next step.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from telegram import Update
from telegram.ext import Application, BasePersistence, ConversationHandler, PersistenceInput

from bot.services.conversations import ConversationService
from storage.conversations import ConversationKey
from storage.updates import Claim, Conversations

logger = logging.getLogger(__name__)

UD = TypeVar("UD", bound=BaseModel)
BD = TypeVar("BD")

# What PTB's callback data cache would store (not stored here).
CDCData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]

STORE_DATA = PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False)


class DatabasePersistence(BasePersistence[UD, dict[Any, Any], BD]):
    """Conversation states and user data in the database; see the module's docstring.

    ``conversations`` returns the service, opening the database on first use: PTB asks
    for the stored data inside ``Application.initialize()``, before ``post_init``.
    ``user_data_type`` is the model of one person's data; every field has a default, so
    ``user_data_type()`` is the empty data a person without a row has.
    """

    def __init__(
        self,
        conversations: Callable[[], Awaitable[ConversationService]],
        user_data_type: type[UD],
        update_interval: float = 1.0,
    ) -> None:
        super().__init__(store_data=STORE_DATA, update_interval=update_interval)
        self._conversations = conversations
        self._user_data_type = user_data_type
        self._default_json = user_data_type().model_dump_json()
        # The JSON of every person who has a row, as last written or loaded; None until
        # the rows are first read. A person missing here has no row (empty data).
        self._stored: dict[int, str] | None = None

    # Conversations -----------------------------------------------------------------

    async def get_conversations(self, name: str) -> dict[ConversationKey, object]:
        service = await self._conversations()
        return dict(await service.states(name))

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        """Store a conversation's new state; None (it ended) removes it."""
        state: int | None
        if new_state is None:
            state = None
        elif isinstance(new_state, int) and not isinstance(new_state, bool):
            state = int(new_state)  # an IntEnum state is stored, and comes back, as its int
        else:
            raise TypeError(
                f"conversation {name!r}: only integer states can be stored, not {new_state!r}"
            )
        service = await self._conversations()
        await service.set_state(name, key, state)

    # User data ---------------------------------------------------------------------

    async def get_user_data(self) -> dict[int, UD]:
        """Every stored person's data. A row the model no longer accepts (the code changed
        since it was written) is dropped with a warning: that person starts afresh."""
        service = await self._conversations()
        found: dict[int, UD] = {}
        stored: dict[int, str] = {}
        for user_id, text in (await service.user_data()).items():
            try:
                found[user_id] = self._user_data_type.model_validate_json(text)
            except ValidationError as exc:
                logger.warning(
                    "Dropped the stored conversation data of user %s: it no longer fits %s (%s)",
                    user_id,
                    self._user_data_type.__name__,
                    exc.errors(include_url=False, include_input=False),
                )
                await service.save_user_data(user_id, None)
                continue
            stored[user_id] = text
        self._stored = stored
        return found

    async def update_user_data(self, user_id: int, data: UD) -> None:
        """Write one person's data, only when it changed since it was last written."""
        stored = await self._load()
        text = data.model_dump_json()
        if text == stored.get(user_id, self._default_json):
            return
        service = await self._conversations()
        if text == self._default_json:
            await service.save_user_data(user_id, None)
            stored.pop(user_id, None)
        else:
            await service.save_user_data(user_id, text)
            stored[user_id] = text

    async def drop_user_data(self, user_id: int) -> None:
        stored = await self._load()
        service = await self._conversations()
        await service.save_user_data(user_id, None)
        stored.pop(user_id, None)

    async def refresh_user_data(self, user_id: int, user_data: UD) -> None:
        """Nothing to refresh here: one bot process owns the data, and what it holds in
        memory is always the newest. Replicas sharing one database read a sender's data
        with the update's claim instead (:class:`SharedConversations`), in one round trip
        with the chat's turn."""

    def adopt_user_data(self, user_id: int, text: str | None, user_data: UD) -> None:
        """Make ``user_data`` (the object handlers see) what another process stored as
        ``text`` (None: no row, the empty data)."""
        fresh = self._user_data_type()
        if text is not None:
            try:
                fresh = self._user_data_type.model_validate_json(text)
            except ValidationError:
                logger.warning("The stored conversation data of user %s no longer fits", user_id)
                text = None
        for name in type(fresh).model_fields:
            setattr(user_data, name, getattr(fresh, name))
        if self._stored is not None:
            if text is None:
                self._stored.pop(user_id, None)
            else:
                self._stored[user_id] = text

    async def _load(self) -> dict[int, str]:
        """What each person's row holds (PTB reads them all at start; this is for a
        persistence used before that)."""
        if self._stored is None:
            await self.get_user_data()
        assert self._stored is not None
        return self._stored

    async def flush(self) -> None:
        """Nothing is pending: every update_* call has already written."""

    # Not stored: bot data is rebuilt at each start; no chat data, no callback data. ----

    async def get_bot_data(self) -> BD:
        # PTB asks only when store_data.bot_data is set, which it never is here; and an
        # empty bot_data of an unknown type cannot be made.
        raise NotImplementedError("bot_data is not stored by DatabasePersistence")

    async def update_bot_data(self, data: BD) -> None:
        pass

    async def refresh_bot_data(self, bot_data: BD) -> None:
        pass

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def get_callback_data(self) -> CDCData | None:
        return None

    async def update_callback_data(self, data: CDCData) -> None:
        pass


class SharedConversations:
    """The persistent conversations of a bot whose database other processes share
    (webhook replicas on PostgreSQL), kept right across them; see the module's docstring.

    python-telegram-bot holds each conversation's state in its ConversationHandler and
    offers no public way to set one, so :meth:`adopt` writes the handler's own mapping
    (without marking it changed): the one place this module reaches into PTB."""

    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], shared: bool
    ) -> None:
        self._application = application
        self._shared = shared
        self._handlers: list[ConversationHandler[Any]] = [
            handler
            for group in application.handlers.values()
            for handler in group
            if isinstance(handler, ConversationHandler) and handler.persistent and handler.name
        ]
        for handler in self._handlers:
            # The key adopt() writes: (chat id, user id).
            if not (handler.per_chat and handler.per_user) or handler.per_message:
                raise ValueError(f"conversation {handler.name!r}: not keyed by chat and user")
        persistence = application.persistence
        self._persistence = persistence if isinstance(persistence, DatabasePersistence) else None

    def lookup(self, update: Update) -> Conversations | None:
        """What to read with the update's claim: its sender's conversations (only where
        other processes may have changed them)."""
        chat, user = update.effective_chat, update.effective_user
        if not self._shared or not self._handlers or chat is None or user is None:
            return None
        names = tuple(str(handler.name) for handler in self._handlers)
        return Conversations(names, (chat.id, user.id), user.id)

    def adopt(self, update: Update, claim: Claim) -> None:
        """Set the sender's conversation states and data to what the claim read."""
        chat, user = update.effective_chat, update.effective_user
        if not claim.loaded or chat is None or user is None:
            return
        key = (chat.id, user.id)
        for handler in self._handlers:
            states = handler._conversations  # PTB's own mapping: see the class docstring
            state = claim.states.get(str(handler.name))
            if state is None:
                if key in states:
                    states.data.pop(key, None)  # type: ignore[attr-defined]
            else:
                states.update_no_track({key: state})  # type: ignore[attr-defined]
        if self._persistence is not None:
            user_data = self._application.user_data[user.id]
            self._persistence.adopt_user_data(user.id, claim.user_data, user_data)

    async def save(self) -> None:
        """Write what the update changed now, before it counts as handled."""
        if self._application.persistence is not None:
            await self._application.update_persistence()
