"""How the programme is doing: /stats for a period, against the period before it.

docs/accounting.md defines each figure (retention, repeat rate, NPS…) with an example.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction

from bot.clock import Clock
from bot.lifecycle import add_months
from bot.periods import Period
from bot.settings import Settings
from bot.tiers import TIER_PERIOD
from storage import Database
from storage import referrals as referral_store
from storage import stats as stats_store
from storage.referrals import ReferrerRow
from storage.stats import (
    AuditLine,
    CouponCounts,
    MemberCounts,
    NpsCounts,
    OfferUptake,
    Reach,
    Visits,
)

ACTIVE_WINDOW = timedelta(days=30)
CHART_WEEKS = 12
COHORT_MONTHS = 6


def share(part: int, whole: int) -> Fraction | None:
    return Fraction(part, whole) if whole else None


def nps(counts: NpsCounts) -> Fraction | None:
    """% promoters (9-10) − % detractors (0-6), from -100 to 100; None without answers."""
    if not counts.answers:
        return None
    return Fraction(100 * (counts.promoters - counts.detractors), counts.answers)


@dataclass(frozen=True, slots=True)
class PeriodStats:
    period: Period
    members: MemberCounts
    active_30_days: int
    visits: Visits
    customers_at_start: int  # members with a purchase in the period before
    points: dict[str, int]
    coupons: CouponCounts
    nps: NpsCounts
    reach: Reach
    referrals_joined: int
    referrals_rewarded: int

    @property
    def retention(self) -> Fraction | None:
        """(customers at end − new customers) ÷ customers at start."""
        kept = self.visits.customers - self.visits.new_customers
        return share(kept, self.customers_at_start)

    @property
    def repeat_rate(self) -> Fraction | None:
        return share(self.visits.repeat_customers, self.visits.customers)

    @property
    def visits_per_customer(self) -> Fraction | None:
        return share(self.visits.visits, self.visits.customers)

    @property
    def spend_per_customer(self) -> Fraction | None:
        return share(self.visits.spend_minor, self.visits.customers)

    @property
    def basket(self) -> Fraction | None:
        return share(self.visits.spend_minor, self.visits.visits)

    @property
    def issued(self) -> int:
        return sum(v for k, v in self.points.items() if v > 0 and k != "refund")

    @property
    def redeemed(self) -> int:
        return -self.points.get("redeem", 0) - self.points.get("refund", 0)

    @property
    def redemption_rate(self) -> Fraction | None:
        return share(self.redeemed, self.issued)

    @property
    def nps_score(self) -> Fraction | None:
        return nps(self.nps)


@dataclass(frozen=True, slots=True)
class Stats:
    current: PeriodStats
    previous: PeriodStats
    offers: list[OfferUptake]
    top_staff: list[tuple[int, str, int]]
    top_referrers: list[ReferrerRow]
    tiers: list[tuple[str, int]]


@dataclass(frozen=True, slots=True)
class ChartData:
    weeks: list[date]  # the Monday of each week, oldest first
    visits: list[int]
    issued: list[int]
    redeemed: list[int]
    cohorts: list[tuple[date, int, list[Fraction | None]]]  # month, size, share per month


class StatsService:
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings

    async def stats(self, period: Period) -> Stats:
        reader = self._db.report_reader
        current = await self._period(period)
        previous = await self._period(period.previous())
        end = min(period.end, self._clock.now())
        tiers = self._settings.tiers
        counts = await stats_store.tier_counts(
            reader, end - TIER_PERIOD, end, [tier.threshold for tier in tiers]
        )
        return Stats(
            current=current,
            previous=previous,
            offers=await stats_store.offer_uptake(reader, period.start, period.end),
            top_staff=await stats_store.top_staff(reader, period.start, period.end),
            top_referrers=await referral_store.top_referrers(reader, 3),
            tiers=[(tier.name, count) for tier, count in zip(tiers, counts, strict=True)],
        )

    async def _period(self, period: Period) -> PeriodStats:
        reader = self._db.report_reader
        start, end = period.start, period.end
        before = period.previous()
        active_end = min(end, self._clock.now())
        joined, rewarded = await stats_store.referral_counts(reader, start, end)
        return PeriodStats(
            period=period,
            members=await stats_store.member_counts(reader, start, end),
            active_30_days=await stats_store.active_members(
                reader, active_end - ACTIVE_WINDOW, active_end
            ),
            visits=await stats_store.visits(reader, start, end),
            customers_at_start=(
                await stats_store.visits(reader, before.start, before.end)
            ).customers,
            points=await stats_store.points_moved(reader, start, end),
            coupons=await stats_store.coupon_counts(reader, start, end),
            nps=await stats_store.nps_counts(reader, start, end),
            reach=await stats_store.broadcast_reach(reader, start, end),
            referrals_joined=joined,
            referrals_rewarded=rewarded,
        )

    async def chart_data(self) -> ChartData:
        """The last 12 café weeks, and the cohorts of the last 6 café months."""
        reader = self._db.report_reader
        tz = self._settings.tz
        today = self._clock.now().astimezone(tz).date()
        monday = today - timedelta(days=today.weekday())
        weeks = [monday - timedelta(weeks=n) for n in range(CHART_WEEKS - 1, -1, -1)]
        visits, issued, redeemed = [], [], []
        for first in weeks:
            start = datetime.combine(first, time(0), tzinfo=tz)
            counts = await stats_store.weekly(reader, start, start + timedelta(days=7))
            visits.append(counts[0])
            issued.append(counts[1])
            redeemed.append(counts[2])
        months = [add_months(today.replace(day=1), -n) for n in range(COHORT_MONTHS - 1, -1, -1)]
        cohorts = []
        for joined in months:
            shares: list[Fraction | None] = []
            size = 0
            for active in months:
                if active < joined:
                    continue
                size, count = await stats_store.cohort_active(
                    reader,
                    _month_start(joined, self._settings),
                    _month_start(add_months(joined, 1), self._settings),
                    _month_start(active, self._settings),
                    _month_start(add_months(active, 1), self._settings),
                )
                shares.append(share(count, size))
            cohorts.append((joined, size, shares))
        return ChartData(weeks, visits, issued, redeemed, cohorts)

    async def audit(
        self, *, member_id: int | None = None, actor_id: int | None = None
    ) -> list[AuditLine]:
        return await stats_store.audit_lines(
            self._db.report_reader, member_id=member_id, actor_id=actor_id
        )


def _month_start(day: date, settings: Settings) -> datetime:
    return datetime.combine(day.replace(day=1), time(0), tzinfo=settings.tz)
