"""The earning rule: how many points a purchase is worth. Pure functions only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Category:
    """A product category the barista picks, with its points multiplier."""

    name: str
    multiplier: Decimal


def parse_multiplier(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().lower().lstrip("x×"))
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a number") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"{text!r} must be zero or more")
    return value


def parse_categories(text: str) -> tuple[Category, ...]:
    """``"coffee:1, food:1, beans:2"`` → categories in that order (empty text: none)."""
    categories: list[Category] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, factor = part.partition(":")
        name = name.strip()
        if not re.fullmatch(r"[\w][\w \-]{0,23}", name):
            raise ValueError(f"category name {name!r} must be 1-24 letters, digits or spaces")
        categories.append(Category(name, parse_multiplier(factor) if factor else ONE))
    if len({c.name.lower() for c in categories}) != len(categories):
        raise ValueError("category names must be unique")
    return tuple(categories)


def points_for_purchase(
    amount_minor: int,
    *,
    exponent: int,
    points_per_unit: Decimal,
    category_multiplier: Decimal = ONE,
    tier_multiplier: Decimal = ONE,
    offer_multiplier: Decimal = ONE,
) -> int:
    """floor(amount × points per unit × category × tier × offer), in exact decimals."""
    amount = Decimal(amount_minor).scaleb(-exponent)
    raw = amount * points_per_unit * category_multiplier * tier_multiplier * offer_multiplier
    return int(raw.to_integral_value(rounding=ROUND_FLOOR))
