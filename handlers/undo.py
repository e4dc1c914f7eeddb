"""Undo at the counter: the Undo button under a confirmation and /undo [N], with the customer
told."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot.inputs import parse_int
from bot.services import errors
from bot.services.issuing import (
    Actor,
    Reversed,
)
from bot.services.roles import Role
from handlers.common import (
    Context,
    actor_of,
    button_args,
    count,
    member_reader,
    notify,
    on_button,
    remove_buttons,
    reply,
    requires,
    say,
)
from handlers.issuing import UNDO, explain, purchase_details
from handlers.texts import t

logger = logging.getLogger(__name__)


async def show_reversed(update: Update, context: Context, result: Reversed) -> None:
    """Tell the barista what was undone, and the customer, in the customer's language."""
    original, member = result.original, result.member
    if not result.created:
        await reply(update, say(context, "undo_already", entry=str(original.id)))
        return
    count(context, lambda m: m.ledger_entries.labels("reversal").inc())
    await reply(
        update,
        say(
            context,
            "undo_done_referral" if result.referral_taken_back else "undo_done",
            points=original.points,
            name=member.first_name,
            entry=str(original.id),
            balance=member.balance,
        ),
    )
    reader = await member_reader(context, member)
    await notify(
        context,
        member.chat_id,
        t(
            reader,
            "undo_notice_referral" if result.referral_taken_back.get("friend") else "undo_notice",
            details=purchase_details(context, original, reader),
            points=original.points,
            balance=member.balance,
        ),
    )


async def undo_entry(update: Update, context: Context, actor: Actor, entry_id: int) -> None:
    try:
        result = await context.services.issuing.undo(actor, entry_id)
    except errors.ServiceError as error:
        await explain(update, context, error)
        return
    await show_reversed(update, context, result)


@requires(Role.STAFF)
async def undo_pressed(update: Update, context: Context) -> None:
    """The Undo button under a confirmation."""
    parsed = await button_args(update, context, 1, numeric=(0,))
    if parsed is None:
        return
    actor = await actor_of(update, context)
    await undo_entry(update, context, actor, parsed.number(0))
    await remove_buttons(update)


@requires(Role.STAFF)
async def undo_command(update: Update, context: Context) -> None:
    """/undo: the barista's last purchase entry; /undo N: entry #N."""
    actor = await actor_of(update, context)
    args = context.args or []
    entry_id = parse_int(args[0]) if len(args) == 1 else None
    if len(args) > 1 or (args and entry_id is None):
        await reply(update, say(context, "undo_usage"))
        return
    if entry_id is not None:
        await undo_entry(update, context, actor, entry_id)
        return
    latest = await context.services.issuing.latest_undoable(actor)
    if latest is None:
        await reply(update, say(context, "undo_not_found"))
        return
    await undo_entry(update, context, actor, latest.id)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/undo and the Undo button."""
    return [
        CommandHandler("undo", undo_command),
        on_button(UNDO, undo_pressed),
    ]
