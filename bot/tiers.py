"""Member tiers from points earned in the last 12 months. Pure functions only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from bot.earning import parse_multiplier
from bot.inputs import parse_int

TIER_PERIOD = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    threshold: int
    multiplier: Decimal


def parse_tiers(text: str) -> tuple[Tier, ...]:
    """``"Bronze:0:1, Silver:500:1.25, Gold:1500:1.5"`` → tiers sorted by threshold."""
    tiers: list[Tier] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        fields = [f.strip() for f in part.split(":")]
        if len(fields) != 3 or not fields[0]:
            raise ValueError(f"tier {part!r} must look like Name:threshold:multiplier")
        name, threshold, multiplier = fields
        points = parse_int(threshold)
        if points is None or threshold.startswith("#"):
            raise ValueError(f"tier threshold {threshold!r} must be a whole number")
        tiers.append(Tier(name, points, parse_multiplier(multiplier)))
    tiers.sort(key=lambda tier: tier.threshold)
    if not tiers or tiers[0].threshold != 0:
        raise ValueError("the first tier must start at 0 points")
    if len({t.threshold for t in tiers}) != len(tiers):
        raise ValueError("tier thresholds must differ")
    return tuple(tiers)


def tier_for(points_earned: int, tiers: tuple[Tier, ...]) -> Tier:
    current = tiers[0]
    for tier in tiers:
        if points_earned >= tier.threshold:
            current = tier
    return current


def next_tier(points_earned: int, tiers: tuple[Tier, ...]) -> Tier | None:
    return next((tier for tier in tiers if tier.threshold > points_earned), None)
