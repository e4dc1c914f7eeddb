"""The accountant's numbers: the points roll-forward, the liability and IFRS 15 revenue
deferral for a period, all computed from the ledger (docs/accounting.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

from bot.accounting import (
    BONUS_KINDS,
    PPM,
    Deferral,
    PointTotals,
    RollForward,
    allocate,
    apportion,
    deferral,
    observed_redemption_rate,
    part_deferral,
    points_money_micro,
    rate_ppm,
    recognised_share,
    to_minor,
)
from bot.clock import Clock
from bot.periods import Period
from bot.services.errors import LocationUnknown, ServiceError
from bot.settings import Settings
from storage import Database
from storage import audit as audit_store
from storage import locations as location_store
from storage import meta as meta_store
from storage import reports as report_store
from storage.reports import LedgerTotals, SaleAllocation

logger = logging.getLogger(__name__)

BACKFILL_BATCH = 1000
BACKFILLED_META = "sale_allocations_backfilled"
JUST_BEFORE = timedelta(microseconds=1)
# The part of a chain's books made at no location (redemptions, refunds, expiry,
# bonuses): never a location's id, which start at 1.
CHAIN_WIDE = 0
NOTHING = LedgerTotals(
    by_kind={}, offer_points=0, reversed_offer_points=0, deferred_micro=0,
    reversed_deferred_micro=0,
)  # fmt: skip


class RateInvalid(ServiceError):
    """A rate outside 0-100 %, or a date in the past."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class AccountingReport:
    period: Period
    roll: RollForward
    deferral: Deferral
    rate_at_end: int  # ppm
    observed_rate: Fraction | None  # redeemed ÷ (redeemed + expired), all time to the end
    liability_face: int  # minor units: outstanding points at retail value
    liability_expected: int  # … × the expected redemption rate
    bonus_issued: int  # points given without a sale in the period
    bonus_cost: int  # minor units: their expected redemption value (marketing cost)
    balances_now: int | None  # the members' balances summed, when the period ends now
    # A part of a chain's books: a location's id (``location`` its name), or CHAIN_WIDE
    # for the entries made at no location; None for the whole café.
    location_id: int | None = None
    location: str | None = None
    # The whole chain's report split into its locations and the chain-wide part, which
    # add up to it exactly (empty for a café with one location, and for a part).
    parts: tuple[AccountingReport, ...] = ()


def roll_forward(start: LedgerTotals, end: LedgerTotals) -> RollForward:
    def moved(kind: str) -> int:
        return end.by_kind.get(kind, 0) - start.by_kind.get(kind, 0)

    offer = end.offer_points - start.offer_points
    issued = {
        "purchase": moved("earn") - offer,
        "offer_bonus": offer,
        "birthday": moved("birthday"),
        "referral": moved("referral"),
        "winback": moved("winback"),
        "manual": moved("bonus"),
    }
    return RollForward(
        opening=sum(start.by_kind.values()),
        issued=issued,
        reversed=moved("reversal"),
        redeemed=moved("redeem"),
        refunded=moved("refund"),
        expired=moved("expire"),
        closing=sum(end.by_kind.values()),
    )


def add_totals(parts: list[LedgerTotals]) -> LedgerTotals:
    """The whole of which ``parts`` are the parts."""
    kinds: dict[str, int] = {}
    for part in parts:
        for kind, points in part.by_kind.items():
            kinds[kind] = kinds.get(kind, 0) + points
    return LedgerTotals(
        by_kind=kinds,
        offer_points=sum(p.offer_points for p in parts),
        reversed_offer_points=sum(p.reversed_offer_points for p in parts),
        deferred_micro=sum(p.deferred_micro for p in parts),
        reversed_deferred_micro=sum(p.reversed_deferred_micro for p in parts),
    )


