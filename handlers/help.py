"""Help, and the replies for what the bot does not take from this person: unknown text, stray
photos, a card opened by a customer."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot.services.roles import Role
from handlers.common import (
    Context,
    money,
    on_keyboard,
    reply,
    say,
)

logger = logging.getLogger(__name__)


async def help_command(update: Update, context: Context) -> None:
    """Explain how to earn and redeem."""
    settings = context.services.settings
    per_unit = settings.points_per_unit
    rate = (
        say(context, "points_rate_one")
        if per_unit == 1
        else say(context, "points_rate_many", count=per_unit.normalize())
    )
    unit = money(context, 10**settings.currency_exponent)
    text = say(context, "help", rate=rate, unit=unit)
    user = update.effective_user
    if user and await context.role_of(user.id) >= Role.STAFF:
        text += say(context, "staff_help", minutes=settings.undo_window_minutes)
    await reply(update, text)


async def card_link_refused(update: Update, context: Context) -> None:
    """A member card opened by someone who may not scan cards: reveal nothing."""
    await reply(update, say(context, "card_scan_not_staff"))


async def photo_from_customer(update: Update, context: Context) -> None:
    """Customers have no use for photos here."""
    await reply(update, say(context, "photo_customer"))


async def unknown_text(update: Update, context: Context) -> None:
    """Anything we do not understand gets a pointer to the buttons."""
    await reply(update, say(context, "unknown_text"))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/help and its keyboard button."""
    return [
        CommandHandler("help", help_command),
        on_keyboard("btn_help", help_command),
    ]
