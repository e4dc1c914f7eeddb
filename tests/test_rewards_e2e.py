"""End to end: rewards catalog, coupons from redeem to hand-over, refunds, expiry and tiers."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bot.qr import decode
from bot.tokens import LinkKind, random_token
from handlers.texts import t
from sandbox.botapi import FakeUser, SentMessage
from storage.engine import sql
from tests.conftest import OWNER_ID, BotFactory, BotHarness
from tests.helpers import qr_payload

BARISTA_ID = 3001
CUSTOMER_ID = 2001


async def earn(bot: BotHarness, barista: FakeUser, customer: FakeUser, amount: str) -> None:
    await bot.scan(barista, customer)
    (confirmation,) = await barista.send(amount)
    assert confirmation.body.startswith("✅"), confirmation.body


async def catalog(bot: BotHarness, *items: tuple[int, str]) -> None:
    owner = bot.owner()
    for cost, title in items:
        (added,) = await owner.send(f"/catalog add {cost} {title}")
        assert added.body.startswith("Added #"), added.body


async def setup(bot: BotHarness, amount: str = "12") -> tuple[FakeUser, FakeUser]:
    await catalog(bot, (5, "Espresso"), (20, "Croissant"))
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await earn(bot, barista, alice, amount)
    return barista, alice


async def get_coupon(alice: FakeUser, title: str = "Espresso") -> SentMessage:
    (listing,) = await alice.send("🎁 Rewards")
    (coupon,) = await alice.press(listing, f"Redeem {title}")
    assert coupon.method == "sendPhoto"
    return coupon


async def coupon_rows(bot: BotHarness) -> list[dict[str, object]]:
    return await bot.rows("SELECT * FROM coupons ORDER BY id")


async def test_earn_redeem_scan_and_confirm(bot: BotHarness) -> None:
    barista, alice = await setup(bot)
    (listing,) = await alice.send("🎁 Rewards")
    assert listing.body == (
        "🎁 Rewards — you have 12 points\n"
        "✅ Espresso — 5 points\n"
        "• Croissant — 20 points (need 8 more)"
    )
    assert [b.text for b in listing.buttons] == ["Redeem Espresso"]

    (coupon,) = await alice.press(listing, "Redeem Espresso")
    payload = qr_payload(coupon.photo)
    assert payload.startswith(LinkKind.COUPON.value) and len(payload) <= 64
    assert "Espresso" in coupon.body and "Coupon for Alice · 5 points" in coupon.body
    assert "Valid until Dec 23, 2026." in coupon.body
    code = re.search(r"<code>([A-Z0-9]{4}-[A-Z0-9]{4})</code>", coupon.raw)
    assert code
    assert (await bot.services.members.find(CUSTOMER_ID)).balance == 7  # type: ignore[union-attr]

    (shown,) = await barista.send(f"/start {payload}")
    assert shown.body.startswith("🎁 Espresso for Alice")
    (confirmed,) = await barista.press(shown, "Confirm")
    assert confirmed.body == "✅ Redeemed: Espresso for Alice."
    assert alice.last.body == "✅ Your Espresso coupon was redeemed. Enjoy!"
    (row,) = await coupon_rows(bot)
    assert (row["state"], row["closed_by"], row["closed_by_name"]) == (
        "redeemed", BARISTA_ID, "Anna"
    )  # fmt: skip
    assert [e["kind"] for e in await bot.ledger()] == ["earn", "redeem"]
    assert "coupon.redeem" in await bot.audit_actions()

    # Used: the typed code now says by whom and when.
    (again,) = await barista.send(f"/redeem {code.group(1).lower()}")
    assert again.body == "⛔ Espresso: already redeemed at 9:00\u202fAM by Anna."


async def test_a_typed_code_starting_with_c_is_not_mistaken_for_a_link(bot: BotHarness) -> None:
    barista, alice = await setup(bot)
    await get_coupon(alice)
    # Link tokens start with "c"; one code in 32 does too. Make this one do so.
    async with bot.services.db.transaction() as tx:
        assert await tx.run(sql("UPDATE coupons SET code = 'CAFE2345'")) == 1
    (shown,) = await barista.send("/redeem cafe-2345")
    assert shown.body.startswith("🎁 Espresso for Alice")


async def test_balance_shows_progress_to_the_cheapest_reward(bot: BotHarness) -> None:
    await catalog(bot, (20, "Croissant"))
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await earn(bot, barista, alice, "12")
    (balance,) = await alice.send("/balance")
    assert "🎁 Next reward: Croissant (20 points)\n▓▓▓▓▓▓░░░░ 12/20" in balance.body
    await earn(bot, barista, alice, "9")
    (balance,) = await alice.send("/balance")
    assert "You can redeem Croissant now" in balance.body


async def test_redeeming_with_too_few_points_is_refused(bot: BotHarness) -> None:
    _, alice = await setup(bot)
    (listing,) = await alice.send("/rewards")
    croissant = next(r for r in await bot.services.catalog.list() if r.title == "Croissant")
    (refused,) = await alice.press_data(listing, f"rdm:{croissant.id}")
    assert refused.body == "You need 8 more points for that reward. Keep collecting!"
    assert await coupon_rows(bot) == []
    assert (await bot.services.members.find(CUSTOMER_ID)).balance == 12  # type: ignore[union-attr]


async def test_double_taps_and_two_devices_never_overdraw(bot: BotHarness) -> None:
    _, alice = await setup(bot, amount="7")  # 7 points: one Espresso, not two
    (listing,) = await alice.send("/rewards")
    data = listing.button("Redeem Espresso").callback_data or ""
    await asyncio.gather(alice.press_data(listing, data), alice.press_data(listing, data))
    assert len(await coupon_rows(bot)) == 1
    assert (await bot.services.members.find(CUSTOMER_ID)).balance == 2  # type: ignore[union-attr]

    # Two phones, two fresh lists, both tapped at once, enough points for only one.
    await earn(bot, await bot.hire(3002, "Ben"), alice, "3")  # balance 5
    (phone_a,) = await alice.send("/rewards")
    (phone_b,) = await alice.send("/rewards")
    before = len(alice.messages)
    await asyncio.gather(
        alice.press(phone_a, "Redeem Espresso"), alice.press(phone_b, "Redeem Espresso")
    )
    bodies = [message.body for message in alice.messages[before:]]
    assert sum("Coupon for Alice" in body for body in bodies) == 1
    assert sum("need 5 more points" in body for body in bodies) == 1
    assert len(await coupon_rows(bot)) == 2
    member = await bot.services.members.find(CUSTOMER_ID)
    assert member is not None and member.balance == 0
    assert sum(e["points"] for e in await bot.ledger()) == 0


async def test_two_baristas_confirming_at_once_give_one_redemption(bot: BotHarness) -> None:
    anna, alice = await setup(bot)
    ben = await bot.hire(3002, "Ben")
    payload = qr_payload((await get_coupon(alice)).photo)
    (at_anna,) = await anna.send(f"/start {payload}")
    (at_ben,) = await ben.send(f"/start {payload}")
    results = await asyncio.gather(anna.press(at_anna, "Confirm"), ben.press(at_ben, "Confirm"))
    bodies = [message.body for replies in results for message in replies]
    assert sum(body.startswith("✅ Redeemed: Espresso for Alice.") for body in bodies) == 1
    refused = [body for body in bodies if body.startswith("⛔")]
    assert len(refused) == 1
    already = r"⛔ Espresso: already redeemed at 9:00\u202fAM by (Anna|Ben)\."
    assert re.fullmatch(already, refused[0])
    redeemed_notices = [m for m in alice.messages if "was redeemed" in m.body]
    assert len(redeemed_notices) == 1


async def test_cancel_refunds_and_the_coupon_is_dead(bot: BotHarness) -> None:
    barista, alice = await setup(bot)
    coupon = await get_coupon(alice)
    printed = coupon.photo  # e.g. a screenshot the customer kept
    (question,) = await alice.press(coupon, "Cancel coupon")
    assert question.body == "Cancel your Espresso coupon and get 5 points back?"
    (kept,) = await alice.press(question, "Keep it")
    assert "still valid" in kept.body
    (question,) = await alice.press(coupon, "Cancel coupon")
    yes = question.button("Yes, cancel").callback_data or ""
    (cancelled,) = await alice.press_data(question, yes)
    assert cancelled.body == "Coupon cancelled: 5 points are back. Balance: 12 points."
    (row,) = await coupon_rows(bot)
    assert row["state"] == "cancelled" and row["refund_entry_id"] is not None
    assert [e["kind"] for e in await bot.ledger()] == ["earn", "redeem", "refund"]
    # The coupon message itself now says so, with a struck-out code and no buttons.
    assert coupon.body == (
        "↩️ Espresso: cancelled on Nov 23, 2026; its points were refunded. "
        "This code no longer works."
    )
    assert coupon.buttons == [] and decode(coupon.photo or b"") == []
    (scanned,) = await barista.send(f"/start {qr_payload(printed)}")
    assert "the customer cancelled this coupon" in scanned.body
    bot.fake.expected_errors.add("message is not modified")  # the buttons are gone already
    (twice,) = await alice.press_data(question, yes)
    assert "cancelled this coupon" in twice.body
    assert len(await bot.ledger()) == 3


async def test_expired_coupons_are_refunded_by_the_job(bot: BotHarness) -> None:
    barista, alice = await setup(bot)
    coupon = await get_coupon(alice)
    printed = coupon.photo
    bot.clock.advance(days=29)
    await run_expiry_job(bot)
    assert (await coupon_rows(bot))[0]["state"] == "issued"
    bot.clock.advance(days=1, seconds=1)
    await run_expiry_job(bot)
    assert alice.last.body == (
        "⌛ Your Espresso coupon expired unused, so its 5 points are back. Balance: 12 points."
    )
    (row,) = await coupon_rows(bot)
    assert row["state"] == "expired"
    await run_expiry_job(bot)  # nothing left to do, nothing sent twice
    assert sum("expired unused" in m.body for m in alice.messages) == 1
    assert coupon.body == "⌛ Espresso: expired on Dec 23, 2026. This code no longer works."
    assert coupon.buttons == [] and coupon.edits == 1
    (scanned,) = await barista.send(f"/start {qr_payload(printed)}")
    expired = "⛔ Espresso: this coupon expired on Dec 23, 2026; its points were refunded."
    assert scanned.body == expired


async def test_a_coupon_past_its_date_is_refused_then_refunded_by_the_job(
    bot: BotHarness,
) -> None:
    barista, alice = await setup(bot)
    payload = qr_payload((await get_coupon(alice)).photo)
    (shown,) = await barista.send(f"/start {payload}")
    bot.clock.advance(days=31)
    (refused,) = await barista.press(shown, "Confirm")
    assert refused.body.endswith("expired on Dec 23, 2026; its points go back to the customer.")
    (rescanned,) = await barista.send(f"/start {payload}")
    assert rescanned.body == refused.body
    assert (await coupon_rows(bot))[0]["state"] == "issued"  # the job has not run yet
    await run_expiry_job(bot)
    assert "expired unused, so its 5 points are back" in alice.last.body
    member = await bot.services.members.find(CUSTOMER_ID)
    assert member is not None and member.balance == 12


async def run_expiry_job(bot: BotHarness) -> None:
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name("expire-coupons")
    await job.run(bot.app)


async def test_each_bad_coupon_gets_its_own_reply(bot: BotHarness) -> None:
    barista, _ = await setup(bot)
    (malformed,) = await barista.send("/redeem xyz")
    assert "isn't a coupon code" in malformed.body
    (unknown,) = await barista.send("/redeem ABCD-EFGH")
    assert "There's no such coupon" in unknown.body
    (forged,) = await barista.send(f"/start {random_token(LinkKind.COUPON)}")
    assert "There's no such coupon" in forged.body
    (usage,) = await barista.send("/redeem")
    assert "/redeem ABCD-EFGH" in usage.body


async def test_customers_cannot_confirm_or_peek_at_coupons(bot: BotHarness) -> None:
    barista, alice = await setup(bot)
    coupon = await get_coupon(alice)
    payload = qr_payload(coupon.photo)
    (shown,) = await barista.send(f"/start {payload}")
    mallory = await bot.customer(2002, "Mallory")
    assert await mallory.press(shown, "Confirm") == []
    assert bot.fake.callback_answers[-1]["text"] == "Sorry, that's not available for your account."
    (peek,) = await mallory.send(f"/start {payload}")
    assert peek.body == "This is a coupon. Show it at the counter to use it."
    (refused,) = await mallory.send("/redeem " + "ABCD-EFGH")
    assert refused.body == "Sorry, that's not available for your account."
    (own,) = await alice.send(f"/start {payload}")
    assert own.method == "sendPhoto" and "Coupon for Alice" in own.body
    assert (await coupon_rows(bot))[0]["state"] == "issued"


async def test_coupons_list_and_show_again(bot: BotHarness) -> None:
    _, alice = await setup(bot)
    (empty,) = await alice.send("🎟 My coupons")
    assert "no open coupons" in empty.body
    await get_coupon(alice)
    (listing,) = await alice.send("🎟 My coupons")
    assert "• Espresso — valid until Dec 23, 2026" in listing.body
    (again,) = await alice.press(listing, "Show Espresso")
    assert again.method == "sendPhoto" and "Coupon for Alice" in again.body


async def test_a_photo_of_a_coupon_qr_opens_it_for_staff(bot: BotHarness) -> None:
    barista, alice = await setup(bot)
    coupon = await get_coupon(alice)
    (shown,) = await barista.send_photo(coupon.photo or b"")
    assert shown.body.startswith("🎁 Espresso for Alice")


async def test_tier_promotion_multiplier_and_no_demotion(bot_factory: BotFactory) -> None:
    bot = await bot_factory(tiers="Bronze:0:1, Silver:10:2")
    await catalog(bot, (5, "Espresso"))
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await earn(bot, barista, alice, "12")
    assert "you've reached Silver! From now on every purchase earns ×2 points" in alice.last.body
    shown = await bot.scan(barista, alice)
    assert "Alice · Silver · 12 points" in shown.body
    (confirmation,) = await barista.send("5")
    assert confirmation.body.startswith("✅ +10 points for Alice")
    await get_coupon(alice)
    (balance,) = await alice.send("/balance")
    assert "Tier: Silver (×2 points). That's our top tier." in balance.body
    # The redemption spent points but the tier counts points earned: still Silver.
    assert [e["points"] for e in await bot.ledger()] == [12, 10, -5]


async def test_owner_manages_the_catalog(bot: BotHarness) -> None:
    """The typed form still works (English words, or the owner's own)."""
    owner = bot.owner()
    await owner.send("/start")
    (empty,) = await owner.send("/catalog")
    assert "The catalog is empty." in empty.body and "Add a reward" in empty.body
    assert [b.text for b in empty.buttons] == ["➕ Add a reward"]
    (added,) = await owner.send("/catalog add 150 Almond   croissant")
    assert added.body == "Added #1 Almond croissant for 150 points."
    for command, expected in [
        ("/catalog add 150 almond croissant", "already a reward with that title"),
        ("/catalog add lots Cake", "whole number of points"),
        ("/catalog add 0 Cake", "whole number of points"),
        ("/catalog add 10 " + "x" * 60, "1 to 48 characters"),
        ("/catalog cost 9 100", "no reward with that number"),
    ]:
        (answer,) = await owner.send(command)
        assert expected in answer.body, command
    (changed,) = await owner.send("/catalog cost 1 120")
    assert changed.body == "🎁 #1 Almond croissant: 120 points. Customers can redeem it."
    (off,) = await owner.send("/catalog OFF 1")
    assert off.body == "💤 #1 Almond croissant: 120 points. Switched off: customers don't see it."
    (listing,) = await owner.send("/catalog")
    assert "#1 Almond croissant — 120 points (off)" in listing.body
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    (rewards,) = await alice.send("/rewards")
    assert "no rewards yet" in rewards.body
    (refused,) = await alice.send("/catalog add 1 Free")
    assert refused.body == "Sorry, that's not available for your account."
    barista = await bot.hire(BARISTA_ID, "Anna")
    (refused,) = await barista.send("/catalog")
    assert refused.body == "Sorry, that's not available for your account."
    actions = await bot.audit_actions()
    assert actions.count("catalog.add") == 1 and actions.count("catalog.change") == 2


async def test_owner_runs_the_catalog_with_buttons(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    (empty,) = await owner.send("/catalog")
    (ask_title,) = await owner.press(empty, "Add a reward")
    assert "What is it called?" in ask_title.body
    (ask_cost,) = await owner.send("x" * 60)
    assert "1 to 48 characters" in ask_cost.body  # asked again
    (ask_cost,) = await owner.send("Almond   croissant")
    assert "How many points does Almond croissant cost?" in ask_cost.body
    (bad,) = await owner.send("lots")
    assert "whole number of points" in bad.body
    (added,) = await owner.send("150")
    assert added.body == "Added #1 Almond croissant for 150 points."
    assert [b.text for b in added.buttons] == ["✏️ Change the cost", "⏸ Switch off"]
    assert [(r.title, r.cost, r.active) for r in await bot.services.catalog.list()] == [
        ("Almond croissant", 150, True)
    ]
    # A second one, then the list: a button per reward.
    (again,) = await owner.send("/catalog")
    await owner.press(again, "Add a reward")
    await owner.send("Espresso")
    await owner.send("50")
    (listing,) = await owner.send("/catalog")
    assert "#2 Espresso — 50 points\n#1 Almond croissant — 150 points" in listing.body
    assert [b.text for b in listing.buttons] == [
        "✏️ #2 Espresso", "✏️ #1 Almond croissant", "➕ Add a reward"
    ]  # fmt: skip
    (card,) = await owner.press(listing, "Almond croissant")
    assert card.body == "🎁 #1 Almond croissant: 150 points. Customers can redeem it."
    (ask_cost,) = await owner.press(card, "Change the cost")
    assert "The new cost of #1 Almond croissant (now 150 points)?" in ask_cost.body
    (cancelled,) = await owner.press(ask_cost, "Cancel")
    assert cancelled.body == "Cancelled. Nothing was saved."
    (ask_cost,) = await owner.press(card, "Change the cost")
    (changed,) = await owner.send("120")
    assert changed.body == "🎁 #1 Almond croissant: 120 points. Customers can redeem it."
    # Switching off edits the card in place; customers no longer see the reward.
    assert await owner.press(changed, "Switch off") == []
    assert changed.body.startswith("💤 #1 Almond croissant: 120 points. Switched off")
    assert [b.text for b in changed.buttons] == ["✏️ Change the cost", "▶️ Switch on"]
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    (rewards,) = await alice.send("/rewards")
    assert "Almond" not in rewards.body and "Espresso" in rewards.body
    await owner.press(changed, "Switch on")
    assert changed.body.startswith("🎁 #1 Almond croissant: 120 points.")
    (rewards,) = await alice.send("/rewards")
    assert "Almond croissant" in rewards.body
    actions = await bot.audit_actions()
    assert actions.count("catalog.add") == 2 and actions.count("catalog.change") == 3


async def test_a_german_owner_types_catalog_words_in_german_or_english(
    bot: BotHarness,
) -> None:
    owner = bot.user(OWNER_ID, "Olga", language_code="de")
    await owner.send("/start")
    (added,) = await owner.send("/catalog add 150 Croissant")  # English is always understood
    assert "#1" in added.body and "Croissant" in added.body and "150" in added.body
    german_add = t("de", "word_add").split(",")[0].strip()  # "add" until translated
    (added,) = await owner.send(f"/catalog {german_add} 2000 Torte")
    assert "#2" in added.body and "2.000" in added.body  # German numbers
    german_off = t("de", "word_off").split(",")[0].strip()
    (off,) = await owner.send(f"/catalog {german_off} 2")
    assert off.body.startswith("💤 #2")
    assert [(r.title, r.active) for r in await bot.services.catalog.list()] == [
        ("Croissant", True), ("Torte", False)
    ]  # fmt: skip


async def test_catalog_is_seeded_from_a_file_once(bot_factory: BotFactory, tmp_path: Path) -> None:
    seed = tmp_path / "rewards.toml"
    seed.write_text(
        '[[rewards]]\ntitle = "Espresso"\ncost = 100\n\n[[rewards]]\ntitle = "Cake"\ncost = 250\n'
    )
    bot = await bot_factory(rewards_file=seed)
    assert [(r.title, r.cost) for r in await bot.services.catalog.list()] == [
        ("Espresso", 100), ("Cake", 250)
    ]  # fmt: skip
    assert await bot.services.catalog.seed(seed) == 0
    assert len(await bot.services.catalog.list()) == 2


async def test_a_long_catalog_is_split_into_messages_telegram_accepts(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    for number in range(120):
        await bot.services.catalog.add(
            owner.id, f"Seasonal special number {number:03d} with oat milk", 100 + number
        )
    parts = await owner.send("/catalog")
    assert len(parts) == 2
    assert all(len(part.body) <= 4096 for part in parts)
    listed = "\n".join(part.body for part in parts)
    assert listed.count("Seasonal special") == 120
    assert "Add a reward" in parts[-1].body
    # The buttons go 20 rewards a page, under the last part.
    assert not parts[0].buttons
    first_page = [b.text for b in parts[-1].buttons]
    assert len(first_page) == 22 and first_page[-2:] == ["Later ▶", "➕ Add a reward"]
    await owner.press(parts[-1], "Later ▶")
    second_page = [b.text for b in parts[-1].buttons]
    assert second_page[0].startswith("✏️ #21 ") and "◀ Earlier" in second_page


async def test_a_redeem_button_gives_one_open_coupon_then_a_new_one_once_it_closes(
    bot: BotHarness,
) -> None:
    barista, alice = await setup(bot, amount="20")
    (listing,) = await alice.send("🎁 Rewards")
    data = listing.button("Redeem Espresso").callback_data or ""

    # A double tap: one debit, one photo, and the second tap is told where the coupon is.
    await asyncio.gather(alice.press_data(listing, data), alice.press_data(listing, data))
    photos = [m for m in alice.messages if m.method == "sendPhoto" and "Coupon for" in m.body]
    assert len(photos) == 1 and len(await coupon_rows(bot)) == 1
    answers = [a.get("text") for a in bot.fake.callback_answers[-2:]]
    assert "Your Espresso coupon is already in the chat above. Show it at the counter." in answers
    first = photos[0]

    # A later press while that coupon is still open sends nothing and charges nothing.
    assert await alice.press_data(listing, data) == []
    assert (await bot.services.members.find(CUSTOMER_ID)).balance == 15  # type: ignore[union-attr]

    # Used at the counter: the customer's coupon message says so, with no live code.
    (shown,) = await barista.send(f"/start {qr_payload(first.photo)}")
    await barista.press(shown, "Confirm")
    assert first.body == "✅ Espresso: used on Nov 23, 2026. This code no longer works."
    assert first.buttons == [] and decode(first.photo or b"") == []
    # Cancelling a used coupon (an old button) is refused at once, without a question.
    (refused,) = await alice.press_data(first, f"ccx:{(await coupon_rows(bot))[0]['id']}")
    assert refused.body.startswith("⛔ Espresso: already redeemed at 9:00\u202fAM by Anna")

    # The same Redeem button now gives a new coupon: another code, another debit.
    (second,) = await alice.press_data(listing, data)
    assert second.method == "sendPhoto"
    rows = await coupon_rows(bot)
    assert [row["state"] for row in rows] == ["redeemed", "issued"]
    assert rows[0]["code"] != rows[1]["code"]
    assert (await bot.services.members.find(CUSTOMER_ID)).balance == 10  # type: ignore[union-attr]
    kinds = [e["kind"] for e in await bot.ledger()]
    assert kinds == ["earn", "redeem", "redeem"]


async def test_points_older_than_twelve_months_leave_the_tier(bot_factory: BotFactory) -> None:
    bot = await bot_factory(tiers="Bronze:0:1, Silver:10:2")
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    await earn(bot, barista, alice, "12")
    bot.clock.advance(days=364)
    (balance,) = await alice.send("/balance")
    assert "Tier: Silver" in balance.body
    bot.clock.advance(days=1, seconds=1)  # the purchase is now more than 365 days old
    (balance,) = await alice.send("/balance")
    assert "Tier: Bronze" in balance.body
    shown = await bot.scan(barista, alice)
    assert "Alice · Bronze · 12 points" in shown.body
    (confirmation,) = await barista.send("5")
    assert confirmation.body.startswith("✅ +5 points for Alice")  # ×1 again
