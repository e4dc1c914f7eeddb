"""End to end: a chain's numbers and promotions per location (issue 21 §1). The reports and
figures of the locations and the chain-wide line add up to the chain's exactly; a manager
sees their location's /stats, /report and /audit and nothing of another's; an offer valid
in one shop does not apply in another (and its barista is told); a broadcast reaches
exactly the members who bought at a shop lately; a café with one location sees no change."""

from __future__ import annotations

import asyncio
import csv
import io
import os
from dataclasses import fields
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.accounting import Deferral
from bot.offers import parse_audience
from bot.periods import Period
from bot.services.reports import CHAIN_WIDE, AccountingReport
from bot.services.stats import issued
from sandbox.botapi import TOKEN, FakeUser, SentMessage
from tests.conftest import START, BotFactory, BotHarness
from tests.databases import database_env
from tests.helpers import first_link, link_payload, qr_payload
from tests.test_process import ROOT, command

ANNA, BEN, MIA = 3001, 3002, 3003
ALICE, BOB, CAROL, DAVE = 2001, 2002, 2003, 2004
NOVEMBER = "2026-11"


async def add_location(bot: BotHarness, name: str) -> None:
    owner = bot.owner()
    (overview,) = await owner.send("/locations")
    await owner.press(overview, "Add a location")
    (added,) = await owner.send(name)
    assert added.body.startswith(f"📍 {name} added."), added.body


async def location_id(bot: BotHarness, name: str) -> int:
    return int(await bot.value("SELECT id FROM locations WHERE name = :name", name=name))


async def join(bot: BotHarness, user_id: int, name: str, label: str) -> FakeUser:
    """The owner presses an invite button on /staff; the person opens the link."""
    owner = bot.owner()
    (overview,) = await owner.send("/staff")
    (link,) = await owner.press(overview, label)
    person = bot.user(user_id, name)
    await person.send(f"/start {link_payload(first_link(link))}")
    return person


async def chain(bot: BotHarness) -> tuple[FakeUser, FakeUser]:
    """Main and Harbour: Anna works at Main, Ben at Harbour (neither is ever asked where)."""
    await bot.owner().send("/start")
    await add_location(bot, "Harbour")
    anna = await join(bot, ANNA, "Anna", "Barista for Main")
    ben = await join(bot, BEN, "Ben", "Barista for Harbour")
    return anna, ben


async def buy(bot: BotHarness, barista: FakeUser, customer: FakeUser, amount: str) -> SentMessage:
    await bot.scan(barista, customer)
    (confirmation,) = await barista.send(amount)
    assert confirmation.body.startswith("✅"), confirmation.body
    return confirmation


async def run_lifecycle(bot: BotHarness) -> None:
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name("lifecycle")
    await job.run(bot.app)


def period(first: date, last: date) -> Period:
    return Period(first, last, ZoneInfo("UTC"))


def assert_parts_add_up(whole: AccountingReport) -> None:
    """Every line of the roll-forward and every money figure: the locations and the
    chain-wide part add up to the whole, exactly, in points and minor units."""
    parts = whole.parts
    assert parts and parts[-1].location_id == CHAIN_WIDE
    roll = whole.roll
    assert sum(p.roll.opening for p in parts) == roll.opening
    assert sum(p.roll.closing for p in parts) == roll.closing
    for kind, points in roll.issued.items():
        assert sum(p.roll.issued[kind] for p in parts) == points, kind
    for line in ("reversed", "redeemed", "refunded", "expired"):
        assert sum(getattr(p.roll, line) for p in parts) == getattr(roll, line), line
    for figure in fields(Deferral):
        total = getattr(whole.deferral, figure.name)
        assert sum(getattr(p.deferral, figure.name) for p in parts) == total, figure.name
    for figure in ("liability_face", "liability_expected", "bonus_issued", "bonus_cost"):
        assert sum(getattr(p, figure) for p in parts) == getattr(whole, figure), figure
    for part in parts:
        assert part.roll.reconciles


def documents(person: FakeUser, since: int) -> dict[str, SentMessage]:
    return {m.document_name or "": m for m in person.messages[since:] if m.method == "sendDocument"}


def csv_rows(message: SentMessage) -> list[dict[str, str]]:
    assert message.document is not None
    text = message.document.decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


