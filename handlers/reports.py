"""The books: /report (roll-forward, liability and IFRS 15 deferral, for the accountant),
/export and /redemptionrate."""

from __future__ import annotations

import logging
import tempfile
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

from telegram import (
    InputFile,
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot.periods import Period, parse_period
from bot.services.reports import AccountingReport, RateInvalid
from bot.services.roles import Role
from handlers import report_text
from handlers.common import (
    Context,
    reply,
    requires,
    say,
)
from handlers.report_text import localized

logger = logging.getLogger(__name__)


def period_of(context: Context, words: list[str]) -> Period | None:
    services = context.services
    try:
        return parse_period(words, services.settings.tz, services.clock.now())
    except ValueError:
        return None


def number(context: Context, value: int) -> str:
    return report_text.number(context.services.settings.locale, value)


def percent(context: Context, value: Fraction | int | None) -> str:
    """A share as a percentage with at most one decimal (an ``int`` is parts per million)."""
    return report_text.percent(context.services.settings.locale, value)


async def send_files(
    update: Update, context: Context, period: Period, report: AccountingReport
) -> None:
    """The ledger and the roll-forward as CSV documents, written to a temporary folder."""
    services = context.services
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
    report = await context.services.reports.report(period)
    texts = localized(context.services.settings, partial(say, context))
    await reply(update, report_text.render(report, texts))
    await send_files(update, context, period, report)


@requires(Role.OWNER)
async def export_command(update: Update, context: Context) -> None:
    """/export [period]: the ledger and the roll-forward as CSV."""
    period = period_of(context, context.args or [])
    if period is None:
        await reply(update, say(context, "period_usage", command="export"))
        return
    report = await context.services.reports.report(period)
    await send_files(update, context, period, report)


@requires(Role.OWNER)
async def redemption_rate_command(update: Update, context: Context) -> None:
    """/redemptionrate [RATE [from YYYY-MM-DD]]: the estimate the books use."""
    args = context.args or []
    services = context.services
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


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/report, /export and /redemptionrate."""
    return [
        CommandHandler("report", report_command),
        CommandHandler("export", export_command),
        CommandHandler("redemptionrate", redemption_rate_command),
    ]
