"""Money is integer minor units; parsing goes through Decimal, never float."""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from enum import StrEnum

_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "INR": "₹", "UAH": "₴", "PLN": "zł"}
_NOISE = re.compile(r"[\s\u00a0'’]|[€$£¥₹₴]|zł")


class AmountProblem(StrEnum):
    NOT_A_NUMBER = "not_a_number"
    NOT_POSITIVE = "not_positive"
    TOO_MANY_DECIMALS = "too_many_decimals"
    TOO_LARGE = "too_large"


class AmountError(ValueError):
    def __init__(self, problem: AmountProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def parse_amount(
    text: str, *, exponent: int = 2, max_minor: int | None = None, currency: str = "EUR"
) -> int:
    """Parse what a barista types ("4.50", "4,50", "€4.50", "12") into minor units."""
    cleaned = _NOISE.sub("", text.strip())
    code = currency.upper()
    if cleaned.upper().startswith(code):
        cleaned = cleaned[len(code) :]
    elif cleaned.upper().endswith(code):
        cleaned = cleaned[: -len(code)]
    if "," in cleaned and "." in cleaned:
        decimal_mark = "," if cleaned.rfind(",") > cleaned.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        cleaned = cleaned.replace(grouping, "")
    cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise AmountError(AmountProblem.NOT_A_NUMBER)
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise AmountError(AmountProblem.NOT_A_NUMBER) from exc
    if value <= 0:
        raise AmountError(AmountProblem.NOT_POSITIVE)
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise AmountError(AmountProblem.TOO_MANY_DECIMALS)
    minor = int(scaled)
    if max_minor is not None and minor > max_minor:
        raise AmountError(AmountProblem.TOO_LARGE)
    return minor


def format_money(minor: int, currency: str, exponent: int = 2) -> str:
    """Render minor units for people, e.g. ``€4.50`` or ``4.50 CHF``."""
    sign = "-" if minor < 0 else ""
    number = f"{Decimal(abs(minor)).scaleb(-exponent):.{exponent}f}"
    symbol = _SYMBOLS.get(currency)
    if symbol and len(symbol) == 1:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {symbol or currency}"


def points_worth(points: int, point_value: Decimal, exponent: int = 2) -> int:
    """What ``points`` are worth in minor units, rounded down."""
    worth = (Decimal(points) * point_value).scaleb(exponent)
    return int(worth.to_integral_value(rounding=ROUND_FLOOR))
