"""Each person reads the counter's messages in their own language (issue 22): a receipt,
an undo, a new tier and a coupon reach the customer in the customer's language whoever
scans; a receipt Telegram could not take is kept as facts and written in the customer's
language when it is sent; the owners' alerts are in each owner's language.

Expected texts come from the catalogs (``t``), so these tests hold whatever state the
translations are in: they check whose language and whose formats each message is in."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot import i18n
from handlers.outbox import receipt_text
from handlers.texts import t
from sandbox.botapi import FakeUser, SentMessage
from tests.conftest import OWNER_ID, START, BotFactory, BotHarness, make_settings

BARISTA_ID = 3001
CAFE = "Bean There"
BIG = {
    "points_per_unit": 100,
    "max_points_per_purchase": 100_000,
    "max_points_per_staff_day": 1_000_000,
    "quiet_hours": "off",
}


def euros(reader: str, minor: int) -> str:
    return i18n.money(reader, minor, "EUR")


def receipts(customer: FakeUser) -> list[SentMessage]:
    return [m for m in customer.messages if m.body.startswith("🧾")]


async def deliver(bot: BotHarness) -> None:
    """Wait until the outbox has sent everything due."""
    for _ in range(400):
        bot.app.bot_data.broadcaster.wake()
        if await bot.services.outbox.count_pending() == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox kept messages")


async def test_customers_read_the_counter_in_their_language_whoever_scans(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(**BIG)
    es, ru = bot.services.languages.reader("es"), bot.services.languages.reader("ru")
    anna = await bot.hire(BARISTA_ID, "Anna")  # her Telegram is English
    carmen = await bot.customer(2001, "Carmen", language_code="es")
    ivan = await bot.customer(2002, "Ivan", language_code="ru")

    await bot.scan(anna, carmen)
    (confirmation,) = await anna.send("123.40")
    # The barista reads English, with English numbers.
    assert confirmation.body.startswith(
        "✅ +12,340 points for Carmen — balance 12,340\n€123.40 · #"
    )
    (receipt,) = receipts(carmen)
    assert receipt.raw == t(
        es,
        "receipt",
        points=12_340,
        details=euros(es, 12_340),
        cafe=CAFE,
        staff="Anna",
        balance=12_340,
    )
    # Her numbers as Spanish in this café's country writes them.
    assert i18n.number(es, 12_340) in receipt.body and euros(es, 12_340) in receipt.body
    # 12,340 points in 12 months: Gold, told in Spanish with a Spanish decimal comma.
    assert carmen.last.raw == t(
        es, "tier_up", tier="Gold", multiplier=i18n.number(es, Decimal("1.5"))
    )

    # Ivan in the same café: Russian, with the plural form each count needs.
    for amount in ("0.01", "0.02", "0.05", "0.21"):
        bot.clock.advance(minutes=3)  # not a duplicate
        await bot.scan(anna, ivan)
        await anna.send(amount)
    balance = 0
    for points, receipt in zip((1, 2, 5, 21), receipts(ivan), strict=True):
        balance += points
        minor = points
        assert receipt.raw == t(
            ru,
            "receipt",
            points=points,
            details=euros(ru, minor),
            cafe=CAFE,
            staff="Anna",
            balance=balance,
        )

    # Her history: Spanish dates and signed Spanish numbers.
    (history,) = await carmen.send("/history")
    assert i18n.day_time(es, START, UTC) in history.body
    assert i18n.signed(es, 12_340) in history.body

    # Anna undoes Carmen's purchase: the notice is Spanish, its amount as Spanish writes it.
    (undone,) = await anna.press(confirmation, "Undo")
    assert undone.body.startswith("↩️ Undone: −12,340 points for Carmen")
    assert carmen.last.raw == t(
        es, "undo_notice", details=euros(es, 12_340), points=12_340, balance=0
    )


async def test_a_queued_receipt_is_written_in_the_customers_language_when_it_is_sent(
    bot: BotHarness,
) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    ivan = await bot.customer(2002, "Ivan", language_code="ru")
    bot.fake.expected_error_codes.add(502)
    await bot.scan(anna, ivan)
    # The receipt fails at the counter and at the outbox's first try, so it waits.
    bot.fake.inject_error(ivan.chat_id, 502, "Bad Gateway", times=2)
    (confirmation,) = await anna.send("4.50")
    assert confirmation.body.startswith("✅ +4 points for Ivan")

    # The outbox keeps the purchase's facts, not a text in anyone's language.
    (row,) = await bot.rows("SELECT kind, params FROM outbox")
    params: dict[str, Any] = row["params"]
    params = json.loads(params) if isinstance(params, str) else params
    assert row["kind"] == "receipt"
    assert params == {
        "points": 4,
        "balance": 4,
        "amount_minor": 450,
        "category": None,
        "cafe": CAFE,
        "staff": "Anna",
        "location": None,
        "offers": [],
        "referral": False,
    }

    for _ in range(400):  # the outbox's first try
        bot.app.bot_data.broadcaster.wake()
        if await bot.value("SELECT attempts FROM outbox") == 1:
            break
        await asyncio.sleep(0.01)
    assert receipts(ivan) == []

    # Before it goes out again, Ivan picks Spanish in /settings: it arrives in Spanish.
    es = await bot.services.languages.choose(ivan.id, "es")
    bot.clock.advance(seconds=6)  # past the first back-off
    await deliver(bot)
    (receipt,) = receipts(ivan)
    assert receipt.raw == t(
        es, "receipt", points=4, details=euros(es, 450), cafe=CAFE, staff="Anna", balance=4
    )


def test_a_receipt_reads_the_same_from_its_facts_and_old_rows_keep_their_text(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, "http://127.0.0.1:9")
    facts = {
        "points": 21,
        "balance": 1_021,
        "amount_minor": 2_150,
        "category": "Beans",
        "cafe": CAFE,
        "staff": "Anna",
        "location": "North Street",
        "offers": ["Happy hour", "Beans week"],
        "referral": True,
    }
    text = receipt_text(facts, settings, "de")
    assert text.split("\n") == [
        *t(
            "de",
            "receipt_at",
            points=21,
            details="21,50\xa0€ (Beans)",
            cafe=CAFE,
            staff="Anna",
            balance=1_021,
            location="North Street",
        ).split("\n"),
        t("de", "receipt_offers", count=2, titles="Happy hour und Beans week"),
        t("de", "referral_receipt"),
    ]
    # A row queued before receipts were kept as facts is sent as it was written.
    assert receipt_text({"text": "🧾 +3 points"}, settings, "de") == "🧾 +3 points"


async def test_owners_are_alerted_in_their_own_language(bot_factory: BotFactory) -> None:
    bot = await bot_factory(nps_every_visits=1, max_points_per_purchase=10, quiet_hours="off")
    anna = await bot.hire(BARISTA_ID, "Anna")
    de = await bot.services.languages.choose(OWNER_ID, "de")  # Olga reads German
    owner = bot.owner()
    alice = await bot.customer(2001, "Alice")

    # A purchase over the limit: Anna reads English, Olga German.
    await bot.scan(anna, alice)
    (refused,) = await anna.send("20")
    assert refused.body.startswith("Refused: 20 points is above the limit of 10")
    assert owner.last.raw == t(
        de, "owner_limit_alert_purchase", staff="Anna", points=20, name="Alice", limit=10
    )

    # A low score after a visit, then a comment: German, with a German date.
    await bot.scan(anna, alice)
    await anna.send("5")
    await deliver(bot)
    (question,) = [m for m in alice.messages if m.buttons and m.buttons[0].text == "0"]
    await alice.press(question, "2")
    day = i18n.day(de, datetime(2026, 11, 23, tzinfo=UTC))
    assert owner.last.raw == t(de, "nps_low_alert", name="Alice", id="2", score=2, date=day)
    await alice.send("Cold coffee")
    assert owner.last.raw == t(
        de,
        "nps_low_alert_with_comment",
        name="Alice",
        id="2",
        score=2,
        date=day,
        comment="Cold coffee",
    )


async def test_coupon_news_reaches_the_customer_in_their_language(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    (added,) = await owner.send("/catalog add 5 Espresso")
    assert added.body.startswith("Added #1")
    anna = await bot.hire(BARISTA_ID, "Anna")
    carmen = await bot.customer(2001, "Carmen", language_code="es")
    es = bot.services.languages.reader("es")
    await bot.scan(anna, carmen)
    await anna.send("12")
    (listing,) = await carmen.send("/rewards")
    (coupon,) = await carmen.press(listing, listing.buttons[0].text)
    expires = i18n.day(es, datetime(2026, 12, 23, 9, 0, tzinfo=UTC))
    assert expires in coupon.body  # "23 dic 2026"

    code = coupon.raw.split("<code>")[1].split("</code>")[0]
    (shown,) = await anna.send(f"/redeem {code}")
    assert shown.body.startswith("🎁 Espresso for Carmen\nValid until Dec 23, 2026.")
    await anna.press(shown, "Confirm")
    assert carmen.last.raw == t(es, "coupon_redeemed_notice", title="Espresso")
    # Her coupon's own message now says so, in Spanish.
    used_on = i18n.day(es, START)
    assert coupon.raw == t(es, "coupon_closed_redeemed", title="Espresso", date=used_on)
