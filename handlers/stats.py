"""The programme's figures: /stats with its chart, and /audit; an owner's of the whole
café or one location, a manager's of their location."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from fractions import Fraction
from typing import Any

from babel.numbers import format_decimal
from telegram import (
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot.charts import render_stats_chart
from bot.inputs import parse_int
from bot.periods import Period
from bot.services.errors import LocationUnknown
from bot.services.reports import CHAIN_WIDE
from bot.services.roles import Role
from bot.services.stats import Stats, issued, share
from handlers.common import (
    Context,
    button_args,
    money,
    on_button,
    reply,
    requires,
    say,
)
from handlers.reports import (
    allowed_location,
    figures_asked,
    figures_keyboard,
    number,
    percent,
    pressed_scope,
    scope_of,
)

STATS_AT = "stl"  # stl:<scope>:<period slug>: /stats for one location (or all)
AUDIT_AT = "aul"  # aul:<scope>: /audit for one location (or all)

logger = logging.getLogger(__name__)


def trend(current: Fraction | int | None, previous: Fraction | int | None) -> str:
    """↑, ↓ or = against the period before (nothing to compare: empty)."""
    if current is None or previous is None:
        return ""
    return " ↑" if current > previous else " ↓" if current < previous else " ="


def decimal_text(context: Context, value: Fraction | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    rounded = round(Decimal(value.numerator) / Decimal(value.denominator), digits)
    return format_decimal(rounded, locale=context.services.settings.locale)


def money_of(context: Context, value: Fraction | None) -> str:
    return "—" if value is None else money(context, round(value))


def stats_text(context: Context, stats: Stats) -> str:
    if stats.location is not None:
        return location_stats_text(context, stats)
    now, before = stats.current, stats.previous

    def line(key: str, **values: object) -> str:
        return say(context, key, **values)

    nps_value = now.nps_score
    lines: list[str] = [
        line("stats_title", period=str(now.period), previous=str(before.period)),
        line(
            "stats_members",
            total=number(context, now.members.total),
            new=number(context, now.members.new),
            trend=trend(now.members.new, before.members.new),
            reachable=number(context, now.members.reachable),
        ),
        line("stats_active", active=number(context, now.active_30_days)),
        line(
            "stats_retention",
            rate=percent(context, now.retention),
            trend=trend(now.retention, before.retention),
            previous=percent(context, before.retention),
        ),
        line(
            "stats_repeat",
            rate=percent(context, now.repeat_rate),
            trend=trend(now.repeat_rate, before.repeat_rate),
        ),
        line(
            "stats_visits",
            customers=number(context, now.visits.customers),
            visits=number(context, now.visits.visits),
            trend=trend(now.visits.visits, before.visits.visits),
            per=decimal_text(context, now.visits_per_customer),
            spend=money_of(context, now.spend_per_customer),
            basket=money_of(context, now.basket),
        ),
        line(
            "stats_points",
            issued=number(context, now.issued),
            redeemed=number(context, now.redeemed),
            rate=percent(context, now.redemption_rate),
            trend=trend(now.issued, before.issued),
        ),
        line(
            "stats_coupons",
            issued=number(context, now.coupons.issued),
            used=number(context, now.coupons.used),
            expired=number(context, now.coupons.expired),
        ),
        line(
            "stats_nps",
            score="—" if nps_value is None else f"{round(nps_value):+d}",
            answers=number(context, now.nps.answers),
            trend=trend(nps_value, before.nps_score),
        ),
    ]
    for offer in stats.offers:
        others = now.visits.customers - offer.members
        lines.append(
            line(
                "stats_offer",
                title=offer.title,
                purchases=number(context, offer.purchases),
                members=number(context, offer.members),
                users=money_of(context, share(offer.spend_users_minor, offer.members)),
                others=money_of(context, share(offer.spend_others_minor, others)),
            )
        )
    lines.append(
        line(
            "stats_broadcasts",
            count=number(context, now.reach.broadcasts),
            sent=number(context, now.reach.sent),
            total=number(context, now.reach.recipients),
        )
    )
    top = ", ".join(f"{row.first_name} ({row.rewarded})" for row in stats.top_referrers)
    lines.append(
        line(
            "stats_referrals",
            joined=number(context, now.referrals_joined),
            rewarded=number(context, now.referrals_rewarded),
            top=top or "—",
        )
    )
    staff = ", ".join(
        f"{name or user_id} {number(context, n)}" for user_id, name, n in stats.top_staff
    )
    lines.append(line("stats_staff", staff=staff or "—"))
    tiers = " · ".join(f"{name} {number(context, count)}" for name, count in stats.tiers)
    lines.append(line("stats_tiers", tiers=tiers))
    return "\n".join(lines + parts_lines(context, stats))


def parts_lines(context: Context, stats: Stats) -> list[str]:
    """A chain's purchases and points by location, and the points issued at none."""
    if not stats.parts:
        return []
    lines = ["", say(context, "stats_parts_title")]
    for name, part in stats.parts:
        points = number(context, issued(part.points))
        if name is None:
            lines.append(say(context, "stats_part_chain_wide", issued=points))
            continue
        lines.append(
            say(
                context,
                "stats_part",
                name=name,
                customers=number(context, part.customers),
                visits=number(context, part.visits),
                spend=money(context, part.spend_minor),
                issued=points,
            )
        )
    return lines


