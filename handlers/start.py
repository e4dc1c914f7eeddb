"""/start: join, and the one dispatcher for every deep-link payload."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Update

from bot.services.membership import Profile
from bot.services.roles import Role
from bot.tokens import LinkKind, link_kind
from handlers import menus
from handlers.common import Context, get_services, main_keyboard, reply, say

logger = logging.getLogger(__name__)

DeepLinkHandler = Callable[[Update, Context, str], Awaitable[None]]


def profile_of(update: Update) -> Profile | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    return Profile(
        tg_user_id=user.id,
        chat_id=chat.id,
        first_name=user.first_name,
        username=user.username,
        language=user.language_code,
    )


async def join(update: Update, context: Context) -> None:
    """Create the membership once and show the main keyboard."""
    profile = profile_of(update)
    if profile is None:
        return
    services = get_services(context)
    member, created = await services.members.join(profile)
    role = await services.roles.role_of(profile.tg_user_id)
    if role is not Role.CUSTOMER:
        # A chat-scoped menu can only be set once the person has opened the bot.
        await menus.install_menu(context.bot, profile.chat_id, role, services.settings.language)
    if created:
        text = say(
            context,
            "welcome_new",
            cafe=services.settings.cafe_name,
            name=member.first_name,
        )
    else:
        text = say(context, "welcome_back", name=member.first_name, points=member.balance)
    await reply(update, text, reply_markup=main_keyboard(context))


async def card_link(update: Update, context: Context, payload: str) -> None:
    """A member card opened by someone who cannot scan cards."""
    await reply(update, say(context, "card_scan_not_staff"))


async def inactive_link(update: Update, context: Context, payload: str) -> None:
    await reply(update, say(context, "link_not_active"))


DEEP_LINKS: dict[LinkKind, DeepLinkHandler] = {
    LinkKind.CARD: card_link,
    LinkKind.COUPON: inactive_link,
    LinkKind.STAFF_INVITE: inactive_link,
    LinkKind.REFERRAL: inactive_link,
}


async def start(update: Update, context: Context) -> None:
    """Plain /start joins; /start <payload> goes to the feature the payload names."""
    if not context.args:
        await join(update, context)
        return
    payload = context.args[0]
    kind = link_kind(payload) if len(context.args) == 1 else None
    if kind is None:
        logger.info(
            "Malformed deep link from user %s", update.effective_user and update.effective_user.id
        )
        await reply(update, say(context, "link_malformed"))
        return
    await DEEP_LINKS[kind](update, context, payload)
