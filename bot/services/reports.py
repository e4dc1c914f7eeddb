"""The accountant's numbers: the points roll-forward, the liability and IFRS 15 revenue
deferral for a period, all computed from the ledger (docs/accounting.md)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

from bot.accounting import (
    Deferral,
    PointTotals,
    RollForward,
    allocate,
    deferral,
    observed_redemption_rate,
    points_money_micro,
    rate_ppm,
    to_minor,
)
from bot.clock import Clock
from bot.periods import Period
from bot.services.errors import ServiceError
from bot.settings import Settings
from storage import Database
from storage import audit as audit_store
from storage import meta as meta_store
from storage import reports as report_store
from storage.reports import LedgerTotals, SaleAllocation

logger = logging.getLogger(__name__)

BACKFILL_BATCH = 1000
BACKFILLED_META = "sale_allocations_backfilled"
JUST_BEFORE = timedelta(microseconds=1)


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

    async def report(self, period: Period) -> AccountingReport:
        reader = self._db.report_reader
        settings = self._settings
        start = await report_store.totals_before(reader, period.start)
        end = await report_store.totals_before(reader, period.end)
        roll = roll_forward(start, end)
        rate_start = await self.rate_at(period.start - JUST_BEFORE)
        rate_end = await self.rate_at(period.end - JUST_BEFORE)
        end_points = point_totals(end)
        bonus = sum(roll.issued[k] for k in ("birthday", "referral", "winback", "manual"))
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