def location_stats_text(context: Context, stats: Stats) -> str:
    """One location's figures: its customers, visits, points and coupons, offers and staff
    there; nothing of the chain's (members, NPS, broadcasts, referrals, tiers)."""
    now, before = stats.current, stats.previous
    lines = [
        say(context, "stats_title_at", location=stats.location, period=str(now.period),
            previous=str(before.period)),
        say(context, "stats_active_at", active=number(context, now.active_30_days)),
        say(context, "stats_retention", rate=percent(context, now.retention),
            trend=trend(now.retention, before.retention),
            previous=percent(context, before.retention)),
        say(context, "stats_repeat", rate=percent(context, now.repeat_rate),
            trend=trend(now.repeat_rate, before.repeat_rate)),
        say(context, "stats_visits", customers=number(context, now.visits.customers),
            visits=number(context, now.visits.visits),
            trend=trend(now.visits.visits, before.visits.visits),
            per=decimal_text(context, now.visits_per_customer),
            spend=money_of(context, now.spend_per_customer),
            basket=money_of(context, now.basket)),
        say(context, "stats_points_at", issued=number(context, now.issued),
            trend=trend(now.issued, before.issued), used=number(context, now.coupons.used)),
    ]  # fmt: skip
    for offer in stats.offers:
        others = now.visits.customers - offer.members
        lines.append(
            say(context, "stats_offer", title=offer.title,
                purchases=number(context, offer.purchases), members=number(context, offer.members),
                users=money_of(context, share(offer.spend_users_minor, offer.members)),
                others=money_of(context, share(offer.spend_others_minor, others)))
        )  # fmt: skip
    staff = ", ".join(
        f"{name or user_id} {number(context, n)}" for user_id, name, n in stats.top_staff
    )
    lines.append(say(context, "stats_staff", staff=staff or "—"))
    return "\n".join(lines)


@requires(Role.MANAGER)
async def stats_command(update: Update, context: Context) -> None:
    """/stats [period] [location]: the programme's figures against the period before, with
    a chart: the whole café's or one location's (a manager: theirs)."""
    asked = await figures_asked(update, context, "stats")
    if asked is not None:
        await send_stats(update, context, *asked)


@requires(Role.MANAGER)
async def stats_at_pressed(update: Update, context: Context) -> None:
    """A location button under /stats."""
    asked = await pressed_scope(update, context, 2)
    if asked is not None and asked[1] != CHAIN_WIDE:
        await send_stats(update, context, *asked)


