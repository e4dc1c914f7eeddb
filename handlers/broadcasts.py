"""Broadcasts: the owner's /broadcast wizard (write, pick the audience, preview, add a
version per language, send), /broadcasts with each one's figures, and the button under
every broadcast that stops offers and news."""

from __future__ import annotations

import contextlib
import html
import logging
import re
from typing import Any

from telegram import InlineKeyboardButton, Message, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, MessageHandler, filters

from bot import i18n
from bot.services.roles import Role
from handlers.broadcast_letter import OPT_OUT, PREVIEW, opt_out_markup, preview_markup
from handlers.common import (
    Context,
    button_expired,
    edit_text,
    lang,
    on_button,
    remove_buttons,
    reply,
    requires,
    say,
)
from handlers.context import BroadcastDraft
from handlers.wizard import (
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
B_MESSAGE, B_AUDIENCE, B_LAPSED, B_CONFIRM, B_PLACES, B_VISIT_DAYS, B_VERSION = range(100, 107)


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
    entry.versions, entry.writing = {}, ""
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
        return await broadcast_lost(update, context)
    entry.audience = audience
    count = await context.services.offers.audience_size(audience)
    if count == 0 or update.effective_chat is None:
        context.drafts.broadcast = None
        await reply(update, say(context, "broadcast_nobody"))
        return END
    if not await show(update, entry, entry.text, lang(context)):
        await ask(update, context, BROADCAST, "broadcast_bad_html")
        return B_MESSAGE
    await confirm(update, context, entry, count)
    return B_CONFIRM


async def show(update: Update, entry: BroadcastDraft, text: str, reader: str) -> bool:
    """Show the owner a version as its readers will see it (the bot's button in their
    language); False when Telegram cannot read its formatting."""
    chat = update.effective_chat
    if chat is None:
        return False
    try:
        if entry.photo:
            await chat.send_photo(entry.photo, caption=text, reply_markup=preview_markup(reader))
        else:
            await chat.send_message(text, reply_markup=preview_markup(reader))
    except BadRequest as error:
        logger.info("Broadcast preview rejected: %s", error)
        return False
    return True


async def confirm(
    update: Update, context: Context, entry: BroadcastDraft, count: int | None = None
) -> None:
    """Ask to send, saying which versions there are, with a button per language to add
    (or rewrite) one."""
    if count is None:
        count = await context.services.offers.audience_size(entry.audience)
    audience = await describe_audience(context, entry.audience)
    reader = lang(context)
    written = [language for language in i18n.SHIPPED if language in entry.versions]
    if written:
        names = i18n.listing(reader, [i18n.own_name(language) for language in written])
        question = say(
            context, "broadcast_preview_versions", count=count, audience=audience, languages=names
        )
    else:
        question = say(context, "broadcast_preview", count=count, audience=audience)
    rows = [[InlineKeyboardButton(say(context, "btn_send"), callback_data=f"{BROADCAST}:send")]]
    for language in i18n.SHIPPED:
        key = "btn_broadcast_version_again" if language in written else "btn_broadcast_version"
        label = say(context, key, language=i18n.own_name(language))
        data = f"{BROADCAST}:version:{language}"
        rows.append([InlineKeyboardButton(label, callback_data=data)])
    await reply(update, question, reply_markup=with_cancel(context, BROADCAST, rows))


async def broadcast_add_version(update: Update, context: Context) -> int | None:
    """A language's button under the preview: ask for the message in that language."""
    args = await pressed(update)
    language = args[1] if len(args) == 2 else ""
    entry = context.drafts.broadcast
    if entry is None or language not in i18n.SHIPPED:
        return None  # an old or forged button
    entry.writing = language
    await remove_buttons(update)
    key = "broadcast_ask_version_caption" if entry.photo else "broadcast_ask_version"
    await ask(update, context, BROADCAST, key, language=i18n.own_name(language))
    return B_VERSION


async def broadcast_version(update: Update, context: Context) -> int:
    """The message in the language asked for: shown as its readers will see it, kept,
    and the question asked again."""
    message = update.effective_message
    entry = context.drafts.broadcast
    if message is None or entry is None or entry.writing not in i18n.SHIPPED:
        return await broadcast_lost(update, context)
    limit = MessageLimit.CAPTION_LENGTH if entry.photo else MessageLimit.MAX_TEXT_LENGTH
    plain = message.text or ""
    if len(plain) > limit:
        await ask(update, context, BROADCAST, "broadcast_too_long", length=len(plain), limit=limit)
        return B_VERSION
    version = broadcast_html(message)
    if not await show(update, entry, version, context.services.languages.reader(entry.writing)):
        await ask(update, context, BROADCAST, "broadcast_bad_html")
        return B_VERSION
    # A new dict, not a change in place: the persisted draft is written when it changes.
    entry.versions = {**entry.versions, entry.writing: version}
    entry.writing = ""
    await confirm(update, context, entry)
    return B_CONFIRM


async def broadcast_lost(update: Update, context: Context) -> int:
    """Only a draft lost on the way gets here: ask for the message again."""
    context.drafts.broadcast = BroadcastDraft()
    await ask(update, context, BROADCAST, "broadcast_ask_message")
    return B_MESSAGE


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
        versions=entry.versions,
    )
    queued = say(context, "broadcast_queued", id=str(broadcast.id), count=broadcast.total)
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
    reader, tz = lang(context), services.settings.tz
    lines = [say(context, "broadcasts_title")]
    for broadcast in broadcasts:
        counts = await services.broadcasts.counts(broadcast.id)
        lines.append(
            say(
                context,
                "broadcasts_line_done" if broadcast.state == "done" else "broadcasts_line_sending",
                id=str(broadcast.id),
                date=i18n.day(reader, broadcast.created_at, tz),
                time=i18n.clock_time(reader, broadcast.created_at, tz),
                audience=await describe_audience(context, broadcast.audience),
                sent=counts.sent,
                total=broadcast.total,
                failed=counts.failed,
                blocked=counts.blocked,
            )
        )
    await reply(update, "\n".join(lines))


async def news_pressed(update: Update, context: Context) -> None:
    """The button under a broadcast: stop offers and news (or get them again); under the
    owner's preview it only says what it does."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    choice = (query.data or "").partition(":")[2]
    if choice == PREVIEW:
        await query.answer(say(context, "broadcast_news_preview"), show_alert=True)
        return
    member = await context.services.members.find(user.id)
    if choice not in ("0", "1") or member is None:
        await button_expired(update, context)
        return
    wanted = choice == "1"
    await context.services.members.set_promotions(member, wanted)
    await query.answer(say(context, "broadcast_news_again" if wanted else "broadcast_news_stopped"))
    with contextlib.suppress(BadRequest):  # pressed twice: it already shows the other one
        await query.edit_message_reply_markup(opt_out_markup(lang(context), subscribed=wanted))


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
            B_CONFIRM: [
                on_step_button(broadcast_send, BROADCAST, "send$"),
                on_step_button(broadcast_add_version, BROADCAST, "version:"),
            ],
            B_VERSION: [MessageHandler(TYPED, broadcast_version)],
        },
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/broadcasts, and the button under every broadcast."""
    return [CommandHandler("broadcasts", broadcasts_command), on_button(OPT_OUT, news_pressed)]
