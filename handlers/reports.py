"""The books: /report (roll-forward, liability and IFRS 15 deferral, for the accountant),
/export and /redemptionrate; and how /report, /stats and /audit are asked for one location
of a chain (an argument or a row of buttons), which the roles service decides."""

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
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot import i18n
from bot.inputs import parse_int
from bot.periods import Period, parse_period
from bot.services.errors import LocationUnknown, NotYourLocation
from bot.services.reports import CHAIN_WIDE, AccountingReport, RateInvalid
from bot.services.roles import Role
from handlers import report_text
from handlers.common import (
    Context,
    button_args,
    lang,
    on_button,
    reply,
    requires,
    say,
)
from handlers.report_text import localized, period_name

logger = logging.getLogger(__name__)


def typed_word(context: Context, word: str, key: str) -> str:
    """A word the sender typed, as its English form when it is the English word or the
    one their language has for it (``key``: "word_last"), else as it was."""
    lowered = word.lower()
    return key.removeprefix("word_") if lowered == say(context, key).lower() else lowered


def period_of(context: Context, words: list[str]) -> Period | None:
    """The period some typed words name (this month, ``2026-11``, a range, or "last" in
    English or the sender's language); None when they name none."""
    services = context.services
    english = [typed_word(context, word, "word_last") for word in words]
    try:
        return parse_period(english, services.settings.tz, services.clock.now())
    except ValueError:
        return None


def period_text(context: Context, period: Period) -> str:
    """A period as the sender writes it ("November 2026", "1–15 nov 2026")."""
    return period_name(lang(context), period)


# -- which location's figures -------------------------------------------------------------

REPORT_AT = "rpl"  # rpl:<scope>:<period slug>: /report for one location (or all)
WHOLE, CHAIN = "a", "c"  # a button's scope: the whole café, the chain-wide part
Asked = tuple[Period, int | None]


def period_and_location(
    context: Context, words: list[str], names: dict[str, int]
) -> tuple[Period, int | None] | None:
    """A period followed by a location's name (any case), either optional:
    ``2026-11 Harbour``, ``last``, ``Harbour``. None when the words are neither."""
    for cut in range(len(words), -1, -1):
        period = period_of(context, words[:cut])
        if period is None:
            continue
        rest = " ".join(words[cut:]).strip().lower()
        if not rest:
            return period, None
        if rest in names:
            return period, names[rest]
    return None


async def allowed_location(update: Update, context: Context, asked: int | None) -> int | None:
    """The location whose figures the sender gets for ``asked`` (roles decide: an owner
    anything, a manager their own); -1 after telling them they may not."""
    user = update.effective_user
    if user is None:
        return -1
    try:
        return await context.services.roles.figures_location(user.id, asked)
    except NotYourLocation as refused:
        if refused.names:
            names = i18n.listing(lang(context), refused.names)
            await reply(update, say(context, "figures_not_yours", names=names))
        else:
            await reply(update, say(context, "figures_nothing"))
        return -1


async def figures_asked(update: Update, context: Context, command: str) -> Asked | None:
    """The period and location a /report or /stats asks for, checked: None after a reply
    saying what to send or that it is not theirs. A café with one location reads periods
    only, as always."""
    locations = await context.services.locations.all()
    names = {location.name.lower(): location.id for location in locations}
    found = period_and_location(context, context.args or [], names if len(names) > 1 else {})
    if found is None:
        last = say(context, "word_last")
        if len(locations) < 2:
            await reply(update, say(context, "period_usage", command=command, last=last))
        else:
            example = locations[-1].name
            await reply(
                update,
                say(
                    context,
                    "figures_usage",
                    command=command,
                    last=last,
                    location=example,
                    names=i18n.listing(lang(context), [place.name for place in locations]),
                ),
            )
        return None
    location = await allowed_location(update, context, found[1])
    return None if location == -1 else (found[0], location)


def scope_of(text: str) -> int | None:
    """A button's scope: the whole café (None), the chain-wide part, or a location."""
    if text == WHOLE:
        return None
    if text == CHAIN:
        return CHAIN_WIDE
    return parse_int(text, low=1)


async def figures_keyboard(
    update: Update, context: Context, prefix: str, shown: int | None, suffix: str = ""
) -> InlineKeyboardMarkup | None:
    """Buttons for the other locations the sender may see (data ``prefix:scope[:suffix]``):
    for an owner of a chain every location, all of them and the chain-wide part; for a
    manager of several their others; nothing where there is nothing else to see."""
    user = update.effective_user
    if user is None:
        return None
    roles = context.services.roles
    choices = await roles.figures_choices(user.id)
    if not choices:
        return None
    tail = f":{suffix}" if suffix else ""
    buttons = [
        InlineKeyboardButton(
            say(context, "btn_figures_at", name=name), callback_data=f"{prefix}:{key}{tail}"
        )
        for key, name in choices
        if key != shown
    ]
    if await roles.visible_locations(user.id) is None:
        if shown is not None:
            label = say(context, "btn_figures_all")
            buttons.append(InlineKeyboardButton(label, callback_data=f"{prefix}:{WHOLE}{tail}"))
        if shown != CHAIN_WIDE and prefix == REPORT_AT:
            label = say(context, "btn_figures_chain_wide")
            buttons.append(InlineKeyboardButton(label, callback_data=f"{prefix}:{CHAIN}{tail}"))
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    return InlineKeyboardMarkup(rows) if rows else None


