"""The question a barista who works in several shops gets at their first scan of the day (or
with /where): where are you now? One button per open location they work in."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.common import Context, reply, say

# Callback data: "here:<location id>" or "here:<location id>:<scan id>" (the scan waiting
# for the answer; a typed code's scan id has colons of its own, so it is the whole rest).
HERE = "here"


def where_keyboard(
    choices: tuple[tuple[int, str], ...], scan_id: str | None
) -> InlineKeyboardMarkup:
    suffix = f":{scan_id}" if scan_id else ""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"📍 {name[:40]}", callback_data=f"{HERE}:{location_id}{suffix}")]
            for location_id, name in choices
        ]
    )


async def ask_where(
    update: Update,
    context: Context,
    choices: tuple[tuple[int, str], ...],
    scan_id: str | None = None,
) -> None:
    """Ask where the sender is working; a waiting scan continues once they answer."""
    user = update.effective_user
    if not choices and user is not None:
        choices = await context.services.locations.choices_for(user.id)
    if not choices:
        await reply(update, say(context, "no_open_location"))
        return
    key = "where_question_scan" if scan_id else "where_question"
    await reply(update, say(context, key), reply_markup=where_keyboard(choices, scan_id))
