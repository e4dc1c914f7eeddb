"""Win-back: the owner's /winback, what members who stopped coming are sent."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot.inputs import parse_int
from bot.services.lifecycle import WinBack
from bot.services.roles import Role
from handlers.common import (
    Context,
    reply,
    requires,
    say,
)

logger = logging.getLogger(__name__)


@requires(Role.OWNER)
async def winback_command(update: Update, context: Context) -> None:
    """/winback: show or change what dormant members get."""
    services = context.services
    lifecycle = services.lifecycle
    current = await lifecycle.winback()
    args = context.args or []
    message = update.effective_message
    user = update.effective_user
    if args and message is not None and user is not None:
        changed = await parse_winback(context, current, args, message.text or "")
        if changed is None:
            await reply(update, say(context, "winback_bad"))
            return
        current = await lifecycle.set_winback(user.id, changed)
        await reply(update, say(context, "winback_saved"))
    await reply(update, await winback_overview(context, current))


async def parse_winback(
    context: Context, current: WinBack, args: list[str], raw: str
) -> WinBack | None:
    what = args[0].lower()
    if what == "text" and len(args) > 1:
        text = raw.split(None, 2)[2].strip()[:1000] if len(raw.split(None, 2)) == 3 else ""
        return WinBack(text, current.bonus_points, current.reward_id, current.coupon_days)
    if what == "bonus" and len(args) == 2:
        points = parse_int(args[1], high=100_000)
        if points is None:
            return None
        return WinBack(current.text, points, current.reward_id, current.coupon_days)
    if what == "reward" and len(args) == 2 and args[1].lower() == "off":
        return WinBack(current.text, current.bonus_points, None, current.coupon_days)
    if what == "reward" and len(args) in (2, 3):
        reward_id = parse_int(args[1])
        days = parse_int(args[2], low=1, high=365) if len(args) == 3 else current.coupon_days
        rewards = {r.id for r in await context.services.catalog.list(active_only=True)}
        if reward_id is None or days is None or reward_id not in rewards:
            return None
        return WinBack(current.text, current.bonus_points, reward_id, days)
    return None


async def winback_overview(context: Context, winback: WinBack) -> str:
    services = context.services
    days = services.settings.winback_after_days
    titles = {r.id: r.title for r in await services.catalog.list()}
    reward = (
        f"{titles.get(winback.reward_id, '?')} (#{winback.reward_id}), {winback.coupon_days} days"
        if winback.reward_id
        else say(context, "winback_none")
    )
    text = winback.text or say(context, "winback_default", cafe=services.settings.cafe_name)
    lines = [
        say(context, "winback_title", days=days) if days else say(context, "winback_off"),
        say(context, "winback_current", text=text, bonus=winback.bonus_points, reward=reward),
        "",
        say(context, "winback_help"),
    ]
    return "\n".join(lines)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/winback."""
    return [
        CommandHandler("winback", winback_command),
    ]
