"""The programme's figures: /stats with its chart, and /audit; an owner's of the whole
café or one location, a manager's of their location."""

from __future__ import annotations

import asyncio
import html
import logging
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from babel.numbers import format_decimal, format_percent
from telegram import (
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot import i18n
from bot.charts import ChartLabels, render_stats_chart
from bot.inputs import parse_int
from bot.periods import Period
from bot.services.errors import LocationUnknown
from bot.services.reports import CHAIN_WIDE
from bot.services.roles import Role
from bot.services.stats import AuditLine, Stats, issued, share
from handlers.common import (
    Context,
    button_args,
    lang,
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
    period_text,
    pressed_scope,
    scope_of,
    typed_word,
)
from handlers.texts import EN, Html

STATS_AT = "stl"  # stl:<scope>:<period slug>: /stats for one location (or all)
AUDIT_AT = "aul"  # aul:<scope>: /audit for one location (or all)

logger = logging.getLogger(__name__)


def trend(current: Fraction | int | None, previous: Fraction | int | None) -> str:
    """↑, ↓ or = against the period before (nothing to compare: empty). An arrow reads the
    same in every language, so it is no text of the catalogs; each text that shows one
    has its place for it (``{trend}``)."""
    if current is None or previous is None:
        return ""
    return " ↑" if current > previous else " ↓" if current < previous else " ="


def decimal_text(context: Context, value: Fraction | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    rounded = round(Decimal(value.numerator) / Decimal(value.denominator), digits)
    return format_decimal(rounded, locale=lang(context))


def money_of(context: Context, value: Fraction | None) -> str:
    return "—" if value is None else money(context, round(value))


def nps_text(context: Context, score: Fraction | None) -> str:
    """The Net Promoter Score with its sign ("+25", "-10", "0"), or "—" without answers."""
    if score is None:
        return "—"
    rounded = round(score)
    return i18n.signed(lang(context), rounded) if rounded else number(context, 0)


def staff_listing(context: Context, stats: Stats) -> str:
    """Who recorded the purchases, and how many each ("Anna (4), Ben (2)"), or "—"."""
    people = [
        say(context, "stats_staff_member", name=name or str(user_id), count=count)
        for user_id, name, count in stats.top_staff
    ]
    return i18n.listing(lang(context), people) if people else "—"


def stats_text(context: Context, stats: Stats) -> str:
    if stats.location is not None:
        return location_stats_text(context, stats)
    now, before = stats.current, stats.previous

    def line(key: str, **values: object) -> str:
        return say(context, key, **values)

    nps_value = now.nps_score
    lines: list[str] = [
        line("stats_title", period=period_text(context, now.period),
             previous=period_text(context, before.period)),
        line(
            "stats_members",
            total=now.members.total,
            new=now.members.new,
            trend=trend(now.members.new, before.members.new),
            reachable=now.members.reachable,
        ),
        line("stats_active", active=now.active_30_days),
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
            customers=now.visits.customers,
            visits=now.visits.visits,
            trend=trend(now.visits.visits, before.visits.visits),
            per=decimal_text(context, now.visits_per_customer),
            spend=money_of(context, now.spend_per_customer),
            basket=money_of(context, now.basket),
        ),
        line(
            "stats_points",
            issued=now.issued,
            redeemed=now.redeemed,
            rate=percent(context, now.redemption_rate),
            trend=trend(now.issued, before.issued),
        ),
        line(
            "stats_coupons",
            issued=now.coupons.issued,
            used=now.coupons.used,
            expired=now.coupons.expired,
        ),
        line(
            "stats_nps",
            score=nps_text(context, nps_value),
            answers=now.nps.answers,
            trend=trend(nps_value, before.nps_score),
        ),
    ]  # fmt: skip
    lines += offer_lines(context, stats)
    lines.append(
        line(
            "stats_broadcasts",
            count=now.reach.broadcasts,
            sent=now.reach.sent,
            total=now.reach.recipients,
        )
    )
    top = [
        say(context, "stats_top_referrer", name=row.first_name, count=row.rewarded)
        for row in stats.top_referrers
    ]
    lines.append(
        line(
            "stats_referrals",
            joined=now.referrals_joined,
            rewarded=now.referrals_rewarded,
            top=Html(i18n.listing(lang(context), top)) if top else "—",
        )
    )
    lines.append(line("stats_staff", staff=Html(staff_listing(context, stats))))
    tiers = [say(context, "stats_tier", name=name, count=count) for name, count in stats.tiers]
    lines.append(line("stats_tiers", tiers=Html(i18n.listing(lang(context), tiers))))
    return "\n".join(lines + parts_lines(context, stats))


def offer_lines(context: Context, stats: Stats) -> list[str]:
    """Each offer's uptake: purchases, members who used it, and what they spent."""
    lines = []
    for offer in stats.offers:
        others = stats.current.visits.customers - offer.members
        lines.append(
            say(
                context,
                "stats_offer",
                title=offer.title,
                purchases=offer.purchases,
                members=offer.members,
                users=money_of(context, share(offer.spend_users_minor, offer.members)),
                others=money_of(context, share(offer.spend_others_minor, others)),
            )
        )
    return lines


def parts_lines(context: Context, stats: Stats) -> list[str]:
    """A chain's purchases and points by location, and the points issued at none."""
    if not stats.parts:
        return []
    lines = ["", say(context, "stats_parts_title")]
    for name, part in stats.parts:
        points = issued(part.points)
        if name is None:
            lines.append(say(context, "stats_part_chain_wide", issued=points))
            continue
        lines.append(
            say(
                context,
                "stats_part",
                name=name,
                customers=part.customers,
                visits=part.visits,
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
        say(context, "stats_title_at", location=stats.location,
            period=period_text(context, now.period),
            previous=period_text(context, before.period)),
        say(context, "stats_active_at", active=now.active_30_days),
        say(context, "stats_retention", rate=percent(context, now.retention),
            trend=trend(now.retention, before.retention),
            previous=percent(context, before.retention)),
        say(context, "stats_repeat", rate=percent(context, now.repeat_rate),
            trend=trend(now.repeat_rate, before.repeat_rate)),
        say(context, "stats_visits", customers=now.visits.customers,
            visits=now.visits.visits,
            trend=trend(now.visits.visits, before.visits.visits),
            per=decimal_text(context, now.visits_per_customer),
            spend=money_of(context, now.spend_per_customer),
            basket=money_of(context, now.basket)),
        say(context, "stats_points_at", issued=now.issued,
            trend=trend(now.issued, before.issued), used=now.coupons.used),
    ]  # fmt: skip
    lines += offer_lines(context, stats)
    lines.append(say(context, "stats_staff", staff=Html(staff_listing(context, stats))))
    return "\n".join(lines)


def picture_text(context: Context, key: str, /, **values: object) -> str:
    """A text for a picture, not a message: no HTML, so the escaping of ``say`` is undone."""
    return html.unescape(say(context, key, **values))


def chart_labels(context: Context, period: Period, location: str | None) -> ChartLabels:
    """The chart's words and figures in the sender's language and locale."""
    reader = lang(context)
    cafe = context.services.settings.cafe_name
    when = period_text(context, period)
    if location is None:
        title = picture_text(context, "chart_title", cafe=cafe, period=when)
    else:
        title = picture_text(context, "chart_title_at", cafe=cafe, location=location, period=when)

    def cohort(month: date, members: int) -> str:
        return picture_text(context, "chart_cohort", month=i18n.month_year(reader, month),
                         members=members)  # fmt: skip

    return ChartLabels(
        title=title,
        visits=picture_text(context, "chart_visits"),
        points=picture_text(context, "chart_points"),
        issued=picture_text(context, "chart_issued"),
        redeemed=picture_text(context, "chart_redeemed"),
        cohorts=picture_text(context, "chart_cohorts"),
        months_after=picture_text(context, "chart_months_after"),
        week=lambda monday: i18n.day_month(reader, monday),
        cohort=cohort,
        share=lambda value: format_percent(value, locale=reader),
        offset=lambda months: i18n.signed(reader, months),
    )


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
    labels = chart_labels(context, period, stats.location)
    caption = "stats_chart_caption" if stats.location is None else "stats_chart_caption_at"
    image = await asyncio.to_thread(render_stats_chart, data, labels)
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
    first = typed_word(context, args[0], "word_member") if args else ""
    first = typed_word(context, first, "word_staff")
    if first in ("member", "staff") and len(args) >= 2:
        number_given = parse_int(args[1])
        member_id, actor_id = (number_given, None) if first == "member" else (None, number_given)
        rest = args[2:] if number_given is not None else args
    elif args and parse_int(args[0]) is not None:
        member_id, rest = parse_int(args[0]), args[1:]
    asked = None
    if rest:
        names = {loc.name.lower(): loc.id for loc in await context.services.locations.all()}
        asked = names.get(" ".join(rest)) if len(names) > 1 else None
        if asked is None:
            await reply(update, say(context, "audit_usage", member=say(context, "word_member"),
                                    staff=say(context, "word_staff")))  # fmt: skip
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
        place = names.get(entry.location_id) if entry.location_id is not None else None
        text.append(audit_line(context, entry, place if chain and location is None else None))
    await reply(update, "\n".join(text), reply_markup=markup)


def audit_line(context: Context, entry: AuditLine, place: str | None) -> str:
    """One line of the audit log: when, [where,] who, what, [which member,] [the details
    as the log recorded them]. What was done reads in the sender's language where the
    catalogs know the action, else as the log's own name for it."""
    action_key = "audit_action_" + entry.action.replace(".", "_")
    action = Html(say(context, action_key)) if action_key in EN else entry.action
    if entry.actor_name:
        who = say(context, "audit_who", name=entry.actor_name, id=str(entry.actor_id))
    else:
        who = str(entry.actor_id)
    values: dict[str, object] = {
        "when": i18n.day_time(lang(context), entry.created_at, context.services.settings.tz),
        "who": Html(who),
        "action": action,
    }
    key = "audit_line_at" if place is not None else "audit_line"
    if place is not None:
        values["location"] = place
    if entry.member_id is not None:
        key += "_member"
        values["member"] = str(entry.member_id)
    if entry.detail:
        key += "_detail"
        values["detail"] = entry.detail
    return say(context, key, **values)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/stats and /audit, with their location buttons."""
    return [
        CommandHandler("stats", stats_command),
        on_button(STATS_AT, stats_at_pressed),
        CommandHandler("audit", audit_command),
        on_button(AUDIT_AT, audit_at_pressed),
    ]
