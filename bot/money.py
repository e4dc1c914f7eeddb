"""Money is integer minor units; parsing goes through Babel and Decimal, never float.

What a barista types is read with the café's locale (``LOCALE``). A thousands separator
must never silently change an amount by a factor of 1,000, so an input that two
conventions read differently ("1,000" in a café that writes "4,50") is refused with both
readings rather than guessed.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    parse_decimal,
)

DEFAULT_LOCALE = "en_US"
_SPACES = re.compile(r"[\s\u00a0\u202f]")
_NUMBER = re.compile(r"[0-9]+(?:[.,'’][0-9]+)*[.,]?|[.,][0-9]+")


class AmountProblem(StrEnum):
    NOT_A_NUMBER = "not_a_number"
    NOT_POSITIVE = "not_positive"
    TOO_MANY_DECIMALS = "too_many_decimals"
    TOO_LARGE = "too_large"
    AMBIGUOUS = "ambiguous"


class AmountError(ValueError):
    def __init__(self, problem: AmountProblem, readings: tuple[Decimal, ...] = ()) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.readings = readings


def _strip_currency(text: str, currency: str, locale: str) -> str:
    """Drop spaces and the café's own currency symbol or code, before or after the number
    ("€4.50", "4,50 €", "EUR 4.50"); another currency's symbol stays and is refused."""
    cleaned = _SPACES.sub("", text)
    for symbol in (get_currency_symbol(currency, locale), currency):
        upper, mark = cleaned.upper(), symbol.upper()
        if upper.startswith(mark):
            cleaned = cleaned[len(symbol) :]
        elif upper.endswith(mark):
            cleaned = cleaned[: -len(symbol)]
    return cleaned


def _strict(text: str, locale: str) -> Decimal | None:
    try:
        return parse_decimal(text, locale, strict=True)
    except NumberFormatError:
        return None


def read_number(text: str, locale: str, exponent: int) -> Decimal:
    """The one value ``text`` stands for in ``locale``, or AmountError saying why not.

    The other convention ("4,50" in a café that writes "4.50", and the other way round)
    is read too: alone it is accepted, and where both readings differ the input is
    refused with both."""
    negative = text.startswith("-")
    digits = text.removeprefix("-").removeprefix("+")
    if not _NUMBER.fullmatch(digits):
        raise AmountError(AmountProblem.NOT_A_NUMBER)
    own = _strict(digits, locale)
    other = _strict(digits, "en_US" if get_decimal_symbol(locale) == "," else "de_DE")
    if own is not None:
        value = own
    elif other is not None and len({ch for ch in digits if ch in ".,'’"}) == 1:
        value = other  # "4,50" in a café that writes "4.50": only one reading exists
    elif other is not None:
        raise AmountError(AmountProblem.AMBIGUOUS, _readings(digits, locale, other))
    else:
        raise AmountError(AmountProblem.NOT_A_NUMBER)
    decimals = -int(value.as_tuple().exponent)
    if decimals > exponent and value.scaleb(exponent) == value.scaleb(exponent).to_integral():
        # "1,000" read as 1.000: or was the comma a thousands separator? Never guess.
        grouped = Decimal(re.sub(r"[.,'’]", "", digits))
        if grouped != value:
            raise AmountError(AmountProblem.AMBIGUOUS, (value, grouped))
    return -value if negative else value


def _readings(text: str, locale: str, other: Decimal) -> tuple[Decimal, ...]:
    """Both ways of reading a number written with the other convention's separators."""
    try:
        parse_decimal(text, locale, strict=True)
    except NumberFormatError as error:
        own = [Decimal(parse_decimal(s, locale)) for s in error.suggestions or ()]
        return tuple(dict.fromkeys([*own, other]))
    return (other,)


def parse_amount(
    text: str,
    *,
    exponent: int = 2,
    max_minor: int | None = None,
    currency: str = "EUR",
    locale: str = DEFAULT_LOCALE,
) -> int:
    """Parse what a barista types ("4.50", "4,50", "€4.50", "12") into minor units."""
    value = read_number(_strip_currency(text.strip(), currency, locale), locale, exponent)
    if value <= 0:
        raise AmountError(AmountProblem.NOT_POSITIVE)
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise AmountError(AmountProblem.TOO_MANY_DECIMALS)
    minor = int(scaled)
    if max_minor is not None and minor > max_minor:
        raise AmountError(AmountProblem.TOO_LARGE)
    return minor


def format_money(minor: int, currency: str, exponent: int = 2, locale: str = DEFAULT_LOCALE) -> str:
    """Render minor units for people the way the café's locale writes money, e.g. ``€4.50``."""
    return format_currency(Decimal(minor).scaleb(-exponent), currency, locale=locale)


def example_amount(exponent: int = 2, locale: str = DEFAULT_LOCALE) -> str:
    """How a barista would type 4.50 in this café ("4.50", "4,50", "450" for yen)."""
    pattern = "0." + "0" * exponent if exponent else "0"
    return format_decimal(Decimal(450).scaleb(-exponent), format=pattern, locale=locale)


def format_reading(value: Decimal, currency: str, locale: str = DEFAULT_LOCALE) -> str:
    """One reading of an ambiguous input as money, every decimal kept (``€1.2345``)."""
    return format_currency(value, currency, locale=locale, decimal_quantization=False)


def points_worth(points: int, point_value: Decimal, exponent: int = 2) -> int:
    """What ``points`` are worth in minor units, rounded down."""
    worth = (Decimal(points) * point_value).scaleb(exponent)
    return int(worth.to_integral_value(rounding=ROUND_FLOOR))
