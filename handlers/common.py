"""Helpers every handler uses: texts in the reader's language, replies within Telegram's
limits, the one permission gate, button data, the main keyboard and notifying people."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from telegram import Message, ReplyKeyboardMarkup, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot import i18n
from bot.domain import Member
from bot.inputs import parse_int
from bot.observability import Metrics
from bot.services.issuing import Actor
from bot.services.roles import Role
from handlers.context import BotContext
from handlers.outbox import receipt_text
from handlers.texts import button_texts, t

logger = logging.getLogger(__name__)

Context = BotContext
Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]
R = TypeVar("R")
MemberCallback = Callable[[Update, Context, Member], Coroutine[Any, Any, None]]


def lang(context: Context) -> str:
    """The reader of this update's replies: the sender's language (their choice in
    /settings, else their Telegram's), or the café's where no person sent it."""
    return context.reader or context.services.languages.cafe_reader


def say(context: Context, key: str, /, **values: object) -> str:
    """A text in the language of the person this update came from."""
    return t(lang(context), key, **values)


def on_button(prefix: str, callback: Callback) -> CallbackQueryHandler[Any, Any]:
    """The handler of one kind of inline button: its data is "<prefix>" or "<prefix>:<args>"."""
    return CallbackQueryHandler(callback, pattern=rf"^{prefix}(:|$)")


def on_keyboard(key: str, callback: Callback) -> MessageHandler[Any, Any]:
    """The handler of one main-keyboard button: its label in any language we speak."""
    return MessageHandler(filters.Text(button_texts(key)), callback)


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long text into messages Telegram accepts, at line ends where possible.

    Our texts keep every HTML tag within one line, so no tag is ever cut in two."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            candidate = line
        current = candidate
    parts.append(current)
    return [part for part in parts if part.strip()] or [text]


async def reply(update: Update, text: str, **kwargs: Any) -> Message | None:
    """Answer in the chat the update came from, as HTML; long texts go out in parts, with
    any buttons under the last one."""
    chat = update.effective_chat
    if chat is None:
        return None
    *first, last = split_text(text)
    for part in first:
        await chat.send_message(part)
    return await chat.send_message(last, **kwargs)


def deep_link(context: Context, payload: str) -> str:
    """The t.me link that opens this bot with ``payload`` (what every QR code holds)."""
    return f"https://t.me/{context.bot.username}?start={payload}"


def main_keyboard(context: Context) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        [
            [say(context, "btn_card"), say(context, "btn_balance")],
            [say(context, "btn_rewards"), say(context, "btn_coupons")],
            [say(context, "btn_offers"), say(context, "btn_history")],
            [say(context, "btn_settings"), say(context, "btn_help")],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


async def at_least(update: Update, context: Context, role: Role) -> bool:
    """The one permission check: does the sender hold ``role`` or a higher one?"""
    user = update.effective_user
    if user is None:
        return False
    return await context.role_of(user.id) >= role


def requires(
    role: Role, *, otherwise: Callback | None = None
) -> Callable[[Callable[[Update, Context], Coroutine[Any, Any, R]]], Callable[..., Any]]:
    """The permission gate: every handler states the least role it needs.

    People below ``role`` get a polite refusal, or are handed to ``otherwise`` where the
    same input means something else for them (a number a customer types is no amount).
    """

    def decorate(
        callback: Callable[[Update, Context], Coroutine[Any, Any, R]],
    ) -> Callable[[Update, Context], Coroutine[Any, Any, R | None]]:
        @functools.wraps(callback)
        async def gated(update: Update, context: Context) -> R | None:
            user = update.effective_user
            if user is None:
                return None
            allowed = await at_least(update, context, role)
            if not allowed and otherwise is not None:
                await otherwise(update, context)
                return None
            if not allowed:
                logger.info("Refused %s to user %s", callback.__name__, user.id)
                if update.callback_query:
                    await update.callback_query.answer(say(context, "not_allowed"), show_alert=True)
                else:
                    await reply(update, say(context, "not_allowed"))
                return None
            return await callback(update, context)

        return gated

    return decorate


async def actor_of(update: Update, context: Context) -> Actor:
    """The staff member or owner behind an update that passed the gate."""
    user = update.effective_user
    assert user is not None
    role = await context.role_of(user.id)
    return Actor(tg_user_id=user.id, first_name=user.first_name, role=role)


async def notify(context: Context, chat_id: int, text: str, **kwargs: Any) -> bool:
    """Message someone other than the sender; a blocked or unknown chat is logged, not fatal."""
    try:
        await context.bot.send_message(chat_id, text, **kwargs)
    except (Forbidden, BadRequest) as exc:
        logger.info("Could not notify chat %s: %s", chat_id, exc)
        return False
    return True


async def member_reader(context: Context, member: Member) -> str:
    """The reader of a text for ``member``, who may not be this update's sender (a
    receipt from a barista's scan): their choice in /settings, else their Telegram's."""
    return await context.services.languages.reader_of(member.tg_user_id, member.language)


async def person_reader(context: Context, tg_user_id: int) -> str:
    """The reader of someone known by their Telegram id only (an owner): their choice,
    else the Telegram language they joined with, else the café's."""
    return await context.services.languages.reader_of_person(tg_user_id)


async def send_receipt(
    context: Context, member: Member, key: str, facts: Mapping[str, Any]
) -> None:
    """A receipt reaches the customer, in their language, even when Telegram fails just
    now (5xx, a timeout, a dropped connection): its facts then go to the outbox, and it is
    written again in their language when it is retried with back-off."""
    services = context.services
    reader = await member_reader(context, member)
    try:
        await context.bot.send_message(
            member.chat_id, receipt_text(facts, services.settings, reader)
        )
    except (Forbidden, BadRequest) as exc:
        logger.info("Could not send receipt %s: %s", key, exc)
    except TelegramError as exc:
        logger.warning("Receipt %s queued for later: %s", key, type(exc).__name__)
        if await services.outbox.queue_receipt(member.id, key, facts):
            context.broadcaster.wake()


async def notify_owners(context: Context, text: str | Callable[[str], str]) -> None:
    """Tell every owner, each in their own language when ``text`` is a function of the
    reader. During quiet hours the message arrives silently: it is there in the morning
    without waking anyone."""
    services = context.services
    settings = services.settings
    silent = settings.quiet_hours.contains(services.clock.now(), settings.tz)
    for owner_id in await services.roles.owner_ids():
        shown = text if isinstance(text, str) else text(await person_reader(context, owner_id))
        await notify(context, owner_id, shown, disable_notification=silent)


def money(context: Context, minor: int) -> str:
    """An amount in the café's currency, as the reader writes money."""
    settings = context.services.settings
    return i18n.money(lang(context), minor, settings.currency, settings.currency_exponent)


def local_date(context: Context, moment: datetime) -> str:
    """A day in café time, as the reader writes dates ("3 Dec 2026", "3 дек. 2026 г.")."""
    return i18n.day(lang(context), moment, context.services.settings.tz)


def local_day_time(context: Context, moment: datetime) -> str:
    """Day, month and time in café time, as the reader writes them ("3 Dec, 14:05")."""
    return i18n.day_time(lang(context), moment, context.services.settings.tz)


def local_clock(context: Context, moment: datetime) -> str:
    """A time of day in café time, as the reader writes it ("14:05", "2:05 PM")."""
    return i18n.clock_time(lang(context), moment, context.services.settings.tz)


@dataclass(frozen=True, slots=True)
class ButtonArgs:
    """A pressed button's arguments, checked: ``args[i]`` is the text at position i, and
    ``args.number(i)`` the whole number at a numeric position, parsed once by the one
    strict parser (``parse_int``), so no handler parses button text again. The text at a
    numeric position is that number's plain digits ("#31" and " 31" read "31")."""

    texts: tuple[str, ...]
    numbers: dict[int, int | None]  # position: value (None: an empty optional one)

    def __getitem__(self, index: int) -> str:
        return self.texts[index]

    def number(self, index: int) -> int:
        """The number at a position given as ``numeric``."""
        value = self.numbers[index]
        if value is None:
            raise ValueError(f"button argument {index} is empty")
        return value

    def number_or_none(self, index: int) -> int | None:
        """The number at a position given as ``optional``: None when it is empty."""
        return self.numbers[index]


async def button_args(
    update: Update,
    context: Context,
    parts: int,
    *,
    numeric: tuple[int, ...] = (),
    optional: tuple[int, ...] = (),
    answer: bool = True,
) -> ButtonArgs | None:
    """Answer a button press (stopping the client's spinner) and return its arguments.

    Callback data is ``prefix:arg1:…``. Data without ``parts`` arguments, or whose
    arguments at the ``numeric`` positions are not strict whole numbers (``parse_int``),
    or at the ``optional`` positions neither empty nor one, is answered "This button has
    expired" and gives None: old, forged or garbled. ``answer=False`` leaves a valid press
    for the caller to answer, with a text of its own."""
    query = update.callback_query
    if query is None:
        return None
    texts = (query.data or "").split(":")[1:]
    numbers = _button_numbers(texts, numeric, optional) if len(texts) == parts else None
    if numbers is None:
        await button_expired(update, context)
        return None
    for index, value in numbers.items():
        texts[index] = "" if value is None else str(value)
    if answer:
        await query.answer()
    return ButtonArgs(tuple(texts), numbers)


def _button_numbers(
    texts: list[str], numeric: tuple[int, ...], optional: tuple[int, ...]
) -> dict[int, int | None] | None:
    """The numbers at the given positions, or None when one is no strict whole number."""
    numbers: dict[int, int | None] = {}
    for index in (*numeric, *optional):
        if index in optional and texts[index] == "":
            numbers[index] = None
            continue
        value = parse_int(texts[index])
        if value is None:
            return None
        numbers[index] = value
    return numbers


async def button_expired(update: Update, context: Context) -> None:
    """The one answer for a button nothing handles any more."""
    query = update.callback_query
    if query is not None:
        await query.answer(say(context, "button_expired"))


async def edit_text(update: Update, text: str, **kwargs: Any) -> None:
    """Edit the message a button was pressed on. A double tap that would change nothing is
    done already (Telegram says "not modified"), not an error."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_text(text, **kwargs)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def remove_buttons(update: Update) -> None:
    """Take the buttons off the message a button was pressed on. A double tap finds them
    gone already, which Telegram reports as "not modified": nothing to do then."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


def member_only(callback: MemberCallback) -> Callback:
    """Customer actions: pass the caller's membership, or ask them to press Start."""

    @functools.wraps(callback)
    async def with_member(update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        member = await context.services.members.find(user.id)
        if member is None:
            if update.callback_query is not None:
                await update.callback_query.answer(say(context, "not_a_member"), show_alert=True)
                return
            await reply(update, say(context, "not_a_member"))
            return
        await callback(update, context, member)

    return with_member


def count(context: Context, bump: Callable[[Metrics], object]) -> None:
    """Move a metric, when the bot keeps metrics (tests may run without)."""
    metrics = context.services.metrics
    if metrics is not None:
        bump(metrics)
