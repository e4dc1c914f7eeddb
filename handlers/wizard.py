"""The kit the owner's step-by-step conversations share: asking with a Cancel button,
reading a pressed button, the audience picker with its "days without a visit" step,
cancelling, and the persistent ConversationHandler they are built into."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.inputs import parse_int
from bot.offers import parse_audience
from handlers.common import Context, remove_buttons, reply, say

DATETIME = "%d %b %H:%M"
CONVERSATION_TIMEOUT_SECONDS = 15 * 60
END = ConversationHandler.END
# What an owner types at a step: plain text, never a command (/cancel ends the wizard).
TYPED = filters.TEXT & ~filters.COMMAND

Step = Callable[[Update, Context], Coroutine[Any, Any, int]]
AudienceChosen = Callable[[Update, Context, str], Awaitable[int]]
StepHandlers = list[BaseHandler[Update, Any, Any]]


def with_cancel(
    context: Context, prefix: str, rows: list[list[InlineKeyboardButton]] | None = None
) -> InlineKeyboardMarkup:
    """The given button rows with the wizard's Cancel button under them."""
    cancel = InlineKeyboardButton(say(context, "btn_cancel"), callback_data=f"{prefix}:cancel")
    return InlineKeyboardMarkup([*(rows or []), [cancel]])


async def ask(update: Update, context: Context, prefix: str, key: str, **values: object) -> None:
    """Ask the next question, with a Cancel button."""
    await reply(update, say(context, key, **values), reply_markup=with_cancel(context, prefix))


def message_text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message else ""


async def pressed(update: Update) -> list[str]:
    """Answer a conversation button and return what follows its prefix."""
    query = update.callback_query
    if query is None:
        return []
    await query.answer()
    return (query.data or "").split(":")[1:]


def on_step_button(callback: Step, prefix: str, pattern: str) -> CallbackQueryHandler[Any, Any]:
    """A step's button: its data is ``<prefix>:<pattern>…``."""
    return CallbackQueryHandler(callback, pattern=rf"^{prefix}:{pattern}")


# -- the audience picker ---------------------------------------------------------------------


def describe_audience(context: Context, audience: str) -> str:
    parsed = parse_audience(audience)
    if parsed.kind == "tier":
        return say(context, "audience_tier", tier=parsed.value)
    if parsed.kind == "lapsed":
        return say(context, "audience_lapsed", days=parsed.value)
    return say(context, f"audience_{parsed.kind}")


def audience_keyboard(context: Context, prefix: str) -> InlineKeyboardMarkup:
    tiers = context.services.settings.tiers
    rows = [[InlineKeyboardButton(say(context, "audience_all"), callback_data=f"{prefix}:aud:all")]]
    rows.append(
        [
            InlineKeyboardButton(
                say(context, "audience_tier", tier=tier.name), callback_data=f"{prefix}:aud:t{i}"
            )
            for i, tier in enumerate(tiers)
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                say(context, "audience_lapsed_button"), callback_data=f"{prefix}:aud:lapsed"
            ),
            InlineKeyboardButton(
                say(context, "audience_birthday"), callback_data=f"{prefix}:aud:birthday"
            ),
        ]
    )
    return with_cancel(context, prefix, rows)


def chosen_audience(context: Context, choice: str) -> str | None:
    """The audience a button names; None when the owner must still say how many days."""
    tier_index = parse_int(choice[1:]) if choice.startswith("t") else None
    if tier_index is not None:
        tiers = context.services.settings.tiers
        return f"tier:{tiers[tier_index].name}" if tier_index < len(tiers) else "all"
    if choice == "lapsed":
        return None
    return "birthday" if choice == "birthday" else "all"


def lapsed_days(text: str) -> str | None:
    days = parse_int(text, low=1, high=3650)
    return None if days is None else f"lapsed:{days}"


def audience_steps(
    prefix: str, audience_state: int, lapsed_state: int, chosen: AudienceChosen
) -> dict[object, StepHandlers]:
    """The two steps that pick an audience: the buttons, then (for "no visit for N days")
    the number of days. ``chosen`` takes the audience and returns the next state."""

    async def audience_pressed(update: Update, context: Context) -> int:
        """An audience button; "lapsed" first asks for the days."""
        args = await pressed(update)
        audience = chosen_audience(context, args[1] if len(args) == 2 else "all")
        if audience is None:
            await ask(update, context, prefix, "ask_lapsed_days")
            return lapsed_state
        return await chosen(update, context, audience)

    async def lapsed_typed(update: Update, context: Context) -> int:
        """The number of days for a "no visit for N days" audience."""
        audience = lapsed_days(message_text(update))
        if audience is None:
            await ask(update, context, prefix, "bad_lapsed_days")
            return lapsed_state
        return await chosen(update, context, audience)

    return {
        audience_state: [on_step_button(audience_pressed, prefix, "aud:")],
        lapsed_state: [MessageHandler(TYPED, lapsed_typed)],
    }


# -- the conversation ------------------------------------------------------------------------


def conversation(
    name: str,
    prefix: str,
    begin: Step,
    states: dict[object, StepHandlers],
) -> ConversationHandler[Any]:
    """A wizard entered by the command ``/<name>``, with its draft in ``UserData.<name>``:
    cancelled by /cancel or its Cancel button, ended after a quiet quarter of an hour, and
    kept in the database so a restart continues it.

    Only the entry command passes the permission gate (``begin`` is gated): the later
    steps are reachable only from a chat that entered the conversation."""

    async def cancel_conversation(update: Update, context: Context) -> int:
        """/cancel or the Cancel button, at any step: drop the draft, save nothing."""
        if update.callback_query is not None:
            await update.callback_query.answer()
            await remove_buttons(update)
        setattr(context.drafts, name, None)
        await reply(update, say(context, "conversation_cancelled"))
        return END

    cancel: StepHandlers = [
        CommandHandler("cancel", cancel_conversation),
        CallbackQueryHandler(cancel_conversation, pattern=rf"^{prefix}:cancel$"),
    ]
    # PTB warns that CallbackQueryHandlers are tracked per chat, not per message; that is
    # what these conversations want (one draft per owner chat).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message.*")
        return ConversationHandler(
            entry_points=[CommandHandler(name, begin)],
            states=dict(states),
            fallbacks=cancel,
            conversation_timeout=CONVERSATION_TIMEOUT_SECONDS,
            name=name,
            persistent=True,
        )
