"""/start: join, and the one dispatcher for every deep-link payload (opened or photographed)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs, urlparse

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from bot import qr
from bot.services.roles import Role
from bot.tokens import LinkKind, link_kind
from handlers import coupons, help, issuing, menus, referrals, staff
from handlers.common import Callback, Context, main_keyboard, reply, requires, say
from handlers.profile import profile_of

logger = logging.getLogger(__name__)


async def join(update: Update, context: Context) -> None:
    """Create the membership once and show the main keyboard."""
    profile = profile_of(update)
    if profile is None:
        return
    services = context.services
    member, created = await services.members.join(profile)
    role = await services.roles.role_of(profile.tg_user_id)
    if role is not Role.CUSTOMER:
        # A chat-scoped menu can only be set once the person has opened the bot.
        await menus.install_menu(context.bot, profile.chat_id, role, services.languages)
    if created:
        text = say(context, "welcome_new", cafe=services.settings.cafe_name, name=member.first_name)
    else:
        text = say(context, "welcome_back", name=member.first_name, points=member.balance)
    await reply(update, text, reply_markup=main_keyboard(context))


# Each handler reads its payload from context.args[0].
DEEP_LINKS: dict[LinkKind, Callback] = {
    LinkKind.CARD: issuing.card_link,
    LinkKind.COUPON: coupons.coupon_link,
    LinkKind.STAFF_INVITE: staff.invite_link,
    LinkKind.REFERRAL: referrals.referral_link,
    LinkKind.OWNER_CLAIM: staff.owner_claim_link,
}


async def dispatch(update: Update, context: Context, payload: str) -> None:
    kind = link_kind(payload)
    if kind is None:
        user = update.effective_user
        logger.info("Malformed deep link from user %s", user.id if user else None)
        await reply(update, say(context, "link_malformed"))
        return
    context.args = [payload]
    await DEEP_LINKS[kind](update, context)


async def start(update: Update, context: Context) -> None:
    """Plain /start joins; /start <payload> goes to the feature the payload names."""
    if not context.args:
        await join(update, context)
        return
    await dispatch(update, context, context.args[0] if len(context.args) == 1 else "")


def payload_from_qr(text: str) -> str | None:
    """The start payload of a ``t.me/<bot>?start=…`` link, or None."""
    url = urlparse(text.strip())
    if url.netloc not in {"t.me", "telegram.me"}:
        return None
    values = parse_qs(url.query).get("start")
    return values[0] if values else None


@requires(Role.STAFF, otherwise=help.photo_from_customer)
async def qr_photo(update: Update, context: Context) -> None:
    """A photo of a QR code: decode it on the server and open its link, like a camera scan."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    try:
        file = await message.photo[-1].get_file()
        image = bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        logger.warning("Could not download a QR photo: %s", exc)
        await reply(update, say(context, "photo_no_qr"))
        return
    texts = await asyncio.to_thread(qr.decode, image)
    if not texts:
        await reply(update, say(context, "photo_no_qr"))
        return
    payload = next((p for p in map(payload_from_qr, texts) if p), None)
    if payload is None or link_kind(payload) is None:
        await reply(update, say(context, "photo_not_ours"))
        return
    await dispatch(update, context, payload)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/start (with or without a deep-link payload) and photos of QR codes."""
    return [CommandHandler("start", start), MessageHandler(filters.PHOTO, qr_photo)]
