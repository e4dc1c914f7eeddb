"""/stats on a small café worked out by hand, NPS, the chart, and /audit."""

from __future__ import annotations

import io
import itertools
import warnings
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from PIL import Image

from bot.charts import ChartLabels, render_stats_chart
from bot.periods import month
from bot.services.stats import ChartData, nps
from handlers import stats as stats_handlers
from handlers.texts import t
from sandbox.botapi import FakeUser
from storage.stats import NpsCounts
from tests.conftest import OWNER_ID, BotFactory, BotHarness

BARISTA_ID = 3001


def english_labels(title: str) -> ChartLabels:
    return ChartLabels(
        title=title, visits="Visits per week", points="Points per week", issued="issued",
        redeemed="redeemed", cohorts="Members still buying", months_after="months after",
        week=lambda monday: f"{monday:%d %b}", cohort=lambda month, n: f"{month:%b %Y} ({n})",
        share=lambda value: f"{value:.0%}", offset=lambda months: f"+{months}",
    )  # fmt: skip


async def buy(bot: BotHarness, barista: FakeUser, customer: FakeUser, amount: str) -> None:
    await bot.scan(barista, customer)
    (confirmation,) = await barista.send(amount)
    assert confirmation.body.startswith("✅"), confirmation.body


async def test_stats_of_a_small_cafe_computed_by_hand(bot_factory: BotFactory) -> None:
    """November: Alice and Bob buy. December: Alice twice, Carol (her first purchase), and
    Dave, who joins and buys. Customers at the start (November's) S = 2; at the end E = 3
    (Alice, Carol, Dave); new N = 2 (Carol, Dave). Retention (E − N) ÷ S = 1 ÷ 2 = 50 %.
    Repeat rate: 1 of 3 customers bought twice = 33.3 %. Visits 4, spend 10 + 12 + 6 + 8
    = €36.00: €12.00 per customer, average basket €9.00."""
    bot = await bot_factory(tiers="Bronze:0:1, Silver:15:1", quiet_hours="off")
    owner = bot.owner()
    await owner.send("/start")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    carol = await bot.customer(2003, "Carol")
    await buy(bot, anna, alice, "5")
    bot.clock.current = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    await buy(bot, anna, bob, "7")

    for day, person, amount in ((2, alice, "10"), (3, carol, "12"), (9, alice, "6")):
        bot.clock.current = datetime(2026, 12, day, 10, 0, tzinfo=UTC)
        await buy(bot, anna, person, amount)
    bot.clock.current = datetime(2026, 12, 5, 11, 0, tzinfo=UTC)
    dave = await bot.customer(2004, "Dave")
    await buy(bot, anna, dave, "8")

    bot.clock.current = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
    text, chart = await owner.send("/stats 2026-12")
    body = text.body
    for expected in (
        "December 2026 (arrows: against November 2026)",
        # the owner, Alice, Bob, Carol, Dave (4 joined in November)
        "Members: 5 · new: 1 ↓ · reachable: 5",
        "Customer retention: 50% (before: —)",
        "Repeat purchase rate: 33.3%",
        "Customers: 3 · visits: 4 ↑ · visits per customer: 1.3 · spent per customer: €12.00 ·"
        " average basket: €9.00",
        "Points issued: 36 ↑ · redeemed: 0 (0%)",
        "NPS: — (0 answers)",
        "Purchases recorded by: Anna (4)",
        "Tiers: Bronze: 4 and Silver: 1",  # Alice earned 21 points in the last 12 months
    ):
        assert expected in body, (expected, body)
    assert chart.method == "sendPhoto" and chart.photo is not None
    image = Image.open(io.BytesIO(chart.photo))
    assert image.size[1] > image.size[0]  # portrait, for a phone


def test_nps_with_no_answers_all_promoters_and_mixed() -> None:
    assert nps(NpsCounts(0, 0, 0)) is None
    assert nps(NpsCounts(5, 5, 0)) == 100
    assert nps(NpsCounts(4, 2, 1)) == 25  # 10, 9, 7, 3: (2 − 1) ÷ 4
    assert nps(NpsCounts(3, 0, 3)) == -100


async def test_the_chart_renders_for_an_empty_and_a_busy_cafe(bot_factory: BotFactory) -> None:
    bot = await bot_factory(quiet_hours="off")
    november = month(2026, 11, UTC)
    empty = await bot.services.stats.chart_data(november)
    assert sum(empty.visits) == 0
    png = render_stats_chart(empty, english_labels("Empty café"))
    assert Image.open(io.BytesIO(png)).format == "PNG"

    anna = await bot.hire(BARISTA_ID, "Anna")
    people = [await bot.customer(2001 + n, f"Guest{n}") for n in range(4)]
    for week in range(6):
        bot.clock.current = datetime(2026, 10, 5, 10, 0, tzinfo=UTC) + timedelta(weeks=week)
        for person in people[: 1 + week % 4]:
            await buy(bot, anna, person, f"{3 + week}")
    bot.clock.current = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    busy = await bot.services.stats.chart_data(november)
    assert sum(busy.visits) == sum(1 + week % 4 for week in range(6))
    assert len(busy.weeks) == 12 and len(busy.cohorts) == 6
    png = render_stats_chart(busy, english_labels("Busy café"))
    assert (
        Image.open(io.BytesIO(png)).size
        == Image.open(io.BytesIO(render_stats_chart(empty, english_labels("x")))).size
    )


