"""The accounting report as text — the owner's /report and ``loyalty-bot report`` alike.

One renderer decides which lines the report has and in which order: the title, the
points roll-forward, the liability, the IFRS 15 deferral. A :class:`ReportFormat` says how
each line reads: :func:`localized` in the chat (the café's texts and locale, HTML),
:func:`plain` on the command line (English, plain numbers, aligned columns). A line the
format has no text for is left out; a section left empty is left out with its blank
line. Nothing here talks to Telegram.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from babel.numbers import format_decimal, format_percent

from bot.accounting import ISSUED_KINDS, PPM
from bot.money import format_money
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


def number(locale: str, value: int) -> str:
    return format_decimal(value, locale=locale)


def signed(locale: str, value: int) -> str:
    return ("+" if value > 0 else "") + number(locale, value)


def percent(locale: str, value: Share) -> str:
    """A share as a percentage with at most one decimal (an ``int`` is parts per million)."""
    if value is None:
        return "—"
    if isinstance(value, Fraction):
        fraction = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        fraction = Decimal(value) / PPM
    return format_percent(fraction, "#,##0.#%", locale=locale)


def _money(settings: Settings) -> Callable[[int], str]:
    def money(minor: int) -> str:
        return format_money(minor, settings.currency, settings.currency_exponent, settings.locale)

    return money


def localized(settings: Settings, text: Texts) -> ReportFormat:
    """The chat's report: ``text`` looks up the café's texts (``say``), numbers and
    percentages as the café's locale writes them."""
    locale = settings.locale
    return ReportFormat(
        text=text,
        number=lambda value: number(locale, value),
        signed=lambda value: signed(locale, value),
        money=_money(settings),
        percent=lambda value: percent(locale, value),
    )


_COLUMNS = "  {label:<31} {value:>12}"

# The command line's texts: no reconciliation with today's balances, no observed rate and
# no files, which the chat's report has.
PLAIN: dict[str, str] = {
    "report_title": "Points and revenue: {period}",
    "report_roll_title": "Points roll-forward",
    "report_line": _COLUMNS,
    "report_opening": "opening balance",
    **{f"report_issued_{kind}": f"issued: {kind.replace('_', ' ')}" for kind in ISSUED_KINDS},
    "report_reversed": "reversed (undo)",
    "report_redeemed": "redeemed",
    "report_refunded": "refunded",
    "report_expired": "expired",
    "report_closing": _COLUMNS.replace("{label:<31}", f"{'closing balance':<31}"),
    "report_liability": (
        "Liability: {face} at face value, {expected} at the expected redemption rate of {rate}"
    ),
    "report_revenue_title": "Revenue (IFRS 15)",
    "report_deferred": "deferred in the period",
    "report_recognised": "recognised in the period",
    "report_contract_liability": "contract liability at the end",
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
    "report_chain_wide_name": "chain-wide",
}


def _plain_text(key: str, /, **values: object) -> str | None:
    template = PLAIN.get(key)
    return None if template is None else template.format(**values)


def _plain_percent(value: Share) -> str:
    if value is None:
        return "—"
    share = float(value) * 100 if isinstance(value, Fraction) else value / 10_000
    return f"{share:g}%"


def plain(settings: Settings) -> ReportFormat:
    """The command line's report: plain integers, signed movements (+0 too), the rate
    as ``95.5%``, money in the café's currency."""
    return ReportFormat(
        text=_plain_text,
        number=str,
        signed=lambda value: f"{value:+}",
        money=_money(settings),
        percent=_plain_percent,
    )


def render(report: AccountingReport, fmt: ReportFormat) -> str:
    """The report's text, without a final newline."""
    text = fmt.text
    roll, d = report.roll, report.deferral

    def line(label_key: str, value: str) -> str | None:
        label = text(label_key)
        return None if label is None else text("report_line", label=label, value=value)

    reconciliation = None
    if report.balances_now is not None:
        key = "report_reconciled" if report.balances_now == roll.closing else "report_unreconciled"
        reconciliation = text(key, balances=fmt.number(report.balances_now))
    rate = fmt.percent(report.rate_at_end)
    sections: list[list[str | None]] = [
        _title(report, fmt),
        [
            text("report_roll_title"),
            line("report_opening", fmt.number(roll.opening)),
            *(line(f"report_issued_{kind}", fmt.signed(n)) for kind, n in roll.issued.items()),
            line("report_reversed", fmt.signed(roll.reversed)),
            line("report_redeemed", fmt.signed(roll.redeemed)),
            line("report_refunded", fmt.signed(roll.refunded)),
            line("report_expired", fmt.signed(roll.expired)),
            text("report_closing", value=fmt.number(roll.closing)),
            reconciliation,
        ],
        [
            text(
                "report_liability",
                points=fmt.number(roll.closing),
                face=fmt.money(report.liability_face),
                expected=fmt.money(report.liability_expected),
                rate=rate,
            ),
            text("report_rates", rate=rate, observed=fmt.percent(report.observed_rate)),
        ],
        [
            text("report_revenue_title"),
            line("report_deferred", fmt.money(d.deferred_in_period)),
            line("report_recognised", fmt.money(d.recognised_in_period)),
            line("report_contract_liability", fmt.money(d.contract_liability)),
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
    period = str(report.period)
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
        name = part.location if part.location_id != CHAIN_WIDE else None
        d = part.deferral
        lines.append(
            fmt.text(
                "report_part",
                name=name or fmt.text("report_chain_wide_name") or "",
                closing=fmt.number(part.roll.closing),
                movements=fmt.signed(part.roll.movements),
                deferred=fmt.money(d.deferred_in_period),
                recognised=fmt.money(d.recognised_in_period),
                contract=fmt.money(d.contract_liability),
            )
        )
    return lines