async def test_reports_and_figures_per_location_add_up_to_the_chain(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(
        points_expire_after_months=1, birthday_bonus_points=10, quiet_hours="off"
    )
    anna, ben = await chain(bot)
    main, harbour = await location_id(bot, "Main"), await location_id(bot, "Harbour")
    owner = bot.owner()
    await owner.send("/catalog add 10 Espresso")
    alice = await bot.customer(ALICE, "Alice")
    bob = await bot.customer(BOB, "Bob")
    carol = await bot.customer(CAROL, "Carol")

    # November: purchases in both shops, an undo, a birthday bonus, two redemptions (one
    # handed over at Harbour, one cancelled: refunded).
    await buy(bot, anna, alice, "10.00")
    await buy(bot, anna, carol, "7.35")
    await buy(bot, ben, bob, "20.00")
    await buy(bot, ben, alice, "5.00")
    await ben.send("/undo")
    (listing,) = await alice.send("/rewards")
    (coupon,) = await alice.press(listing, "Redeem")
    (shown,) = await ben.send(f"/start {qr_payload(coupon.photo)}")
    await ben.press(shown, "Confirm")
    (listing,) = await bob.send("/rewards")
    (coupon,) = await bob.press(listing, "Redeem")
    (sure,) = await bob.press(coupon, "Cancel")
    await bob.press(sure, "Yes")
    await alice.send("/birthday 24.11")
    await run_lifecycle(bot)
    await bot.fake.wait_for(lambda: "Happy birthday" in alice.last.body, timeout=10)
    # December: a sale at Main, then every balance lapses (a month without a visit).
    bot.clock.current = START + timedelta(days=10)
    await buy(bot, anna, alice, "3.33")
    bot.clock.current = START + timedelta(days=45)
    await run_lifecycle(bot)
    for person in (alice, bob, carol):
        await bot.fake.wait_for(lambda p=person: "expired" in p.last.body, timeout=10)
    kinds = {row["kind"] for row in await bot.rows("SELECT kind FROM ledger")}
    assert kinds == {"earn", "reversal", "birthday", "redeem", "refund", "expire"}
    redeemed_at = await bot.value(
        "SELECT redeemed_location_id FROM coupons WHERE state = 'redeemed'"
    )
    assert redeemed_at == harbour

    books = bot.services.reports
    for first, last in (
        (date(2026, 11, 1), date(2026, 11, 30)),
        (date(2026, 12, 1), date(2026, 12, 31)),
        (date(2026, 11, 1), date(2027, 1, 31)),
    ):
        whole = await books.report(period(first, last))
        assert [p.location for p in whole.parts] == ["Main", "Harbour", None]
        assert_parts_add_up(whole)
        for part in whole.parts:  # one part asked alone is the same as in the whole
            assert await books.report(period(first, last), part.location_id) == part
    november = await books.report(period(date(2026, 11, 1), date(2026, 11, 30)))
    at_main, at_harbour, chain_wide = november.parts
    assert (at_main.roll.issued["purchase"], at_main.roll.closing) == (17, 17)
    assert (at_harbour.roll.issued["purchase"], at_harbour.roll.reversed) == (25, -5)
    assert (chain_wide.roll.issued["birthday"], chain_wide.roll.redeemed) == (10, -20)
    assert (chain_wide.roll.refunded, chain_wide.bonus_issued) == (10, 10)
    assert at_main.roll.redeemed == at_harbour.roll.redeemed == 0  # redemptions are the chain's
    everything = await books.report(period(date(2026, 11, 1), date(2027, 1, 31)))
    assert everything.roll.closing == 0 and everything.parts[-1].roll.expired == -(17 + 20 + 3)

    # The owner's /report: the whole with a line per location, and a button for each.
    before = len(owner.messages)
    (text, *_) = await owner.send("/report 2026-11")
    assert text.body.split("\n\n")[-2].split("\n") == [
        "By location (these add up to the figures above)",
        "Main: closing 17 (+17); deferred €0.65, recognised €0.17, contract liability €0.48",
        "Harbour: closing 20 (+20); deferred €0.77, recognised €0.21, contract liability €0.56",
        "🌐 Chain-wide: closing 0 (0); deferred €0.00, recognised €0.00, contract liability €0.00",
    ]
    assert "Deferred in the period: €1.42" in text.body
    assert "Recognised in the period: €0.38" in text.body
    assert "Contract liability at the end: €1.04" in text.body
    assert [b.text for b in text.buttons] == [
        "📍 Main", "📍 Harbour", "🌐 Chain-wide"
    ]  # fmt: skip
    roll = csv_rows(documents(owner, before)["points-roll-forward-2026-11.csv"])
    closing = {
        row["line"]: row["points"] for row in roll if row["line"].endswith("closing balance")
    }
    assert closing == {
        "closing balance": "37", "Main: closing balance": "17",
        "Harbour: closing balance": "20", "chain-wide: closing balance": "0",
    }  # fmt: skip
    before = len(owner.messages)
    (text, *_) = await owner.press(text, "Harbour")
    assert text.body.startswith("📒 Points and revenue — Harbour — November 2026\n")
    assert "Issued for purchases: +25" in text.body and "Undone purchases: -5" in text.body
    assert "= Closing balance: 20" in text.body and "Redeemed for coupons: 0" in text.body
    assert "members' balances" not in text.body  # no reconciliation for a part
    ledger = documents(owner, before)[f"ledger-2026-11-location-{harbour}.csv"]
    assert [row["points"] for row in csv_rows(ledger)] == ["20", "5", "-5"]
    (text, *_) = await owner.press(text, "Chain-wide")
    assert text.body.startswith("📒 Points and revenue — chain-wide — November 2026\n")
    assert "Birthday treats: +10" in text.body and "Refunded" in text.body
    assert [b.text for b in text.buttons] == ["📍 Main", "📍 Harbour", "🏢 All locations"]

    # /stats: the whole with a line per location; one location's own figures.
    stats = await bot.services.stats.stats(period(date(2026, 11, 1), date(2026, 11, 30)))
    parts = [part for _, part in stats.parts]
    assert sum(p.visits for p in parts) == stats.current.visits.visits == 3
    assert sum(p.spend_minor for p in parts) == stats.current.visits.spend_minor == 3735
    assert sum(issued(p.points) for p in parts) == stats.current.issued == 52
    for kind, points in stats.current.points.items():
        assert sum(p.points.get(kind, 0) for p in parts) == points, kind
    here = await bot.services.stats.stats(period(date(2026, 11, 1), date(2026, 11, 30)), harbour)
    assert (here.current.visits.visits, here.current.issued, here.current.coupons.used) == (
        1, 25, 1,
    )  # fmt: skip
    (figures, chart) = await owner.send("/stats 2026-11")
    assert "📍 Main: customers: 2 · visits: 2 · spent: €17.35 · points issued: 17" in figures.body
    assert (
        "📍 Harbour: customers: 1 · visits: 1 · spent: €20.00 · points issued: 25" in figures.body
    )
    assert "🌐 Chain-wide: points issued: 10" in figures.body
    assert chart.photo
    (figures, chart) = await owner.send(f"/stats {NOVEMBER} harbour")  # any case
    assert figures.body.startswith("📊 Harbour — November 2026")
    assert "Points issued here: 25" in figures.body and "handed over here: 1" in figures.body
    assert "Members" not in figures.body and "Tiers" not in figures.body
    assert "Main" not in figures.body and main != harbour


async def test_a_manager_sees_only_their_locations_numbers(bot: BotHarness) -> None:
    anna, ben = await chain(bot)
    mia = await join(bot, MIA, "Mia", "Manager for Main")
    main, harbour = await location_id(bot, "Main"), await location_id(bot, "Harbour")
    alice = await bot.customer(ALICE, "Alice")
    bob = await bot.customer(BOB, "Bob")
    await buy(bot, anna, alice, "4.00")
    await buy(bot, ben, bob, "9.00")
    await buy(bot, ben, alice, "6.00")

    (figures, chart) = await mia.send("/stats")
    assert figures.body.startswith("📊 Main — November 2026")
    assert "Customers: 1 · visits: 1" in figures.body and "Points issued here: 4" in figures.body
    assert "Anna (1)" in figures.body and "Ben" not in figures.body
    assert "Harbour" not in figures.body and "Members" not in figures.body
    assert figures.buttons == [] and chart.photo
    before = len(mia.messages)
    (report, *_) = await mia.send("/report")
    assert report.body.startswith("📒 Points and revenue — Main — November 2026")
    assert "Issued for purchases: +4" in report.body and "By location" not in report.body
    files = documents(mia, before)
    ledger = files[f"ledger-2026-11-location-{main}.csv"]
    assert [(row["kind"], row["points"]) for row in csv_rows(ledger)] == [("earn", "4")]
    (audit,) = await mia.send("/audit")
    assert audit.body.startswith("🗒 Audit log — Main")
    assert "Anna" in audit.body and "points issued" in audit.body
    assert "Ben" not in audit.body and "Harbour" not in audit.body
    (audit,) = await mia.send("/audit member 1")
    assert "Ben" not in audit.body

    refusal = "You can see the figures of Main only."
    for typed in ("/stats 2026-11 Harbour", "/report Harbour", "/audit Harbour"):
        (refused,) = await mia.send(typed)
        assert refused.body == refusal, typed
    (refused,) = await mia.press_data(figures, f"stl:{harbour}:2026-11")  # a forged button
    assert refused.body == refusal
    (own, *_) = await mia.press_data(figures, "rpl:a:2026-11")  # "all" is not hers either:
    assert own.body.startswith("📒 Points and revenue — Main")  # she gets her own
    (refused,) = await mia.press_data(figures, "rpl:c:2026-11")
    assert refused.body == refusal

    # The owner sees every location's lines, named; a barista sees no numbers at all.
    (audit, *_) = await bot.owner().send("/audit")
    assert "Harbour · Ben" in audit.body and "Main · Anna" in audit.body
    (no,) = await anna.send("/stats")
    assert no.body == "Sorry, that's not available for your account."


async def test_an_offer_valid_in_one_shop_only(bot: BotHarness) -> None:
    anna, ben = await chain(bot)
    owner = bot.owner()
    await owner.send("/offer")
    await owner.send("Harbour happy hour")
    (kind,) = await owner.send("-")
    await owner.press(kind, "Bonus points")
    await owner.send("20")
    await owner.send("now")
    (hours,) = await owner.send("2026-11-30 18:00")
    (audience,) = await owner.press(hours, "Any time")
    assert [b.text for b in audience.buttons][-2] == "📍 Customers of a location…"
    (where,) = await owner.press(audience, "Everyone")
    assert where.body.startswith("Where is the offer valid?")
    await owner.press(where, "Harbour")
    assert "✅ Harbour" in [b.text for b in where.buttons]  # ticked in place
    (announce,) = await owner.press(where, "Done")
    (preview,) = await owner.press(announce, "No")
    assert "📍 Valid only at Harbour." in preview.body
    await owner.press(preview, "Save")
    harbour = await location_id(bot, "Harbour")
    assert await bot.rows("SELECT offer_id, location_id FROM offer_locations") == [
        {"offer_id": 1, "location_id": harbour}
    ]

    alice = await bot.customer(ALICE, "Alice")
    await buy(bot, ben, alice, "5")
    assert alice.last.body.startswith("🧾 +25 points") and "Harbour happy hour" in alice.last.body
    confirmation = await buy(bot, anna, alice, "6")
    assert confirmation.body.endswith("ℹ️ Harbour happy hour does not apply here: only at Harbour.")
    assert alice.last.body.startswith("🧾 +6 points") and "happy hour" not in alice.last.body
    rows = await bot.rows("SELECT points, offer_id FROM ledger ORDER BY id")
    assert [(r["points"], r["offer_id"]) for r in rows] == [(25, 1), (6, None)]
    (offers,) = await alice.send("/offers")
    assert "Harbour happy hour: +20 bonus points per purchase" in offers.body
    assert "📍 Only at Harbour" in offers.body
    (listing,) = await owner.send("/offers")
    assert "📍 Valid only at Harbour." in listing.body


async def test_a_broadcast_to_the_customers_of_one_shop(bot: BotHarness) -> None:
    bot.clock.current = START - timedelta(days=40)
    anna, ben = await chain(bot)
    carol = await bot.customer(CAROL, "Carol")
    await buy(bot, anna, carol, "3")  # at Main, but 40 days ago
    bot.clock.current = START
    alice = await bot.customer(ALICE, "Alice")
    bob = await bot.customer(BOB, "Bob")
    dave = await bot.customer(DAVE, "Dave")
    await buy(bot, anna, alice, "4")
    await buy(bot, ben, bob, "5")
    main = await location_id(bot, "Main")

    owner = bot.owner()
    await owner.send("/broadcast")
    (who,) = await owner.send("Fresh croissants at Main!")
    (places,) = await owner.press(who, "Customers of a location")
    assert places.body == "Customers of which locations? Tick one or more, then Done."
    (nothing,) = await owner.press(places, "Done")
    assert "Tick at least one location" in nothing.body
    await owner.press(places, "Main")
    (days,) = await owner.press(places, "Done")
    assert "Who bought at Main in the last how many days?" in days.body
    replies = await owner.send("30")
    question = next(m for m in replies if "Send it to" in m.body)
    assert "Send it to 1 member (Bought at Main in the last 30 days)?" in question.body
    await owner.press(question, "Send")
    await bot.fake.wait_for(
        lambda: any("finished" in m.body and not m.edits for m in owner.messages), timeout=15
    )
    assert bot.fake.delivered(alice.chat_id, "Fresh croissants") == 1
    for person in (bob, carol, dave):
        assert bot.fake.delivered(person.chat_id, "Fresh croissants") == 0, person.first_name
    sent = await bot.rows("SELECT member_id FROM broadcast_recipients")  # not the owner
    alice_id = await bot.value("SELECT id FROM members WHERE tg_user_id = :id", id=ALICE)
    assert sent == [{"member_id": alice_id}]
    audience = parse_audience(f"visited:{main}:45")  # a longer window takes Carol in too
    reached = await bot.services.audience.recipients(audience)
    assert sorted(chat for _, chat in reached) == [ALICE, CAROL]
    (listing,) = await owner.send("/broadcasts")
    assert "Bought at Main in the last 30 days" in listing.body


async def test_a_cafe_with_one_location_sees_no_change(bot: BotHarness) -> None:
    anna = await bot.hire(ANNA, "Anna")
    alice = await bot.customer(ALICE, "Alice")
    confirmation = await buy(bot, anna, alice, "4.50")
    assert "ℹ️" not in confirmation.body
    owner = bot.owner()
    (report, *_) = await owner.send("/report")
    assert report.body.startswith("📒 Points and revenue — November 2026\n")
    assert "By location" not in report.body and report.buttons == []
    (figures, _) = await owner.send("/stats")
    assert "By location" not in figures.body and figures.buttons == []
    (audit,) = await owner.send("/audit")
    assert "Main" not in audit.body and audit.buttons == []
    (usage,) = await owner.send("/report Main")  # no locations to name: a period, as ever
    assert usage.body.startswith("Which period?")
    await owner.send("/broadcast")
    (who,) = await owner.send("News")
    assert "location" not in " ".join(b.text for b in who.buttons)
    await owner.press(who, "Cancel")
    await owner.send("/offer")
    await owner.send("Double")
    (kind,) = await owner.send("-")
    await owner.press(kind, "Points multiplier")
    await owner.send("2")
    await owner.send("now")
    (hours,) = await owner.send("2026-11-30 18:00")
    (audience,) = await owner.press(hours, "Any time")
    (announce,) = await owner.press(audience, "Everyone")
    assert announce.body == "Announce it to them when it starts?"  # no "where" step
    (preview,) = await owner.press(announce, "No")
    assert "Valid only" not in preview.body


async def test_the_command_line_report_per_location(
    bot_factory: BotFactory, tmp_path: Path, database_url: str | None
) -> None:
    bot = await bot_factory()
    anna, ben = await chain(bot)
    alice = await bot.customer(ALICE, "Alice")
    await buy(bot, anna, alice, "4")
    await buy(bot, ben, alice, "9")
    env = database_env(
        {**os.environ, "BOT_TOKEN": TOKEN, "PYTHONPATH": ROOT, "LOG_LEVEL": "WARNING"},
        bot.services.settings.database_path,
        database_url,
    )

    async def report(*words: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            *command(), "report", "--month", NOVEMBER, *words,
            env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        return process.returncode or 0, out.decode(), err.decode()

    code, whole, _ = await report()
    assert code == 0
    assert "By location (these add up to the figures above)" in whole
    assert whole.split("\n\n")[-1].split("\n") == [
        "By location (these add up to the figures above)",
        "  Main: closing 4 (+4 in the period), deferred €0.15, recognised €0.00,"
        " contract liability €0.15",
        "  Harbour: closing 9 (+9 in the period), deferred €0.35, recognised €0.00,"
        " contract liability €0.35",
        "  chain-wide: closing 0 (+0 in the period), deferred €0.00, recognised €0.00,"
        " contract liability €0.00",
        "",
    ]
    code, harbour, _ = await report("--location", "harbour")
    assert code == 0
    assert harbour.startswith("Points and revenue at Harbour: November 2026\n")
    assert "  issued: purchase                          +9" in harbour
    assert "By location" not in harbour
    code, _, error = await report("--location", "Airport")
    assert code != 0
    assert "--location: no location 'Airport' (there are: Main, Harbour; or chain-wide)" in error
