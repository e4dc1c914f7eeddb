"""The accounting report as text — the owner's /report and ``loyalty-bot report`` alike.

One renderer decides which lines the report has and in which order: the title, the
points roll-forward, the liability, the IFRS 15 deferral. A :class:`ReportFormat` says how
each line reads: :func:`localized` in the chat (the texts, numbers, money, dates and
percentages of the person who asked, HTML), :func:`plain` on the command line (English,
for the operator: plain numbers, aligned columns). A line the format has no text for is
left out; a section left empty is left out with its blank line. Nothing here talks to
Telegram.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from babel.dates import format_interval, format_skeleton

from bot import i18n
from bot.accounting import ISSUED_KINDS, PPM
from bot.money import format_money
from bot.periods import Period
from bot.services.reports import CHAIN_WIDE, AccountingReport
from bot.settings import Settings

Share = Fraction | int | None  # a Fraction, or an int in parts per million


class Texts(Protocol):
    def __call__(self, key: str, /, **values: object) -> str | None:
        """The text ``key`` with ``values`` filled in; None leaves the line out."""
        ...


@dataclass(frozen=True, slots=True)
class ReportFormat:
    text: Texts
    number: Callable[[int], str]
    signed: Callable[[int], str]  # a movement: + for points in
    money: Callable[[int], str]  # minor units
    percent: Callable[[Share], str]
    period: Callable[[Period], str]


def number(reader: str, value: int) -> str:
    return i18n.number(reader, value)


def signed(reader: str, value: int) -> str:
    """A movement of points: "+12", "-40", and "0" without a sign."""
    return i18n.signed(reader, value) if value else i18n.number(reader, value)


def percent(reader: str, value: Share) -> str:
    """A share as a percentage with at most one decimal (an ``int`` is parts per million)."""
    if value is None:
        return "—"
    if isinstance(value, Fraction):
        fraction = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        fraction = Decimal(value) / PPM
    return i18n.percent(reader, fraction)


def period_name(reader: str, period: Period) -> str:
    """A period as the reader writes it: "November 2026", "1–29 nov 2026"."""
    if period.is_month:
        return format_skeleton("yMMMM", period.first, locale=reader)
    if period.first == period.last:
        return i18n.day(reader, period.first)
    return format_interval(period.first, period.last, "yMMMd", locale=reader)


def localized(settings: Settings, reader: str, text: Texts) -> ReportFormat:
    """The chat's report for ``reader`` (the person who asked): ``text`` looks up their
    texts (``say``); numbers, money, percentages and the period as their locale writes
    them."""

    def money(minor: int) -> str:
        return i18n.money(reader, minor, settings.currency, settings.currency_exponent)

    return ReportFormat(
        text=text,
        number=lambda value: number(reader, value),
        signed=lambda value: signed(reader, value),
        money=money,
        percent=lambda value: percent(reader, value),
        period=lambda period: period_name(reader, period),
    )


def _column(label: str) -> str:
    return f"  {label:<31} {{value:>12}}"


# The command line's texts, in English for the operator (like the start-up errors): no
# reconciliation with today's balances, no observed rate and no files, which the chat's
# report has.
PLAIN: dict[str, str] = {
    "report_title": "Points and revenue: {period}",
    "report_roll_title": "Points roll-forward",
    "report_opening": _column("opening balance"),
    **{
        f"report_issued_{kind}": _column(f"issued: {kind.replace('_', ' ')}")
        for kind in ISSUED_KINDS
    },
    "report_reversed": _column("reversed (undo)"),
    "report_redeemed": _column("redeemed"),
    "report_refunded": _column("refunded"),
    "report_expired": _column("expired"),
    "report_closing": _column("closing balance"),
    "report_liability": (
        "Liability: {face} at face value, {expected} at the expected redemption rate of {rate}"
    ),
    "report_revenue_title": "Revenue (IFRS 15)",
    "report_deferred": _column("deferred in the period"),
    "report_recognised": _column("recognised in the period"),
    "report_contract_liability": _column("contract liability at the end"),
    "report_bonus": "  bonus points given without a sale: {points}, marketing cost {cost}",
    # A chain's report: its parts, and one part's report.
    "report_title_at": "Points and revenue at {location}: {period}",
    "report_title_chain_wide": "Points and revenue made at no location (chain-wide): {period}",
    "report_location_note": (
        "  Only this location's purchases and their undos: redemptions, refunds, expiry and"
        " bonuses are chain-wide."
    ),
    "report_chain_wide_note": (
        "  Redemptions, refunds, expiry and bonuses: the chain's, made at no location."
    ),
    "report_parts_title": "By location (these add up to the figures above)",
    "report_part": (
        "  {name}: closing {closing} ({movements} in the period), deferred {deferred},"
        " recognised {recognised}, contract liability {contract}"
    ),
    "report_part_chain_wide": (
        "  chain-wide: closing {closing} ({movements} in the period), deferred {deferred},"
        " recognised {recognised}, contract liability {contract}"
    ),
}


def _plain_text(key: str, /, **values: object) -> str | None:
    template = PLAIN.get(key)
    return None if template is None else template.format(**values)


def _plain_percent(value: Share) -> str:
    if value is None:
        return "—"
    share = float(value) * 100 if isinstance(value, Fraction) else value / 10_000
    return f"{share:g}%"


def _plain_money(settings: Settings) -> Callable[[int], str]:
    def money(minor: int) -> str:
        return format_money(minor, settings.currency, settings.currency_exponent, settings.locale)

    return money


def plain(settings: Settings) -> ReportFormat:
    """The command line's report: plain integers, signed movements (+0 too), the rate
    as ``95.5%``, money in the café's currency and locale."""
    return ReportFormat(
        text=_plain_text,
        number=str,
        signed=lambda value: f"{value:+}",
        money=_plain_money(settings),
        percent=_plain_percent,
        period=str,
    )


