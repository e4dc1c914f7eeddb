"""End to end: owners invite baristas; baristas scan cards, issue points and undo mistakes."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Coroutine
from typing import Any

import pytest
from PIL import Image

from bot.qr import render_png
from bot.tokens import LinkKind, random_token
from handlers.texts import t
from tests.conftest import CUSTOMER_MENU, OWNER_ID, BotFactory, BotHarness
from tests.helpers import card_code, first_link, link_payload, qr_payload, show_card

BARISTA_ID = 3001
CUSTOMER_ID = 2001


async def test_owner_invites_a_barista_who_joins_with_the_link(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    assert "staff" in bot.fake.menu_for(OWNER_ID)
    (overview,) = await owner.send("/staff")
    assert "No staff yet" in overview.body
    (invite,) = await owner.press(overview, "Invite")
    assert "works once" in invite.body
    payload = link_payload(first_link(invite))
    assert payload.startswith(LinkKind.STAFF_INVITE.value) and len(payload) <= 64

    anna = bot.user(BARISTA_ID, "Anna")
    (welcome,) = await anna.send(f"/start {payload}")
    assert "Welcome to the team at Bean There, Anna" in welcome.body
    assert owner.last.body == "✅ Anna joined as staff."
    assert bot.fake.menu_for(BARISTA_ID) == [*CUSTOMER_MENU, "scan", "redeem", "undo"]
    (overview,) = await owner.send("/staff")
    assert "• Anna (since Nov 23, 2026)" in overview.body
    assert overview.button("Remove Anna")

    # Single use: the link does nothing for a second person.
    (used,) = await bot.user(3002, "Eve").send(f"/start {payload}")
    assert "already used" in used.body
    assert [s.first_name for s in await bot.services.staff.list()] == ["Anna"]


async def test_invites_expire_after_a_day_and_forged_ones_are_refused(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    (overview,) = await owner.send("/staff")
    (invite,) = await owner.press(overview, "Invite")
    bot.clock.advance(hours=24, seconds=1)
    (late,) = await bot.user(BARISTA_ID, "Anna").send(f"/start {link_payload(first_link(invite))}")
    assert "expired" in late.body
    forged = random_token(LinkKind.STAFF_INVITE)
    (refused,) = await bot.user(3002, "Eve").send(f"/start {forged}")
    assert "isn't valid" in refused.body
    (own,) = await owner.send(f"/start {forged}")
    assert "already on the team" in own.body
    assert await bot.services.staff.list() == []


async def test_scan_amount_receipt_and_ledger(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")

    shown = await bot.scan(anna, alice)
    assert shown.body.startswith("👤 Alice · Bronze · 0 points")
    assert "Send the purchase amount" in shown.body

    (confirmation,) = await anna.send("€4.50")
    assert confirmation.body.startswith("✅ +4 points for Alice — balance 4")
    assert confirmation.button("Undo")
    assert alice.last.body == (
        "🧾 +4 points for your purchase of €4.50 at Bean There.\n"
        "Served by Anna. New balance: 4 points."
    )
    (entry,) = await bot.ledger()
    assert (entry["points"], entry["kind"], entry["actor_id"], entry["amount_minor"]) == (
        4, "earn", BARISTA_ID, 450
    )  # fmt: skip
    assert entry["idempotency_key"].startswith("scan:")
    assert "points.issue" in await bot.audit_actions()
    (balance,) = await alice.send("/balance")
    assert "You have 4 points" in balance.body
    (history,) = await alice.send("/history")
    assert "+4  Purchase €4.50" in history.body


async def test_categories_take_one_tap_and_apply_their_multiplier(bot_factory: BotFactory) -> None:
    bot = await bot_factory(categories="coffee:1, food:1, beans:2")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (question,) = await anna.send("12,40")
    assert "Alice · €12.40" in question.body
    assert [b.text for b in question.buttons] == ["coffee", "food", "beans ×2", "✖ Cancel"]
    (confirmation,) = await anna.press(question, "beans")
    assert confirmation.body.startswith("✅ +24 points for Alice")
    assert "€12.40 (beans)" in confirmation.body
    assert "€12.40 (beans)" in alice.last.body
    (entry,) = await bot.ledger()
    assert entry["category"] == "beans"


async def test_double_tap_on_a_category_button_gives_one_entry(bot_factory: BotFactory) -> None:
    bot = await bot_factory(categories="coffee, food")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (question,) = await anna.send("5")
    data = question.button("coffee").callback_data
    assert data is not None
    # The second tap finds the buttons gone; the bot shrugs off Telegram's "not modified".
    bot.fake.expected_errors.add("message is not modified")
    await asyncio.gather(anna.press_data(question, data), anna.press_data(question, data))
    assert len(await bot.ledger()) == 1
    bodies = [m.body for m in anna.messages]
    assert sum(b.startswith("✅ +5 points") for b in bodies) == 1
    assert sum(b.startswith("Already recorded: +5 points") for b in bodies) == 1
    receipts = [m for m in alice.messages if m.body.startswith("🧾")]
    assert len(receipts) == 1


async def test_racing_amount_messages_and_redelivered_updates_count_once(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    await asyncio.gather(*(anna.send("4.50") for _ in range(3)))
    assert len(await bot.ledger()) == 1

    # Telegram re-delivers one message (same message id) after a network hiccup.
    await bot.scan(anna, alice)
    update = {"message": anna.message(text="7")}
    first = bot.fake.push_update(update)
    second = bot.fake.push_update(update)
    await bot.fake.wait_processed(first)
    await bot.fake.wait_processed(second)
    entries = await bot.ledger()
    assert [e["points"] for e in entries] == [4, 7]
    assert sum(1 for m in alice.messages if m.body.startswith("🧾")) == 2


async def test_scan_command_with_the_typed_code(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    code = card_code(await show_card(alice))
    (confirmation,) = await anna.send(f"/scan {code.lower()} 3,50")
    assert confirmation.body.startswith("✅ +3 points for Alice — balance 3")
    # The code is one-time.
    (again,) = await anna.send(f"/scan {code} 3,50")
    assert "isn't valid or was already used" in again.body
    (usage,) = await anna.send("/scan")
    assert "/scan K7P2QX 4.50" in usage.body
    assert len(await bot.ledger()) == 1


async def test_a_photo_of_the_qr_is_decoded_on_the_server(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    card = await show_card(alice)
    (shown,) = await anna.send_photo(card.photo or b"")
    assert shown.body.startswith("👤 Alice · Bronze · 0 points")
    (confirmation,) = await anna.send("2")
    assert confirmation.body.startswith("✅ +2 points for Alice")

    blank = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(blank, format="PNG")
    (no_qr,) = await anna.send_photo(blank.getvalue())
    assert "couldn't find a QR code" in no_qr.body
    (foreign,) = await anna.send_photo(render_png("https://example.com/menu"))
    assert foreign.body == "That QR code isn't one of ours."
    (customer_photo,) = await alice.send_photo(card.photo or b"")
    assert "can't do anything with photos" in customer_photo.body


async def test_undo_inside_the_window_reverses_and_tells_the_customer(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (confirmation,) = await anna.send("6")
    bot.clock.advance(minutes=29)
    replies = await anna.press(confirmation, "Undo")
    assert replies[0].body.startswith("↩️ Undone: −6 points for Alice")
    assert "Balance 0." in replies[0].body
    assert "Correction: your purchase of €6.00 (+6 points) was undone" in alice.last.body
    entries = await bot.ledger()
    assert [(e["points"], e["kind"], e["reverses_id"]) for e in entries] == [
        (6, "earn", None), (-6, "reversal", entries[0]["id"])
    ]  # fmt: skip
    (again,) = await anna.send(f"/undo {entries[0]['id']}")
    assert "was already undone" in again.body
    assert len(await bot.ledger()) == 2


async def test_undo_outside_the_window_needs_the_owner(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    await anna.send("6")
    bot.clock.advance(minutes=31)
    (late,) = await anna.send("/undo")
    assert "within 30 minutes" in late.body
    (entry,) = await bot.ledger()
    (done,) = await bot.owner().send(f"/undo {entry['id']}")
    assert done.body.startswith("↩️ Undone: −6 points for Alice")
    assert (await bot.services.members.find(CUSTOMER_ID)).balance == 0  # type: ignore[union-attr]


async def test_staff_cannot_undo_a_colleagues_entry(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    ben = await bot.hire(3002, "Ben")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    await anna.send("6")
    (entry,) = await bot.ledger()
    (refused,) = await ben.send(f"/undo {entry['id']}")
    assert "only undo entries you issued yourself" in refused.body
    (nothing,) = await ben.send("/undo")
    assert "nothing of yours to undo" in nothing.body


async def test_undo_refuses_when_the_points_are_already_spent(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (confirmation,) = await anna.send("6")
    from bot.domain import EntryKind
    from storage import ledger as ledger_store

    member = await bot.services.members.find(CUSTOMER_ID)
    assert member is not None
    async with bot.services.db.transaction() as tx:
        await ledger_store.append(
            tx,
            member_id=member.id,
            points=-5,
            kind=EntryKind.REDEEM,
            reason="Croissant",
            idempotency_key="spent",
            now=bot.clock.now(),
        )
    (refused,) = await anna.press(confirmation, "Undo")
    assert "already spent those points" in refused.body
    assert len(await bot.ledger()) == 2


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("0", "must be more than zero"),
        ("-5", "must be more than zero"),
        ("abc4", "isn't an amount"),
        ("4.555", "too many decimals"),
        ("1000", "more than the €200.00 allowed per purchase"),
        ("0.50", "€0.50 earns no points"),
    ],
)
async def test_bad_amounts_get_a_clear_reply_and_write_nothing(
    bot: BotHarness, amount: str, expected: str
) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (answer,) = await anna.send(amount)
    assert expected in answer.body
    assert await bot.ledger() == []
    # The scan stays open: the barista just types the right amount.
    (confirmation,) = await anna.send("3")
    assert confirmation.body.startswith("✅ +3 points")


async def test_an_amount_without_a_scan_asks_for_the_card(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    (answer,) = await anna.send("4.50")
    assert "Scan the customer's card first" in answer.body
    bot.clock.advance(minutes=11)
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    bot.clock.advance(minutes=11)
    (stale,) = await anna.send("4.50")
    assert "Scan the customer's card first" in stale.body
    assert await bot.ledger() == []


async def test_same_amount_twice_within_two_minutes_asks_first(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    await anna.send("4.50")
    bot.clock.advance(minutes=1)
    await bot.scan(anna, alice)
    (question,) = await anna.send("4.50")
    assert "Looks like a duplicate: Alice got 4 points for €4.50 at 9:00\u202fAM" in question.body
    assert len(await bot.ledger()) == 1
    (confirmation,) = await anna.press(question, "Issue again")
    assert confirmation.body.startswith("✅ +4 points for Alice — balance 8")

    await bot.scan(anna, alice)
    (question,) = await anna.send("4.50")
    replies = await anna.press(question, "Cancel")
    assert replies[-1].body == "Cancelled. Nothing was recorded."
    assert len(await bot.ledger()) == 2
    bot.clock.advance(minutes=3)
    await bot.scan(anna, alice)
    (later,) = await anna.send("4.50")
    assert later.body.startswith("✅ +4 points")


async def test_every_issuing_step_is_awaited_where_the_handler_asks_for_it(
    bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each counter handler awaits the issuing step it calls, right there, so the step's
    refusals are caught where it was asked for: no coroutine is handed to another
    function to run. Through every path: a typed amount, /scan CODE AMOUNT, a category
    button, Issue again, and a refused amount."""
    bot = await bot_factory(categories="coffee, food")
    issuing = bot.services.issuing
    asked_in: set[str] = set()
    handed_over: list[str] = []

    def watch(name: str) -> None:
        method = getattr(issuing, name)

        def call(*args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
            asker = sys._getframe(1).f_code
            asked_in.add(asker.co_name)

            async def step() -> Any:
                awaiter = sys._getframe(1).f_code
                if awaiter is not asker:
                    handed_over.append(f"{name} asked in {asker.co_name}, run in {awaiter.co_name}")
                return await method(*args, **kwargs)

            return step()

        monkeypatch.setattr(issuing, name, call)

    watch("enter_amount")
    watch("issue")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (question,) = await anna.send("5")
    (confirmation,) = await anna.press(question, "coffee")
    assert confirmation.body.startswith("✅ +5 points for Alice")
    await bot.scan(anna, alice)
    (question,) = await anna.send("5")
    (duplicate,) = await anna.press(question, "coffee")
    assert "Looks like a duplicate" in duplicate.body
    (confirmation,) = await anna.press(duplicate, "Issue again")
    assert confirmation.body.startswith("✅ +5 points for Alice — balance 10")
    code = card_code(await show_card(alice))
    (question,) = await anna.send(f"/scan {code} 3")
    assert [b.text for b in question.buttons][:2] == ["coffee", "food"]
    (refused,) = await anna.send("0")
    assert refused.body.startswith("The amount must be more than zero"), refused.body
    assert asked_in == {"take_amount", "scan_command", "category_pressed", "issue_again_pressed"}
    assert handed_over == []


async def test_expired_and_forged_cards_are_refused_at_the_counter(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    payload = qr_payload((await show_card(alice)).photo)
    bot.clock.advance(minutes=11)
    (expired,) = await anna.send(f"/start {payload}")
    assert "Ask the customer to tap My card for a fresh one" in expired.body
    forged = payload[:5] + ("x" if payload[5] != "x" else "y") + payload[6:]
    (invalid,) = await anna.send(f"/start {forged}")
    assert "isn't a valid member card" in invalid.body
    assert "Alice" not in expired.body + invalid.body


async def test_staff_cannot_issue_to_their_own_card(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    await anna.send("/start")
    (refused,) = await anna.send(f"/start {qr_payload((await show_card(anna)).photo)}")
    assert "can't issue points to your own card" in refused.body
    code = card_code(await show_card(anna))
    (refused,) = await anna.send(f"/scan {code} 5")
    assert "can't issue points to your own card" in refused.body
    assert await bot.ledger() == []


async def test_a_customer_trying_staff_things_learns_nothing(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (confirmation,) = await anna.send("5")
    mallory = await bot.customer(2002, "Mallory")
    code = card_code(await show_card(alice))
    for command in ("/scan", f"/scan {code} 5", "/undo", "/undo 1", "/staff"):
        (refused,) = await mallory.send(command)
        assert refused.body == "Sorry, that's not available for your account.", command
    (not_amount,) = await mallory.send("4.50")
    assert "Use the buttons below" in not_amount.body
    assert (
        await mallory.press_data(confirmation, confirmation.button("Undo").callback_data or "")
        == []
    )
    assert bot.fake.callback_answers[-1]["text"] == "Sorry, that's not available for your account."
    (refused_card,) = await mallory.send(f"/start {qr_payload((await show_card(alice)).photo)}")
    assert "Only café staff can scan it" in refused_card.body
    assert bot.fake.menu_for(2002) == CUSTOMER_MENU
    assert len(await bot.ledger()) == 1


async def test_removed_staff_lose_access_at_once(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    owner = bot.owner()
    (overview,) = await owner.send("/staff")
    replies = await owner.press(overview, "Remove Anna")
    assert replies[-1].body == "Anna was removed from staff."
    assert "No staff yet" in overview.body  # the list was edited in place
    assert "no longer staff at Bean There" in anna.last.body
    (refused,) = await anna.send("/scan")
    assert refused.body == "Sorry, that's not available for your account."
    (ignored,) = await anna.send("4.50")  # the scan she had open is dead
    assert "Use the buttons below" in ignored.body
    assert bot.fake.menu_for(BARISTA_ID) == CUSTOMER_MENU
    assert await bot.ledger() == []
    assert "staff.remove" in await bot.audit_actions()


async def test_limit_per_purchase_refuses_and_alerts_the_owner(bot_factory: BotFactory) -> None:
    bot = await bot_factory(max_points_per_purchase=50)
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (refused,) = await anna.send("60")
    assert "above the limit of 50 per purchase" in refused.body
    assert bot.owner().last.body == (
        "⚠️ Anna tried to issue 60 points to Alice (limit per purchase: 50). Refused."
    )
    assert await bot.ledger() == []
    assert "points.refused" in await bot.audit_actions()


async def test_daily_limit_per_staff_member(bot_factory: BotFactory) -> None:
    bot = await bot_factory(max_points_per_staff_day=10)
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    await anna.send("8")
    await bot.scan(anna, alice)
    (refused,) = await anna.send("5")
    assert "daily limit of 10 points" in refused.body
    assert "daily limit per staff member: 10" in bot.owner().last.body
    bot.clock.advance(days=1)
    await bot.scan(anna, alice)
    (confirmation,) = await anna.send("5")
    assert confirmation.body.startswith("✅ +5 points")


async def test_every_staff_action_is_audited(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (confirmation,) = await anna.send("5")
    await anna.press(confirmation, "Undo")
    assert await bot.audit_actions() == [
        "staff.invite", "staff.join", "card.scan", "points.issue", "points.undo"
    ]  # fmt: skip


async def test_help_shows_the_staff_section_only_to_staff(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    (staff_help,) = await anna.send("/help")
    assert "For staff" in staff_help.body
    (customer_help,) = await alice.send("/help")
    assert "For staff" not in customer_help.body


async def test_a_category_button_issues_the_amount_on_its_own_message(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(categories="coffee, food")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (first,) = await anna.send("5")
    (corrected,) = await anna.send("7")
    assert "€5.00" in first.body and "€7.00" in corrected.body
    # The earlier message's button: nothing is issued, and the barista is told why.
    (refused,) = await anna.press(first, "coffee")
    assert refused.body == (
        "This button was for €5.00, but you changed the amount to €7.00 since. "
        "Nothing was recorded: tap a category under €7.00."
    )
    assert await bot.ledger() == []
    (confirmation,) = await anna.press(corrected, "food")
    assert confirmation.body.startswith("✅ +7 points for Alice")
    (entry,) = await bot.ledger()
    assert (entry["amount_minor"], entry["points"], entry["category"]) == (700, 7, "food")


async def test_amounts_in_a_comma_decimal_cafe(bot_factory: BotFactory) -> None:
    bot = await bot_factory(locale="de_DE", timezone="Europe/Berlin")
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await bot.scan(anna, alice)
    (refused,) = await anna.send("1,000")
    assert refused.body == (
        "“1,000” could mean 1,00\xa0€ or 1.000,00\xa0€, so nothing was recorded. "
        "Send it again without a thousands separator, e.g. 4,50."
    )
    assert await bot.ledger() == []
    (confirmation,) = await anna.send("4,50")
    assert confirmation.body.startswith("✅ +4 points for Alice")
    assert "4,50\xa0€" in confirmation.body
    (entry,) = await bot.ledger()
    assert entry["amount_minor"] == 450


async def test_notices_about_staff_are_in_their_readers_languages(bot: BotHarness) -> None:
    """The owner reads German (their choice); Lucía's Telegram is Spanish (she is a member
    too, so the bot knows it). The news that she joined reaches the owner in German, her
    welcome and the notice that she was removed reach her in Spanish, whoever's update
    sent them."""
    owner = bot.owner()
    await owner.send("/start")
    (overview,) = await owner.send("/staff")
    (invite,) = await owner.press(overview, "Invite")
    await bot.services.languages.choose(OWNER_ID, "de")
    lucia = await bot.customer(BARISTA_ID, "Lucía", language_code="es")
    (welcome,) = await lucia.send(f"/start {link_payload(first_link(invite))}")
    assert welcome.raw == t("es", "invite_welcome", cafe="Bean There", name="Lucía")
    assert owner.last.raw == t("de", "invite_owner_notice", name="Lucía")

    (overview,) = await owner.send("/staff")
    replies = await owner.press(overview, t("de", "btn_remove", name="Lucía"))
    assert replies[-1].raw == t("de", "staff_removed", name="Lucía")
    assert lucia.last.raw == t("es", "staff_removed_notice", cafe="Bean There")
