"""Privacy: /mydata (everything kept about the member, as a file) and /forget."""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot.domain import Member
from bot.services.roles import Role
from handlers import menus
from handlers.common import (
    Context,
    button_args,
    member_only,
    on_button,
    remove_buttons,
    reply,
    say,
)

logger = logging.getLogger(__name__)


FORGET = "fgt"


@member_only
async def mydata_command(update: Update, context: Context, member: Member) -> None:
    """/mydata: everything the bot holds about the member, as a JSON file."""
    data = await context.services.privacy.export(member)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_document(
        InputFile(content, filename="my-data.json"),
        caption=say(context, "mydata_caption"),
    )


@member_only
async def forget_command(update: Update, context: Context, member: Member) -> None:
    """/forget: say what will happen, then ask."""
    coupons = len(await context.services.coupons.open_coupons(member))
    lines = [
        say(context, "forget_intro"),
        *([say(context, "forget_lose_coupons", coupons=coupons)] if coupons else []),
        *([say(context, "forget_lose_points", points=member.balance)] if member.balance else []),
        say(context, "forget_outro"),
    ]
    await reply(
        update,
        "\n".join(lines),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        say(context, "btn_forget_yes"), callback_data=f"{FORGET}:yes"
                    ),
                    InlineKeyboardButton(
                        say(context, "btn_forget_no"), callback_data=f"{FORGET}:no"
                    ),
                ]
            ]
        ),
    )


@member_only
async def forget_pressed(update: Update, context: Context, member: Member) -> None:
    parsed = await button_args(update, context, 1)
    if parsed is None or parsed[0] not in ("yes", "no"):
        return
    await remove_buttons(update)
    if parsed[0] == "no":
        await reply(update, say(context, "forget_kept"))
        return
    services = context.services
    await services.privacy.forget(member)
    await menus.install_menu(context.bot, member.chat_id, Role.CUSTOMER, services.languages)
    await reply(update, say(context, "forget_done"))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/mydata, /forget and its confirmation buttons."""
    return [
        CommandHandler("mydata", mydata_command),
        CommandHandler("forget", forget_command),
        on_button(FORGET, forget_pressed),
    ]
