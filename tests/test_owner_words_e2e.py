"""End to end: what owners used to type in English is buttons now, and what they still
type reads their own language's words as well as English (offer hours with German day
names, the win-back's coupon picked and its text and bonus typed after a button)."""

from __future__ import annotations

from handlers.texts import t
from tests.conftest import OWNER_ID, BotFactory, BotHarness


async def test_a_german_owner_types_the_offer_hours_with_german_day_names(
    bot: BotHarness,
) -> None:
    owner = bot.user(OWNER_ID, "Olga", language_code="de")
    await owner.send("/start")
    await owner.send("/offer")
    (ask_description,) = await owner.send("Nachmittagsbonus")
    (ask_kind,) = await owner.press(ask_description, t("de", "btn_skip"))
    await owner.press(ask_kind, t("de", "btn_kind_bonus"))
    (ask_start,) = await owner.send("20")
    tomorrow = t("de", "word_tomorrow").split(",")[0].strip()  # "morgen", once translated
    assert f"{tomorrow} 9:00" in ask_start.body
    (ask_end,) = await owner.send("tomorrow 9:00")  # English is understood too
    assert ask_end.body.startswith(t("de", "offer_ask_end")[:12])
    (ask_window,) = await owner.send("2026-11-30 18:00")
    # The example is written with German day names (Babel's), as the owner may type them.
    assert "Mo-Fr 15:00-17:00" in ask_window.body
    (bad,) = await owner.send("Mo-Funtag 14:00-16:00")
    assert "Mo-Fr 15:00-17:00" in bad.body
    (ask_audience,) = await owner.send("Montag-Freitag 14:00-16:00")
    assert ask_audience.body == t("de", "offer_ask_audience")
    (ask_announce,) = await owner.press(ask_audience, t("de", "audience_all"))
    (preview,) = await owner.press(ask_announce, t("de", "btn_announce_no"))
    # Shown back with the German day names and the German way of writing hours.
    assert "Mo.–Fr." in preview.body and "14:00–16:00 Uhr" in preview.body
    await owner.press(preview, t("de", "btn_save"))
    (offer,) = await bot.services.offers.recent()
    assert offer.title == "Nachmittagsbonus" and offer.description == ""
    assert offer.window == "Mon,Tue,Wed,Thu,Fri 14:00-16:00"  # stored the same in every language
    assert offer.bonus_points == 20 and offer.starts_at.day == 24

    # Abbreviated names, the weekend, any case and dots or none: all the same days.
    await owner.send("/offer")
    await owner.send("Wochenende")
    await owner.send("-")
    ask_kind = owner.last
    await owner.press(ask_kind, t("de", "btn_kind_bonus"))
    (ask_start,) = await owner.send("5")
    await owner.press(ask_start, t("de", "btn_now"))
    await owner.send("2026-11-30 18:00")
    (ask_audience,) = await owner.send("sa., SO 10:00-12:00")
    (ask_announce,) = await owner.press(ask_audience, t("de", "audience_all"))
    (preview,) = await owner.press(ask_announce, t("de", "btn_announce_no"))
    assert "Sa." in preview.body and "So." in preview.body
    await owner.press(preview, t("de", "btn_save"))
    weekend, _ = await bot.services.offers.recent()
    assert weekend.window == "Sat,Sun 10:00-12:00"
    assert weekend.starts_at == bot.clock.now()

    (listing,) = await owner.send("/offers")
    assert "Mo.–Fr." in listing.body and "Nachmittagsbonus" in listing.body


async def test_the_owner_sets_the_win_back_with_buttons(bot_factory: BotFactory) -> None:
    bot = await bot_factory(winback_after_days=30)
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/catalog add 5 Espresso")
    (shown,) = await owner.send("/winback")
    assert "Coupon: none" in shown.body
    assert [b.text for b in shown.buttons] == ["✏️ Text", "⭐ Bonus", "🎟 Coupon"]

    (ask_text,) = await owner.press(shown, "Text")
    assert "Send the text" in ask_text.body
    saved, overview = await owner.send("We miss you! Come by this week.")
    assert saved.body == "Saved. Dormant members get this from now on."
    assert "Text: We miss you! Come by this week." in overview.body

    (ask_bonus,) = await owner.press(overview, "Bonus")
    assert "How many bonus points" in ask_bonus.body
    (again,) = await owner.send("lots")
    assert "whole number of points" in again.body
    _, overview = await owner.send("25")
    assert "Bonus: 25 points" in overview.body

    (pick,) = await owner.press(overview, "Coupon")
    assert [b.text for b in pick.buttons] == ["Espresso", "No coupon"]
    assert await owner.press(pick, "Espresso") == []  # the same message asks how long
    assert [b.text for b in pick.buttons] == ["7 days", "14 days", "30 days", "60 days"]
    _, overview = await owner.press(pick, "30 days")
    assert "Coupon: a free Espresso (#1), valid 30 days" in overview.body
    winback = await bot.services.lifecycle.winback()
    assert (winback.text, winback.bonus_points, winback.reward_id, winback.coupon_days) == (
        "We miss you! Come by this week.", 25, 1, 30
    )  # fmt: skip

    (pick,) = await owner.press(overview, "Coupon")
    _, overview = await owner.press(pick, "No coupon")
    assert "Coupon: none" in overview.body
    # Typed, as before: English words (or the owner's own language's).
    _, overview = await owner.send("/winback reward 1 14")
    assert "valid 14 days" in overview.body
    _, overview = await owner.send("/winback Reward None")
    assert "Coupon: none" in overview.body
    assert (await bot.services.lifecycle.winback()).reward_id is None


async def test_forget_says_only_what_the_member_would_lose(bot: BotHarness) -> None:
    alice = await bot.customer(2001, "Alice")
    (question,) = await alice.send("/forget")
    assert "open coupon" not in question.body and "points are lost" not in question.body
    assert question.body.startswith("Forget you?")
    assert question.body.endswith("This cannot be undone.")
