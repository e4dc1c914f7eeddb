"""The rewards catalog: what customers can redeem (/rewards) and the owner's /catalog, run
with buttons (a reward's cost, switching it off or on, adding one step by step); the
typed form (/catalog add 150 Croissant) reads the owner's words or English."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CommandHandler, ConversationHandler, MessageHandler

from bot.domain import Member
from bot.inputs import folded, parse_int
from bot.services import errors
from bot.services.catalog import check_title
from bot.services.roles import Role
from handlers.common import (
    Context,
    button_args,
    edit_text,
    member_only,
    on_button,
    on_keyboard,
    reply,
    requires,
    say,
)
from handlers.context import CatalogDraft
from handlers.coupons import REDEEM
from handlers.wizard import END, TYPED, accepted, ask, conversation, message_text

logger = logging.getLogger(__name__)

PAGE = "catp"  # catp:<page>: the catalog's buttons, one page further
OPEN = "catr"  # catr:<id>: one reward, with its buttons
SWITCH = "cats"  # cats:<id>:<1|0>: switch a reward on or off
ADD = "cata"  # add a reward: its title, then its cost
COST = "catc"  # catc:<id>: type a reward's new cost
STEP = "catw"  # the add and cost conversation's own buttons (Cancel)
PER_PAGE = 20
C_TITLE, C_COST, C_NEW_COST = range(200, 203)


class Reward(Protocol):
    """What the owner's catalog shows of a reward."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def cost(self) -> int: ...
    @property
    def active(self) -> bool: ...


@member_only
async def rewards_command(update: Update, context: Context, member: Member) -> None:
    """The catalog, with what the customer can afford and a Redeem button for those."""
    rewards = await context.services.catalog.list(active_only=True)
    if not rewards:
        await reply(update, say(context, "rewards_empty"))
        return
    lines = [say(context, "rewards_title", points=member.balance)]
    buttons = []
    for reward in rewards:
        if reward.cost <= member.balance:
            lines.append(say(context, "rewards_line_ok", title=reward.title, cost=reward.cost))
            label = say(context, "btn_redeem", title=reward.title)
            buttons.append([InlineKeyboardButton(label, callback_data=f"{REDEEM}:{reward.id}")])
        else:
            missing = reward.cost - member.balance
            lines.append(
                say(
                    context,
                    "rewards_line_missing",
                    title=reward.title,
                    cost=reward.cost,
                    missing=missing,
                )
            )
    await reply(
        update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(buttons) if buttons else None
    )


# -- the owner's catalog ---------------------------------------------------------------------


