"""End to end: offers, broadcasts under Telegram's flood limits, restarts, opt-outs."""

from __future__ import annotations

import asyncio
import importlib
import itertools
import logging
from datetime import timedelta
from decimal import Decimal

import pytest

from bot.domain import NewOffer
from bot.offers import Audience
from bot.services.membership import Profile
from sandbox.botapi import FakeUser, SentMessage
from tests.conftest import OWNER_ID, START, BotFactory, BotHarness

BARISTA_ID = 3001


async def members(bot: BotHarness, count: int, first_id: int = 50_000) -> list[FakeUser]:
    """Members who joined earlier (created directly: the broadcast is what is tested)."""
    people = []
    for number in range(count):
        person = bot.user(first_id + number, f"Guest{number}")
        await bot.services.members.join(Profile(person.id, person.chat_id, person.first_name))
        bot.fake.known_chats.add(person.chat_id)
        people.append(person)
    return people


async def start_broadcast(bot: BotHarness, text: str, audience: str = "Everyone") -> SentMessage:
    """The owner's /broadcast conversation up to the Send button; returns the question."""
    owner = bot.owner()
    # Progress messages of an earlier broadcast may arrive in between: pick by content.
    assert any("Send the message for" in m.body for m in await owner.send("/broadcast"))
    who = next(m for m in await owner.send(text) if m.body == "Who should get it?")
    replies = await owner.press(who, audience)
    assert text in [m.body for m in replies]  # the preview, exactly as members will see it
    return next(m for m in replies if "Send it to" in m.body)


async def send_broadcast(
    bot: BotHarness, text: str, audience: str = "Everyone", *, flood_limits: bool = False
) -> None:
    """Write and send a broadcast. ``flood_limits`` switches Telegram's limits on just
    before Send: a person takes seconds for the conversation, the test does not."""
    question = await start_broadcast(bot, text, audience)
    if flood_limits:
        bot.fake.enable_rate_limits(per_second=30)
    await bot.owner().press(question, "Send")
    assert question.body.startswith("Broadcast #") and "queued" in question.body


def reports(bot: BotHarness) -> list[str]:
    """Final broadcast reports: the separate message, not the progress message edited in place."""
    return [m.body for m in bot.owner().messages if "finished" in m.body and not m.edits]


def finished(bot: BotHarness) -> bool:
    return bool(reports(bot))


async def recipients(bot: BotHarness) -> dict[str, int]:
    rows = await bot.rows(
        "SELECT state, COUNT(*) AS count FROM broadcast_recipients GROUP BY state"
    )
    return {row["state"]: row["count"] for row in rows}


async def test_broadcast_to_300_members_within_the_flood_limits(bot: BotHarness) -> None:
    people = await members(bot, 300)
    blocked = people[10:12]
    for person in blocked:
        person.block()
    bot.fake.expected_error_codes.add(403)
    await bot.owner().send("/start")
    started = bot.clock.monotonic()
    await send_broadcast(bot, "Pumpkin spice is back!", flood_limits=True)
    await bot.fake.wait_for(lambda: finished(bot), timeout=60)
    paced_for = bot.clock.monotonic() - started  # the bot's (moved) clock, not real time

    assert bot.fake.rate_limited == 0, bot.fake.rate_limit_log
    for person in people:
        expected = 0 if person in blocked else 1
        assert bot.fake.delivered(person.chat_id, "Pumpkin spice") == expected, person.id
    assert await recipients(bot) == {"sent": 299, "blocked": 2}  # 298 guests and the owner
    assert reports(bot) == ["✅ Broadcast #1 finished: 299 sent, 0 failed, 2 blocked the bot."]
    progress = next(m for m in bot.owner().messages if m.body.startswith(("📣", "✅ Broadcast")))
    assert progress.edits >= 1  # the live progress message was edited in place
    rate = bot.services.settings.broadcast_rate
    assert rate >= 0.95 * 30  # the default uses at least 95 % of Telegram's limit…
    assert paced_for >= 300 / rate - 1  # …and no more: paced at BROADCAST_RATE
    for person in blocked:
        member = await bot.services.members.find(person.id)
        assert member is not None
    everyone = await bot.services.audience.recipients(Audience("all"))
    assert {p.id for p in blocked}.isdisjoint({chat for _, chat in everyone})
    (listing,) = await bot.owner().send("/broadcasts")
    # The day and time as English writes them (a narrow space before AM).
    line = "#1 · Nov 23, 2026 9:00\u202fAM · Everyone · 299/301 sent, 0 failed, 2 blocked · done"
    assert line in listing.body


