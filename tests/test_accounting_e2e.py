"""The owner's books: IFRS 15 Illustrative Example 52 through the bot's own code path, a
month computed by hand, and the roll-forward reconciling with the ledger."""

from __future__ import annotations

import asyncio
import csv
import io
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bot.periods import Period, month
from sandbox.botapi import TOKEN, FakeUser, SentMessage
from tests.conftest import BotFactory, BotHarness
from tests.databases import database_env
from tests.test_process import ROOT, command

BARISTA_ID = 3001


def documents(person: FakeUser) -> dict[str, SentMessage]:
    return {m.document_name or "": m for m in person.messages if m.method == "sendDocument"}


def parse_csv(message: SentMessage) -> list[dict[str, str]]:
    assert message.document is not None
    text = message.document.decode("utf-8")
    assert text.startswith("\ufeff")  # a byte-order mark, so spreadsheets detect UTF-8
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


async def test_ifrs_15_illustrative_example_52(bot_factory: BotFactory) -> None:
    """Sales of 100,000 earn 10,000 points worth 1 each; 95 % expected to be redeemed:
    8,676 deferred. 4,500 redeemed in year 1: 4,110 revenue. 8,500 redeemed by the end of
    year 2 with 9,700 now expected: 3,493 revenue in year 2."""
    bot = await bot_factory(
        currency="JPY", currency_exponent=0, points_per_unit=Decimal("0.1"),
        point_value=Decimal(1), expected_redemption_rate=Decimal("0.95"),
        max_purchase_amount=Decimal(100_000), max_points_per_purchase=10_000,
        tiers="Member:0:1", quiet_hours="off",
    )  # fmt: skip
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/catalog add 4500 Year one rewards")
    await owner.send("/catalog add 4000 Year two rewards")
    customer = await bot.customer(2001, "Pat")

    bot.clock.current = datetime(2027, 1, 10, 10, 0, tzinfo=UTC)  # year 1
    await bot.scan(owner, customer)
    (sold,) = await owner.send("100000")
    assert sold.body.startswith("✅ +10,000 points for Pat")
    bot.clock.current = datetime(2027, 6, 1, 10, 0, tzinfo=UTC)
    (listing,) = await customer.send("/rewards")
    await customer.press(listing, "Redeem Year one")

    (shown, *files) = await owner.send("/report 2027-01-01 2027-12-31")
    assert [m.document_name for m in files] == [
        "points-roll-forward-2027-01-01_2027-12-31.csv",
        "ledger-2027-01-01_2027-12-31.csv",
    ]
    assert "Deferred in the period: ¥8,676" in shown.body
    assert "Recognised in the period: ¥4,110" in shown.body
    assert "Contract liability at the end: ¥4,566" in shown.body
    year_one = await bot.services.reports.report(Period(*_year(2027)))
    assert (year_one.deferral.deferred_in_period, year_one.deferral.recognised_in_period) == (
        8676, 4110,
    )  # fmt: skip

    # The owner revises the estimate for year 2 (9,700 of 10,000), from its first day.
    bot.clock.current = datetime(2027, 12, 31, 12, 0, tzinfo=UTC)
    (saved,) = await owner.send("/redemptionrate 97% from 2028-01-01")
    assert saved.body == "Saved: expected redemption rate 97% from Jan 1, 2028."
    bot.clock.current = datetime(2028, 3, 1, 10, 0, tzinfo=UTC)
    (listing,) = await customer.send("/rewards")
    await customer.press(listing, "Redeem Year two")
    year_two = await bot.services.reports.report(Period(*_year(2028)))
    assert year_two.deferral.recognised_in_period == 3493
    assert year_two.deferral.contract_liability == 1073
    assert year_two.roll.opening == year_one.roll.closing == 5500  # periods chain
    assert year_two.rate_at_end == 970_000


def _year(year: int) -> tuple[object, ...]:
    from datetime import date
    from zoneinfo import ZoneInfo

    return (date(year, 1, 1), date(year, 12, 31), ZoneInfo("UTC"))


async def scan_and_buy(bot: BotHarness, barista: FakeUser, customer: FakeUser, amount: str) -> None:
    await bot.scan(barista, customer)
    (confirmation,) = await barista.send(amount)
    assert confirmation.body.startswith("✅"), confirmation.body