async def test_stats_for_a_past_month_charts_that_month_and_the_one_before(
    bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/stats 2026-03, asked in November: the chart's weeks end with March's last week
    (cut at 31 March, so 1 April's purchase is not in it) and reach back over February,
    its comparison month; its cohort months end with March."""
    drawn: list[ChartData] = []

    def render(data: ChartData, labels: ChartLabels) -> bytes:
        drawn.append(data)
        return render_stats_chart(data, labels)

    monkeypatch.setattr(stats_handlers, "render_stats_chart", render)
    bot = await bot_factory(quiet_hours="off")
    bot.clock.current = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
    owner = bot.owner()
    await owner.send("/start")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")  # joins in February
    bot.clock.current = datetime(2026, 2, 16, 10, 0, tzinfo=UTC)
    await buy(bot, anna, alice, "5")
    bot.clock.current = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    bob = await bot.customer(2002, "Bob")  # joins in March
    for moment, person, amount in (
        (datetime(2026, 3, 3, 10, 0, tzinfo=UTC), alice, "6"),
        (datetime(2026, 3, 10, 10, 0, tzinfo=UTC), bob, "7"),
        (datetime(2026, 3, 31, 18, 0, tzinfo=UTC), alice, "4"),
        (datetime(2026, 4, 1, 10, 0, tzinfo=UTC), bob, "9"),  # after March, same week
    ):
        bot.clock.current = moment
        await buy(bot, anna, person, amount)

    bot.clock.current = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    text, chart = await owner.send("/stats 2026-03")
    assert "March 2026 (arrows: against February 2026)" in text.body
    assert chart.method == "sendPhoto" and chart.photo is not None
    (data,) = drawn
    assert data.weeks[-1] == date(2026, 3, 30)  # the Monday of 31 March's week
    assert data.weeks[0] <= date(2026, 2, 1) and len(data.weeks) >= 12
    assert all(b - a == timedelta(weeks=1) for a, b in itertools.pairwise(data.weeks))
    visits = {week: n for week, n in zip(data.weeks, data.visits, strict=True) if n}
    assert visits == {
        date(2026, 2, 16): 1,
        date(2026, 3, 2): 1,
        date(2026, 3, 9): 1,
        date(2026, 3, 30): 1,
    }
    issued = {week: n for week, n in zip(data.weeks, data.issued, strict=True) if n}
    assert issued == {
        date(2026, 2, 16): 5,
        date(2026, 3, 2): 6,
        date(2026, 3, 9): 7,
        date(2026, 3, 30): 4,
    }
    assert sum(data.redeemed) == 0
    months = [joined for joined, _, _ in data.cohorts]
    assert months[-1] == date(2026, 3, 1) and date(2026, 2, 1) in months
    cohorts = {joined: (size, shares) for joined, size, shares in data.cohorts}
    assert cohorts[date(2026, 3, 1)] == (1, [1])  # Bob, who bought in March
    size, (february, march) = cohorts[date(2026, 2, 1)]
    assert (february, march) == (Fraction(1, size), Fraction(1, size))  # Alice, both months
    # The service gives the same data for the same period.
    assert await bot.services.stats.chart_data(month(2026, 3, UTC)) == data


async def test_audit_shows_who_did_what(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await buy(bot, anna, alice, "5")
    (everything,) = await owner.send("/audit")
    assert "Audit log" in everything.body and "points issued" in everything.body
    (of_member,) = await owner.send("/audit member 2")
    assert (
        "Nov 23, 9:00\u202fAM · Anna (3001) · points issued · member #2 · entry 1: 5 points for 500"
        in of_member.body
    )
    (of_staff,) = await owner.send("/audit staff 3001")
    assert "card scanned" in of_staff.body and "points issued" in of_staff.body
    assert "staff invited" not in of_staff.body  # that was the owner
    (nothing,) = await owner.send("/audit member 99")
    assert nothing.body == "Nothing in the audit log for that."
    (usage,) = await owner.send("/audit everyone please")
    assert "Use /audit" in usage.body


async def test_a_russian_owner_reads_stats_chart_and_audit_in_russian(
    bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The figures, the chart's words, weeks, months and shares, and the audit log's times
    are in the language of the owner who asks (their choice: Russian), in an English café."""
    drawn: list[ChartLabels] = []

    def render(data: ChartData, labels: ChartLabels) -> bytes:
        drawn.append(labels)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            png = render_stats_chart(data, labels)
        assert [str(w.message) for w in caught] == []  # no glyph missing from the font
        return png

    monkeypatch.setattr(stats_handlers, "render_stats_chart", render)
    bot = await bot_factory(
        quiet_hours="off", max_purchase_amount=Decimal(2000), max_points_per_purchase=2000
    )
    owner = bot.owner()
    await owner.send("/start")
    anna = await bot.hire(BARISTA_ID, "Anna")
    await bot.services.languages.choose(OWNER_ID, "ru")
    alice = await bot.customer(2001, "Alice")
    bot.clock.current = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    await buy(bot, anna, alice, "1500")

    text, chart = await owner.send("/stats 2026-12")
    assert text.body.startswith("📊 декабрь 2026\u202fг. (")
    assert "1\xa0500" in text.body  # points as Russian writes numbers
    assert chart.caption == t("ru", "stats_chart_caption")
    (labels,) = drawn
    assert labels.title == t("ru", "chart_title", cafe=bot.services.settings.cafe_name,
                             period="декабрь 2026\u202fг.")  # fmt: skip
    assert (labels.visits, labels.issued) == (t("ru", "chart_visits"), t("ru", "chart_issued"))
    assert labels.week(date(2026, 11, 30)) == "30 нояб."
    assert labels.cohort(date(2026, 12, 1), 12) == t(
        "ru", "chart_cohort", month="дек. 2026\u202fг.", members=12
    )
    assert labels.share(0.5) == "50\xa0%"

    (audit,) = await owner.send("/audit member 2")  # the English word is understood too
    assert f"2 дек., 10:00 · Anna (3001) · {t('ru', 'audit_action_points_issue')}" in audit.body
