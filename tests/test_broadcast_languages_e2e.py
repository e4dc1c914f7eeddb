"""End to end: an owner's broadcast reaches each member in their language. The owner's
words are sent as written (their version in the member's language, else the first one),
and the bot's own parts (the button that stops offers and news, an offer announcement's
lines, the owner's progress report) are in each reader's language.

Catalogs may still lack a language's texts while translators work, so what the bot adds
is compared with ``t`` for that reader, not with a translation written out here."""

from __future__ import annotations

from datetime import timedelta

from bot import i18n
from bot.domain import NewOffer
from handlers.texts import t
from sandbox.botapi import FakeUser, SentMessage, plain_text
from tests.conftest import OWNER_ID, START, BotHarness

ENGLISH = "Fresh croissants today!"
SPANISH = "¡Cruasanes recién hechos hoy!"


def stop_button(message: SentMessage) -> str:
    """The text of the one button under a broadcast."""
    (button,) = message.buttons
    return button.text


async def write_broadcast(bot: BotHarness, text: str, owner: FakeUser | None = None) -> SentMessage:
    """The owner writes ``text`` for everyone; returns the question under the preview."""
    owner = owner or bot.owner()
    reader = i18n.reader(owner.language_code, "en", "en")
    await owner.send("/broadcast")
    (who,) = await owner.send(text)
    replies = await owner.press(who, t(reader, "audience_all"))
    return next(m for m in replies if m.buttons and m.buttons[0].text == t(reader, "btn_send"))


async def add_version(
    bot: BotHarness, question: SentMessage, language: str, text: str
) -> list[SentMessage]:
    """The owner presses "Add a version in <language>" and writes it."""
    owner = bot.owner()
    label = t("en", "btn_broadcast_version", language=i18n.own_name(language))
    (asked,) = await owner.press(question, label)
    assert asked.body.startswith(f"Send the message in {i18n.own_name(language)}")
    assert question.buttons == []  # the old question's buttons are gone
    return await owner.send(text)


