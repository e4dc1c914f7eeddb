"""A member's preferences: /settings (offers and news; reminders and the birthday treat),
/birthday, and whether the bot can reach them at all (Telegram says when they block it)."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.ext import BaseHandler, ChatMemberHandler, CommandHandler

from bot.domain import Member
from bot.services.membership import BirthdayLocked
from handlers.common import (
    Context,
    button_args,
    edit_text,
    local_time,
    member_only,
    on_button,
    on_keyboard,
    reply,
    say,
)

PROMOTIONS = "promo"


async def settings_view(context: Context, member: Member) -> tuple[str, InlineKeyboardMarkup]:
    preferences = await context.services.members.preferences(member)
    lines = [
        say(context, "settings_title"),
        say(
            context,
            "settings_promotions_on" if preferences.promotions else "settings_promotions_off",
        ),
    ]
    lines.append(
        say(context, "settings_service_on" if preferences.service else "settings_service_off")
    )
    if preferences.birthday:
        month, day = preferences.birthday.split("-")
        lines.append(say(context, "settings_birthday", birthday=f"{day}.{month}"))
    else:
        lines.append(say(context, "settings_birthday_unset"))
    lines.append(say(context, "settings_privacy"))
    toggle = "btn_promotions_off" if preferences.promotions else "btn_promotions_on"
    value = 0 if preferences.promotions else 1
    service_toggle = "btn_service_off" if preferences.service else "btn_service_on"
    service_value = 0 if preferences.service else 1
    buttons = [
        [InlineKeyboardButton(say(context, toggle), callback_data=f"{PROMOTIONS}:{value}")],
        [
            InlineKeyboardButton(
                say(context, service_toggle), callback_data=f"{PROMOTIONS}:s{service_value}"
            )
        ],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


@member_only
async def settings_command(update: Update, context: Context, member: Member) -> None:
    """/settings: allow or stop promotional messages; birthday."""
    text, markup = await settings_view(context, member)
    await reply(update, text, reply_markup=markup)


async def promotions_pressed(update: Update, context: Context) -> None:
    """The two switches: offers and news; points reminders and the birthday treat.
    Receipts and coupon messages are not affected by either."""
    args = await button_args(update, context, 1)
    user = update.effective_user
    if args is None or args[0] not in ("0", "1", "s0", "s1") or user is None:
        return
    services = context.services
    member = await services.members.find(user.id)
    if member is None:
        return
    if args[0].startswith("s"):
        await services.members.set_service(member, service=args[0] == "s1")
    else:
        await services.members.set_promotions(member, args[0] == "1")
    text, markup = await settings_view(context, member)
    await edit_text(update, text, reply_markup=markup)


@member_only
async def birthday_command(update: Update, context: Context, member: Member) -> None:
    """/birthday 24.12: for birthday offers."""
    try:
        preferences = await context.services.members.set_birthday(
            member, " ".join(context.args or [])
        )
    except BirthdayLocked as locked:
        month, day = (locked.current.birthday or "00-00").split("-")
        date = local_time(context, locked.unlocks, "%d %b %Y")
        await reply(update, say(context, "birthday_locked", birthday=f"{day}.{month}", date=date))
        return
    except ValueError:
        await reply(update, say(context, "birthday_usage"))
        return
    month, day = (preferences.birthday or "00-00").split("-")
    await reply(update, say(context, "birthday_saved", birthday=f"{day}.{month}"))


async def bot_membership_changed(update: Update, context: Context) -> None:
    """Telegram tells us when someone blocks or unblocks the bot."""
    change = update.my_chat_member
    if change is None:
        return
    reachable = change.new_chat_member.status not in (
        ChatMemberStatus.BANNED,
        ChatMemberStatus.LEFT,
    )
    await context.services.members.set_reachable(change.chat.id, reachable)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/settings (and its keyboard button), the two switches, /birthday, blocking."""
    return [
        CommandHandler("settings", settings_command),
        on_keyboard("btn_settings", settings_command),
        on_button(PROMOTIONS, promotions_pressed),
        CommandHandler("birthday", birthday_command),
        ChatMemberHandler(bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
    ]
