"""Help, and the replies for what the bot does not take from this person: unknown text, stray
photos, a card opened by a customer."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot import i18n
from bot.services.roles import Role
from handlers.common import (
    Context,
    lang,
    money,
    on_keyboard,
    reply,
    say,
)

logger = logging.getLogger(__name__)


async def help_command(update: Update, context: Context) -> None:
    """Explain how to earn and redeem."""
    settings = context.services.settings
    per_unit = settings.points_per_unit.normalize()
    # A whole rate is a count (its plural form follows it); a fractional one a number.
    rate: int | str = (
        int(per_unit)
        if per_unit == per_unit.to_integral_value()
        else i18n.number(lang(context), per_unit)
    )
    unit = money(context, 10**settings.currency_exponent)
    paragraphs = [say(context, "help", rate=rate, unit=unit)]
    user = update.effective_user
    if user and await context.role_of(user.id) >= Role.STAFF:
        paragraphs.append(say(context, "staff_help", minutes=settings.undo_window_minutes))
    await reply(update, "\n\n".join(paragraphs))


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
