"""The rewards catalog: what customers can redeem (/rewards) and the owner's /catalog."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot.domain import Member
from bot.inputs import parse_int
from bot.services import errors
from bot.services.roles import Role
from handlers.common import (
    Context,
    member_only,
    on_keyboard,
    reply,
    requires,
    say,
)
from handlers.coupons import REDEEM

logger = logging.getLogger(__name__)


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


@requires(Role.OWNER)
async def catalog_command(update: Update, context: Context) -> None:
    """/catalog — list; /catalog add COST TITLE | cost ID COST | off ID | on ID."""
    args = context.args or []
    user = update.effective_user
    assert user is not None
    catalog = context.services.catalog
    try:
        if args and args[0] == "add" and len(args) >= 3:
            reward = await catalog.add(user.id, " ".join(args[2:]), args[1])
            await reply(
                update,
                say(context, "catalog_added", id=reward.id, title=reward.title, cost=reward.cost),
            )
            return
        change_cost = len(args) == 3 and args[0] == "cost"
        switch = len(args) == 2 and args[0] in ("on", "off")
        reward_id = parse_int(args[1]) if change_cost or switch else None
        if reward_id is not None:
            reward = await catalog.change(
                user.id,
                reward_id,
                cost=args[2] if change_cost else None,
                active=(args[0] == "on") if switch else None,
            )
            state = say(context, "catalog_state_on" if reward.active else "catalog_state_off")
            await reply(
                update,
                say(
                    context,
                    "catalog_changed",
                    id=reward.id,
                    title=reward.title,
                    cost=reward.cost,
                    state=state,
                ),
            )
            return
    except errors.RewardInvalid as invalid:
        await reply(update, say(context, f"catalog_bad_{invalid.reason}"))
        return
    except errors.RewardUnavailable:
        await reply(update, say(context, "catalog_not_found"))
        return
    await reply(update, await catalog_overview(context))


async def catalog_overview(context: Context) -> str:
    rewards = await context.services.catalog.list()
    lines = [say(context, "catalog_title")]
    if not rewards:
        lines.append(say(context, "catalog_empty"))
    for reward in rewards:
        inactive = "" if reward.active else say(context, "catalog_inactive")
        lines.append(
            say(
                context,
                "catalog_line",
                id=reward.id,
                title=reward.title,
                cost=reward.cost,
                inactive=inactive,
            )
        )
    lines += ["", say(context, "catalog_help")]
    return "\n".join(lines)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/rewards (and its keyboard button) and /catalog."""
    return [
        CommandHandler("rewards", rewards_command),
        on_keyboard("btn_rewards", rewards_command),
        CommandHandler("catalog", catalog_command),
    ]
