"""End to end: each person reads the bot in their own language, in one café.

A Spanish member and a Russian member (by their Telegram app's language) get their card,
receipts, history, coupon and expiry reminder in their language with their locale's
numbers and dates, Russian plural forms included; a member who picks another language in
/settings reads it from the next message; command menus exist in every language."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

from bot import i18n
from handlers.texts import EN, t
from sandbox.botapi import FakeUser, SentMessage, plain_text
from tests.conftest import OWNER_ID, BotFactory, BotHarness
from tests.test_lifecycle_e2e import delivered, run_job

BARISTA_ID = 3001
TAG = re.compile(r"<[^>]+>")


def shown(reader: str, key: str, **values: object) -> str:
    """What a person sees of a catalog text: its HTML rendered as plain text."""
    return plain_text(t(reader, key, **values), "HTML")


def translated(reader: str, key: str) -> str:
    """The longest fixed piece (no placeholder) of a text in ``reader``'s language; the
    test asserts the translation exists, so a message in English cannot pass for it."""
    template = t(reader, key, **{name: "\x00" for name in placeholders(key)})
    pieces = [TAG.sub("", piece).strip() for piece in template.split("\x00")]
    english = t("en", key, **{name: "\x00" for name in placeholders(key)})
    assert template != english, f"{key} is not translated for {reader}"
    return max(pieces, key=len)


def placeholders(key: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", EN[key]))


def last(person: FakeUser) -> SentMessage:
    return person.messages[-1]


def last_receipt(person: FakeUser) -> str:
    return [m.body for m in person.messages if m.body.startswith("🧾")][-1]


async def issue(bot: BotHarness, barista: FakeUser, customer: FakeUser, amount: str) -> None:
    await bot.scan(barista, customer)
    (confirmation,) = await barista.send(amount)
    assert confirmation.body.startswith("✅"), confirmation.body


async def test_spanish_and_russian_members_read_their_own_language(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(
        quiet_hours="off",
        points_expire_after_months=6,
        expiry_reminder_days=14,
        max_purchase_amount=Decimal(50_000),
        max_points_per_purchase=50_000,
        max_points_per_staff_day=1_000_000,
    )
    owner = bot.owner()
    await owner.send("/start")
    await bot.services.catalog.add(OWNER_ID, "Espresso", "10")
    barista = await bot.hire(BARISTA_ID, "Anna")
    sofia = await bot.customer(2001, "Sofía", language_code="es")
    ivan = await bot.customer(2002, "Иван", language_code="ru-RU")

    # Joining: each welcome and main keyboard in the member's language.
    (welcome,) = sofia.messages[-1:]
    assert welcome.body == shown("es", "welcome_new", cafe="Bean There", name="Sofía")
    assert t("es", "btn_card") in welcome.keyboard
    assert shown("ru", "welcome_new", cafe="Bean There", name="Иван") == last(ivan).body

    # The card's caption.
    (card,) = await sofia.send(t("es", "btn_card"))
    assert card.method == "sendPhoto"
    assert translated("es", "card_caption") in card.body

    # A receipt with Spanish number formats: 12.345 points (CLDR's Spanish groups five
    # digits and more), the balance likewise; the barista's own confirmation is English.
    await issue(bot, barista, sofia, "12345")
    receipt = last_receipt(sofia)
    assert "+12.345" in receipt, receipt
    assert translated("es", "receipt") in receipt
    assert "for your purchase" not in receipt

    # Russian plurals: 1 балл, 2 балла, 5 баллов, 21 балл.
    for points, word in ((1, "балл"), (2, "балла"), (5, "баллов"), (21, "балл")):
        await issue(bot, barista, ivan, str(points))
        receipt = last_receipt(ivan)
        assert re.search(rf"\+{points} {word}(?!\w)", receipt), receipt

    # History: Russian dates from CLDR (day and month names), not strftime's English.
    (history,) = await ivan.send("/history")
    today = i18n.day_time("ru", bot.clock.now(), bot.services.settings.tz)
    assert today in history.body, history.body
    assert not re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", history.body)

    # A coupon: the Redeem button and the coupon in Spanish.
    (rewards,) = await sofia.send("/rewards")
    assert translated("es", "rewards_title") in rewards.body
    coupon_messages = await sofia.press(rewards, t("es", "btn_redeem", title="Espresso"))
    coupon = next(m for m in coupon_messages if m.method == "sendPhoto")
    assert translated("es", "coupon_caption") in coupon.body

    # An expiry reminder, written when it is sent: in Spanish, with a Spanish date.
    bot.clock.current = datetime(2027, 5, 12, 9, 0, tzinfo=UTC)
    await run_job(bot)
    await delivered(bot)
    reminder = next(m.body for m in sofia.messages if m.body.startswith("⏳"))
    # (with the reward her points buy now: its own whole text)
    assert translated("es", "expiry_reminder_reward") in reminder, reminder
    assert re.search(r"\d+ (ene|feb|mar|abr|may|jun|jul|ago|sept?|oct|nov|dic)", reminder)
    reminder_ru = next(m.body for m in ivan.messages if m.body.startswith("⏳"))
    assert translated("ru", "expiry_reminder_reward") in reminder_ru, reminder_ru

    # What the database holds: the members' Telegram languages; no choice was made.
    languages = await bot.rows("SELECT tg_user_id, language FROM members ORDER BY tg_user_id")
    assert {r["tg_user_id"]: r["language"] for r in languages}[2001] == "es"
    assert await bot.value("SELECT COUNT(*) FROM languages") == 0


async def test_a_member_who_picks_another_language_reads_it_from_the_next_message(
    bot: BotHarness,
) -> None:
    alice = await bot.customer(2001, "Alice", language_code="en")
    (settings,) = await alice.send("/settings")
    assert settings.body.splitlines()[-2] == shown("en", "settings_language", language="English")
    await alice.press(settings, t("en", "btn_language"))  # the message becomes the choice
    question = last(alice)
    assert question.body == shown("en", "language_question")
    names = [button.text for button in question.buttons]
    assert names == [
        "✅ English", "Español", "Português (Brasil)", "Türkçe", "Русский", "Deutsch",
    ]  # fmt: skip
    (keyboard,) = await alice.press(question, "Deutsch")
    assert question.body == shown("de", "language_chosen", name="Deutsch")
    assert keyboard.body == shown("de", "language_keyboard")
    assert t("de", "btn_card") in keyboard.keyboard
    assert await bot.rows("SELECT tg_user_id, language FROM languages") == [
        {"tg_user_id": 2001, "language": "de"}
    ]

    # From the next message on, German, though her app still says English.
    (balance,) = await alice.send("/balance")
    assert translated("de", "balance") in balance.body or balance.body.startswith("⭐")
    (card,) = await alice.send(t("de", "btn_card"))
    assert translated("de", "card_caption") in card.body
    # Her menu is German whatever her app's language.
    menu = bot.fake.menu(alice.chat_id, "en")
    assert {c["command"]: c["description"] for c in menu}["card"] == t("de", "cmd_card")


async def test_command_menus_exist_in_every_shipped_language(bot: BotHarness) -> None:
    for language in i18n.SHIPPED:
        code = language.split("_")[0]
        menu = {c["command"]: c["description"] for c in bot.fake.menu(9999, code)}
        assert menu["balance"] == t(language, "cmd_balance"), language
    # An app language we do not ship reads the café's (English here).
    menu = {c["command"]: c["description"] for c in bot.fake.menu(9999, "ja")}
    assert menu["balance"] == EN["cmd_balance"]
    # The owner's own menu (a chat scope, set when they open the bot) in each app language.
    await bot.owner().send("/start")
    owner = {c["command"]: c["description"] for c in bot.fake.menu(OWNER_ID, "ru")}
    assert owner["broadcast"] == t("ru", "cmd_broadcast")
