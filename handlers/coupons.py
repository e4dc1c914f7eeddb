"""Coupons: redeeming points for a reward, the customer's /coupons, cancelling one, and staff
handing the reward over (scanning the coupon or /redeem CODE)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler

from bot import i18n
from bot.domain import Coupon, CouponState, Member
from bot.qr import render_png, render_void_png
from bot.services import errors
from bot.services.coupons import CouponView, display_code
from bot.services.roles import Role
from handlers.common import (
    Context,
    actor_of,
    button_args,
    count,
    deep_link,
    local_clock,
    local_date,
    local_day_time,
    member_only,
    member_reader,
    notify,
    on_button,
    on_keyboard,
    remove_buttons,
    reply,
    requires,
    say,
)
from handlers.texts import t
from handlers.whereabouts import ask_where

logger = logging.getLogger(__name__)


REDEEM = "rdm"
SHOW = "cshow"
CANCEL_ASK = "ccx"
CANCEL_YES = "ccy"
CANCEL_KEEP = "ckp"
CONFIRM = "cok"


async def send_coupon(context: Context, chat_id: int, view: CouponView) -> None:
    """The coupon's QR with its code and date, in its owner's language."""
    coupon = view.coupon
    reader = await member_reader(context, view.member)
    caption = t(
        reader,
        "coupon_caption",
        title=coupon.title,
        name=view.member.first_name,
        cost=coupon.cost,
        code=display_code(coupon.code),
        date=i18n.day(reader, coupon.expires_at, context.services.settings.tz),
    )
    message = await context.bot.send_photo(
        chat_id,
        render_png(deep_link(context, coupon.token)),
        caption=caption,
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t(reader, "btn_cancel_coupon"), callback_data=f"{CANCEL_ASK}:{coupon.id}"
                    )
                ]
            ]
        ),
    )
    await context.services.coupons.remember_message(coupon, chat_id, message.message_id)


async def retire_coupon_messages(context: Context, view: CouponView) -> None:
    """Every message that showed this coupon's QR now says it is closed (in its owner's
    language), with a struck-out code and no buttons, so nobody shows a dead coupon at
    the counter."""
    coupon = view.coupon
    reader = await member_reader(context, view.member)
    caption = t(
        reader,
        f"coupon_closed_{coupon.state.value}",
        title=coupon.title,
        date=i18n.day(reader, coupon.closed_at or coupon.expires_at, context.services.settings.tz),
    )
    image = await asyncio.to_thread(render_void_png, deep_link(context, coupon.token))
    file_id: str | None = None
    for chat_id, message_id in await context.services.coupons.messages_of(coupon):
        media = InputMediaPhoto(file_id or image, caption=caption)
        try:
            edited = await context.bot.edit_message_media(
                media, chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        except TelegramError as exc:  # deleted by the customer, blocked bot…
            logger.info("Could not retire coupon %s message %s: %s", coupon.id, message_id, exc)
            continue
        if isinstance(edited, Message) and edited.photo:
            file_id = edited.photo[-1].file_id  # upload the image once


async def redeem_pressed(update: Update, context: Context) -> None:
    """Redeem: debit the points and send the coupon. A double tap gives one coupon, sent once."""
    parsed = await button_args(update, context, 1, numeric=(0,), answer=False)
    query, user = update.callback_query, update.effective_user
    if parsed is None or query is None or query.message is None or user is None:
        return
    reward_id, message_id = parsed.number(0), query.message.message_id
    services = context.services
    member = await services.members.find(user.id)
    if member is None:
        await query.answer()
        await reply(update, say(context, "not_a_member"))
        return
    button = f"redeem:{member.id}:{message_id}:{reward_id}"
    try:
        redeemed = await services.coupons.redeem(member, reward_id, button)
    except errors.NotEnoughPoints as short:
        await query.answer()
        await reply(update, say(context, "not_enough_points", missing=short.missing))
        return
    except errors.RewardUnavailable:
        await query.answer()
        await reply(update, say(context, "reward_unavailable"))
        return
    if not redeemed.created:
        # Its coupon from this button is still open (and in the chat): no second photo.
        await query.answer(say(context, "coupon_still_open", title=redeemed.view.coupon.title))
        return
    await query.answer()
    count(context, lambda m: m.ledger_entries.labels("redeem").inc())
    await send_coupon(context, member.chat_id, redeemed.view)


@member_only
async def coupons_command(update: Update, context: Context, member: Member) -> None:
    """The customer's open coupons, each with a button to show it again."""
    coupons = await context.services.coupons.open_coupons(member)
    if not coupons:
        await reply(update, say(context, "coupons_empty"))
        return
    lines = [say(context, "coupons_title")]
    buttons = []
    for coupon in coupons[:50]:
        date = local_date(context, coupon.expires_at)
        lines.append(say(context, "coupons_line", title=coupon.title, date=date))
        label = say(context, "btn_show_coupon", title=coupon.title)
        buttons.append([InlineKeyboardButton(label, callback_data=f"{SHOW}:{coupon.id}")])
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons))


