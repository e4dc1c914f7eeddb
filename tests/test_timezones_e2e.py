"""The real bot in a café far from UTC: Auckland is UTC+13 in November.

The suite's clock starts at 2026-11-23 09:00 UTC, which is Monday 22:00 in Auckland and
Sunday 23:00 in Honolulu: the café's day, week and month differ from UTC's, so any rule
that used UTC where it should use café time shows here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain import NewOffer
from sandbox.botapi import FakeUser
from tests.conftest import OWNER_ID, START, BotFactory

AUCKLAND = ZoneInfo("Pacific/Auckland")
BARISTA_ID = 3001


def auckland(*args: int) -> datetime:
    return datetime(*args, tzinfo=AUCKLAND).astimezone(UTC)  # type: ignore[misc]


async def test_typed_offer_dates_are_auckland_time(bot_factory: BotFactory) -> None:
    bot = await bot_factory(timezone="Pacific/Auckland")
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/offer")
    await owner.send("Breakfast deal")
    (kind,) = await owner.send("-")
    await owner.press(kind, "Bonus points")
    await owner.send("20")
    await owner.send("tomorrow 9:00")  # Tuesday 24 Nov in Auckland, whatever UTC says
    await owner.send("28.11.2026 15:30")
    (audience,) = await owner.send("Mon-Fri 07:00-10:00")
    (announce,) = await owner.press(audience, "Everyone")
    (preview,) = await owner.press(announce, "No")
    assert "From Nov 24, 9:00\u202fAM to Nov 28, 3:30\u202fPM" in preview.body
    assert "🕒 Mon–Fri, 7:00\u2009–\u200910:00\u202fAM" in preview.body
    await owner.press(preview, "Save")
    (saved,) = await bot.services.offers.recent()
    assert saved.starts_at == auckland(2026, 11, 24, 9, 0)
    assert saved.ends_at == auckland(2026, 11, 28, 15, 30)


async def test_the_offer_window_is_auckland_hours(bot_factory: BotFactory) -> None:
    bot = await bot_factory(timezone="Pacific/Auckland")
    await bot.services.offers.create(
        OWNER_ID,
        NewOffer(
            title="Happy hour", description="", kind="multiplier", multiplier=Decimal(2),
            bonus_points=None, reward_id=None, starts_at=START, ends_at=START + timedelta(days=7),
            window="Tue 15:00-17:00", audience="all", announce=False,
        ),
    )  # fmt: skip
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")

    async def buy(customer: FakeUser, amount: str) -> str:
        await bot.scan(barista, customer)
        (confirmation,) = await barista.send(amount)
        return confirmation.body

    # Tuesday 14:59 in Auckland (Tuesday 01:59 UTC): not yet.
    bot.clock.current = auckland(2026, 11, 24, 14, 59)
    assert (await buy(alice, "10")).startswith("✅ +10 points")
    # Tuesday 15:00 in Auckland is Tuesday 02:00 UTC: a UTC reading would say 02:00, closed.
    bot.clock.current = auckland(2026, 11, 24, 15, 0)
    assert (await buy(alice, "11")).startswith("✅ +22 points")
    bot.clock.current = auckland(2026, 11, 24, 17, 0)
    assert (await buy(alice, "12")).startswith("✅ +12 points")


async def test_the_birthday_month_is_aucklands(bot_factory: BotFactory) -> None:
    bot = await bot_factory(timezone="Pacific/Auckland")
    alice = await bot.customer(2001, "Alice")
    (saved,) = await alice.send("/birthday 1 Dec")
    assert saved.body == "🎂 Saved: Dec 1. We'll remember!"
    # 30 Nov 10:59 UTC is still November in Auckland…
    bot.clock.current = auckland(2026, 11, 30, 23, 59)
    assert await bot.services.offers.audience_size("birthday") == 0
    # …and one minute later it is 1 December there, while UTC is still in November.
    bot.clock.current = auckland(2026, 12, 1, 0, 0)
    assert bot.clock.current.month == 11
    assert await bot.services.offers.audience_size("birthday") == 1


async def test_history_and_coupons_show_auckland_dates(bot_factory: BotFactory) -> None:
    bot = await bot_factory(timezone="Pacific/Auckland")
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await bot.scan(barista, alice)
    (confirmation,) = await barista.send("4.50")
    assert confirmation.body.startswith("✅ +4 points")
    (history,) = await alice.send("/history")
    # START is Monday 23 Nov 22:00 in Auckland (as English writes it)
    assert "Nov 23, 10:00\u202fPM" in history.body
