"""The owner's programme figures: /stats with its chart, and /audit."""

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
from bot.services.roles import Role
from bot.services.stats import Stats, share
from handlers.common import (
    Context,
    money,
    reply,
    requires,
    say,
)
from handlers.reports import number, percent, period_of

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
    return "\n".join(lines)


@requires(Role.OWNER)
async def stats_command(update: Update, context: Context) -> None:
    """/stats [period]: the programme's figures against the period before, with a chart."""
    period = period_of(context, context.args or [])
    if period is None:
        await reply(update, say(context, "period_usage", command="stats"))
        return
    services = context.services
    stats = await services.stats.stats(period)
    await reply(update, stats_text(context, stats))
    data = await services.stats.chart_data(period)
    title = f"{services.settings.cafe_name} · {period}"
    image = await asyncio.to_thread(render_stats_chart, data, title)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_photo(image, caption=say(context, "stats_chart_caption"))


@requires(Role.OWNER)
async def audit_command(update: Update, context: Context) -> None:
    """/audit [member N | staff ID | N]: the latest audit-log lines."""
    args = [arg.lower() for arg in context.args or []]
    services = context.services
    member_id = actor_id = None
    if len(args) == 1:
        member_id = parse_int(args[0])
    elif len(args) == 2 and args[0] == "member":
        member_id = parse_int(args[1])
    elif len(args) == 2 and args[0] == "staff":
        actor_id = parse_int(args[1])
    if args and member_id is None and actor_id is None:
        await reply(update, say(context, "audit_usage"))
        return
    lines = await services.stats.audit(member_id=member_id, actor_id=actor_id)
    if not lines:
        await reply(update, say(context, "audit_none"))
        return
    text = [say(context, "audit_title")]
    for entry in lines:
        when = entry.created_at.astimezone(services.settings.tz).strftime("%d %b %H:%M")
        who = f"{entry.actor_name} ({entry.actor_id})" if entry.actor_name else str(entry.actor_id)
        member = f" · #{entry.member_id}" if entry.member_id is not None else ""
        detail = f" · {entry.detail}" if entry.detail else ""
        text.append(
            say(context, "audit_line", when=when, who=who, action=entry.action, member=member,
                detail=detail)
        )  # fmt: skip
    await reply(update, "\n".join(text))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/stats and /audit."""
    return [
        CommandHandler("stats", stats_command),
        CommandHandler("audit", audit_command),
    ]