async def _own_coupon(update: Update, context: Context) -> tuple[Member, Coupon] | None:
    parsed = await button_args(update, context, 1, numeric=(0,))
    user = update.effective_user
    if parsed is None or user is None:
        return None
    services = context.services
    member = await services.members.find(user.id)
    if member is None:
        return None
    try:
        return member, await services.coupons.of_member(member, parsed.number(0))
    except errors.CouponUnknown:
        await reply(update, say(context, "coupon_unknown"))
        return None


async def show_pressed(update: Update, context: Context) -> None:
    """Send one of the customer's coupons again."""
    found = await _own_coupon(update, context)
    if found is None:
        return
    member, coupon = found
    if coupon.state is not CouponState.ISSUED:
        await reply(update, closed_text(context, coupon))
        return
    await send_coupon(context, member.chat_id, CouponView(coupon, member))


async def cancel_asked(update: Update, context: Context) -> None:
    """First tap on Cancel: ask before giving the coupon back."""
    found = await _own_coupon(update, context)
    if found is None:
        return
    _, coupon = found
    if coupon.state is not CouponState.ISSUED:
        await reply(update, closed_text(context, coupon))
        return
    await reply(
        update,
        say(context, "cancel_coupon_question", title=coupon.title, cost=coupon.cost),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        say(context, "btn_confirm_cancel"),
                        callback_data=f"{CANCEL_YES}:{coupon.id}",
                    ),
                    InlineKeyboardButton(
                        say(context, "btn_keep_coupon"), callback_data=f"{CANCEL_KEEP}:{coupon.id}"
                    ),
                ]
            ]
        ),
    )


async def cancel_confirmed(update: Update, context: Context) -> None:
    """Cancel the coupon and refund its points."""
    found = await _own_coupon(update, context)
    if found is None:
        return
    member, coupon = found
    query = update.callback_query
    if query is not None:
        await remove_buttons(update)
    try:
        view = await context.services.coupons.cancel(member, coupon.id)
    except errors.CouponClosed as closed:
        await reply(update, closed_text(context, closed.coupon))
        return
    await reply(
        update,
        say(context, "coupon_cancelled", cost=view.coupon.cost, balance=view.member.balance),
    )
    await retire_coupon_messages(context, view)


async def cancel_kept(update: Update, context: Context) -> None:
    """The customer changed their mind: keep the coupon."""
    query = update.callback_query
    if await button_args(update, context, 1) is None:
        return
    if query is not None:
        await remove_buttons(update)
    await reply(update, say(context, "coupon_kept"))


def closed_text(context: Context, coupon: Coupon) -> str:
    """Why a coupon cannot be used any more, in the barista's words."""
    if coupon.state is CouponState.REDEEMED and coupon.closed_at is not None:
        tz = context.services.settings.tz
        today = context.services.clock.now().astimezone(tz).date()
        same_day = coupon.closed_at.astimezone(tz).date() == today
        when = (local_clock if same_day else local_day_time)(context, coupon.closed_at)
        if not coupon.closed_by_name:
            return say(context, "coupon_already_redeemed_unnamed", title=coupon.title, time=when)
        return say(
            context,
            "coupon_already_redeemed",
            title=coupon.title,
            time=when,
            staff=coupon.closed_by_name,
        )
    if coupon.state is CouponState.CANCELLED:
        return say(context, "coupon_was_cancelled", title=coupon.title)
    # Expired, or past its date and about to be refunded by the expiry job.
    return say(
        context,
        "coupon_was_expired" if coupon.state is CouponState.EXPIRED else "coupon_past_date",
        title=coupon.title,
        date=local_date(context, coupon.expires_at),
    )