async def test_a_month_computed_by_hand(bot_factory: BotFactory) -> None:
    """December 2026, worked out on paper (POINT_VALUE 0.05, expected rate 80 %):

    Opening 24 (Alice earned 24 in November).
    Purchases: Alice 10.00 → 10, Bob 20.00 → 20, Bob 5.00 → 5 (undone) = 35 issued;
    undone −5; Alice redeems an Espresso for 20, then cancels it (refund +20) and redeems
    a Cookie for 10: redeemed −30, refunded +20. Closing 24 + 35 − 5 − 30 + 20 = 44.
    Each sale's deferral: price × SSP ÷ (price + SSP), SSP = points × 0.05 × 0.8:
    10.00 → SSP 0.40 → 10 × 0.4 / 10.4 = 0.384615…; 20.00 → SSP 0.80 → 0.769230…;
    the undone 5.00 sale is not revenue at all. Deferred in December: 1.153846… → €1.15.
    """
    bot = await bot_factory(tiers="Member:0:1", quiet_hours="off")
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/catalog add 20 Espresso")
    await owner.send("/catalog add 10 Cookie")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    await scan_and_buy(bot, anna, alice, "24")  # November

    bot.clock.current = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    await scan_and_buy(bot, anna, alice, "10")
    await scan_and_buy(bot, anna, bob, "20")
    await scan_and_buy(bot, anna, bob, "5")
    await anna.send("/undo")
    (listing,) = await alice.send("/rewards")
    (coupon,) = await alice.press(listing, "Redeem Espresso")
    (question,) = await alice.press(coupon, "Cancel coupon")
    await alice.press(question, "Yes, cancel")
    (listing,) = await alice.send("/rewards")
    await alice.press(listing, "Redeem Cookie")

    bot.clock.current = datetime(2027, 1, 2, 10, 0, tzinfo=UTC)
    (text, *_) = await owner.send("/report 2026-12")
    body = text.body
    for line in (
        "Opening balance: 24",
        "Issued for purchases: +35",
        "Undone purchases: -5",
        "Redeemed for coupons: -30",
        "Refunded (coupons cancelled or expired): +20",
        "Expired: 0",
        "= Closing balance: 44",
        "Deferred in the period: €1.15",
        # Recognised: deferred to date (0.923077 + 1.153846) × redeemed 10 ÷ expected
        # 0.8 × 54 = 2.076923 × 10 / 43.2 = 0.480769 → €0.48; liability 1.596154 → €1.60.
        "Recognised in the period: €0.48",
        "Contract liability at the end: €1.60",
    ):
        assert line in body, (line, body)
    # 44 points: €2.20 at face value, €1.76 expected (80 %).
    assert "44 points = €2.20 at face value, €1.76 at the expected redemption rate of 80%" in body

    files = documents(owner)
    roll = {row["line"]: row for row in parse_csv(files["points-roll-forward-2026-12.csv"])}
    assert roll["closing balance"]["points"] == "44"
    assert roll["revenue deferred in period"]["amount"] == "1.15"
    ledger = parse_csv(files["ledger-2026-12.csv"])
    assert [row["kind"] for row in ledger] == [
        "earn", "earn", "earn", "reversal", "redeem", "refund", "redeem",
    ]  # fmt: skip
    # The ledger CSV sums to the report's movements, and times carry their offset.
    assert sum(int(row["points"]) for row in ledger) == 44 - 24
    assert ledger[0]["time"] == "2026-12-03T10:00:00+00:00"
    assert ledger[0]["amount"] == "10.00" and ledger[0]["currency"] == "EUR"


async def test_owner_only_commands(bot: BotHarness) -> None:
    alice = await bot.customer(2001, "Alice")
    anna = await bot.hire(BARISTA_ID, "Anna")
    for person in (alice, anna):
        for typed in ("/report", "/export", "/redemptionrate 90%", "/stats", "/audit"):
            replies = await person.send(typed)
            assert [m.body for m in replies] == ["Sorry, that's not available for your account."], (
                person.first_name, typed, [m.body for m in replies],
            )  # fmt: skip
    assert await bot.services.reports.rate_at(bot.clock.now()) == 800_000


async def test_rate_changes_refuse_the_past_and_nonsense(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    (shown,) = await owner.send("/redemptionrate")
    assert "Expected redemption rate now: 80%." in shown.body
    (past,) = await owner.send("/redemptionrate 90% from 2026-01-01")
    assert "can't change the past" in past.body
    (bad,) = await owner.send("/redemptionrate 140%")
    assert "Change it with" in bad.body
    (ok,) = await owner.send("/redemptionrate 0.9")
    assert ok.body == "Saved: expected redemption rate 90% from Nov 23, 2026."
    assert await bot.services.reports.rate_at(bot.clock.now()) == 900_000
    period = month(2026, 11, bot.services.settings.tz)
    assert (await bot.services.reports.report(period)).rate_at_end == 900_000


async def test_report_and_export_from_the_command_line(
    bot_factory: BotFactory, tmp_path: Path, database_url: str | None
) -> None:
    bot = await bot_factory(tiers="Member:0:1")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await scan_and_buy(bot, anna, alice, "12.50")
    env = database_env(
        {**os.environ, "BOT_TOKEN": TOKEN, "PYTHONPATH": ROOT, "LOG_LEVEL": "WARNING"},
        bot.services.settings.database_path,
        database_url,
    )
    out = tmp_path / "books"
    process = await asyncio.create_subprocess_exec(
        *command(), "export", "--month", "2026-11", "--out", str(out),
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert "(1 entries)" in stdout.decode()
    with (out / "ledger-2026-11.csv").open(encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    assert (row["kind"], row["points"], row["amount"], row["member"]) == (
        "earn",
        "12",
        "12.50",
        "2",
    )
    process = await asyncio.create_subprocess_exec(
        *command(), "report", "--from", "2026-11-01", "--to", "2026-11-30",
        env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    printed = stdout.decode()
    assert process.returncode == 0
    assert "Points and revenue: November 2026" in printed  # the whole month, named
    assert "closing balance                           12" in printed