async def pressed_scope(update: Update, context: Context, parts: int) -> Asked | None:
    """A location button under /report or /stats: the period and the location it asks
    for, checked like a command's (None after a reply, or for an old or forged button)."""
    args = await button_args(update, context, parts)
    if args is None:
        return None
    asked = scope_of(args[0])
    period = period_of(context, args[1].replace("_", " ").split()) if parts == 2 else None
    if (asked is None and args[0] != WHOLE) or (parts == 2 and period is None):
        return None
    location = await allowed_location(update, context, asked)
    if location == -1:
        return None
    services = context.services
    return period or parse_period([], services.settings.tz, services.clock.now()), location


def number(context: Context, value: int) -> str:
    """A number as the sender's locale writes it."""
    return report_text.number(lang(context), value)


def percent(context: Context, value: Fraction | int | None) -> str:
    """A share as a percentage with at most one decimal (an ``int`` is parts per million),
    as the sender's locale writes it."""
    return report_text.percent(lang(context), value)


async def send_files(
    update: Update, context: Context, period: Period, report: AccountingReport
) -> None:
    """The ledger and the roll-forward as CSV documents, written to a temporary folder
    (a location's report: its own entries)."""
    services = context.services
    chat = update.effective_chat
    if chat is None:
        return
    part = report.location_id
    with tempfile.TemporaryDirectory(prefix="loyalty-export-") as folder:
        ledger = Path(folder) / services.exports.ledger_name(period, part)
        roll = Path(folder) / services.exports.roll_forward_name(period, part)
        count = await services.exports.write_ledger(period, ledger, part)
        await services.exports.write_roll_forward(report, roll)
        for path, caption in (
            (roll, say(context, "export_roll_caption")),
            (ledger, say(context, "export_ledger_caption", count=count)),
        ):
            with path.open("rb") as handle:
                await chat.send_document(InputFile(handle, filename=path.name), caption=caption)


@requires(Role.MANAGER)
async def report_command(update: Update, context: Context) -> None:
    """/report [YYYY-MM | FROM TO] [location]: the points roll-forward, liability and
    revenue, of the whole café or one location (a manager: theirs)."""
    asked = await figures_asked(update, context, "report")
    if asked is not None:
        await send_report(update, context, *asked)


@requires(Role.MANAGER)
async def report_at_pressed(update: Update, context: Context) -> None:
    """A location button under /report."""
    asked = await pressed_scope(update, context, 2)
    if asked is not None:
        await send_report(update, context, *asked)


async def send_report(
    update: Update, context: Context, period: Period, location: int | None
) -> None:
    try:
        report = await context.services.reports.report(period, location)
    except LocationUnknown:
        await reply(update, say(context, "button_expired"))
        return
    texts = localized(context.services.settings, lang(context), partial(say, context))
    markup = await figures_keyboard(update, context, REPORT_AT, location, period.slug)
    await reply(update, report_text.render(report, texts), reply_markup=markup)
    await send_files(update, context, period, report)


@requires(Role.OWNER)
async def export_command(update: Update, context: Context) -> None:
    """/export [period]: the ledger and the roll-forward as CSV."""
    period = period_of(context, context.args or [])
    if period is None:
        last = say(context, "word_last")
        await reply(update, say(context, "period_usage", command="export", last=last))
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
            day = i18n.day(lang(context), effective, services.settings.tz)
            lines.append(say(context, "rate_history_line", date=day, rate=percent(context, ppm)))
        lines.append(say(context, "rate_usage", word_from=say(context, "word_from")))
        await reply(update, "\n".join(lines))
        return
    rate = parse_rate(args[0])
    first_day = None
    if len(args) == 3 and typed_word(context, args[1], "word_from") == "from":
        try:
            first_day = date.fromisoformat(args[2])
        except ValueError:
            rate = None
    elif len(args) != 1:
        rate = None
    if rate is None:
        await reply(update, say(context, "rate_usage", word_from=say(context, "word_from")))
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
            date=i18n.day(lang(context), applied),
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
    """/report (and its location buttons), /export and /redemptionrate."""
    return [
        CommandHandler("report", report_command),
        on_button(REPORT_AT, report_at_pressed),
        CommandHandler("export", export_command),
        CommandHandler("redemptionrate", redemption_rate_command),
    ]
