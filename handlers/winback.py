"""Win-back: the owner's /winback, what members who stopped coming are sent, changed with
buttons (the text and bonus typed, the coupon picked) or typed in the owner's words or
English (/winback bonus 50)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, MessageHandler

from bot.inputs import folded, parse_int
from bot.services.lifecycle import WinBack
from bot.services.roles import Role
from handlers.common import (
    Context,
    button_args,
    edit_text,
    on_button,
    remove_buttons,
    reply,
    requires,
    say,
)
from handlers.wizard import END, TYPED, accepted, ask, conversation, message_text

logger = logging.getLogger(__name__)

TEXT = "wbt"  # type a new text
BONUS = "wbb"  # type a new bonus
COUPON = "wbc"  # pick the coupon's reward
REWARD = "wbr"  # wbr:<id>: this reward (0: no coupon), then how long it is valid
DAYS = "wbd"  # wbd:<id>:<days>: this reward, valid that many days
STEP = "wbw"  # the typing conversation's own buttons (Cancel)
W_TEXT, W_BONUS = range(300, 302)
MAX_TEXT, MAX_BONUS, MAX_COUPON_DAYS = 1000, 100_000, 365
COUPON_DAYS = (7, 14, 30, 60)


@requires(Role.OWNER)
async def winback_command(update: Update, context: Context) -> None:
    """/winback: show or change what dormant members get."""
    lifecycle = context.services.lifecycle
    current = await lifecycle.winback()
    args = context.args or []
    message = update.effective_message
    if args and message is not None:
        changed = await parse_winback(context, current, args, message.text or "")
        if changed is None:
            await reply(update, say(context, "winback_bad"))
            return
        await save(update, context, changed)
        return
    await show(update, context, current)


async def parse_winback(
    context: Context, current: WinBack, args: list[str], raw: str
) -> WinBack | None:
    """A typed change, its words in the owner's language or English: text …, bonus N,
    reward ID [DAYS], reward none."""
    what = folded(args[0])
    if what in accepted(context, "word_text") and len(args) > 1:
        parts = raw.split(None, 2)
        return replace(current, text=parts[2].strip()[:MAX_TEXT] if len(parts) == 3 else "")
    if what in accepted(context, "word_bonus") and len(args) == 2:
        points = parse_int(args[1], high=MAX_BONUS)
        return None if points is None else replace(current, bonus_points=points)
    if what not in accepted(context, "word_reward") or len(args) not in (2, 3):
        return None
    if len(args) == 2 and folded(args[1]) in accepted(context, "word_none"):
        return replace(current, reward_id=None)
    reward_id = parse_int(args[1])
    days = parse_int(args[2], low=1, high=MAX_COUPON_DAYS) if len(args) == 3 else None
    rewards = {r.id for r in await context.services.catalog.list(active_only=True)}
    if reward_id is None or reward_id not in rewards or (len(args) == 3 and days is None):
        return None
    return replace(current, reward_id=reward_id, coupon_days=days or current.coupon_days)


async def save(update: Update, context: Context, changed: WinBack) -> None:
    """Keep the change, say so, and show what dormant members get now."""
    user = update.effective_user
    if user is None:
        return
    current = await context.services.lifecycle.set_winback(user.id, changed)
    await reply(update, say(context, "winback_saved"))
    await show(update, context, current)


async def show(update: Update, context: Context, winback: WinBack) -> None:
    buttons = [
        InlineKeyboardButton(say(context, key), callback_data=data)
        for key, data in (
            ("btn_winback_text", TEXT),
            ("btn_winback_bonus", BONUS),
            ("btn_winback_coupon", COUPON),
        )
    ]
    markup = InlineKeyboardMarkup([buttons])
    await reply(update, await winback_overview(context, winback), reply_markup=markup)


async def winback_overview(context: Context, winback: WinBack) -> str:
    services = context.services
    days = services.settings.winback_after_days
    text = winback.text or say(context, "winback_default", cafe=services.settings.cafe_name)
    lines = [
        say(context, "winback_title", days=days) if days else say(context, "winback_off"),
        say(context, "winback_text_line", text=text),
        say(context, "winback_bonus_line", bonus=winback.bonus_points),
    ]
    if winback.reward_id:
        titles = {r.id: r.title for r in await services.catalog.list()}
        lines.append(
            say(
                context,
                "winback_coupon_line",
                reward=titles.get(winback.reward_id, "?"),
                id=str(winback.reward_id),
                days=winback.coupon_days,
            )
        )
    else:
        lines.append(say(context, "winback_no_coupon"))
    lines.extend(["", say(context, "winback_help")])
    return "\n".join(lines)


# -- the coupon: picked with buttons ---------------------------------------------------------


@requires(Role.OWNER)
async def coupon_pressed(update: Update, context: Context) -> None:
    """Which reward the coupon gives: a button per reward, and No coupon."""
    if await button_args(update, context, 0) is None:
        return
    rewards = await context.services.catalog.list(active_only=True)
    rows = [[InlineKeyboardButton(r.title, callback_data=f"{REWARD}:{r.id}")] for r in rewards[:30]]
    no_coupon = say(context, "btn_winback_no_coupon")
    rows.append([InlineKeyboardButton(no_coupon, callback_data=f"{REWARD}:0")])
    await reply(update, say(context, "winback_ask_coupon"), reply_markup=InlineKeyboardMarkup(rows))


@requires(Role.OWNER)
async def reward_pressed(update: Update, context: Context) -> None:
    """A reward picked: how many days its coupon is valid (No coupon: saved at once)."""
    args = await button_args(update, context, 1, numeric=(0,))
    if args is None:
        return
    current = await context.services.lifecycle.winback()
    reward_id = args.number(0)
    if reward_id == 0:
        await remove_buttons(update)
        await save(update, context, replace(current, reward_id=None))
        return
    reward = next(
        (r for r in await context.services.catalog.list(active_only=True) if r.id == reward_id),
        None,
    )
    if reward is None:
        await reply(update, say(context, "winback_bad"))
        return
    buttons = [
        InlineKeyboardButton(
            say(context, "btn_days", days=days), callback_data=f"{DAYS}:{reward.id}:{days}"
        )
        for days in COUPON_DAYS
    ]
    text = say(context, "winback_ask_days", reward=reward.title)
    await edit_text(update, text, reply_markup=InlineKeyboardMarkup([buttons]))


@requires(Role.OWNER)
async def days_pressed(update: Update, context: Context) -> None:
    """How long the coupon is valid: the change is saved."""
    args = await button_args(update, context, 2, numeric=(0, 1))
    if args is None:
        return
    reward_id, days = args.number(0), args.number(1)
    rewards = {r.id for r in await context.services.catalog.list(active_only=True)}
    if reward_id not in rewards or not 1 <= days <= MAX_COUPON_DAYS:
        await reply(update, say(context, "winback_bad"))
        return
    current = await context.services.lifecycle.winback()
    await remove_buttons(update)
    await save(update, context, replace(current, reward_id=reward_id, coupon_days=days))


# -- the text and the bonus: typed -----------------------------------------------------------


@requires(Role.OWNER)
async def text_pressed(update: Update, context: Context) -> int:
    if await button_args(update, context, 0) is None:
        return END
    await ask(update, context, STEP, "winback_ask_text")
    return W_TEXT


@requires(Role.OWNER)
async def bonus_pressed(update: Update, context: Context) -> int:
    if await button_args(update, context, 0) is None:
        return END
    await ask(update, context, STEP, "winback_ask_bonus")
    return W_BONUS


async def text_typed(update: Update, context: Context) -> int:
    current = await context.services.lifecycle.winback()
    await save(update, context, replace(current, text=message_text(update)[:MAX_TEXT]))
    return END


async def bonus_typed(update: Update, context: Context) -> int:
    points = parse_int(message_text(update), high=MAX_BONUS)
    if points is None:
        await ask(update, context, STEP, "winback_bad_bonus")
        return W_BONUS
    current = await context.services.lifecycle.winback()
    await save(update, context, replace(current, bonus_points=points))
    return END


def winback_conversation() -> ConversationHandler[Any]:
    """The text or the bonus, typed after its button."""
    return conversation(
        "winback",
        STEP,
        None,
        {
            W_TEXT: [MessageHandler(TYPED, text_typed)],
            W_BONUS: [MessageHandler(TYPED, bonus_typed)],
        },
        entries=[on_button(TEXT, text_pressed), on_button(BONUS, bonus_pressed)],
        drafted=False,
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/winback, its buttons and the conversation that types a new text or bonus."""
    return [
        winback_conversation(),
        CommandHandler("winback", winback_command),
        on_button(COUPON, coupon_pressed),
        on_button(REWARD, reward_pressed),
        on_button(DAYS, days_pressed),
    ]
