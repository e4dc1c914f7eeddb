"""End to end: a customer joins, shows their card, checks balance and history."""

from __future__ import annotations

import re

import pytest

from bot.services.errors import CardExpired, CardInvalid
from sandbox.botapi import FakeUser
from storage import members as member_store
from tests.conftest import CUSTOMER_MENU, OWNER_ID, BotHarness
from tests.helpers import qr_payload

PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def card_payload(photo: bytes | None) -> str:
    return qr_payload(photo)


async def test_new_customer_joins_and_gets_a_scannable_card(bot: BotHarness) -> None:
    alice = bot.user(2001, "Alice")
    (welcome,) = await alice.send("/start")
    assert "Welcome to Bean There, Alice" in welcome
    assert welcome.keyboard == [
        "💳 My card", "⭐ Balance", "🎁 Rewards", "🎟 My coupons",
        "🎉 Offers", "📜 History", "⚙️ Settings", "❓ Help",
    ]  # fmt: skip

    (card,) = await alice.send("💳 My card")
    assert card.method == "sendPhoto" and card.photo
    payload = card_payload(card.photo)
    assert PAYLOAD.match(payload)
    assert str(alice.id) not in payload
    member = await bot.services.members.resolve_card(payload)
    assert member.tg_user_id == alice.id
    assert "Alice · member card" in card.body
    assert "0 points" in card.body
    assert "Valid until 9:10\u202fAM" in card.body  # as English writes a time of day
    code = re.search(r"<code>([A-Z0-9]{6})</code>", card.raw)
    assert code, card.raw
    assert (await bot.services.members.resolve_code(code.group(1))).id == member.id


async def test_card_command_gives_a_new_code_each_time(bot: BotHarness) -> None:
    alice = await bot.customer(2001, "Alice")
    (first,) = await alice.send("/card")
    await alice.send("/card")
    old_code = re.search(r"<code>(\w+)</code>", first.raw)
    assert old_code
    # Only the newest typed code is valid.
    with pytest.raises(CardInvalid):
        await bot.services.members.resolve_code(old_code.group(1))


async def test_balance_and_history_on_an_empty_account(bot: BotHarness) -> None:
    alice = await bot.customer(2001, "Alice")
    (balance,) = await alice.send("⭐ Balance")
    assert balance.body == (
        "⭐ You have 0 points, worth about €0.00.\n"
        "🏅 Tier: Bronze (×1 points). 500 more points earned to reach Silver."
    )
    (history,) = await alice.send("/history")
    assert "No transactions yet" in history.body
    (help_text,) = await alice.send("❓ Help")
    assert "1 point for every €1.00" in help_text.body


async def test_start_twice_keeps_one_member(bot: BotHarness) -> None:
    alice = bot.user(2001, "Alice")
    await alice.send("/start")
    (again,) = await alice.send("/start")
    assert again.body == "Welcome back, Alice! You have 0 points."
    assert await member_store.count(bot.services.db.reader) == 1


async def test_concurrent_starts_create_one_member(bot: BotHarness) -> None:
    import asyncio

    alice = bot.user(2001, "Alice")
    await asyncio.gather(*(alice.send("/start") for _ in range(5)))
    assert await member_store.count(bot.services.db.reader) == 1
    welcomes = [m.body for m in alice.messages]
    assert sum("Welcome to" in text for text in welcomes) == 1
    assert sum("Welcome back" in text for text in welcomes) == 4


async def test_tampered_and_expired_card_tokens_are_rejected(bot: BotHarness) -> None:
    alice = await bot.customer(2001, "Alice")
    (card,) = await alice.send("/card")
    payload = card_payload(card.photo or b"")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    with pytest.raises(CardInvalid):
        await bot.services.members.resolve_card(flipped)
    with pytest.raises(CardInvalid):
        await bot.services.members.resolve_card("m" + payload[2:])
    bot.clock.advance(minutes=9)
    assert (await bot.services.members.resolve_card(payload)).tg_user_id == alice.id
    bot.clock.advance(minutes=2)
    with pytest.raises(CardExpired):
        await bot.services.members.resolve_card(payload)


async def test_static_cards_never_expire(bot_factory) -> None:  # type: ignore[no-untyped-def]
    bot = await bot_factory(card_validity_minutes=0)
    alice = await bot.customer(2001, "Alice")
    (card,) = await alice.send("/card")
    assert "This card does not expire." in card.body
    bot.clock.advance(days=400)
    member = await bot.services.members.resolve_card(card_payload(card.photo or b""))
    assert member.first_name == "Alice"


async def test_a_customer_opening_someones_card_link_learns_nothing(bot: BotHarness) -> None:
    alice = await bot.customer(2001, "Alice")
    (card,) = await alice.send("/card")
    mallory = bot.user(2002, "Mallory")
    (answer,) = await mallory.send(f"/start {card_payload(card.photo or b'')}")
    assert "Only café staff can scan it" in answer.body
    assert "Alice" not in answer.body and "points" not in answer.body


@pytest.mark.parametrize(
    "payload",
    ["!!!", "z" + "a" * 20, "m" + "a" * 64, "mshort", "a b"],
    ids=["symbols", "unknown-kind", "too-long", "bad-card", "two-words"],
)
async def test_malformed_deep_links_get_a_friendly_reply(bot: BotHarness, payload: str) -> None:
    mallory = bot.user(2002, "Mallory")
    replies = await mallory.send(f"/start {payload}")
    assert len(replies) == 1
    assert any(
        phrase in replies[0].body
        for phrase in ("doesn't look right", "Only café staff can scan it")
    )


async def test_commands_before_joining_ask_to_press_start(bot: BotHarness) -> None:
    bob = bot.user(2003, "Bob")
    for command in ("/card", "/balance", "/history"):
        (answer,) = await bob.send(command)
        assert "Press /start to join" in answer.body
    assert await member_store.count(bot.services.db.reader) == 0


async def test_names_with_html_characters_are_escaped(bot: BotHarness) -> None:
    odd = bot.user(2004, "<Bob & Co>")
    (welcome,) = await odd.send("/start")
    assert "<Bob & Co>" in welcome.body
    (card,) = await odd.send("/card")
    assert "<Bob & Co> · member card" in card.body


async def test_customers_see_only_customer_commands(bot: BotHarness) -> None:
    customer = await bot.customer(2001, "Alice")
    assert bot.fake.menu_for(customer.chat_id) == CUSTOMER_MENU


async def test_owner_gets_their_menu_when_opening_the_bot(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    assert f"chat:{OWNER_ID}" in bot.fake.commands


async def test_unknown_text_points_to_the_buttons(bot: BotHarness) -> None:
    alice = await bot.customer(2001, "Alice")
    (answer,) = await alice.send("what is this")
    assert "Use the buttons below or /help" in answer.body


async def test_a_crashing_handler_apologises_without_details(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.owner().send("/start")  # the owner is alerted (tests/test_error_alerts_e2e.py)
    alice: FakeUser = await bot.customer(2001, "Alice")

    def broken(*args: object) -> None:
        raise RuntimeError("database exploded: secret detail")

    monkeypatch.setattr(bot.services.members, "balance", broken)
    (answer,) = await alice.send("/balance")
    assert answer.body == "Sorry, something went wrong on our side. Please try again in a moment."
    assert "secret detail" not in answer.body
    assert "database exploded" in caplog.text
