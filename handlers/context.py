"""The context every handler gets: typed services, the bulk sender and the owner's drafts."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.clock import Clock
from bot.observability import Metrics
from bot.services.container import Services
from bot.services.roles import Role
from bot.settings import Settings
from bot.telegram.pacing import SendBudget

if TYPE_CHECKING:
    from bot.monitoring import MonitoringServer
    from handlers.broadcaster import Broadcaster


class OfferDraft(BaseModel):
    """An /offer being written, one step at a time."""

    title: str = ""
    description: str = ""
    kind: str = ""
    multiplier: Decimal | None = None
    bonus: int | None = None
    reward_id: int | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    window: str | None = None
    audience: str = ""
    announce: bool = False
    picked: list[int] = []  # locations ticked so far, at a step that picks them
    valid_at: list[int] = []  # the locations it is valid in (none: everywhere)


class BroadcastDraft(BaseModel):
    """A /broadcast being written."""

    text: str = ""
    photo: str | None = None
    audience: str = ""
    picked: list[int] = []  # locations ticked so far, at a step that picks them
    # The owner's text in other languages (a shipped language: HTML), and the language
    # whose text the owner is writing now.
    versions: dict[str, str] = {}
    writing: str = ""


class LocationDraft(BaseModel):
    """A location being named: a new one (``location_id`` None) or one being renamed."""

    location_id: int | None = None


class CatalogDraft(BaseModel):
    """A reward being added (its title, once typed) or one whose new cost is being typed."""

    title: str = ""
    reward_id: int | None = None


class UserData(BaseModel):
    """What the bot keeps for one person between their updates: only the drafts of the
    owner's conversations. Kept in the database, so a restart loses no draft."""

    offer: OfferDraft | None = None
    catalog: CatalogDraft | None = None
    broadcast: BroadcastDraft | None = None
    location: LocationDraft | None = None


class ServicesNotOpen(RuntimeError):
    """A handler ran before post_init opened the services (or after shutdown)."""


class BotData:
    """What every update of one running bot shares. The factory sets the parts it builds;
    the services open on first use: in post_init, or earlier when the persistence asks
    for the conversations while the Application initialises."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.clock: Clock = Clock()
        self.metrics: Metrics | None = None
        self.budget: SendBudget | None = None
        self.broadcaster: Broadcaster | None = None
        self.monitor: MonitoringServer | None = None
        self._services: Services | None = None
        self._opening = asyncio.Lock()

    async def open_services(self) -> Services:
        """Open the services once; later calls return the same ones."""
        async with self._opening:
            if self._services is None:
                if self.settings is None:
                    raise ServicesNotOpen("the bot has no settings yet")
                self._services = await Services.open(self.settings, self.clock, self.metrics)
            return self._services

    @property
    def services(self) -> Services:
        if self._services is None:
            raise ServicesNotOpen("the services are not open")
        return self._services

    async def close_services(self) -> None:
        services, self._services = self._services, None
        if services is not None:
            await services.close()


class BotContext(CallbackContext[ExtBot[None], UserData, dict[Any, Any], BotData]):
    """PTB's context with the bot's own parts as typed attributes. PTB makes one per
    update, shared by the handlers of every group that update reaches."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._roles: dict[int, Role] = {}
        # Who reads this update's replies (a Babel locale: "es", "de_AT"), found before any
        # handler runs (bot/app.py); None where no person sent it (a job).
        self.reader: str | None = None

    async def role_of(self, tg_user_id: int) -> Role:
        """Someone's role, read once per update: the gate and the handler behind it see
        the same answer, for one read."""
        role = self._roles.get(tg_user_id)
        if role is None:
            role = self._roles[tg_user_id] = await self.services.roles.role_of(tg_user_id)
        return role

    @property
    def services(self) -> Services:
        return self.bot_data.services

    @property
    def broadcaster(self) -> Broadcaster:
        """The one bulk sender (broadcasts and the outbox)."""
        broadcaster = self.bot_data.broadcaster
        if broadcaster is None:
            raise ServicesNotOpen("the broadcaster is not running")
        return broadcaster

    @property
    def drafts(self) -> UserData:
        """The sender's drafts (every handler here serves a person, so there is one)."""
        if self.user_data is None:
            raise RuntimeError("this update has no user")
        return self.user_data


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData, user_data=UserData)

# The job queue's own type parameter is PTB's default context; its jobs get a BotContext.
App = Application[ExtBot[None], BotContext, UserData, dict[Any, Any], BotData, JobQueue[Any]]