async def test_one_chat_never_gets_two_broadcast_messages_within_a_second(
    bot: BotHarness,
) -> None:
    people = await members(bot, 3)
    await bot.owner().send("/start")
    await send_broadcast(bot, "First news")
    await send_broadcast(bot, "Second news", flood_limits=True)
    await bot.fake.wait_for(lambda: len(reports(bot)) == 2, timeout=20)
    for person in people:
        times = [at for at, chat, _ in bot.fake.send_log if chat == person.chat_id]
        assert len(times) == 2
        assert times[1] - times[0] >= 0.99
    assert bot.fake.rate_limited == 0, bot.fake.rate_limit_log


async def test_an_injected_429_pauses_and_resumes(bot: BotHarness) -> None:
    people = await members(bot, 12)
    await bot.owner().send("/start")
    question = await start_broadcast(bot, "Flash sale")
    bot.fake.inject_429(retry_after=2, chat_id=people[3].chat_id)
    await bot.owner().press(question, "Send")
    await bot.fake.wait_for(lambda: finished(bot), timeout=30)
    for person in people:
        assert bot.fake.delivered(person.chat_id, "Flash sale") == 1
    assert bot.fake.injected_429s == 1
    times = [at for at, chat, _ in bot.fake.send_log if chat != OWNER_ID]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps) >= 1.9  # it waited out retry_after before going on
    assert await recipients(bot) == {"sent": 13}


async def test_an_interactive_reply_hit_by_a_429_still_arrives(bot: BotHarness) -> None:
    alice = bot.user(2001, "Alice")
    bot.fake.inject_429(retry_after=1)
    (welcome,) = await alice.send("/start")
    assert "Welcome to Bean There, Alice" in welcome.body
    assert bot.fake.injected_429s == 1


async def test_a_restart_mid_broadcast_resumes_without_repeats(
    bot_factory: BotFactory,
) -> None:
    first = await bot_factory(broadcast_rate=20)
    people = await members(first, 60)
    await first.owner().send("/start")
    await send_broadcast(first, "Restart-proof news")
    fake = first.fake
    await fake.wait_for(
        lambda: sum(fake.delivered(p.chat_id, "Restart-proof") for p in people) >= 15, timeout=30
    )
    from tests.conftest import stop_bot

    await stop_bot(first)
    delivered_before = sum(fake.delivered(p.chat_id, "Restart-proof") for p in people)
    assert 15 <= delivered_before < 60

    second = await bot_factory(broadcast_rate=20)
    await fake.wait_for(lambda: finished(second), timeout=30)
    for person in people:
        assert fake.delivered(person.chat_id, "Restart-proof") == 1, person.id
    assert await recipients(second) == {"sent": 61}


async def test_a_429_on_a_broadcast_never_delays_a_scan(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    people = await members(bot, 20)
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await bot.owner().send("/start")
    bot.clock.hold_sleeps = True  # time moves only when this test says so
    question = await start_broadcast(bot, "Weekend brunch")
    bot.fake.inject_429(retry_after=30, chat_id=people[5].chat_id)
    await bot.owner().press(question, "Send")
    broadcaster = bot.app.bot_data.broadcaster
    while not broadcaster.paused_for:  # the broadcast reaches people[5] and is told to wait
        bot.clock.advance(seconds=0.1)
        await asyncio.sleep(0.01)

    # While the broadcast waits out Telegram's 30 s, the counter goes on at once.
    await bot.scan(barista, alice)
    (confirmation,) = await barista.send("4.50")
    assert confirmation.body.startswith("✅ +4 points for Alice")
    assert alice.last.body.startswith("🧾 +4 points")
    assert broadcaster.paused_for == 30, "the broadcast should still be paused"
    progress = next(m for m in bot.owner().messages if m.body.startswith("📣"))
    assert "Paused by Telegram for 30 s" in progress.body
    assert [r.levelname for r in caplog.records if "asked to wait" in r.getMessage()] == ["WARNING"]
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)

    bot.clock.hold_sleeps = False
    bot.clock.advance(seconds=31)
    await bot.fake.wait_for(lambda: finished(bot), timeout=30)
    for person in people:
        assert bot.fake.delivered(person.chat_id, "Weekend brunch") == 1