async def show_coupon_to_staff(update: Update, context: Context, text: str) -> None:
    services = context.services
    try:
        view = await services.coupons.lookup(text)
    except errors.CouponMalformed:
        await reply(update, say(context, "coupon_malformed"))
        return
    except errors.CouponUnknown:
        await reply(update, say(context, "coupon_unknown"))
        return
    coupon = view.coupon
    if coupon.state is not CouponState.ISSUED or coupon.expires_at <= services.clock.now():
        await reply(update, closed_text(context, coupon))
        return
    await reply(
        update,
        say(
            context,
            "coupon_staff",
            title=coupon.title,
            name=view.member.first_name,
            date=local_date(context, coupon.expires_at),
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        say(context, "btn_confirm_coupon"), callback_data=f"{CONFIRM}:{coupon.id}"
                    )
                ]
            ]
        ),
    )


async def coupon_link_for_customer(update: Update, context: Context) -> None:
    """A coupon link opened by a customer: their own coupon comes again; others reveal nothing."""
    user = update.effective_user
    services = context.services
    member = await services.members.find(user.id) if user else None
    payload = context.args[0] if context.args else ""
    try:
        view = await services.coupons.lookup(payload)
    except errors.ServiceError:
        view = None
    if member is not None and view is not None and view.member.id == member.id:
        if view.coupon.state is CouponState.ISSUED:
            await send_coupon(context, member.chat_id, view)
        else:
            await reply(update, closed_text(context, view.coupon))
        return
    await reply(update, say(context, "coupon_link_customer"))


@requires(Role.STAFF, otherwise=coupon_link_for_customer)
async def coupon_link(update: Update, context: Context) -> None:
    """A coupon QR scanned by staff: show reward, member and state, with Confirm."""
    await show_coupon_to_staff(update, context, context.args[0] if context.args else "")


@requires(Role.STAFF)
async def redeem_command(update: Update, context: Context) -> None:
    """/redeem CODE: the typed way to look up a coupon."""
    if not context.args:
        await reply(update, say(context, "redeem_usage"))
        return
    await show_coupon_to_staff(update, context, "".join(context.args))


@requires(Role.STAFF)
async def confirm_pressed(update: Update, context: Context) -> None:
    """Hand over the reward. Of two baristas confirming at once, exactly one succeeds."""
    parsed = await button_args(update, context, 1, numeric=(0,))
    query = update.callback_query
    if parsed is None or query is None:
        return
    actor = await actor_of(update, context)
    try:
        view = await context.services.coupons.confirm(actor, parsed.number(0))
    except errors.CouponClosed as closed:
        await reply(update, closed_text(context, closed.coupon))
        return
    except errors.CouponUnknown:
        await reply(update, say(context, "coupon_unknown"))
        return
    except errors.LocationNeeded as needed:  # the Confirm button stays for after the answer
        await ask_where(update, context, needed.choices)
        return
    except errors.NoOpenLocation:
        await reply(update, say(context, "no_open_location"))
        return
    await remove_buttons(update)
    count(context, lambda m: m.redemptions.inc())
    title, name = view.coupon.title, view.member.first_name
    await reply(update, say(context, "coupon_confirmed", title=title, name=name))
    reader = await member_reader(context, view.member)
    await notify(context, view.member.chat_id, t(reader, "coupon_redeemed_notice", title=title))
    await retire_coupon_messages(context, view)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/coupons (and its keyboard button), /redeem, and every coupon button."""
    return [
        CommandHandler("coupons", coupons_command),
        on_keyboard("btn_coupons", coupons_command),
        CommandHandler("redeem", redeem_command),
        on_button(REDEEM, redeem_pressed),
        on_button(SHOW, show_pressed),
        on_button(CANCEL_ASK, cancel_asked),
        on_button(CANCEL_YES, cancel_confirmed),
        on_button(CANCEL_KEEP, cancel_kept),
        on_button(CONFIRM, confirm_pressed),
    ]
