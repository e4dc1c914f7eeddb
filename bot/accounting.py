"""Points on the books: the roll-forward, the liability and IFRS 15 revenue deferral. Pure.

docs/accounting.md explains every formula with a worked example (IFRS 15 Illustrative
Example 52). Points are integers; money is kept exact (``Fraction`` over integer
millionths of a minor unit) and rounded once, at the end, to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

MICRO = 1_000_000  # amounts of money are stored in millionths of a minor unit
PPM = 1_000_000  # rates are stored in parts per million

# Ledger kinds, as the roll-forward groups them.
ISSUED_KINDS = ("purchase", "offer_bonus", "birthday", "referral", "winback", "manual")
BONUS_KINDS = ("birthday", "referral", "winback", "manual")  # points given without a sale


def rate_ppm(rate: Decimal) -> int:
    """A rate such as 0.95 as parts per million (exact for up to six decimals)."""
    return int((rate * PPM).to_integral_value(rounding=ROUND_HALF_UP))


def ssp_micro(points: int, point_value: Decimal, rate: int, exponent: int) -> int:
    """The stand-alone selling price of the points a sale earns, in millionths of a minor
    unit: points × value of a point × expected redemption rate."""
    value = Decimal(points) * point_value * Decimal(rate) / PPM
    return int((value.scaleb(exponent) * MICRO).to_integral_value(rounding=ROUND_HALF_UP))


def deferred_micro(amount_minor: int, ssp: int) -> int:
    """The part of a sale's price allocated to its points (relative stand-alone selling
    prices): price × SSP ÷ (price + SSP), in millionths of a minor unit."""
    price = amount_minor * MICRO
    if price + ssp <= 0:
        return 0
    return round(Fraction(price * ssp, price + ssp))


@dataclass(frozen=True, slots=True)
class Allocation:
    """A sale's price split between the goods and its points (IFRS 15), in millionths of
    a minor unit; fixed once, when the sale is made, with the rate in force then."""

    ssp_micro: int  # stand-alone selling price of the points
    deferred_micro: int  # the part of the price allocated to the points


def allocate(
    amount_minor: int, points: int, point_value: Decimal, rate: int, exponent: int
) -> Allocation:
    """Allocate a sale of ``amount_minor`` that earned ``points`` (relative stand-alone
    selling prices, expected redemption ``rate`` in ppm)."""
    ssp = ssp_micro(points, point_value, rate, exponent)
    return Allocation(ssp_micro=ssp, deferred_micro=deferred_micro(amount_minor, ssp))


def to_minor(micro: Fraction | int) -> int:
    """Round exact money to the currency's minor unit, half away from zero (the one
    rounding a report does)."""
    value = Fraction(micro) / MICRO
    rounded = int(abs(value) + Fraction(1, 2))
    return rounded if value >= 0 else -rounded


@dataclass(frozen=True, slots=True)
class RollForward:
    """Points for one period: opening + movements = closing."""

    opening: int
    issued: dict[str, int] = field(default_factory=dict)  # by ISSUED_KINDS
    reversed: int = 0  # negative: undone purchases
    redeemed: int = 0  # negative: coupons issued
    refunded: int = 0  # positive: coupons cancelled or expired
    expired: int = 0  # negative: points lapsed
    closing: int = 0

    @property
    def issued_total(self) -> int:
        return sum(self.issued.values())

    @property
    def movements(self) -> int:
        return self.issued_total + self.reversed + self.redeemed + self.refunded + self.expired

    @property
    def reconciles(self) -> bool:
        return self.opening + self.movements == self.closing


@dataclass(frozen=True, slots=True)
class PointTotals:
    """Cumulative points up to an instant, as the deferral needs them."""

    purchase: int  # earned on sales, net of undone sales
    bonus: int  # given without a sale
    redeemed: int  # net of refunds, positive
    expired: int  # positive
    deferred: int  # millionths of a minor unit, net of undone sales


def attribute(total: int, purchase: int, bonus: int) -> Fraction:
    """The purchase points' share of ``total`` redeemed or expired points: redemptions and
    expiries are attributed to purchase and bonus points in proportion to the points of
    each kind issued to date."""
    issued = purchase + bonus
    return Fraction(total * purchase, issued) if issued > 0 else Fraction(0)


def expected_purchase_redemptions(totals: PointTotals, rate: int) -> Fraction:
    """Purchase points expected to be redeemed in total: the rate's share of those
    issued, but never more than have not expired, nor less than already redeemed."""
    expected = Fraction(totals.purchase * rate, PPM)
    unexpired = totals.purchase - attribute(totals.expired, totals.purchase, totals.bonus)
    redeemed = attribute(totals.redeemed, totals.purchase, totals.bonus)
    return max(min(expected, unexpired), redeemed)


def recognised_share(totals: PointTotals, rate: int) -> Fraction:
    """The share of the deferred revenue recognised to date: purchase points redeemed ÷
    purchase points expected to be redeemed (at most all of it)."""
    expected = expected_purchase_redemptions(totals, rate)
    if expected <= 0:
        # Nothing is expected to be redeemed any more (all expired): all of it is earned.
        return Fraction(1) if totals.purchase > 0 else Fraction(0)
    redeemed = attribute(totals.redeemed, totals.purchase, totals.bonus)
    return min(Fraction(1), redeemed / expected)


def recognised_micro(totals: PointTotals, rate: int) -> Fraction:
    """Revenue recognised to date from the points (cumulative): deferred to date ×
    purchase points redeemed ÷ purchase points expected to be redeemed."""
    return Fraction(totals.deferred) * recognised_share(totals, rate)


@dataclass(frozen=True, slots=True)
class Deferral:
    """IFRS 15 figures for a period, in minor units (rounded once, here)."""

    deferred_in_period: int
    recognised_in_period: int
    deferred_to_date: int
    recognised_to_date: int
    contract_liability: int  # deferred to date not yet recognised


def deferral(
    start: PointTotals, end: PointTotals, rate_at_start: int, rate_at_end: int
) -> Deferral:
    """The period's deferral with cumulative catch-up: what is recognised in the period
    is recognised to date at its end (with the estimate in force then) minus what was
    recognised to date at its start (with the estimate in force then). Each figure is
    rounded once, from exact amounts; rounded figures can therefore differ from the
    difference of rounded totals by one minor unit."""
    recognised_start = recognised_micro(start, rate_at_start)
    recognised_end = recognised_micro(end, rate_at_end)
    return Deferral(
        deferred_in_period=to_minor(end.deferred - start.deferred),
        recognised_in_period=to_minor(recognised_end - recognised_start),
        deferred_to_date=to_minor(end.deferred),
        recognised_to_date=to_minor(recognised_end),
        contract_liability=to_minor(end.deferred - recognised_end),
    )


def part_deferral(
    start_deferred: int, end_deferred: int, share_at_start: Fraction, share_at_end: Fraction
) -> tuple[Fraction, Fraction, Fraction, Fraction, Fraction]:
    """One location's part of the chain's deferral, exact (millionths of a minor unit):
    its sales' deferred revenue, recognised at the chain's share (the points are the
    chain's: redeemed anywhere, they release every location's deferral alike). Returns
    (deferred in period, recognised in period, deferred to date, recognised to date,
    contract liability); the parts of the chain add up to its figures exactly."""
    recognised_start = start_deferred * share_at_start
    recognised_end = end_deferred * share_at_end
    return (
        Fraction(end_deferred - start_deferred),
        recognised_end - recognised_start,
        Fraction(end_deferred),
        recognised_end,
        end_deferred - recognised_end,
    )


def apportion(parts: Sequence[Fraction | int], figure: Callable[[Fraction], int]) -> list[int]:
    """Round the parts of a whole so that they add up to the whole's figure exactly:
    each part gets ``figure`` of the running total up to it less ``figure`` of the
    running total before it (``figure`` rounds, and figure(0) is 0). A part can thus
    differ by one minor unit from its own rounding; the sum never differs."""
    rounded: list[int] = []
    running, before = Fraction(0), 0
    for part in parts:
        running += part
        now = figure(running)
        rounded.append(now - before)
        before = now
    return rounded


def points_money_micro(points: int, point_value: Decimal, exponent: int, rate: int = PPM) -> int:
    """Points at their retail value (× a rate), in millionths of a minor unit."""
    value = Decimal(points) * point_value * Decimal(rate) / PPM
    return int((value.scaleb(exponent) * MICRO).to_integral_value(rounding=ROUND_HALF_UP))


def observed_redemption_rate(redeemed: int, expired: int) -> Fraction | None:
    """Redeemed ÷ (redeemed + expired): what members actually did, to compare with the
    estimate. None before anything was redeemed or expired."""
    settled = redeemed + expired
    return Fraction(redeemed, settled) if settled > 0 else None