async def test_opted_out_members_get_no_promotions_but_still_get_receipts(
    bot: BotHarness,
) -> None:
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    (settings,) = await alice.send("⚙️ Settings")
    assert "Offers and news: on" in settings.body
    await alice.press(settings, "Stop offers and news")
    assert "Offers and news: off" in settings.body  # edited in place
    await bot.owner().send("/start")
    question = await start_broadcast(bot, "Members' night")
    assert "Send it to 2 members" in question.body  # Bob and the owner
    await bot.owner().press(question, "Send")
    await bot.fake.wait_for(lambda: finished(bot), timeout=15)
    assert bot.fake.delivered(alice.chat_id, "Members' night") == 0
    assert bot.fake.delivered(bob.chat_id, "Members' night") == 1
    await bot.scan(barista, alice)
    await barista.send("3")
    assert alice.last.body.startswith("🧾 +3 points")


async def test_a_photo_broadcast_is_uploaded_once_and_sent_by_file_id(bot: BotHarness) -> None:
    people = await members(bot, 5)
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/broadcast")
    from bot.qr import render_png

    (who,) = await owner.send_photo(render_png("pastry"), caption="Fresh croissants")
    replies = await owner.press(who, "Everyone")
    preview = next(m for m in replies if m.method == "sendPhoto")
    assert preview.body == "Fresh croissants"
    question = next(m for m in replies if "Send it to 6 members" in m.body)
    await owner.press(question, "Send")
    await bot.fake.wait_for(lambda: finished(bot), timeout=15)
    for person in people:
        (message,) = person.messages
        assert message.method == "sendPhoto" and message.body == "Fresh croissants"
        assert message.photo_file_id == preview.photo_file_id
    assert bot.fake.uploads == 0  # the owner's upload is reused by file_id every time


async def test_other_errors_are_retried_a_bounded_number_of_times(bot: BotHarness) -> None:
    flaky, gone, fine = await members(bot, 3)
    await bot.owner().send("/start")
    bot.fake.inject_error(flaky.chat_id, 502, "Bad Gateway", times=1)
    bot.fake.inject_error(gone.chat_id, 400, "Bad Request: chat not found", times=5)
    bot.fake.expected_error_codes.update({400, 502})
    await send_broadcast(bot, "Opening hours change")
    await bot.fake.wait_for(lambda: finished(bot), timeout=20)
    assert bot.fake.delivered(flaky.chat_id, "Opening hours") == 1  # after one retry
    assert bot.fake.delivered(gone.chat_id, "Opening hours") == 0
    assert bot.fake.delivered(fine.chat_id, "Opening hours") == 1
    assert await recipients(bot) == {"sent": 3, "failed": 1}
    failed, *_ = await bot.rows(
        "SELECT attempts, last_error FROM broadcast_recipients WHERE state = 'failed'"
    )
    attempts, error = failed["attempts"], failed["last_error"]
    assert attempts == 1 and "chat not found" in error.lower()  # a bad request is not retried
    assert reports(bot) == ["✅ Broadcast #1 finished: 3 sent, 1 failed, 0 blocked the bot."]


async def test_lapsed_audience(bot: BotHarness) -> None:
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await bot.customer(2002, "Bob")
    bot.clock.advance(days=20)
    await bot.scan(barista, alice)
    await barista.send("5")
    bot.clock.advance(days=11)
    # Bob (and the owner) joined 31 days ago and never bought; Alice bought 11 days ago.
    assert await bot.services.offers.audience_size("lapsed:30") == 2
    assert await bot.services.offers.audience_size("lapsed:10") == 3


