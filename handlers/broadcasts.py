"""Broadcasts: the owner's /broadcast wizard (write, pick the audience, preview, send)
and /broadcasts with each one's figures."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from telegram import InlineKeyboardButton, Message, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot.services.roles import Role
from handlers.common import Context, edit_text, local_time, reply, requires, say
from handlers.context import BroadcastDraft
from handlers.wizard import (
    DATETIME,
    END,
    TYPED,
    ask,
    audience_keyboard,
    audience_steps,
    conversation,
    describe_audience,
    on_step_button,
    pressed,
    with_cancel,
)

logger = logging.getLogger(__name__)

BROADCAST = "bc"
_TAGS = r"(b|strong|i|em|u|ins|s|strike|del|a|code|pre|tg-spoiler|blockquote)\b"
TYPED_TAG = re.compile(rf"</?{_TAGS}")
STRAY_LESS_THAN = re.compile(rf"<(?!/?{_TAGS})")
BARE_AMPERSAND = re.compile(r"&(?!#?\w+;)")
B_MESSAGE, B_AUDIENCE, B_LAPSED, B_CONFIRM, B_PLACES, B_VISIT_DAYS = range(100, 106)


@requires(Role.OWNER)
async def broadcast_begin(update: Update, context: Context) -> int:
    """/broadcast: write, pick the audience, preview, confirm."""
    context.drafts.broadcast = BroadcastDraft()
    await ask(update, context, BROADCAST, "broadcast_ask_message")
    return B_MESSAGE


async def broadcast_message(update: Update, context: Context) -> int:
    message = update.effective_message
    if message is None:
        return B_MESSAGE
    plain = message.caption if message.photo else message.text
    limit = MessageLimit.CAPTION_LENGTH if message.photo else MessageLimit.MAX_TEXT_LENGTH
    if plain is not None and len(plain) > limit:
        await ask(update, context, BROADCAST, "broadcast_too_long", length=len(plain), limit=limit)
        return B_MESSAGE
    entry = context.drafts.broadcast = context.drafts.broadcast or BroadcastDraft()
    entry.photo = message.photo[-1].file_id if message.photo else None
    entry.text = broadcast_html(message)
    await reply(
        update,
        say(context, "broadcast_ask_audience"),
        reply_markup=await audience_keyboard(context, BROADCAST),
    )
    return B_AUDIENCE


def draft(context: Context) -> BroadcastDraft:
    drafts = context.drafts
    if drafts.broadcast is None:
        drafts.broadcast = BroadcastDraft()
    return drafts.broadcast


def broadcast_html(message: Message) -> str:
    """The owner's message as HTML: Telegram's own formatting (bold, links…) is kept, and a
    message without any may use HTML tags typed by hand (the preview checks them)."""
    formatted = bool(message.caption_entities if message.photo else message.entities)
    if formatted:
        return (message.caption_html if message.photo else message.text_html) or ""
    plain = (message.caption if message.photo else message.text) or ""
    if not TYPED_TAG.search(plain):
        return html.escape(plain, quote=False)
    # Typed tags are kept; a bare "&" or a "<" that opens no tag is text, so escape it.
    plain = BARE_AMPERSAND.sub("&amp;", plain)
    return STRAY_LESS_THAN.sub("&lt;", plain)


async def broadcast_preview(update: Update, context: Context, audience: str) -> int:
    entry = context.drafts.broadcast
    if entry is None or not (entry.text or entry.photo):
        # Only a draft lost on the way gets here: ask for the message again.
        context.drafts.broadcast = BroadcastDraft()
        await ask(update, context, BROADCAST, "broadcast_ask_message")
        return B_MESSAGE
    entry.audience = audience
    count = await context.services.offers.audience_size(audience)
    chat = update.effective_chat
    if count == 0 or chat is None:
        context.drafts.broadcast = None
        await reply(update, say(context, "broadcast_nobody"))
        return END
    try:
        if entry.photo:
            await chat.send_photo(entry.photo, caption=entry.text)
        else:
            await chat.send_message(entry.text)
    except BadRequest as error:
        logger.info("Broadcast preview rejected: %s", error)
        await ask(update, context, BROADCAST, "broadcast_bad_html")
        return B_MESSAGE
    rows = [[InlineKeyboardButton(say(context, "btn_send"), callback_data=f"{BROADCAST}:send")]]
    await reply(
        update,
        say(
            context,
            "broadcast_preview",
            count=count,
            audience=await describe_audience(context, audience),
        ),
        reply_markup=with_cancel(context, BROADCAST, rows),
    )
    return B_CONFIRM


async def broadcast_send(update: Update, context: Context) -> int:
    await pressed(update)
    user = update.effective_user
    entry, context.drafts.broadcast = context.drafts.broadcast, None
    if user is None or entry is None or not entry.audience:
        return END
    broadcast = await context.services.broadcasts.create(
        created_by=user.id,
        text=entry.text,
        photo_file_id=entry.photo,
        audience=entry.audience,
    )
    queued = say(context, "broadcast_queued", id=broadcast.id, count=broadcast.total)
    # The question turns into the confirmation: one message less in the owner's chat.
    if update.callback_query is not None:
        await edit_text(update, queued)
    else:
        await reply(update, queued)
    context.broadcaster.wake()
    return END


@requires(Role.OWNER)
async def broadcasts_command(update: Update, context: Context) -> None:
    """/broadcasts: past broadcasts with their figures."""
    services = context.services
    broadcasts = await services.broadcasts.recent()
    if not broadcasts:
        await reply(update, say(context, "broadcasts_none"))
        return
    lines = [say(context, "broadcasts_title")]
    for broadcast in broadcasts:
        counts = await services.broadcasts.counts(broadcast.id)
        lines.append(
            say(
                context,
                "broadcasts_line",
                id=broadcast.id,
                date=local_time(context, broadcast.created_at, DATETIME),
                audience=await describe_audience(context, broadcast.audience),
                sent=counts.sent,
                total=broadcast.total,
                failed=counts.failed,
                blocked=counts.blocked,
                state=say(context, f"broadcast_state_{broadcast.state}"),
            )
        )
    await reply(update, "\n".join(lines))


def broadcast_conversation() -> ConversationHandler[Any]:
    """/broadcast: the message (text or photo), the audience, a preview, then Send."""
    return conversation(
        "broadcast",
        BROADCAST,
        broadcast_begin,
        {
            B_MESSAGE: [MessageHandler(TYPED | filters.PHOTO, broadcast_message)],
            **audience_steps(
                BROADCAST,
                B_AUDIENCE,
                B_LAPSED,
                broadcast_preview,
                draft_of=draft,
                places_state=B_PLACES,
                visit_days_state=B_VISIT_DAYS,
            ),
            B_CONFIRM: [on_step_button(broadcast_send, BROADCAST, "send$")],
        },
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/broadcasts."""
    return [CommandHandler("broadcasts", broadcasts_command)]