def catalog_buttons(context: Context, rewards: Sequence[Reward], page: int) -> InlineKeyboardMarkup:
    """A button per reward (a page of them at a time), paging buttons, and Add a reward."""
    pages = max(1, -(-len(rewards) // PER_PAGE))
    page = min(max(page, 0), pages - 1)
    rows = [
        [
            InlineKeyboardButton(
                say(
                    context,
                    "btn_catalog_reward" if reward.active else "btn_catalog_reward_off",
                    id=str(reward.id),
                    title=reward.title,
                ),
                callback_data=f"{OPEN}:{reward.id}",
            )
        ]
        for reward in rewards[page * PER_PAGE : (page + 1) * PER_PAGE]
    ]
    paging = []
    if page > 0:
        paging.append(
            InlineKeyboardButton(
                say(context, "btn_page_earlier"), callback_data=f"{PAGE}:{page - 1}"
            )
        )
    if page < pages - 1:
        paging.append(
            InlineKeyboardButton(say(context, "btn_page_later"), callback_data=f"{PAGE}:{page + 1}")
        )
    if paging:
        rows.append(paging)
    rows.append([InlineKeyboardButton(say(context, "btn_catalog_add"), callback_data=ADD)])
    return InlineKeyboardMarkup(rows)


async def catalog_overview(context: Context) -> tuple[str, InlineKeyboardMarkup]:
    """Every reward with its number and cost, and the buttons that change them."""
    rewards = await context.services.catalog.list()
    lines = [say(context, "catalog_title")]
    if not rewards:
        lines.append(say(context, "catalog_empty"))
    for reward in rewards:
        key = "catalog_line" if reward.active else "catalog_line_off"
        lines.append(say(context, key, id=str(reward.id), title=reward.title, cost=reward.cost))
    lines.extend(["", say(context, "catalog_help")])
    return "\n".join(lines), catalog_buttons(context, rewards, 0)


def reward_card(context: Context, reward: Reward) -> tuple[str, InlineKeyboardMarkup]:
    """One reward, with Change the cost and Switch off (or on)."""
    key = "catalog_reward_on" if reward.active else "catalog_reward_off"
    text = say(context, key, id=str(reward.id), title=reward.title, cost=reward.cost)
    switch = "btn_catalog_off" if reward.active else "btn_catalog_on"
    buttons = [
        InlineKeyboardButton(say(context, "btn_catalog_cost"), callback_data=f"{COST}:{reward.id}"),
        InlineKeyboardButton(
            say(context, switch), callback_data=f"{SWITCH}:{reward.id}:{int(not reward.active)}"
        ),
    ]
    return text, InlineKeyboardMarkup([buttons])


async def find_reward(context: Context, reward_id: int) -> Reward | None:
    return next((r for r in await context.services.catalog.list() if r.id == reward_id), None)


def typed_change(context: Context, args: list[str]) -> tuple[str, int] | None:
    """What a typed ``/catalog cost 3 120``, ``/catalog off 3`` or ``/catalog on 3`` asks,
    in the owner's words or English: ("cost", 3), ("off", 3), ("on", 3), or None."""
    if len(args) not in (2, 3):
        return None
    word = folded(args[0])
    for change, parts in (("cost", 3), ("on", 2), ("off", 2)):
        reward_id = parse_int(args[1]) if len(args) == parts else None
        if reward_id is not None and word in accepted(context, f"word_{change}"):
            return change, reward_id
    return None


@requires(Role.OWNER)
async def catalog_command(update: Update, context: Context) -> None:
    """/catalog: the list with its buttons. Typed, in the owner's words or English:
    /catalog add COST TITLE | cost ID COST | off ID | on ID."""
    args = context.args or []
    user = update.effective_user
    assert user is not None
    catalog = context.services.catalog
    try:
        if len(args) >= 3 and folded(args[0]) in accepted(context, "word_add"):
            reward = await catalog.add(user.id, " ".join(args[2:]), args[1])
            await reply(update, added_text(context, reward))
            return
        change = typed_change(context, args)
        if change is not None:
            what, reward_id = change
            reward = await catalog.change(
                user.id,
                reward_id,
                cost=args[2] if what == "cost" else None,
                active=(what == "on") if what != "cost" else None,
            )
            text, markup = reward_card(context, reward)
            await reply(update, text, reply_markup=markup)
            return
    except errors.RewardInvalid as invalid:
        await reply(update, say(context, f"catalog_bad_{invalid.reason}"))
        return
    except errors.RewardUnavailable:
        await reply(update, say(context, "catalog_not_found"))
        return
    text, markup = await catalog_overview(context)
    await reply(update, text, reply_markup=markup)


def added_text(context: Context, reward: Reward) -> str:
    return say(context, "catalog_added", id=str(reward.id), title=reward.title, cost=reward.cost)


@requires(Role.OWNER)
async def page_pressed(update: Update, context: Context) -> None:
    """Another page of the catalog's reward buttons, on the same message."""
    args = await button_args(update, context, 1, numeric=(0,))
    query = update.callback_query
    if args is None or query is None:
        return
    rewards = await context.services.catalog.list()
    try:
        await query.edit_message_reply_markup(catalog_buttons(context, rewards, args.number(0)))
    except BadRequest as exc:  # a page past the last shows the last, as it was: done already
        if "not modified" not in str(exc).lower():
            raise


@requires(Role.OWNER)
async def reward_pressed(update: Update, context: Context) -> None:
    """One reward opened from the catalog: its cost and state, with their buttons."""
    args = await button_args(update, context, 1, numeric=(0,))
    if args is None:
        return
    reward = await find_reward(context, args.number(0))
    if reward is None:
        await reply(update, say(context, "catalog_not_found"))
        return
    text, markup = reward_card(context, reward)
    await reply(update, text, reply_markup=markup)


@requires(Role.OWNER)
async def switch_pressed(update: Update, context: Context) -> None:
    """Switch a reward off (customers no longer see it) or back on; the card shows it."""
    args = await button_args(update, context, 2, numeric=(0, 1))
    user = update.effective_user
    if args is None or user is None:
        return
    try:
        reward = await context.services.catalog.change(
            user.id, args.number(0), active=bool(args.number(1))
        )
    except errors.RewardUnavailable:
        await reply(update, say(context, "catalog_not_found"))
        return
    text, markup = reward_card(context, reward)
    await edit_text(update, text, reply_markup=markup)


# -- adding a reward, or typing a new cost ---------------------------------------------------


def catalog_draft(context: Context) -> CatalogDraft:
    drafts = context.drafts
    if drafts.catalog is None:
        drafts.catalog = CatalogDraft()
    return drafts.catalog


@requires(Role.OWNER)
async def add_pressed(update: Update, context: Context) -> int:
    """Add a reward: first its title."""
    if await button_args(update, context, 0) is None:
        return END
    context.drafts.catalog = CatalogDraft()
    await ask(update, context, STEP, "catalog_ask_title")
    return C_TITLE


async def title_typed(update: Update, context: Context) -> int:
    try:
        title = check_title(message_text(update))
    except errors.RewardInvalid:
        await ask(update, context, STEP, "catalog_bad_title")
        return C_TITLE
    catalog_draft(context).title = title
    await ask(update, context, STEP, "catalog_ask_cost", title=title)
    return C_COST


async def cost_typed(update: Update, context: Context) -> int:
    """The new reward's cost: it is added (a title taken meanwhile asks for another)."""
    user = update.effective_user
    draft = catalog_draft(context)
    if user is None or not draft.title:
        context.drafts.catalog = None
        return END
    try:
        reward = await context.services.catalog.add(user.id, draft.title, message_text(update))
    except errors.RewardInvalid as invalid:
        await ask(update, context, STEP, f"catalog_bad_{invalid.reason}")
        return C_COST if invalid.reason == "cost" else C_TITLE
    context.drafts.catalog = None
    _, markup = reward_card(context, reward)
    await reply(update, added_text(context, reward), reply_markup=markup)
    return END


@requires(Role.OWNER)
async def cost_pressed(update: Update, context: Context) -> int:
    """Change the cost: the owner types the new one."""
    args = await button_args(update, context, 1, numeric=(0,))
    if args is None:
        return END
    reward = await find_reward(context, args.number(0))
    if reward is None:
        await reply(update, say(context, "catalog_not_found"))
        return END
    context.drafts.catalog = CatalogDraft(reward_id=reward.id)
    await ask(
        update,
        context,
        STEP,
        "catalog_ask_new_cost",
        id=str(reward.id),
        title=reward.title,
        cost=reward.cost,
    )
    return C_NEW_COST


async def new_cost_typed(update: Update, context: Context) -> int:
    user = update.effective_user
    reward_id = catalog_draft(context).reward_id
    if user is None or reward_id is None:
        context.drafts.catalog = None
        return END
    try:
        reward = await context.services.catalog.change(
            user.id, reward_id, cost=message_text(update)
        )
    except errors.RewardInvalid:
        await ask(update, context, STEP, "catalog_bad_cost")
        return C_NEW_COST
    except errors.RewardUnavailable:
        context.drafts.catalog = None
        await reply(update, say(context, "catalog_not_found"))
        return END
    context.drafts.catalog = None
    text, markup = reward_card(context, reward)
    await reply(update, text, reply_markup=markup)
    return END


def catalog_conversation() -> ConversationHandler[Any]:
    """Add a reward (title, then cost) or type a reward's new cost, from the buttons."""
    return conversation(
        "catalog",
        STEP,
        None,
        {
            C_TITLE: [MessageHandler(TYPED, title_typed)],
            C_COST: [MessageHandler(TYPED, cost_typed)],
            C_NEW_COST: [MessageHandler(TYPED, new_cost_typed)],
        },
        entries=[on_button(ADD, add_pressed), on_button(COST, cost_pressed)],
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/rewards (and its keyboard button); /catalog with its buttons and conversation."""
    return [
        catalog_conversation(),
        CommandHandler("rewards", rewards_command),
        on_keyboard("btn_rewards", rewards_command),
        CommandHandler("catalog", catalog_command),
        on_button(PAGE, page_pressed),
        on_button(OPEN, reward_pressed),
        on_button(SWITCH, switch_pressed),
    ]
