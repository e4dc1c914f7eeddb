"""Referrals: a member's /invite link, a friend opening it, and the owner's /referrals."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot.domain import Member
from bot.services.roles import Role
from handlers.common import (
    Context,
    deep_link,
    main_keyboard,
    member_only,
    money,
    reply,
    requires,
    say,
)
from handlers.profile import profile_of

logger = logging.getLogger(__name__)


def invite_terms(context: Context) -> str:
    """What each side gets for a friend who joins: one whole paragraph."""
    services = context.services
    mine, theirs = services.referrals.rewards
    if not mine and not theirs:
        return say(context, "invite_no_bonus")
    minimum_minor = services.settings.referral_min_minor
    if minimum_minor:
        amount = money(context, minimum_minor)
        return say(context, "invite_terms_with_minimum", mine=mine, theirs=theirs, amount=amount)
    return say(context, "invite_terms", mine=mine, theirs=theirs)


@member_only
async def invite_command(update: Update, context: Context, member: Member) -> None:
    """/invite: the member's personal link and what both sides get."""
    services = context.services
    if await services.roles.role_of(member.tg_user_id) is not Role.CUSTOMER:
        await reply(update, say(context, "invite_staff"))
        return
    payload = await services.referrals.link_payload(member)
    paragraphs = [say(context, "invite", link=deep_link(context, payload)), invite_terms(context)]
    await reply(update, "\n\n".join(paragraphs))


async def referral_link(update: Update, context: Context) -> None:
    """Someone opened a member's invite link."""
    profile = profile_of(update)
    if profile is None or not context.args:
        return
    services = context.services
    joined = await services.referrals.join_via(profile, context.args[0])
    if joined.refusal is not None:
        logger.info("Referral refused for user %s: %s", profile.tg_user_id, joined.refusal)
        key = f"referral_refused_{joined.refusal.value}"
        await reply(update, say(context, key), reply_markup=main_keyboard(context))
        return
    assert joined.referrer is not None
    mine, theirs = services.referrals.rewards
    await reply(
        update,
        say(
            context,
            "referral_welcome_bonus" if mine or theirs else "referral_welcome",
            cafe=services.settings.cafe_name,
            name=joined.member.first_name,
            friend=joined.referrer.first_name,
        ),
        reply_markup=main_keyboard(context),
    )
    context.broadcaster.wake()  # the referrer's notice


@requires(Role.OWNER)
async def referrals_command(update: Update, context: Context) -> None:
    """/referrals: the top referrers."""
    rows = await context.services.referrals.top(10)
    if not rows:
        await reply(update, say(context, "referrals_none"))
        return
    lines = [say(context, "referrals_title")]
    for row in rows:
        lines.append(
            say(
                context,
                "referrals_line",
                name=row.first_name,
                id=str(row.member_id),
                rewarded=row.rewarded,
                pending=row.pending,
                refused=row.refused,
            )
        )
    await reply(update, "\n".join(lines))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/invite and /referrals (invite links are opened through /start)."""
    return [
        CommandHandler("invite", invite_command),
        CommandHandler("referrals", referrals_command),
    ]