async def test_each_member_gets_the_version_in_their_language(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")  # the owner is a member too (English)
    ana = await bot.customer(2001, "Ana", language_code="es")
    bob = await bot.customer(2002, "Bob", language_code="en")
    dora = await bot.customer(2003, "Dora", language_code="de")  # no German version
    carla = await bot.customer(2004, "Carla", language_code="es")
    await bot.services.languages.choose(carla.id, "en")  # her choice wins over her phone's

    question = await write_broadcast(bot, ENGLISH)
    assert "Send it to 5 members (Everyone)?" in question.body
    labels = [b.text for b in question.buttons]
    assert labels[0] == t("en", "btn_send")
    versions = [t("en", "btn_broadcast_version", language=i18n.own_name(x)) for x in i18n.SHIPPED]
    assert labels[1:-1] == versions  # one per language, by its own name ("Español")
    assert all(len((b.callback_data or "").encode()) <= 64 for b in question.buttons)

    preview, question = await add_version(bot, question, "es", SPANISH)
    assert preview.body == SPANISH
    assert stop_button(preview) == t("es", "btn_promotions_off")  # as a Spanish reader sees it
    assert "Members who read Español get their version" in question.body
    assert "Send it to 5 members" in question.body
    again = t("en", "btn_broadcast_version_again", language="Español")
    assert again in [b.text for b in question.buttons]
    await owner.press(question, "Send")

    for person in (ana, bob, dora, carla):
        await bot.fake.wait_for(lambda person=person: person.messages[-1].buttons != [])
    assert ana.last.body == SPANISH
    assert stop_button(ana.last) == t("es", "btn_promotions_off")
    assert dora.last.body == ENGLISH  # the default, with the bot's button in German
    assert stop_button(dora.last) == t("de", "btn_promotions_off")
    for person in (bob, carla):
        assert person.last.body == ENGLISH
        assert stop_button(person.last) == t("en", "btn_promotions_off")
    stored = await bot.rows("SELECT language, text FROM broadcast_texts")
    assert stored == [{"language": "es", "text": SPANISH}]
    assert await bot.value("SELECT text FROM broadcasts") == ENGLISH


async def test_the_button_under_a_broadcast_stops_offers_and_news(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    ana = await bot.customer(2001, "Ana", language_code="es")
    question = await write_broadcast(bot, ENGLISH)
    preview = next(m for m in owner.messages if m.body == ENGLISH)
    await owner.press(preview, t("en", "btn_promotions_off"))  # the owner tries it out
    assert bot.fake.callback_answers[-1]["text"] == t("en", "broadcast_news_preview")
    await owner.press(question, "Send")
    await bot.fake.wait_for(lambda: bool(ana.messages) and ana.last.body == ENGLISH)
    assert await bot.services.offers.audience_size("all") == 2  # the preview changed nothing

    await ana.press(ana.last, t("es", "btn_promotions_off"))
    assert bot.fake.callback_answers[-1]["text"] == t("es", "broadcast_news_stopped")
    assert stop_button(ana.last) == t("es", "btn_promotions_on")  # edited in place
    assert await bot.services.offers.audience_size("all") == 1
    await ana.press(ana.last, t("es", "btn_promotions_on"))
    assert bot.fake.callback_answers[-1]["text"] == t("es", "broadcast_news_again")
    assert await bot.services.offers.audience_size("all") == 2


async def test_the_owner_reads_the_progress_in_their_language(bot: BotHarness) -> None:
    owner = bot.user(OWNER_ID, "Olga", language_code="es")
    await owner.send("/start")
    await bot.customer(2001, "Ana")
    question = await write_broadcast(bot, ENGLISH, owner)
    await owner.press(question, t("es", "btn_send"))
    report = t("es", "broadcast_done", id="1", sent=2, failed=0, blocked=0)
    await bot.fake.wait_for(lambda: any(m.raw == report and not m.edits for m in owner.messages))


async def test_a_version_must_fit_telegram_and_read_well(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/broadcast")
    from bot.qr import render_png

    (who,) = await owner.send_photo(render_png("pastry"), caption="Fresh croissants")
    replies = await owner.press(who, "Everyone")
    question = next(m for m in replies if "Send it to" in m.body)
    label = t("en", "btn_broadcast_version", language="Deutsch")
    (asked,) = await owner.press(question, label)
    assert "caption in Deutsch" in asked.body
    (too_long,) = await owner.send("x" * 1025)  # a caption: at most 1,024 characters
    assert "too long for Telegram (1,025 of 1,024 characters)" in too_long.body
    (refused,) = await owner.send("<b>Frische Croissants")  # a tag left open
    assert "couldn't read the formatting" in refused.body
    bot.fake.errors.clear()  # the rejected preview above is what the owner was shown
    preview, question = await owner.send("<b>Frische</b> Croissants")
    assert preview.method == "sendPhoto" and preview.body == "Frische Croissants"
    assert "Members who read Deutsch get their version" in question.body
    await owner.press(question, "Send")
    await bot.fake.wait_for(lambda: any("finished" in m.body for m in owner.messages))
    stored = await bot.rows("SELECT language, text FROM broadcast_texts")
    assert stored == [{"language": "de", "text": "<b>Frische</b> Croissants"}]


async def test_an_offer_announcement_in_each_members_language(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/catalog add 50 Espresso")
    ana = await bot.customer(2001, "Ana", language_code="es")
    espresso = (await bot.services.catalog.list())[0]
    offer = await bot.services.offers.create(
        OWNER_ID,
        NewOffer(
            title="Espresso Friday",
            description="One on the house",
            kind="coupon",
            multiplier=None,
            bonus_points=None,
            reward_id=espresso.id,
            starts_at=START,
            ends_at=START + timedelta(days=7),
            window=None,
            audience="all",
            announce=True,
        ),
    )
    # An announcement queued with the owner's description in Spanish as well.
    await bot.services.broadcasts.create(
        created_by=OWNER_ID,
        text="",
        photo_file_id=None,
        audience="all",
        offer_id=offer.id,
        versions={"es": "Uno invita la casa"},
    )
    bot.app.bot_data.broadcaster.wake()
    await bot.fake.wait_for(lambda: delivered(ana) and delivered(owner))
    spanish = t(
        "es",
        "broadcast_offer_gift_described",
        title="Espresso Friday",
        text="Uno invita la casa",
        gift="Espresso",
    )
    assert ana.last.raw == spanish
    assert stop_button(ana.last) == t("es", "btn_promotions_off")
    english = t(
        "en",
        "broadcast_offer_gift_described",
        title="Espresso Friday",
        text="One on the house",
        gift="Espresso",
    )
    assert english in [m.raw for m in owner.messages]
    assert plain_text(english, "HTML") == (
        "🎉 Espresso Friday\nOne on the house\n🎁 Your free Espresso is waiting in My coupons."
    )


def delivered(person: FakeUser) -> bool:
    return any("Espresso Friday" in m.body for m in person.messages)