async def test_a_user_who_blocks_the_bot_leaves_audiences_until_they_return(
    bot: BotHarness,
) -> None:
    alice = await bot.customer(2001, "Alice")
    await bot.customer(2002, "Bob")
    change = {
        "chat": {"id": alice.chat_id, "type": "private"},
        "from": alice.as_json(),
        "date": 0,
        "old_chat_member": {
            "status": "member",
            "user": {"id": 123456, "is_bot": True, "first_name": "B"},
        },
        "new_chat_member": {
            "status": "kicked",
            "until_date": 0,
            "user": {"id": 123456, "is_bot": True, "first_name": "B"},
        },
    }
    await bot.fake.wait_processed(bot.fake.push_update({"my_chat_member": change}))
    assert await bot.services.offers.audience_size("all") == 1
    await alice.send("/start")  # back again
    assert await bot.services.offers.audience_size("all") == 2


async def test_broadcast_html_typed_by_hand_and_plain_text(bot: BotHarness) -> None:
    (guest,) = await members(bot, 1)
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/broadcast")
    (who,) = await owner.send("<b>Big news")  # unclosed tag
    (retry,) = await owner.press(who, "Everyone")
    assert "couldn't read the formatting" in retry.body
    (who,) = await owner.send("<b>Big</b> news: tea & cake, 2 < 3")
    bot.fake.errors.clear()  # the rejected preview above is what the owner was shown
    await send_after_audience(bot, who)
    assert guest.last.raw == "<b>Big</b> news: tea &amp; cake, 2 &lt; 3"
    assert guest.last.body == "Big news: tea & cake, 2 < 3"
    await owner.send("/broadcast")
    (who,) = await owner.send("Tea & cake for 2 < 3 euros")
    await send_after_audience(bot, who)
    assert guest.last.body == "Tea & cake for 2 < 3 euros"


async def send_after_audience(bot: BotHarness, who: SentMessage) -> None:
    reported = len(reports(bot))
    replies = await bot.owner().press(who, "Everyone")
    await bot.owner().press(next(m for m in replies if "Send it to" in m.body), "Send")
    await bot.fake.wait_for(lambda: len(reports(bot)) > reported, timeout=15)