async def send_stats(
    update: Update, context: Context, period: Period, location: int | None
) -> None:
    services = context.services
    try:
        stats = await services.stats.stats(period, location)
    except LocationUnknown:
        await reply(update, say(context, "button_expired"))
        return
    markup = await figures_keyboard(update, context, STATS_AT, location, period.slug)
    await reply(update, stats_text(context, stats), reply_markup=markup)
    data = await services.stats.chart_data(period, location)
    title = f"{services.settings.cafe_name} · {period}"
    caption = "stats_chart_caption"
    if stats.location is not None:
        title = f"{services.settings.cafe_name}, {stats.location} · {period}"
        caption = "stats_chart_caption_at"
    image = await asyncio.to_thread(render_stats_chart, data, title)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_photo(image, caption=say(context, caption))


@requires(Role.MANAGER)
async def audit_command(update: Update, context: Context) -> None:
    """/audit [member N | staff ID | N] [location]: the latest audit-log lines, everyone's
    or one location's (a manager: their location's)."""
    words = context.args or []
    args = [arg.lower() for arg in words]
    member_id = actor_id = None
    rest = args
    if args and args[0] in ("member", "staff") and len(args) >= 2:
        number_given = parse_int(args[1])
        member_id, actor_id = (number_given, None) if args[0] == "member" else (None, number_given)
        rest = args[2:] if number_given is not None else args
    elif args and parse_int(args[0]) is not None:
        member_id, rest = parse_int(args[0]), args[1:]
    asked = None
    if rest:
        names = {loc.name.lower(): loc.id for loc in await context.services.locations.all()}
        asked = names.get(" ".join(rest)) if len(names) > 1 else None
        if asked is None:
            await reply(update, say(context, "audit_usage"))
            return
    location = await allowed_location(update, context, asked)
    if location != -1:
        await send_audit(update, context, location, member_id=member_id, actor_id=actor_id)


@requires(Role.MANAGER)
async def audit_at_pressed(update: Update, context: Context) -> None:
    """A location button under /audit."""
    args = await button_args(update, context, 1)
    asked = scope_of(args[0]) if args is not None else CHAIN_WIDE
    if args is None or asked == CHAIN_WIDE or (asked is None and args[0] != "a"):
        return
    location = await allowed_location(update, context, asked)
    if location != -1:
        await send_audit(update, context, location)


async def send_audit(
    update: Update,
    context: Context,
    location: int | None,
    *,
    member_id: int | None = None,
    actor_id: int | None = None,
) -> None:
    services = context.services
    lines = await services.stats.audit(member_id=member_id, actor_id=actor_id, location_id=location)
    markup = await figures_keyboard(update, context, AUDIT_AT, location)
    if not lines:
        await reply(update, say(context, "audit_none"), reply_markup=markup)
        return
    names = await services.locations.names()
    chain = len(names) > 1
    if location is None:
        text = [say(context, "audit_title")]
    else:
        text = [say(context, "audit_title_at", location=names.get(location, ""))]
    for entry in lines:
        when = entry.created_at.astimezone(services.settings.tz).strftime("%d %b %H:%M")
        who = f"{entry.actor_name} ({entry.actor_id})" if entry.actor_name else str(entry.actor_id)
        member = f" · #{entry.member_id}" if entry.member_id is not None else ""
        detail = f" · {entry.detail}" if entry.detail else ""
        place = names.get(entry.location_id) if entry.location_id is not None else None
        if chain and location is None and place is not None:
            text.append(
                say(context, "audit_line_at", when=when, location=place, who=who,
                    action=entry.action, member=member, detail=detail)
            )  # fmt: skip
            continue
        text.append(
            say(context, "audit_line", when=when, who=who, action=entry.action, member=member,
                detail=detail)
        )  # fmt: skip
    await reply(update, "\n".join(text), reply_markup=markup)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/stats and /audit, with their location buttons."""
    return [
        CommandHandler("stats", stats_command),
        on_button(STATS_AT, stats_at_pressed),
        CommandHandler("audit", audit_command),
        on_button(AUDIT_AT, audit_at_pressed),
    ]
