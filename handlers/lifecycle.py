"""Between visits: what the outbox says, feedback buttons, referrals, win-back, privacy."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from bot.domain import Member
from bot.inputs import parse_int
from bot.services.feedback import Answered, FeedbackUnknown
from bot.services.lifecycle import WinBack
from bot.services.roles import Role
from handlers import menus
from handlers.common import (
    Context,
    button_args,
    deep_link,
    edit_text,
    get_broadcaster,
    get_services,
    local_time,
    main_keyboard,
    member_only,
    money,
    notify_owners,
    remove_buttons,
    reply,
    requires,
    say,
)
from handlers.outbox import DATE, nps_buttons
from handlers.profile import profile_of
from handlers.texts import Html

logger = logging.getLogger(__name__)

FORGET = "fgt"


# -- feedback ------------------------------------------------------------------------------


@member_only
async def nps_pressed(update: Update, context: Context, member: Member) -> None:
    """A score: recorded (a second tap changes it); the question asks for a comment."""
    parsed = await button_args(update, context, 2, numeric=(0, 1))
    if parsed is None:
        return
    try:
        answered = await get_services(context).feedback.answer(
            member, int(parsed[0]), int(parsed[1])
        )
    except FeedbackUnknown:
        await reply(update, say(context, "button_expired"))
        return
    score = answered.feedback.score
    await edit_text(
        update,
        say(context, "nps_thanks", score=score),
        reply_markup=nps_buttons(answered.feedback.id),
    )
    if answered.low and (answered.previous is None or answered.previous > 6):
        await alert_low_score(context, member, answered)


async def alert_low_score(context: Context, member: Member, answered: Answered) -> None:
    feedback = answered.feedback
    comment = (
        say(context, "nps_low_alert_comment", comment=feedback.comment) if feedback.comment else ""
    )
    await notify_owners(
        context,
        say(
            context,
            "nps_low_alert",
            name=member.first_name,
            id=member.id,
            score=feedback.score,
            date=local_time(context, feedback.asked_at, DATE),
            comment=Html(comment),
        ),
    )


async def take_comment(update: Update, context: Context, member: Member, text: str) -> bool:
    """A message just after a score is its comment; True when it was taken as one."""
    answered = await get_services(context).feedback.take_comment(member, text)
    if answered is None:
        return False
    await reply(update, say(context, "nps_comment_thanks"))
    if answered.low:
        await alert_low_score(context, member, answered)
    return True


# -- referrals -----------------------------------------------------------------------------


def invite_terms(context: Context) -> str:
    services = get_services(context)
    mine, theirs = services.referrals.rewards
    if not mine and not theirs:
        return say(context, "invite_no_bonus")
    minimum_minor = services.settings.referral_min_minor
    minimum = (
        say(context, "invite_terms_minimum", amount=money(context, minimum_minor))
        if minimum_minor
        else ""
    )
    return say(context, "invite_terms", mine=mine, theirs=theirs, minimum=Html(minimum))


@member_only
async def invite_command(update: Update, context: Context, member: Member) -> None:
    """/invite: the member's personal link and what both sides get."""
    services = get_services(context)
    if await services.roles.role_of(member.tg_user_id) is not Role.CUSTOMER:
        await reply(update, say(context, "invite_staff"))
        return
    payload = await services.referrals.link_payload(member)
    link = deep_link(context, payload)
    await reply(update, say(context, "invite", link=link, terms=Html(invite_terms(context))))


async def referral_link(update: Update, context: Context) -> None:
    """Someone opened a member's invite link."""
    profile = profile_of(update)
    if profile is None or not context.args:
        return
    services = get_services(context)
    joined = await services.referrals.join_via(profile, context.args[0])
    if joined.refusal is not None:
        logger.info("Referral refused for user %s: %s", profile.tg_user_id, joined.refusal)
        key = f"referral_refused_{joined.refusal.value}"
        await reply(update, say(context, key), reply_markup=main_keyboard(context))
        return
    assert joined.referrer is not None
    mine, theirs = services.referrals.rewards
    terms = say(context, "referral_welcome_terms") if mine or theirs else ""
    await reply(
        update,
        say(
            context,
            "referral_welcome",
            cafe=services.settings.cafe_name,
            name=joined.member.first_name,
            friend=joined.referrer.first_name,
            terms=Html(terms),
        ),
        reply_markup=main_keyboard(context),
    )
    get_broadcaster(context).wake()  # the referrer's notice


@requires(Role.OWNER)
async def referrals_command(update: Update, context: Context) -> None:
    """/referrals: the top referrers."""
    rows = await get_services(context).referrals.top(10)
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
                id=row.member_id,
                rewarded=row.rewarded,
                pending=row.pending,
                refused=row.refused,
            )
        )
    await reply(update, "\n".join(lines))


# -- win-back ------------------------------------------------------------------------------


@requires(Role.OWNER)
async def winback_command(update: Update, context: Context) -> None:
    """/winback: show or change what dormant members get."""
    services = get_services(context)
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
        rewards = {r.id for r in await get_services(context).catalog.list(active_only=True)}
        if reward_id is None or days is None or reward_id not in rewards:
            return None
        return WinBack(current.text, current.bonus_points, reward_id, days)
    return None


async def winback_overview(context: Context, winback: WinBack) -> str:
    services = get_services(context)
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


# -- privacy -------------------------------------------------------------------------------


@member_only
async def mydata_command(update: Update, context: Context, member: Member) -> None:
    """/mydata: everything the bot holds about the member, as a JSON file."""
    data = await get_services(context).privacy.export(member)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode()
    chat = update.effective_chat
    if chat is None:
        return
    await chat.send_document(
        InputFile(content, filename="my-data.json"),
        caption=say(context, "mydata_caption"),
        parse_mode="HTML",
    )


@member_only
async def forget_command(update: Update, context: Context, member: Member) -> None:
    """/forget: say what will happen, then ask."""
    coupons = await get_services(context).coupons.open_coupons(member)
    await reply(
        update,
        say(context, "forget_question", coupons=len(coupons), points=member.balance),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        say(context, "btn_forget_yes"), callback_data=f"{FORGET}:yes"
                    ),
                    InlineKeyboardButton(
                        say(context, "btn_forget_no"), callback_data=f"{FORGET}:no"
                    ),
                ]
            ]
        ),
    )


@member_only
async def forget_pressed(update: Update, context: Context, member: Member) -> None:
    parsed = await button_args(update, context, 1)
    if parsed is None or parsed[0] not in ("yes", "no"):
        return
    await remove_buttons(update)
    if parsed[0] == "no":
        await reply(update, say(context, "forget_kept"))
        return
    services = get_services(context)
    await services.privacy.forget(member)
    await menus.install_menu(context.bot, member.chat_id, Role.CUSTOMER, services.settings.language)
    await reply(update, say(context, "forget_done"))


# -- helpers -------------------------------------------------------------------------------


def expiry_line(context: Context, expires_at: datetime | None) -> str | None:
    if expires_at is None:
        return None
    last_day = local_time(context, expires_at - timedelta(seconds=1), DATE)
    return say(context, "balance_expires", date=last_day)
