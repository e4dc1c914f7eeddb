"""Per-role command menus (setMyCommands with chat scopes)."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

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


async def install_default_menu(bot: Bot, lang: str) -> None:
    """Everyone who is not staff sees only the customer commands."""
    await bot.set_my_commands(commands_for(Role.CUSTOMER, lang), scope=BotCommandScopeDefault())


async def install_menu(bot: Bot, chat_id: int, role: Role, lang: str) -> None:
    """Give one chat the menu of its role. A chat that never opened the bot is skipped."""
    try:
        if role is Role.CUSTOMER:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
        else:
            await bot.set_my_commands(commands_for(role, lang), scope=BotCommandScopeChat(chat_id))
    except TelegramError as exc:
        logger.warning("Could not set the command menu for chat %s: %s", chat_id, exc)