def render(report: AccountingReport, fmt: ReportFormat) -> str:
    """The report's text, without a final newline."""
    text = fmt.text
    roll, d = report.roll, report.deferral

    reconciliation = None
    if report.balances_now is not None:
        key = "report_reconciled" if report.balances_now == roll.closing else "report_unreconciled"
        reconciliation = text(key, balances=fmt.number(report.balances_now))
    rate = fmt.percent(report.rate_at_end)
    sections: list[list[str | None]] = [
        _title(report, fmt),
        [
            text("report_roll_title"),
            text("report_opening", value=fmt.number(roll.opening)),
            *(
                text(f"report_issued_{kind}", value=fmt.signed(n))
                for kind, n in roll.issued.items()
            ),
            text("report_reversed", value=fmt.signed(roll.reversed)),
            text("report_redeemed", value=fmt.signed(roll.redeemed)),
            text("report_refunded", value=fmt.signed(roll.refunded)),
            text("report_expired", value=fmt.signed(roll.expired)),
            text("report_closing", value=fmt.number(roll.closing)),
            reconciliation,
        ],
        [
            text(
                "report_liability",
                points=roll.closing,  # a count: the text writes it, and agrees its noun
                face=fmt.money(report.liability_face),
                expected=fmt.money(report.liability_expected),
                rate=rate,
            ),
            text("report_rates", rate=rate, observed=fmt.percent(report.observed_rate)),
        ],
        [
            text("report_revenue_title"),
            text("report_deferred", value=fmt.money(d.deferred_in_period)),
            text("report_recognised", value=fmt.money(d.recognised_in_period)),
            text("report_contract_liability", value=fmt.money(d.contract_liability)),
            text(
                "report_bonus",
                points=fmt.number(report.bonus_issued),
                cost=fmt.money(report.bonus_cost),
            ),
        ],
        _parts(report, fmt),
        [text("report_files")],
    ]
    kept = ["\n".join(part for part in section if part is not None) for section in sections]
    return "\n\n".join(section for section in kept if section)


def _title(report: AccountingReport, fmt: ReportFormat) -> list[str | None]:
    """The whole café's title, or a part's with the line saying what the part holds."""
    period = fmt.period(report.period)
    if report.location_id is None:
        return [fmt.text("report_title", period=period)]
    if report.location_id == CHAIN_WIDE:
        return [
            fmt.text("report_title_chain_wide", period=period),
            fmt.text("report_chain_wide_note"),
        ]
    return [
        fmt.text("report_title_at", location=report.location or "", period=period),
        fmt.text("report_location_note"),
    ]


def _parts(report: AccountingReport, fmt: ReportFormat) -> list[str | None]:
    """A chain's report by location: each location's and the chain-wide closing balance,
    movements and revenue figures (they add up to the whole's)."""
    if not report.parts:
        return []
    lines = [fmt.text("report_parts_title")]
    for part in report.parts:
        d = part.deferral
        chain_wide = part.location_id == CHAIN_WIDE
        lines.append(
            fmt.text(
                "report_part_chain_wide" if chain_wide else "report_part",
                name=part.location or "",
                closing=fmt.number(part.roll.closing),
                movements=fmt.signed(part.roll.movements),
                deferred=fmt.money(d.deferred_in_period),
                recognised=fmt.money(d.recognised_in_period),
                contract=fmt.money(d.contract_liability),
            )
        )
    return lines
