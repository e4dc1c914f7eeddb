"""The owner's numbers: /report (for the accountant), /export, /redemptionrate."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path

from babel.numbers import format_decimal, format_percent
from telegram import InputFile, Update

from bot.accounting import PPM
from bot.charts import render_stats_chart
from bot.inputs import parse_int
from bot.periods import Period, parse_period
from bot.services.reports import AccountingReport, RateInvalid
from bot.services.roles import Role
from bot.services.stats import Stats, share
from handlers.common import Context, get_services, money, reply, requires, say

logger = logging.getLogger(__name__)


def period_of(context: Context, words: list[str]) -> Period | None:
    services = get_services(context)
    try:
        return parse_period(words, services.settings.tz, services.clock.now())
    except ValueError:
        return None


def number(context: Context, value: int) -> str:
    return format_decimal(value, locale=get_services(context).settings.locale)


def signed(context: Context, value: int) -> str:
    return ("+" if value > 0 else "") + number(context, value)


def percent(context: Context, value: Fraction | int | None) -> str:
    """A share as a percentage with at most one decimal (an ``int`` is parts per million)."""
    if value is None:
        return "—"
    if isinstance(value, Fraction):
        fraction = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        fraction = Decimal(value) / PPM
    locale = get_services(context).settings.locale
    return format_percent(fraction, "#,##0.#%", locale=locale)


def report_text(context: Context, report: AccountingReport) -> str:
    roll, d = report.roll, report.deferral
    lines = [
        say(context, "report_title", period=str(report.period)),
        "",
        say(context, "report_roll_title"),
        say(
            context,
            "report_line",
            label=say(context, "report_opening"),
            value=number(context, roll.opening),
        ),
    ]
    for kind, points in roll.issued.items():
        lines.append(
            say(
                context,
                "report_line",
                label=say(context, f"report_issued_{kind}"),
                value=signed(context, points),
            )
        )
    for key, points in (
        ("report_reversed", roll.reversed),
        ("report_redeemed", roll.redeemed),
        ("report_refunded", roll.refunded),
        ("report_expired", roll.expired),
    ):
        lines.append(
            say(context, "report_line", label=say(context, key), value=signed(context, points))
        )
    lines.append(say(context, "report_closing", value=number(context, roll.closing)))
    if report.balances_now is not None:
        key = "report_reconciled" if report.balances_now == roll.closing else "report_unreconciled"
        lines.append(say(context, key, balances=number(context, report.balances_now)))
    lines += [
        "",
        say(
            context,
            "report_liability",
            points=number(context, roll.closing),
            face=money(context, report.liability_face),
            expected=money(context, report.liability_expected),
            rate=percent(context, report.rate_at_end),
        ),
        say(
            context,
            "report_rates",
            rate=percent(context, report.rate_at_end),
            observed=percent(context, report.observed_rate),
        ),
        "",
        say(context, "report_revenue_title"),
        say(
            context,
            "report_line",
            label=say(context, "report_deferred"),
            value=money(context, d.deferred_in_period),
        ),
        say(
            context,
            "report_line",
            label=say(context, "report_recognised"),
            value=money(context, d.recognised_in_period),
        ),
        say(
            context,
            "report_line",
            label=say(context, "report_contract_liability"),
            value=money(context, d.contract_liability),
        ),
        say(
            context,
            "report_bonus",
            points=number(context, report.bonus_issued),
            cost=money(context, report.bonus_cost),
        ),
        "",
        say(context, "report_files"),
    ]
    return "\n".join(lines)


async def send_files(
    update: Update, context: Context, period: Period, report: AccountingReport
) -> None:
    """The ledger and the roll-forward as CSV documents, written to a temporary folder."""
    services = get_services(context)
    chat = update.effective_chat
    if chat is None:
        return
    with tempfile.TemporaryDirectory(prefix="loyalty-export-") as folder:
        ledger = Path(folder) / services.exports.ledger_name(period)
        roll = Path(folder) / services.exports.roll_forward_name(period)
        count = await services.exports.write_ledger(period, ledger)
        await services.exports.write_roll_forward(report, roll)
        for path, caption in (
            (roll, say(context, "export_roll_caption")),
            (ledger, say(context, "export_ledger_caption", count=number(context, count))),
        ):
            with path.open("rb") as handle:
                await chat.send_document(InputFile(handle, filename=path.name), caption=caption)


@requires(Role.OWNER)
async def report_command(update: Update, context: Context) -> None:
    """/report [YYYY-MM | FROM TO]: the points roll-forward, liability and revenue."""
    period = period_of(context, context.args or [])
    if period is None:
        await reply(update, say(context, "period_usage", command="report"))
        return
    report = await get_services(context).reports.report(period)
    await reply(update, report_text(context, report))
    await send_files(update, context, period, report)


@requires(Role.OWNER)
async def export_command(update: Update, context: Context) -> None:
    """/export [period]: the ledger and the roll-forward as CSV."""
    period = period_of(context, context.args or [])
    if period is None:
        await reply(update, say(context, "period_usage", command="export"))
        return
    report = await get_services(context).reports.report(period)
    await send_files(update, context, period, report)


@requires(Role.OWNER)
async def redemption_rate_command(update: Update, context: Context) -> None:
    """/redemptionrate [RATE [from YYYY-MM-DD]]: the estimate the books use."""
    args = context.args or []
    services = get_services(context)
    user = update.effective_user
    if not args or user is None:
        now = services.clock.now()
        current = await services.reports.rate_at(now)
        history = await services.reports.rates()
        lines = [say(context, "rate_current", rate=percent(context, current))]
        for effective, ppm in history[-5:]:
            day = effective.astimezone(services.settings.tz).strftime("%d %b %Y")
            lines.append(say(context, "rate_history_line", date=day, rate=percent(context, ppm)))
        lines.append(say(context, "rate_usage"))
        await reply(update, "\n".join(lines))
        return
    rate = parse_rate(args[0])
    first_day = None
    if len(args) == 3 and args[1].lower() == "from":
        try:
            first_day = date.fromisoformat(args[2])
        except ValueError:
            rate = None
    elif len(args) != 1:
        rate = None
    if rate is None:
        await reply(update, say(context, "rate_usage"))
        return
    try:
        applied = await services.reports.set_rate(user.id, rate, first_day)
    except RateInvalid as invalid:
        await reply(update, say(context, f"rate_bad_{invalid.reason}"))
        return
    await reply(
        update,
        say(
            context,
            "rate_saved",
            rate=percent(context, Fraction(rate)),
            date=applied.strftime("%d %b %Y"),
        ),
    )


def parse_rate(text: str) -> Decimal | None:
    """``95%``, ``95`` (a percentage) or ``0.95``."""
    cleaned = text.strip().rstrip("%").replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if text.strip().endswith("%") or value > 1:
        value /= 100
    return value if Decimal(0) <= value <= Decimal(1) else None


# -- /stats and /audit -----------------------------------------------------------------------


def trend(current: Fraction | int | None, previous: Fraction | int | None) -> str:
    """↑, ↓ or = against the period before (nothing to compare: empty)."""
    if current is None or previous is None:
        return ""
    return " ↑" if current > previous else " ↓" if current < previous else " ="


def decimal_text(context: Context, value: Fraction | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    rounded = round(Decimal(value.numerator) / Decimal(value.denominator), digits)
    return format_decimal(rounded, locale=get_services(context).settings.locale)


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
    services = get_services(context)
    stats = await services.stats.stats(period)
    await reply(update, stats_text(context, stats))
    data = await services.stats.chart_data()
    title = f"{services.settings.cafe_name} · {period}"
    image = await asyncio.to_thread(render_stats_chart, data, title)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_photo(image, caption=say(context, "stats_chart_caption"))


@requires(Role.OWNER)
async def audit_command(update: Update, context: Context) -> None:
    """/audit [member N | staff ID | N]: the latest audit-log lines."""
    args = [arg.lower() for arg in context.args or []]
    services = get_services(context)
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
