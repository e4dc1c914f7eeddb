"""A member's preferences: /settings (offers and news; reminders and the birthday treat;
the language), /birthday, and whether the bot can reach them at all (Telegram says when
they block it)."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.ext import BaseHandler, ChatMemberHandler, CommandHandler

from bot import i18n
from bot.domain import Member
from bot.offers import ENGLISH_MONTHS, month_words
from bot.services.membership import BirthdayLocked
from handlers import menus
from handlers.common import (
    Context,
    button_args,
    edit_text,
    lang,
    main_keyboard,
    member_only,
    on_button,
    on_keyboard,
    reply,
    say,
)

PROMOTIONS = "promo"
LANGUAGE = "lang"
LEAP_YEAR = 2000  # a birthday may be 29 February


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
        lines.append(
            say(context, "settings_birthday", birthday=birthday_text(context, preferences.birthday))
        )
    else:
        lines.append(say(context, "settings_birthday_unset"))
    lines.append(
        say(context, "settings_language", language=i18n.own_name(i18n.language_of(lang(context))))
    )
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
        [InlineKeyboardButton(say(context, "btn_language"), callback_data=f"{LANGUAGE}:")],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


@functools.cache
def typed_months(reader: str) -> dict[str, int]:
    """The month words a reader may type in a birthday ("24 дек", "24 Dezember"): every
    name their language has for a month, and the English ones."""
    return ENGLISH_MONTHS | month_words(i18n.month_names(reader))


def birthday_text(context: Context, birthday: str) -> str:
    """A stored birthday ("12-24") as the reader writes a day and month ("24 Dec")."""
    month, day = (int(part) for part in birthday.split("-"))
    return i18n.day_month(lang(context), date(LEAP_YEAR, month, day))


def language_buttons(context: Context) -> InlineKeyboardMarkup:
    """Every shipped language by its own name, the reader's own ticked."""
    current = i18n.language_of(lang(context))
    rows = [
        [
            InlineKeyboardButton(
                say(
                    context,
                    "language_current" if language == current else "language_other",
                    name=i18n.own_name(language),
                ),
                callback_data=f"{LANGUAGE}:{language}",
            )
        ]
        for language in i18n.SHIPPED
    ]
    return InlineKeyboardMarkup(rows)


async def language_pressed(update: Update, context: Context) -> None:
    """The language button in /settings: the choice of languages, then the one chosen.
    Everything the bot says to this person is in it from this reply on."""
    args = await button_args(update, context, 1)
    user = update.effective_user
    if args is None or user is None:
        return
    if not args[0]:
        await edit_text(
            update, say(context, "language_question"), reply_markup=language_buttons(context)
        )
        return
    if i18n.shipped_language(args[0]) != args[0]:
        return  # old or forged data: the press is answered, nothing changes
    context.reader = await context.services.languages.choose(user.id, args[0])
    role = await context.role_of(user.id)
    await menus.install_menu(context.bot, user.id, role, context.services.languages)
    await edit_text(update, say(context, "language_chosen", name=i18n.own_name(args[0])))
    # The keyboard under the chat is in the new language only once it is sent again.
    await reply(update, say(context, "language_keyboard"), reply_markup=main_keyboard(context))


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
            member, " ".join(context.args or []), typed_months(lang(context))
        )
    except BirthdayLocked as locked:
        birthday = birthday_text(context, locked.current.birthday or "01-01")
        unlocks = i18n.day(lang(context), locked.unlocks, context.services.settings.tz)
        await reply(update, say(context, "birthday_locked", birthday=birthday, date=unlocks))
        return
    except ValueError:
        await reply(update, say(context, "birthday_usage"))
        return
    birthday = birthday_text(context, preferences.birthday or "01-01")
    await reply(update, say(context, "birthday_saved", birthday=birthday))


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
        on_button(LANGUAGE, language_pressed),
        CommandHandler("birthday", birthday_command),
        ChatMemberHandler(bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
    ]
