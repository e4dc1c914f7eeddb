"""Per-role command menus, in every shipped language (setMyCommands with a scope and a
``language_code``: Telegram shows each person the list of their app's language).

Customers share the default scope, one list per language. Staff, managers and owners get
their chat's own scope, one list per language as well; someone who chose a language in
/settings gets one list in that language for every app language, so the choice holds."""

from __future__ import annotations

import asyncio
import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot import i18n
from bot.services.languages import LanguageService
from bot.services.roles import Role
from handlers.texts import t

logger = logging.getLogger(__name__)

CUSTOMER_COMMANDS = (
    "start", "card", "balance", "rewards", "coupons", "offers", "history", "invite",
    "settings", "mydata", "forget", "help",
)  # fmt: skip
STAFF_COMMANDS = ("scan", "redeem", "undo")
# A manager's /stats, /report and /audit show their location's (an owner's, any or all).
MANAGER_COMMANDS = ("staff", "stats", "report", "audit")
OWNER_COMMANDS = (
    "locations", "catalog", "offer", "broadcast", "broadcasts", "winback", "referrals",
    "export", "redemptionrate",
)  # fmt: skip


def commands_for(role: Role, lang: str) -> list[BotCommand]:
    names = list(CUSTOMER_COMMANDS)
    if role >= Role.STAFF:
        names += STAFF_COMMANDS
    if role >= Role.MANAGER:
        names += MANAGER_COMMANDS
    if role >= Role.OWNER:
        names += OWNER_COMMANDS
    return [BotCommand(name, t(lang, f"cmd_{name}")) for name in names]


def telegram_code(language: str) -> str:
    """The Bot API's language_code of a shipped language: ISO 639-1 ("pt_BR" → "pt")."""
    return language.split("_")[0]


async def install_default_menu(bot: Bot, languages: LanguageService) -> None:
    """Everyone who is not staff sees only the customer commands, in their app's language
    (the café's language for an app language we do not ship)."""
    scope = BotCommandScopeDefault()
    await asyncio.gather(
        bot.set_my_commands(commands_for(Role.CUSTOMER, languages.cafe_reader), scope=scope),
        *(
            bot.set_my_commands(
                commands_for(Role.CUSTOMER, languages.reader(language)),
                scope=scope,
                language_code=telegram_code(language),
            )
            for language in i18n.SHIPPED
        ),
    )


async def install_menu(bot: Bot, chat_id: int, role: Role, languages: LanguageService) -> None:
    """Give one person's chat the menu of their role, in their language: their choice
    in /settings for every app language, else each app language's own. A customer without
    a choice shares the default menus. A chat that never opened the bot is skipped."""
    scope = BotCommandScopeChat(chat_id)
    chosen = await languages.chosen(chat_id)  # a private chat's id is its person's
    try:
        if role is Role.CUSTOMER and chosen is None:
            await asyncio.gather(
                bot.delete_my_commands(scope=scope),
                *(
                    bot.delete_my_commands(scope=scope, language_code=telegram_code(language))
                    for language in i18n.SHIPPED
                ),
            )
            return
        fallback = languages.reader(chosen) if chosen else languages.cafe_reader
        await asyncio.gather(
            bot.set_my_commands(commands_for(role, fallback), scope=scope),
            *(
                bot.set_my_commands(
                    commands_for(role, languages.reader(chosen or language)),
                    scope=scope,
                    language_code=telegram_code(language),
                )
                for language in i18n.SHIPPED
            ),
        )
    except TelegramError as exc:
        logger.warning("Could not set the command menu for chat %s: %s", chat_id, exc)
