"""Random input from every role, in a mix of languages, through the real Application:
every button press is answered, no handler raises, and no points appear or vanish."""

from __future__ import annotations

import asyncio
import logging
import random
import re
import string
from typing import Any

import pytest
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler

from bot import i18n
from bot.qr import render_png
from handlers.texts import t
from sandbox.botapi import FakeUser, SentMessage, plain_text
from tests.conftest import BotHarness

COMMANDS = [
    "/start", "/card", "/balance", "/history", "/help", "/rewards", "/coupons", "/redeem",
    "/catalog", "/scan", "/undo", "/staff", "/offers", "/broadcasts", "/settings",
    "/birthday", "/offer", "/broadcast", "/cancel", "/nosuchcommand", "/invite", "/mydata",
    "/forget", "/winback", "/referrals",
]  # fmt: skip
PREFIXES = [
    "cat", "dup", "cx", "undo", "sinv", "srm", "rdm", "cshow", "ccx", "ccy", "ckp", "cok",
    "ofend", "promo", "offer", "bc", "zz", "", "nps", "fgt", "lang",
]  # fmt: skip
ODD_ARGS = [
    "", "0", "-1", "1", "12", "#3", "①", "²", "٤", "9" * 30, "4.50", "1,000", "x" * 200,
    "<b>", "&", "add", "cost", "off", "on", "add 10 Latte", "cost 1 5", "on 999",
    "31.04", "30.02", "29.02", "tomorrow 9:00", "ABCD-EFGH", "m" + "A" * 30, "c" * 23,
    "r" + "A" * 12, "text", "bonus", "reward", "yes", "no", "s0", "s1", "es", "pt_BR", "xx",
    "sí", "да", "evet", "ja", "an", "aus", "Пн-Пт 9:00-11:00", "Lu-Vi 14:00-16:00",
]  # fmt: skip
# The Telegram app languages of the people: shipped ones, a regional tag, one we lack.
LANGUAGES = ["en", "es", "pt-br", "tr", "ru", "de", "ja"]
KEYBOARD = ["btn_card", "btn_balance", "btn_history", "btn_rewards", "btn_settings"]
# Numbers int() reads but the one strict parser refuses, or out of SQLite's range: on a
# button they are forged, and must be refused like any garbled data.
FORGED_NUMBERS = [
    "#31", "+5", " 7", "٣", "３", "1e3", "-0", "1_000", str(2**63 - 1), str(2**63), "9" * 40,
]  # fmt: skip
ODD_ARGS += FORGED_NUMBERS
SEEDS = [1, 2, 3]
ACTIONS_PER_SEED = 400


def random_text(rng: random.Random) -> str:
    choice = rng.random()
    if choice < 0.45:
        args = " ".join(rng.choice(ODD_ARGS) for _ in range(rng.randint(0, 3)))
        return f"{rng.choice(COMMANDS)} {args}".strip()
    if choice < 0.7:
        return rng.choice(ODD_ARGS) or "?"
    if choice < 0.8:  # a keyboard button's label, in any shipped language
        return t(rng.choice(i18n.SHIPPED), rng.choice(KEYBOARD))
    alphabet = string.ascii_letters + string.digits + " .,:-#€①²<>&"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))


def random_data(rng: random.Random, seen: list[SentMessage]) -> str:
    """Real button data from a message someone saw, or a forged variation of it."""
    real = [b.callback_data for m in seen for b in m.buttons if b.callback_data]
    if real and rng.random() < 0.6:
        data = rng.choice(real)
        if rng.random() < 0.3:
            head, _, _ = data.partition(":")
            data = f"{head}:{rng.choice(ODD_ARGS)}"
        return data[:64]
    parts = [rng.choice(PREFIXES)] + [rng.choice(ODD_ARGS)[:10] for _ in range(rng.randint(0, 3))]
    return ":".join(parts)[:64] or "x"


async def act(rng: random.Random, person: FakeUser, pressed: list[str]) -> None:
    seen = [m for m in person.messages if m.buttons] or person.messages
    roll = rng.random()
    if roll < 0.5 or not seen:
        await person.send(random_text(rng))
    elif roll < 0.85:
        message = rng.choice(seen)
        data = random_data(rng, seen)
        update: dict[str, Any] = {"callback_query": person.callback(message, data)}
        pressed.append(update["callback_query"]["id"])
        await person._deliver(update, timeout=10)
    elif roll < 0.93:
        message = rng.choice(seen)
        real = [b.callback_data for b in message.buttons if b.callback_data]
        if real:  # a double tap
            data = rng.choice(real)
            first = {"callback_query": person.callback(message, data)}
            second = {"callback_query": person.callback(message, data)}
            pressed += [first["callback_query"]["id"], second["callback_query"]["id"]]
            await asyncio.gather(
                person._deliver(first, timeout=10), person._deliver(second, timeout=10)
            )
    elif roll < 0.97:
        image = render_png(rng.choice(["https://t.me/CafeTestBot?start=zzz", "hello"]))
        await person.send_photo(image)
    else:
        sent = await person._deliver({"message": person.message(sticker=STICKER)}, timeout=10)
        # Answered in the person's language (a choice in /settings may override the app's).
        assert [m.body for m in sent] in (
            [plain_text(t(reader, "unknown_text"), "HTML")] for reader in READERS
        )