def point_totals(totals: LedgerTotals) -> PointTotals:
    kinds = totals.by_kind
    return PointTotals(
        purchase=kinds.get("earn", 0) + kinds.get("reversal", 0),
        bonus=sum(kinds.get(k, 0) for k in ("birthday", "referral", "winback", "bonus")),
        redeemed=-kinds.get("redeem", 0) - kinds.get("refund", 0),
        expired=-kinds.get("expire", 0),
        deferred=totals.deferred_micro - totals.reversed_deferred_micro,
    )


class ReportService:
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings

    # -- the expected redemption rate ------------------------------------------------------

    async def rate_at(self, moment: datetime) -> int:
        stored = await report_store.rate_at(self._db.report_reader, moment)
        return stored if stored is not None else rate_ppm(self._settings.expected_redemption_rate)

    async def set_rate(self, owner_id: int, rate: Decimal, first_day: date | None) -> date:
        """The owner's new estimate, from ``first_day`` (today by default). Sales already
        made keep the estimate of their day, so a date in the past is refused."""
        tz = self._settings.tz
        now = self._clock.now()
        today = now.astimezone(tz).date()
        first_day = first_day or today
        if not Decimal(0) <= rate <= Decimal(1):
            raise RateInvalid("range")
        if first_day < today:
            raise RateInvalid("past")
        effective = datetime.combine(first_day, time(0), tzinfo=tz)
        if first_day == today:
            effective = now.astimezone(tz)  # from now on, not retroactively this morning
        async with self._db.transaction() as tx:
            await report_store.set_rate(tx, effective, rate_ppm(rate), owner_id, now)
            await audit_store.record(
                tx,
                actor_id=owner_id,
                action="rate.set",
                now=now,
                detail=f"expected redemption rate {rate} from {first_day}",
            )
        return first_day

    async def rates(self) -> list[tuple[datetime, int]]:
        return await report_store.rates(self._db.report_reader)

    # -- the report ------------------------------------------------------------------------

    async def report(self, period: Period, location_id: int | None = None) -> AccountingReport:
        """The period's books: the whole café's (with its parts when it has more than one
        location), or one part's: a location's, or CHAIN_WIDE (LocationUnknown if there is
        no such location)."""
        reader = self._db.report_reader
        locations = await location_store.all_locations(reader)
        if location_id is None and len(locations) < 2:
            start = await report_store.totals_before(reader, period.start)
            end = await report_store.totals_before(reader, period.end)
            return await self._figures(period, start, end)
        # The whole is the sum of the parts read, so they add up to it whatever was
        # written meanwhile.
        start_by = await report_store.totals_by_location_before(reader, period.start)
        end_by = await report_store.totals_by_location_before(reader, period.end)
        whole = await self._figures(
            period, add_totals(list(start_by.values())), add_totals(list(end_by.values()))
        )
        keys = [location.id for location in locations] + [CHAIN_WIDE]
        names = {location.id: location.name for location in locations}
        parts = await self._parts(
            whole,
            [start_by.get(key or None, NOTHING) for key in keys],
            [end_by.get(key or None, NOTHING) for key in keys],
            [(key, names.get(key)) for key in keys],
        )
        if location_id is None:
            return replace(whole, parts=parts)
        found = next((part for part in parts if part.location_id == location_id), None)
        if found is None:
            raise LocationUnknown
        return found

    async def _parts(
        self,
        whole: AccountingReport,
        starts: list[LedgerTotals],
        ends: list[LedgerTotals],
        keys: list[tuple[int, str | None]],
    ) -> tuple[AccountingReport, ...]:
        """The whole's parts: each part's own roll-forward, and its share of the money
        figures, apportioned so that the parts add up to the whole's figures exactly
        (docs/accounting.md, "Locations")."""
        settings = self._settings
        value, exponent = settings.point_value, settings.currency_exponent
        rate_end = whole.rate_at_end
        whole_start = point_totals(add_totals(starts))
        whole_end = point_totals(add_totals(ends))
        rate_start = await self.rate_at(whole.period.start - JUST_BEFORE)
        share_start = recognised_share(whole_start, rate_start)
        share_end = recognised_share(whole_end, rate_end)
        exact = [
            part_deferral(
                point_totals(s).deferred, point_totals(e).deferred, share_start, share_end
            )
            for s, e in zip(starts, ends, strict=True)
        ]
        deferrals = [apportion(column, to_minor) for column in zip(*exact, strict=True)]
        rolls = [roll_forward(s, e) for s, e in zip(starts, ends, strict=True)]
        closing = [roll.closing for roll in rolls]
        bonus = [sum(roll.issued[kind] for kind in BONUS_KINDS) for roll in rolls]

        def money(rate: int) -> Callable[[Fraction], int]:
            return lambda points: to_minor(points_money_micro(int(points), value, exponent, rate))

        face = apportion(closing, money(PPM))
        expected = apportion(closing, money(rate_end))
        cost = apportion(bonus, money(rate_end))
        return tuple(
            replace(
                whole,
                roll=rolls[i],
                deferral=Deferral(*(column[i] for column in deferrals)),
                liability_face=face[i],
                liability_expected=expected[i],
                bonus_issued=bonus[i],
                bonus_cost=cost[i],
                balances_now=None,
                location_id=key,
                location=name,
            )
            for i, (key, name) in enumerate(keys)
        )

    async def _figures(
        self, period: Period, start: LedgerTotals, end: LedgerTotals
    ) -> AccountingReport:
        reader = self._db.report_reader
        settings = self._settings
        roll = roll_forward(start, end)
        rate_start = await self.rate_at(period.start - JUST_BEFORE)
        rate_end = await self.rate_at(period.end - JUST_BEFORE)
        end_points = point_totals(end)
        bonus = sum(roll.issued[k] for k in BONUS_KINDS)
        exponent = settings.currency_exponent
        value = settings.point_value
        balances_now = None
        if period.end > self._clock.now():
            balances_now = await report_store.balances_total(reader)
        return AccountingReport(
            period=period,
            roll=roll,
            deferral=deferral(point_totals(start), end_points, rate_start, rate_end),
            rate_at_end=rate_end,
            observed_rate=observed_redemption_rate(end_points.redeemed, end_points.expired),
            liability_face=to_minor(points_money_micro(roll.closing, value, exponent)),
            liability_expected=to_minor(
                points_money_micro(roll.closing, value, exponent, rate_end)
            ),
            bonus_issued=bonus,
            bonus_cost=to_minor(points_money_micro(bonus, value, exponent, rate_end)),
            balances_now=balances_now,
        )

    # -- purchases recorded before allocations existed -------------------------------------

    async def backfill_allocations(self) -> int:
        """Allocate, once, the purchases recorded before this version (no offer split is
        known for them). Computed outside the write lock, written a batch at a time."""
        settings = self._settings
        if await meta_store.read(self._db.report_reader, BACKFILLED_META):
            return 0  # done once; every later purchase is allocated when it is made
        exponent = settings.currency_exponent
        done = 0
        while sales := await report_store.unallocated_sales(self._db.report_reader, BACKFILL_BATCH):
            rows: list[SaleAllocation] = []
            for sale in sales:
                rate = await self.rate_at(sale.created_at)
                split = allocate(
                    sale.amount_minor, sale.points, settings.point_value, rate, exponent
                )
                rows.append(
                    SaleAllocation(
                        entry_id=sale.entry_id,
                        amount_minor=sale.amount_minor,
                        points=sale.points,
                        offer_points=0,
                        rate_ppm=rate,
                        ssp_micro=split.ssp_micro,
                        deferred_micro=split.deferred_micro,
                    )
                )
            async with self._db.transaction() as tx:
                await report_store.record_sales(tx, rows)
            done += len(rows)
        async with self._db.transaction() as tx:
            await meta_store.put(tx, BACKFILLED_META, "1")
        if done:
            logger.info("Allocated %s earlier purchases for the revenue report", done)
        return done
