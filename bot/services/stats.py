"""How the programme is doing: /stats for a period, against the period before it.

docs/accounting.md defines each figure (retention, repeat rate, NPS…) with an example.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.lifecycle import add_months
from bot.periods import Period
from bot.services.errors import LocationUnknown
from bot.settings import Settings
from bot.tiers import TIER_PERIOD
from storage import Database
from storage import locations as location_store
from storage import referrals as referral_store
from storage import stats as stats_store
from storage.referrals import ReferrerRow
from storage.stats import AuditLine as AuditLine  # what /audit shows, line by line
from storage.stats import (
    CouponCounts,
    LocationFigures,
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
        return issued(self.points)

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
    # One location's figures (``location`` its name): only what happened there, none of
    # the chain's (members, NPS, broadcasts, referrals, tiers). None: the whole café.
    location_id: int | None = None
    location: str | None = None
    # The whole chain's purchases and points by location, and (location_id None) the
    # points moved at no location; empty for a café with one location.
    parts: tuple[tuple[str | None, LocationFigures], ...] = ()


def issued(points: dict[str, int]) -> int:
    """Points issued: every kind that added points, net (refunds are redemptions undone)."""
    return sum(v for k, v in points.items() if v > 0 and k != "refund")


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

    async def stats(self, period: Period, location_id: int | None = None) -> Stats:
        """The period's figures against the period before: the whole café's (with a line
        per location in a chain), or one location's (LocationUnknown if none such)."""
        reader = self._db.report_reader
        if location_id is not None:
            return await self._location_stats(period, location_id)
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
            parts=await self._parts(period),
        )

    async def _parts(self, period: Period) -> tuple[tuple[str | None, LocationFigures], ...]:
        """A chain's figures by location, every location (by id) then the chain-wide part."""
        reader = self._db.report_reader
        locations = await location_store.all_locations(reader)
        if len(locations) < 2:
            return ()
        found = {
            part.location_id: part
            for part in await stats_store.by_location(reader, period.start, period.end)
        }
        keys: list[tuple[int | None, str | None]] = [(loc.id, loc.name) for loc in locations]
        keys.append((None, None))
        return tuple(
            (name, found.get(key) or LocationFigures(key, 0, 0, 0, {})) for key, name in keys
        )

    async def _location_stats(self, period: Period, location_id: int) -> Stats:
        reader = self._db.report_reader
        location = await location_store.get(reader, location_id)
        if location is None:
            raise LocationUnknown
        start, end = period.start, period.end
        return Stats(
            current=await self._period(period, location_id),
            previous=await self._period(period.previous(), location_id),
            offers=await stats_store.offer_uptake(reader, start, end, location_id),
            top_staff=await stats_store.top_staff(reader, start, end, location_id=location_id),
            top_referrers=[],
            tiers=[],
            location_id=location_id,
            location=location.name,
        )

    async def _period(self, period: Period, location_id: int | None = None) -> PeriodStats:
        if location_id is not None:
            return await self._period_at(period, location_id)
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

    async def _period_at(self, period: Period, location_id: int) -> PeriodStats:
        """A location's figures: its purchases and customers, the points issued there and
        the coupons handed over there; nothing of the chain's."""
        reader = self._db.report_reader
        start, end = period.start, period.end
        before = period.previous()
        active_end = min(end, self._clock.now())
        customers_before = await stats_store.visits(reader, before.start, before.end, location_id)
        return PeriodStats(
            period=period,
            members=MemberCounts(0, 0, 0),
            active_30_days=await stats_store.active_members(
                reader, active_end - ACTIVE_WINDOW, active_end, location_id
            ),
            visits=await stats_store.visits(reader, start, end, location_id),
            customers_at_start=customers_before.customers,
            points=await stats_store.points_moved(reader, start, end, location_id),
            coupons=CouponCounts(
                0, await stats_store.coupons_used_at(reader, start, end, location_id), 0
            ),
            nps=NpsCounts(0, 0, 0),
            reach=Reach(0, 0, 0),
            referrals_joined=0,
            referrals_rewarded=0,
        )

    async def chart_data(self, period: Period, location_id: int | None = None) -> ChartData:
        """The café weeks and the cohort months that end with the period (or with today,
        when the period is still running), reaching back over the period it is compared
        with: at least 12 weeks and 6 months. The last week and month stop where the
        period does."""
        reader = self._db.report_reader
        tz = self._settings.tz
        last = min(period.last, self._clock.now().astimezone(tz).date())
        since = period.previous().first
        last_monday = last - timedelta(days=last.weekday())
        first_monday = min(
            last_monday - timedelta(weeks=CHART_WEEKS - 1),
            since - timedelta(days=since.weekday()),
        )
        count = (last_monday - first_monday).days // 7 + 1
        weeks = [first_monday + timedelta(weeks=n) for n in range(count)]
        week_bounds = [_day_start(day, tz) for day in weeks]
        week_bounds.append(min(_day_start(last_monday + timedelta(weeks=1), tz), period.end))
        activity = await stats_store.activity(reader, week_bounds, location_id)
        last_month = last.replace(day=1)
        first_month = min(add_months(last_month, 1 - COHORT_MONTHS), since.replace(day=1))
        months = [first_month]
        while months[-1] < last_month:
            months.append(add_months(months[-1], 1))
        month_bounds = [_day_start(day, tz) for day in months]
        month_bounds.append(min(_day_start(add_months(last_month, 1), tz), period.end))
        if location_id is not None:
            # Cohorts are the chain's (members join the café, not a shop): not in a
            # location's chart.
            return ChartData(
                weeks=weeks,
                visits=[visits for visits, _, _ in activity],
                issued=[issued for _, issued, _ in activity],
                redeemed=[redeemed for _, _, redeemed in activity],
                cohorts=[],
            )
        sizes = await stats_store.cohort_sizes(reader, month_bounds)
        active = await stats_store.cohort_active(reader, month_bounds)
        cohorts = [
            (
                joined,
                size,
                [share(active.get((row, column), 0), size) for column in range(row, len(months))],
            )
            for row, (joined, size) in enumerate(zip(months, sizes, strict=True))
        ]
        return ChartData(
            weeks=weeks,
            visits=[visits for visits, _, _ in activity],
            issued=[issued for _, issued, _ in activity],
            redeemed=[redeemed for _, _, redeemed in activity],
            cohorts=cohorts,
        )

    async def audit(
        self,
        *,
        member_id: int | None = None,
        actor_id: int | None = None,
        location_id: int | None = None,
    ) -> list[AuditLine]:
        """The latest audit lines (of one member, or one actor), at one location or all."""
        return await stats_store.audit_lines(
            self._db.report_reader,
            member_id=member_id,
            actor_id=actor_id,
            location_id=location_id,
        )


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    """Midnight at the café on ``day``."""
    return datetime.combine(day, time(0), tzinfo=tz)
