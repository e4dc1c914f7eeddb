"""The roll-forward reconciles with the ledger on any history (hypothesis).

Random sequences of purchases, undos, redemptions, cancellations, expiries and bonuses,
on a real SQLite file, are cut into random periods: every period reconciles (opening +
movements = closing), periods chain (one's closing is the next one's opening), the
closing balance equals the members' balances summed, and the revenue figures stay sane
(nothing recognised beyond what was deferred, no negative liability). The purchases are
made in two shops: the two locations and the chain-wide part add up to the whole, line
by line and figure by figure, exactly.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.accounting import allocate
from bot.clock import Clock
from bot.domain import EntryKind
from bot.periods import Period
from bot.services.reports import ReportService
from bot.settings import Settings
from sandbox.botapi import TOKEN
from storage import Database
from storage import ledger as ledger_store
from storage import locations as location_store
from storage import members as member_store
from storage import reports as report_store
from storage.ledger import Overdraft
from tests.test_locations_reports_e2e import assert_parts_add_up

UTC_ZONE = ZoneInfo("UTC")
DAY0 = date(2026, 1, 1)

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["earn", "undo", "redeem", "cancel", "expire", "bonus"]),
        st.integers(0, 2),  # which member
        st.integers(1, 5000),  # amount in cents, or points
        st.integers(0, 59),  # day of the history
    ),
    min_size=1,
    max_size=40,
)


class FixedClock(Clock):
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


async def replay(folder: Path, actions: list[tuple[str, int, int, int]], cuts: list[int]) -> None:
    db = Database(folder / "loyalty.db")
    await db.open()
    try:
        await check(db, actions, cuts)
    finally:
        await db.close()


async def check(db: Database, actions: list[tuple[str, int, int, int]], cuts: list[int]) -> None:
    start = datetime.combine(DAY0, datetime.min.time(), tzinfo=UTC)
    async with db.transaction() as tx:
        members = [
            (await member_store.upsert(tx, tg_user_id=n + 1, chat_id=n + 1, first_name="M",
                                       username=None, language=None, now=start))[0].id
            for n in range(3)
        ]  # fmt: skip
        await location_store.add(tx, "Harbour", start)
    places = [place.id for place in await location_store.all_locations(db.reader)]
    earned: dict[int, list[int]] = {m: [] for m in members}
    redeemed: dict[int, list[tuple[int, int]]] = {m: [] for m in members}
    key = 0
    for kind, who, size, day in sorted(actions, key=lambda a: a[3]):
        member = members[who]
        now = start + timedelta(days=day, minutes=key)
        key += 1
        async with db.transaction() as tx:
            try:
                if kind == "earn":
                    points = size // 100 or 1
                    entry, _ = await ledger_store.append(
                        tx, member_id=member, points=points, kind=EntryKind.EARN,
                        reason="purchase", idempotency_key=f"k{key}", now=now,
                        amount_minor=size, location_id=places[size % 2],
                    )  # fmt: skip
                    split = allocate(size, points, settings_.point_value, 800_000, 2)
                    await report_store.record_sale(
                        tx, entry_id=entry.id, amount_minor=size, points=points,
                        offer_points=size % 3, rate_ppm=800_000, ssp_micro=split.ssp_micro,
                        deferred_micro=split.deferred_micro,
                    )  # fmt: skip
                    earned[member].append(entry.id)
                elif kind == "undo" and earned[member]:
                    original = await ledger_store.by_id(tx, earned[member].pop())
                    assert original is not None
                    await ledger_store.append(
                        tx, member_id=member, points=-original.points, kind=EntryKind.REVERSAL,
                        reason="undo", idempotency_key=f"k{key}", now=now,
                        reverses_id=original.id, location_id=original.location_id,
                    )  # fmt: skip
                elif kind == "redeem":
                    points = size // 200 or 1
                    await ledger_store.append(
                        tx, member_id=member, points=-points, kind=EntryKind.REDEEM,
                        reason="coupon", idempotency_key=f"k{key}", now=now,
                    )  # fmt: skip
                    redeemed[member].append((key, points))
                elif kind == "cancel" and redeemed[member]:
                    _, points = redeemed[member].pop()
                    await ledger_store.append(
                        tx, member_id=member, points=points, kind=EntryKind.REFUND,
                        reason="coupon", idempotency_key=f"k{key}", now=now,
                    )  # fmt: skip
                elif kind == "expire":
                    balance = (await member_store.by_id(tx, member)).balance  # type: ignore[union-attr]
                    if balance:
                        await ledger_store.append(
                            tx, member_id=member, points=-balance, kind=EntryKind.EXPIRE,
                            reason="lapsed", idempotency_key=f"k{key}", now=now,
                        )  # fmt: skip
                elif kind == "bonus":
                    await ledger_store.append(
                        tx, member_id=member, points=size // 500 + 1,
                        kind=[EntryKind.BIRTHDAY, EntryKind.REFERRAL, EntryKind.WINBACK,
                              EntryKind.BONUS][size % 4],
                        reason="bonus", idempotency_key=f"k{key}", now=now,
                    )  # fmt: skip
            except Overdraft:
                continue

    end_of_history = start + timedelta(days=61)
    reports = ReportService(db, FixedClock(end_of_history), settings_)
    edges = sorted({0, *cuts, 61})
    previous_closing = None
    for first, last in itertools.pairwise(edges):
        period = Period(DAY0 + timedelta(days=first), DAY0 + timedelta(days=last - 1), UTC_ZONE)
        report = await reports.report(period)
        roll = report.roll
        assert roll.reconciles, roll
        if previous_closing is not None:
            assert roll.opening == previous_closing
        previous_closing = roll.closing
        assert 0 <= report.deferral.recognised_to_date <= report.deferral.deferred_to_date + 1
        assert report.deferral.contract_liability >= 0
        assert_parts_add_up(report)
    # The last closing balance is every member's balance, summed, to the point.
    assert previous_closing == await report_store.balances_total(db.reader)
    totals = await report_store.totals_before(db.reader, end_of_history)
    assert previous_closing == sum(totals.by_kind.values())


settings_ = Settings(_env_file=None, bot_token=TOKEN)  # type: ignore[call-arg]


@settings(max_examples=150, deadline=None)
@given(actions=ACTIONS, cuts=st.lists(st.integers(1, 60), max_size=4))
@example(  # every kind of movement at least once, across a cut
    actions=[("earn", 0, 2500, 1), ("earn", 1, 900, 2), ("undo", 1, 1, 3),
             ("redeem", 0, 1000, 4), ("cancel", 0, 1, 20), ("bonus", 2, 700, 21),
             ("redeem", 0, 400, 30), ("expire", 0, 1, 45), ("bonus", 1, 1200, 50)],
    cuts=[10, 40],
)  # fmt: skip
def test_the_roll_forward_reconciles_on_generated_histories(
    actions: list[tuple[str, int, int, int]], cuts: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(replay(Path(folder), actions, cuts))
