"""Helpers every handler uses: the services, the language, the one permission gate."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any, cast

from telegram import Message, ReplyKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from bot.services.container import Services
from bot.services.roles import Role
from handlers.texts import t
from storage.members import Member

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
MemberCallback = Callable[[Update, Context, Member], Coroutine[Any, Any, None]]

SERVICES_KEY = "services"


def get_services(context: Context) -> Services:
    return cast(Services, context.bot_data[SERVICES_KEY])


def lang(context: Context) -> str:
    return get_services(context).settings.language


def say(context: Context, key: str, /, **values: object) -> str:
    """A text in the café's language."""
    return t(lang(context), key, **values)


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    """Answer in the chat the update came from, as HTML."""
    chat = update.effective_chat
    if chat is None:
        return None
    kwargs.setdefault("parse_mode", ParseMode.HTML)
    return await chat.send_message(text, **kwargs)


def main_keyboard(context: Context) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [
            [say(context, "btn_card"), say(context, "btn_balance")],
            [say(context, "btn_history"), say(context, "btn_help")],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def requires(role: Role) -> Callable[[Callback], Callback]:
    """The permission gate: every handler states the least role it needs."""

    def decorate(callback: Callback) -> Callback:
        @functools.wraps(callback)
        async def gated(update: Update, context: Context) -> None:
            user = update.effective_user
            if user is None:
                return
            actual = await get_services(context).roles.role_of(user.id)
            if actual < role:
                logger.info(
                    "Refused %s to user %s (role %s)", callback.__name__, user.id, actual.name
                )
                if update.callback_query:
                    await update.callback_query.answer(say(context, "not_allowed"), show_alert=True)
                else:
                    await reply(update, say(context, "not_allowed"))
                return
            await callback(update, context)

        return gated

    return decorate


def member_only(callback: MemberCallback) -> Callback:
    """Customer actions: pass the caller's membership, or ask them to press Start."""

    @functools.wraps(callback)
    async def with_member(update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        member = await get_services(context).members.find(user.id)
        if member is None:
            await reply(update, say(context, "not_a_member"))
            return
        await callback(update, context, member)

    return with_member