READERS = [i18n.reader(language, "en", "en_US") for language in (*LANGUAGES, *i18n.SHIPPED)]
STICKER = {
    "file_id": "STK1", "file_unique_id": "S1", "type": "regular", "width": 512,
    "height": 512, "is_animated": False, "is_video": False,
}  # fmt: skip


async def balances_match_ledger(bot: BotHarness) -> None:
    rows = await bot.rows(
        "SELECT m.id, m.balance, COALESCE(SUM(l.points), 0) AS total FROM members m"
        " LEFT JOIN ledger l ON l.member_id = m.id GROUP BY m.id"
    )
    assert rows
    for row in rows:
        assert row["balance"] == row["total"] >= 0, row["id"]


def button_prefixes(bot: BotHarness) -> set[str]:
    """The prefix of every inline button the bot handles, conversation steps included."""
    found: set[str] = set()

    def visit(handler: BaseHandler[Any, Any, Any]) -> None:
        if isinstance(handler, ConversationHandler):
            steps = [inner for state in handler.states.values() for inner in state]
            for inner in [*handler.entry_points, *steps, *handler.fallbacks]:
                visit(inner)
        elif isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern):
            prefix = re.match(r"\^(\w+)", handler.pattern.pattern)
            if prefix is not None:
                found.add(prefix.group(1))

    for group in bot.app.handlers.values():
        for handler in group:
            visit(handler)
    return found


# What a forged button meets is the button parser, before any storage: one engine is enough.
@pytest.mark.sqlite_only
async def test_forged_numbers_on_every_button_are_refused_without_an_error(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """Every button prefix, with forged numbers in every argument ("#31", " 7", "٣",
    "1e3", "-0", 20 digits…), and every real button seen with one argument forged: each
    press is answered, no handler raises, and the points still add up."""
    caplog.set_level(logging.WARNING)
    owner = bot.owner()
    await owner.send("/start")
    barista = await bot.hire(3001, "Anna")
    alice = await bot.customer(2001, "Alice")
    await bot.services.catalog.add(owner.id, "Espresso", 5)
    await bot.scan(barista, alice)
    await barista.send("20")
    await alice.send("/rewards")
    await owner.send("/staff")
    prefixes = button_prefixes(bot)
    assert {"cat", "dup", "undo", "rdm", "cshow", "cok", "nps", "srm", "ofend"} <= prefixes
    bot.fake.expected_errors.update({"message is not modified"})
    presses: list[tuple[FakeUser, SentMessage, str]] = []
    for person in (owner, alice):  # every gate: the owner passes staff's too
        last = person.messages[-1]
        for prefix in sorted(prefixes):
            for value in FORGED_NUMBERS:
                presses += [(person, last, ":".join([prefix, *[value] * n])) for n in (1, 2, 3)]
    for person in (owner, barista, alice):
        for message in [m for m in person.messages if m.buttons]:
            for data in [b.callback_data for b in message.buttons if b.callback_data]:
                head, *args = data.split(":")
                for index in range(len(args)):
                    for value in FORGED_NUMBERS:
                        forged = [*args[:index], value, *args[index + 1 :]]
                        presses.append((person, message, ":".join([head, *forged])))
    pressed: list[str] = []
    for person, message, data in presses:
        update: dict[str, Any] = {"callback_query": person.callback(message, data[:64])}
        pressed.append(update["callback_query"]["id"])
        await person._deliver(update, timeout=10)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [(r.getMessage(), r.exc_text) for r in errors[:3]]
    answered = {a["callback_query_id"] for a in bot.fake.callback_answers}
    assert not [data for data in pressed if data not in answered]
    await balances_match_ledger(bot)


@pytest.mark.parametrize("seed", SEEDS)
async def test_random_input_from_every_role(
    bot: BotHarness, seed: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(seed)
    owner = bot.owner()
    await owner.send("/start")
    barista = await bot.hire(3001, "Anna")
    alice = await bot.customer(2001, "Alice")
    await bot.services.catalog.add(owner.id, "Espresso", 5)
    await bot.scan(barista, alice)
    await barista.send("20")  # Alice can afford a reward
    stranger = bot.user(9001, "Stranger")
    people = [owner, barista, alice, stranger]
    people += [await bot.customer(2002 + n, f"Guest{n}", lang) for n, lang in enumerate(LANGUAGES)]
    for person in (owner, barista, alice, stranger):  # everyone in a language of their own
        person.language_code = rng.choice(LANGUAGES)
    # Random input makes requests Telegram refuses for reasons the bot cannot know in
    # advance only in these ways: a forged button on a message whose buttons are gone.
    bot.fake.expected_errors.update({"message is not modified"})
    pressed: list[str] = []

    for _ in range(ACTIONS_PER_SEED):
        await act(rng, rng.choice(people), pressed)
        if rng.random() < 0.05:
            bot.clock.advance(minutes=rng.choice([1, 11, 60 * 25]))

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [(r.getMessage(), r.exc_text) for r in errors[:3]]
    answered = {a["callback_query_id"] for a in bot.fake.callback_answers}
    unanswered = [data for data in pressed if data not in answered]
    assert not unanswered, f"{len(unanswered)} of {len(pressed)} button presses left spinning"
    assert len(pressed) > 50  # the generator really pressed buttons
    await balances_match_ledger(bot)
    # The mix is real: the guest whose app is Russian was answered in Russian.
    russian = people[4 + LANGUAGES.index("ru")]
    assert any(re.search("[а-яё]", m.body) for m in russian.messages)