async def test_broadcast_conversation_cancel_and_nobody(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/broadcast")
    (cancelled,) = await owner.send("/cancel")
    assert cancelled.body == "Cancelled. Nothing was saved."
    (who,) = await owner.send("hello")  # no longer in the conversation
    assert "Use the buttons below" in who.body
    await owner.send("/broadcast")
    (who,) = await owner.send("Birthday cake for you")
    (nobody,) = await owner.press(who, "Birthday this month")
    assert "Nobody in that audience" in nobody.body
    assert await bot.value("SELECT COUNT(*) FROM broadcasts") == 0
    (refused,) = await (await bot.customer(2001, "Alice")).send("/broadcast")
    assert refused.body == "Sorry, that's not available for your account."


async def test_birthday_audience(bot: BotHarness) -> None:
    alice = await bot.customer(2001, "Alice")
    await bot.customer(2002, "Bob")
    (bad,) = await alice.send("/birthday soon")
    assert "e.g. /birthday 24.12" in bad.body
    (saved,) = await alice.send("/birthday 24.11")
    assert saved.body == "🎂 Saved: Nov 24. We'll remember!"
    assert await bot.services.offers.audience_size("birthday") == 1


async def test_offer_conversation_with_bad_input_and_save(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    (ask_title,) = await owner.send("/offer")
    assert "What's its title?" in ask_title.body
    await owner.send("Happy hour")
    (kind,) = await owner.send("Double points every afternoon")
    await owner.press(kind, "Points multiplier")
    (bad,) = await owner.send("lots")
    assert "Send a number above 1" in bad.body
    (ask_start,) = await owner.send("2")
    assert "When does it start?" in ask_start.body
    (bad_date,) = await owner.send("next Tuesday-ish")
    assert "couldn't read that date" in bad_date.body
    await owner.send("now")
    (too_early,) = await owner.send("2026-11-20 10:00")
    assert "The end must be after the start (Nov 23, 9:00\u202fAM)" in too_early.body
    (ask_window,) = await owner.send("2026-11-30 18:00")
    assert "Send the days and hours, e.g. Mon-Fri 15:00-17:00" in ask_window.body
    (bad_window,) = await owner.send("afternoons")
    assert "Send days and hours like Mon-Fri 15:00-17:00" in bad_window.body
    (audience,) = await owner.send("Mon-Fri 15:00-17:00")
    (announce,) = await owner.press(audience, "Everyone")
    (preview,) = await owner.press(announce, "No")
    assert preview.body == (
        "Preview\n"
        "🎉 Happy hour\n"
        "Double points every afternoon\n"
        "Gives: ×2 points\n"
        "🕒 Mon–Fri, 3:00\u2009–\u20095:00\u202fPM\n"
        "From Nov 23, 9:00\u202fAM to Nov 30, 6:00\u202fPM\n"
        "For: Everyone (1 member now)\n"
        "Not announced."
    )
    (saved,) = await owner.press(preview, "Save")
    assert saved.body.startswith("Offer #1 saved.")
    (listing,) = await owner.send("/offers")
    assert listing.body == (
        "🎉 Offers\n"
        "\n"
        "#1 Happy hour: running until Nov 30, 6:00\u202fPM (since Nov 23, 9:00\u202fAM)\n"
        "Gives: ×2 points\n"
        "🕒 Mon–Fri, 3:00\u2009–\u20095:00\u202fPM\n"
        "For: Everyone"
    )
    (ended,) = await owner.press(listing, "End #1 now")
    assert ended.body == "Offer #1 Happy hour has ended."


async def test_offer_conversation_cancel_button(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/offer")
    await owner.send("Half-baked idea")
    (kind,) = await owner.send("-")
    replies = await owner.press(kind, "Cancel")
    assert replies[-1].body == "Cancelled. Nothing was saved."
    assert await bot.services.offers.recent() == []


async def happy_hour(bot: BotHarness, **overrides: object) -> None:
    values: dict[str, object] = {
        "title": "Happy hour",
        "description": "",
        "kind": "multiplier",
        "multiplier": Decimal(2),
        "bonus_points": None,
        "reward_id": None,
        "starts_at": START,
        "ends_at": START + timedelta(days=7),
        "window": "Mon,Tue,Wed,Thu,Fri 15:00-17:00",
        "audience": "tier:Silver",
        "announce": False,
    }
    values.update(overrides)
    await bot.services.offers.create(OWNER_ID, NewOffer(**values))  # type: ignore[arg-type]


async def purchase(bot: BotHarness, barista: FakeUser, customer: FakeUser, amount: str) -> str:
    await bot.scan(barista, customer)
    (confirmation,) = await barista.send(amount)
    assert confirmation.body.startswith("✅"), confirmation.body
    return customer.last.body


async def test_the_multiplier_applies_only_in_its_window_and_audience(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(tiers="Bronze:0:1, Silver:10:1")
    await happy_hour(bot)
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    await purchase(bot, barista, alice, "12")  # 09:00 Monday: outside the window; now Silver

    bot.clock.advance(hours=6, minutes=30)  # Monday 15:30
    receipt = await purchase(bot, barista, alice, "5")
    assert receipt.startswith("🧾 +10 points")
    assert receipt.endswith("\n🎉 Offer applied: Happy hour")
    assert (await purchase(bot, barista, bob, "5")).startswith("🧾 +5 points")  # Bronze

    (offers,) = await alice.send("🎉 Offers")
    assert offers.body == (
        "🎉 Offers for you\n"
        "• Happy hour: ×2 points, until Nov 30, 9:00\u202fAM\n"
        "🕒 Mon–Fri, 3:00\u2009–\u20095:00\u202fPM"
    )
    (none,) = await bob.send("/offers")
    assert "No offers running right now" in none.body

    bot.clock.advance(hours=2)  # 17:30, after the window
    assert (await purchase(bot, barista, alice, "6")).startswith("🧾 +6 points")
    bot.clock.advance(days=5, hours=-2)  # Saturday 15:30
    assert (await purchase(bot, barista, alice, "7")).startswith("🧾 +7 points")
    bot.clock.advance(days=2)  # next Monday 15:30: the offer ended at 09:00
    assert (await purchase(bot, barista, alice, "8")).startswith("🧾 +8 points")
    rows = [
        (row["points"], row["offer_id"])
        for row in await bot.rows(
            "SELECT points, offer_id FROM ledger WHERE kind = 'earn' ORDER BY id"
        )
    ]
    assert rows == [(12, None), (10, 1), (5, None), (6, None), (7, None), (8, None)]


async def test_bonus_offers_add_flat_points(bot: BotHarness) -> None:
    await happy_hour(
        bot, kind="bonus", multiplier=None, bonus_points=20, window=None, audience="all"
    )
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    assert (await purchase(bot, barista, alice, "3")).startswith("🧾 +23 points")


async def test_announced_and_gift_offers_start_with_the_job(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/catalog add 50 Espresso")
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    (settings,) = await bob.send("/settings")
    await bob.press(settings, "Stop offers")
    espresso = (await bot.services.catalog.list())[0]
    await happy_hour(
        bot,
        title="Free espresso Friday",
        kind="coupon",
        multiplier=None,
        reward_id=espresso.id,
        window=None,
        audience="all",
        announce=True,
        starts_at=START + timedelta(hours=1),
    )
    await run_job(bot, "start-offers")
    assert await coupons_of(bot) == []  # not started yet
    bot.clock.advance(hours=1)
    await run_job(bot, "start-offers")
    await run_job(bot, "start-offers")  # running it twice gives nothing twice
    await bot.fake.wait_for(lambda: finished(bot), timeout=15)
    assert bot.fake.delivered(alice.chat_id, "Free espresso Friday") == 1
    assert "Your free Espresso is waiting in <b>My coupons</b>" in alice.last.raw
    assert bot.fake.delivered(bob.chat_id, "Free espresso Friday") == 0
    assert sorted(await coupons_of(bot)) == [("Alice", 0), ("Olga", 0)]
    (listing,) = await alice.send("/coupons")
    assert "• Espresso — valid until Nov 30, 2026" in listing.body
    # A gift refunds nothing when it expires.
    bot.clock.advance(days=8)
    await run_job(bot, "expire-coupons")
    assert (await bot.services.members.find(2001)).balance == 0  # type: ignore[union-attr]


async def coupons_of(bot: BotHarness) -> list[tuple[str, int]]:
    rows = await bot.rows(
        "SELECT m.first_name, c.cost FROM coupons c JOIN members m ON m.id = c.member_id"
    )
    return [(row["first_name"], row["cost"]) for row in rows]


async def run_job(bot: BotHarness, name: str) -> None:
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name(name)
    await job.run(bot.app)


async def offer_state(bot: BotHarness) -> tuple[object, int, int]:
    """(started_at, coupons, broadcasts) of the one offer."""
    (offer,) = await bot.rows("SELECT started_at FROM offers")
    coupons = await bot.value("SELECT COUNT(*) FROM coupons")
    broadcasts = await bot.value("SELECT COUNT(*) FROM broadcasts")
    return offer["started_at"], coupons, broadcasts


@pytest.mark.parametrize(
    ("module", "function"),
    [
        ("storage.offers", "mark_started"),
        ("storage.coupons", "create_gifts"),
        ("storage.broadcasts", "create"),
        ("storage.audit", "record"),
    ],
)
async def test_an_offer_starts_all_at_once_or_not_at_all(
    bot: BotHarness,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    module: str,
    function: str,
) -> None:
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/catalog add 50 Espresso")
    alice = await bot.customer(2001, "Alice")
    espresso = (await bot.services.catalog.list())[0]
    await happy_hour(
        bot, title="Free espresso", kind="coupon", multiplier=None, reward_id=espresso.id,
        window=None, audience="all", announce=True,
    )  # fmt: skip

    # The process dies at this step of starting the offer (a crash is a failed transaction).
    target = importlib.import_module(module)
    real = getattr(target, function)

    async def crash(*args: object, **kwargs: object) -> object:
        if function != "record" or "broadcast" in str(kwargs.get("action")):
            raise RuntimeError("simulated crash")
        return await real(*args, **kwargs)

    monkeypatch.setattr(target, function, crash)
    caplog.set_level(logging.ERROR)
    await run_job(bot, "start-offers")
    assert "simulated crash" in caplog.text
    assert await offer_state(bot) == (None, 0, 0)  # nothing started, nothing half-written

    # After the restart the next run starts it completely, once.
    monkeypatch.setattr(target, function, real)
    await run_job(bot, "start-offers")
    await run_job(bot, "start-offers")
    started_at, coupons, broadcasts = await offer_state(bot)
    assert started_at is not None and (coupons, broadcasts) == (2, 1)  # Alice and the owner
    await bot.fake.wait_for(lambda: finished(bot), timeout=15)
    assert bot.fake.delivered(alice.chat_id, "Free espresso") == 1
