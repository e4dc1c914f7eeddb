"""End to end: the member lifecycle with time moved by the clock, never waited for.

Points expiry with reminders, win-back, birthdays (29 February too), referrals with every
refusal, NPS feedback, quiet hours, opt-outs, and /mydata and /forget, checked in what
people see and in the database, across restarts.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.periods import month
from sandbox.botapi import FakeUser, SentMessage
from tests.conftest import OWNER_ID, BotFactory, BotHarness, stop_bot
from tests.helpers import first_link, link_payload

BARISTA_ID = 3001
QUIET_OFF = {"quiet_hours": "off"}


async def run_job(bot: BotHarness, name: str = "lifecycle") -> None:
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name(name)
    await job.run(bot.app)


async def pending_outbox(bot: BotHarness) -> int:
    return await bot.services.outbox.count_pending()


async def delivered(bot: BotHarness) -> None:
    """Wait until nothing is pending in the outbox (or it is being held for quiet hours)."""
    for _ in range(500):
        bot.app.bot_data.broadcaster.wake()
        if await pending_outbox(bot) == 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox was not delivered")


async def buy(bot: BotHarness, barista: FakeUser, customer: FakeUser, amount: str) -> str:
    await bot.scan(barista, customer)
    (confirmation,) = await barista.send(amount)
    assert confirmation.body.startswith("✅"), confirmation.body
    return confirmation.body


async def rows(bot: BotHarness, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in await bot.rows(statement, **params)]


def bodies(person: FakeUser, needle: str) -> list[str]:
    return [m.body for m in person.messages if needle in m.body]


def starting(person: FakeUser, prefix: str) -> list[str]:
    return [m.body for m in person.messages if m.body.startswith(prefix)]


def questions_in(message: SentMessage) -> bool:
    return any((b.callback_data or "").startswith("nps:") for b in message.buttons)


def questions(person: FakeUser) -> int:
    """Feedback questions received (their text changes once answered; the buttons stay)."""
    return sum(any((b.callback_data or "").startswith("nps:") for b in m.buttons)
               for m in person.messages)  # fmt: skip


# -- points expiry ---------------------------------------------------------------------------


async def test_points_expire_after_a_reminder_once_across_restarts(
    bot_factory: BotFactory,
) -> None:
    settings = {"points_expire_after_months": 6, "expiry_reminder_days": 14, **QUIET_OFF}
    bot = await bot_factory(**settings)
    # The job first runs within a minute of start-up, to catch up after downtime.
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name("lifecycle")
    assert job.next_t is not None
    assert job.next_t - datetime.now(UTC) <= timedelta(minutes=1)
    await bot.owner().send("/start")
    await bot.owner().send("/catalog add 10 Espresso")
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await buy(bot, barista, alice, "12")
    (balance,) = await alice.send("/balance")
    assert "Your points expire at the end of May 23, 2027 unless you visit before." in balance.body

    bot.clock.current = datetime(2027, 5, 9, 9, 0, tzinfo=UTC)  # 14 days and a bit before
    await run_job(bot)
    await delivered(bot)
    assert starting(alice, "⏳ Your 12 points") == []  # not yet in the window
    bot.clock.current = datetime(2027, 5, 10, 9, 0, tzinfo=UTC)
    await run_job(bot)
    await run_job(bot)  # twice: still one reminder
    await delivered(bot)
    assert starting(alice, "⏳ Your 12 points") == [
        "⏳ Your 12 points expire at the end of May 23, 2027.\n"
        "They buy a Espresso right now. Visit us before then and they stay yours."
    ]

    bot.clock.current = datetime(2027, 5, 23, 23, 0, tzinfo=UTC)  # the last valid day
    await run_job(bot)
    assert (await bot.services.members.find(2001)).balance == 12  # type: ignore[union-attr]
    bot.clock.current = datetime(2027, 5, 24, 0, 0, tzinfo=UTC)
    await run_job(bot)
    await delivered(bot)
    expired = await rows(bot, "SELECT kind, points FROM ledger WHERE kind = 'expire'")
    assert expired == [("expire", -12)]
    assert (await bot.services.members.find(2001)).balance == 0  # type: ignore[union-attr]
    assert len(bodies(alice, "points expired")) == 1

    # A restart and more runs: nothing expires or is announced twice.
    await stop_bot(bot)
    again = await bot_factory(**settings)
    await run_job(again)
    await run_job(again)
    await delivered(again)
    assert await rows(again, "SELECT COUNT(*) FROM ledger WHERE kind = 'expire'") == [(1,)]
    assert len(bodies(alice, "points expired")) == 1
    (history,) = await alice.send("/history")
    assert "-12  Points expired" in history.body


async def test_a_visit_cancels_a_queued_reminder_and_the_expiry(bot_factory: BotFactory) -> None:
    bot = await bot_factory(
        points_expire_after_months=6, expiry_reminder_days=14, quiet_hours="21:00-09:00"
    )
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await buy(bot, barista, alice, "12")
    # 22:00: the reminder is due, but it is quiet hours: it waits in the outbox.
    bot.clock.current = datetime(2027, 5, 12, 22, 0, tzinfo=UTC)
    await run_job(bot)
    assert await pending_outbox(bot) == 1
    # The next morning Alice visits before the reminder went out.
    bot.clock.current = datetime(2027, 5, 13, 8, 30, tzinfo=UTC)
    await buy(bot, barista, alice, "5")
    bot.clock.current = datetime(2027, 5, 13, 9, 0, tzinfo=UTC)
    await delivered(bot)
    assert starting(alice, "⏳ Your") == []
    assert await rows(bot, "SELECT state, last_error FROM outbox") == [("skipped", "visited since")]
    bot.clock.current = datetime(2027, 5, 25, 9, 0, tzinfo=UTC)
    await run_job(bot)
    assert await rows(bot, "SELECT COUNT(*) FROM ledger WHERE kind = 'expire'") == [(0,)]
    (balance,) = await alice.send("/balance")
    assert "expire at the end of Nov 13, 2027" in balance.body


# -- win-back --------------------------------------------------------------------------------


async def test_win_back_once_per_dormant_spell(bot_factory: BotFactory) -> None:
    bot = await bot_factory(winback_after_days=30, **QUIET_OFF)
    owner = bot.owner()
    await owner.send("/start")
    (shown,) = await owner.send("/winback")
    assert "after 30 days without a visit" in shown.body
    replies = await owner.send("/winback text We miss you, {name}! Come by this week.")
    assert replies[0].body == "Saved. Dormant members get this from now on."
    await owner.send("/winback bonus 20")
    (refused,) = await owner.send("/winback bonus lots")
    assert "couldn't read that" in refused.body
    barista = await bot.hire(BARISTA_ID, "Anna")
    bob = await bot.customer(2002, "Bob")
    carol = await bot.customer(2003, "Carol")
    (settings,) = await carol.send("/settings")
    await carol.press(settings, "Stop offers")
    await buy(bot, barista, bob, "10")

    bot.clock.advance(days=29)
    await run_job(bot)
    await delivered(bot)
    assert bodies(bob, "We miss you") == []
    bot.clock.advance(days=2)
    await run_job(bot)
    await run_job(bot)
    await delivered(bot)
    assert bodies(bob, "We miss you") == [
        "We miss you, {name}! Come by this week.\n🎁 We added 20 points to your balance."
    ]
    assert bodies(carol, "We miss you") == []  # opted out of offers: no message, no bonus
    winback = await rows(bot, "SELECT m.first_name, l.points FROM ledger l JOIN members m"
                              " ON m.id = l.member_id WHERE l.kind = 'winback'")  # fmt: skip
    assert winback == [("Bob", 20)]  # not the owner, nor Anna at the counter

    # A visit ends the spell; the next spell gets its own message.
    await buy(bot, barista, bob, "4")
    bot.clock.advance(days=31)
    await run_job(bot)
    await delivered(bot)
    assert len(bodies(bob, "We miss you")) == 2


# -- birthdays -------------------------------------------------------------------------------


async def test_birthday_on_29_february_once_a_year_across_restarts(
    bot_factory: BotFactory,
) -> None:
    settings = {"birthday_bonus_points": 30, "birthday_treat_on": "day", **QUIET_OFF}
    bot = await bot_factory(**settings)
    alice = await bot.customer(2001, "Alice")
    (saved,) = await alice.send("/birthday 29.02")
    assert saved.body == "🎂 Saved: Feb 29. We'll remember!"
    (locked,) = await alice.send("/birthday 1.3")
    assert locked.body == (
        "Your birthday is set to Feb 29. It can be changed once a year; "
        "the next change is possible from Nov 23, 2027."
    )

    bot.clock.current = datetime(2027, 2, 27, 10, 0, tzinfo=UTC)
    await run_job(bot)
    bot.clock.current = datetime(2027, 2, 28, 10, 0, tzinfo=UTC)  # no 29 Feb in 2027
    await run_job(bot)
    await run_job(bot)
    await delivered(bot)
    assert bodies(alice, "Happy birthday") == [
        "🎂 Happy birthday, Alice! We added 30 points to your balance."
    ]
    await stop_bot(bot)
    again = await bot_factory(**settings)
    await run_job(again)
    bot.clock.current = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    await run_job(again)
    await delivered(again)
    assert len(bodies(alice, "Happy birthday")) == 1
    # The next year (a leap year), on the day itself.
    bot.clock.current = datetime(2028, 2, 29, 10, 0, tzinfo=UTC)
    await run_job(again)
    await delivered(again)
    assert len(bodies(alice, "Happy birthday")) == 2
    birthday = await rows(
        again, "SELECT points, idempotency_key FROM ledger WHERE kind = 'birthday'"
    )
    assert birthday == [(30, "birthday:1:2027"), (30, "birthday:1:2028")]


async def test_a_birthday_week_coupon(bot_factory: BotFactory) -> None:
    bot = await bot_factory(birthday_reward="Cake", **QUIET_OFF)
    await bot.owner().send("/start")
    await bot.owner().send("/catalog add 200 Cake")
    bob = await bot.customer(2002, "Bob")
    await bob.send("/birthday 24 Dec")
    bot.clock.current = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)  # Sunday before
    await run_job(bot)
    bot.clock.current = datetime(2026, 12, 21, 10, 0, tzinfo=UTC)  # Monday of his week
    await run_job(bot)
    await delivered(bot)
    assert bodies(bob, "Happy birthday") == [
        "🎂 Happy birthday, Bob! A free Cake is waiting in My coupons until Jan 4, 2027."
    ]
    (coupons,) = await bob.send("/coupons")
    assert "Cake" in coupons.body
    assert await rows(bot, "SELECT cost, state FROM coupons") == [(0, "issued")]


# -- referrals -------------------------------------------------------------------------------


async def test_referral_bonus_once_and_every_refusal(bot_factory: BotFactory) -> None:
    bot = await bot_factory(
        referral_bonus_points=50,
        referral_friend_bonus_points=25,
        referral_min_purchase=5,
        referral_max_per_month=1,
        **QUIET_OFF,
    )
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    (invite,) = await alice.send("/invite")
    assert "you get 50 points and they get 25" in invite.body
    assert "first purchase of at least €5.00" in invite.body
    payload = link_payload(first_link(invite))
    assert payload.startswith("r") and len(payload) <= 64
    (again,) = await alice.send("/invite")
    assert link_payload(first_link(again)) == payload  # the same link every time

    # Refusals, each with its reason to the person who opened the link.
    (own,) = await alice.send(f"/start {payload}")
    assert "That's your own invite link" in own.body
    (member,) = await bob.send(f"/start {payload}")
    assert "You're already a member" in member.body
    (staff,) = await barista.send(f"/start {payload}")
    assert "Invites don't apply to staff accounts" in staff.body
    (staff_invite,) = await barista.send("/invite")
    assert "staff accounts can't refer" in staff_invite.body

    carol = bot.user(2003, "Carol")
    (welcome,) = await carol.send(f"/start {payload}")
    assert "Welcome to Bean There, Carol! 🎉 Alice invited you." in welcome.body
    await delivered(bot)
    assert bodies(alice, "joined with your invite") == [
        "🤝 Carol joined with your invite. You get 50 points after their first purchase."
    ]
    # Loops cannot happen: Carol's link, opened by Alice, who is a member already.
    (carol_invite,) = await carol.send("/invite")
    (loop,) = await alice.send(f"/start {link_payload(first_link(carol_invite))}")
    assert "You're already a member" in loop.body

    await buy(bot, barista, carol, "4")  # below the minimum: nothing yet
    assert await rows(bot, "SELECT COUNT(*) FROM ledger WHERE kind = 'referral'") == [(0,)]
    bot.clock.advance(minutes=3)
    await buy(bot, barista, carol, "10")
    assert "Referral bonus included" in carol.last.body
    bot.clock.advance(minutes=3)
    await buy(bot, barista, carol, "12")  # paid once only
    await delivered(bot)
    paid = await rows(
        bot,
        "SELECT m.first_name, l.points FROM ledger l JOIN members m ON m.id = l.member_id"
        " WHERE l.kind = 'referral' ORDER BY l.id",
    )
    assert paid == [("Alice", 50), ("Carol", 25)]
    assert bodies(alice, "made their first purchase") == [
        "🎉 Carol made their first purchase: +50 points for you!"
    ]

    # A second friend in the same month: over the limit of one, refused with the reason.
    dave = bot.user(2004, "Dave")
    await dave.send(f"/start {payload}")
    await buy(bot, barista, dave, "6")
    await delivered(bot)
    assert "already had 1 referral bonus this month" in alice.last.body
    assert await rows(bot, "SELECT COUNT(*) FROM ledger WHERE kind = 'referral'") == [(2,)]

    owner = bot.owner()
    (top,) = await owner.send("/referrals")
    assert "Alice (#2): 1 rewarded, 0 waiting, 1 refused" in top.body
    (denied,) = await alice.send("/referrals")
    assert "not available for your account" in denied.body


async def alice_invites_carol(bot: BotHarness) -> tuple[FakeUser, FakeUser, FakeUser]:
    """A barista, Alice, and Carol who joined with Alice's invite: (barista, Alice, Carol)."""
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    (invite,) = await alice.send("/invite")
    carol = bot.user(2003, "Carol")
    await carol.send(f"/start {link_payload(first_link(invite))}")
    return barista, alice, carol


async def test_undoing_the_purchase_that_paid_a_referral_takes_both_bonuses_back(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(referral_bonus_points=50, referral_friend_bonus_points=25, **QUIET_OFF)
    barista, alice, carol = await alice_invites_carol(bot)
    await bot.scan(barista, carol)
    (confirmation,) = await barista.send("10")  # a typo: Carol paid 1.00
    assert "Referral bonus included" in carol.last.body

    (undone,) = await barista.press(confirmation, "Undo")
    assert undone.body == (
        "↩️ Undone: −10 points for Carol (#1). Balance 0.\n"
        "The referral bonus this purchase paid was taken back too."
    )
    assert carol.last.body.endswith(
        "Your referral welcome bonus is taken back too: you get it with your next purchase."
    )
    await delivered(bot)
    assert bodies(alice, "taken back") == [
        "↩️ Carol's first purchase was corrected at the counter, so the 50 referral points"
        " are taken back. You get them again with their next purchase."
    ]
    entries = await rows(
        bot,
        "SELECT m.first_name, l.kind, l.points, l.reverses_id IS NOT NULL, l.actor_id"
        " FROM ledger l JOIN members m ON m.id = l.member_id WHERE l.kind = 'referral'"
        " ORDER BY l.id",
    )
    assert entries == [
        ("Alice", "referral", 50, 0, None),
        ("Carol", "referral", 25, 0, None),
        ("Alice", "referral", -50, 1, BARISTA_ID),
        ("Carol", "referral", -25, 1, BARISTA_ID),
    ]
    assert await rows(bot, "SELECT state, settled_entry_id FROM referrals") == [("pending", None)]
    (history,) = await alice.send("/history")
    assert "-50  Referral bonus taken back (purchase corrected)" in history.body

    # The real first purchase pays the referral again, once.
    bot.clock.advance(minutes=3)
    await buy(bot, barista, carol, "1")
    await delivered(bot)
    balances = await rows(
        bot, "SELECT first_name, balance FROM members WHERE first_name IN ('Alice', 'Carol')"
    )
    assert sorted(balances) == [("Alice", 50), ("Carol", 26)]
    assert (
        bodies(alice, "made their first purchase")
        == ["🎉 Carol made their first purchase: +50 points for you!"] * 2
    )  # told again when it is paid again
    # The books: the referral line nets the bonus given and taken back.
    report = await bot.services.reports.report(month(2026, 11, bot.services.settings.tz))
    assert report.roll.issued["referral"] == 75 and report.bonus_issued == 75


async def test_a_referral_bonus_already_spent_keeps_the_purchase(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(referral_bonus_points=50, referral_friend_bonus_points=0, **QUIET_OFF)
    await bot.services.catalog.add(OWNER_ID, "Espresso", 40)
    barista, alice, carol = await alice_invites_carol(bot)
    await bot.scan(barista, carol)
    (confirmation,) = await barista.send("10")
    await delivered(bot)  # Alice hears of her bonus
    (listing,) = await alice.send("🎁 Rewards")
    await alice.press(listing, "Redeem Espresso")  # Alice spends her bonus at once

    (refused,) = await barista.press(confirmation, "Undo")
    assert refused.body == (
        "Can't undo: this purchase paid Alice a referral bonus that they have already spent."
        " Ask the owner to sort it out."
    )
    assert await rows(bot, "SELECT COUNT(*) FROM ledger WHERE kind = 'reversal'") == [(0,)]
    assert await rows(bot, "SELECT state FROM referrals") == [("rewarded",)]


# -- feedback (NPS) --------------------------------------------------------------------------


async def test_nps_after_every_second_visit_answer_changed_and_low_score_alert(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory(nps_every_visits=2, **QUIET_OFF)
    owner = bot.owner()
    await owner.send("/start")
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await buy(bot, barista, alice, "5")
    await delivered(bot)
    assert bodies(alice, "How likely") == []
    bot.clock.advance(minutes=3)
    await buy(bot, barista, alice, "6")
    await delivered(bot)
    (question,) = [m for m in alice.messages if "How likely" in m.body]
    assert [b.text for b in question.buttons] == [str(n) for n in range(11)]

    await alice.press(question, "3")
    assert question.body.startswith("Thank you! You gave us 3/10.")
    alerts = bodies(owner, "rated us")
    assert alerts == ["⚠️ Alice (member #2) rated us 3/10 after their visit on Nov 23, 2026."]
    (thanks,) = await alice.send("The milk was burnt")
    assert thanks.body == "Thank you for telling us. 🙏"
    assert bodies(owner, "They wrote")[-1].endswith("They wrote: “The milk was burnt”")
    await alice.press(question, "9")  # a second tap changes the answer
    answers = await rows(bot, "SELECT score, comment, entry_id FROM feedback")
    assert answers == [(9, "The milk was burnt", 2)]
    assert len(bodies(owner, "rated us")) == 2  # the score and the comment, no third alert

    # Every second visit, but at most once per 90 days.
    for _ in range(2):
        bot.clock.advance(minutes=3)
        await buy(bot, barista, alice, "7")
    await delivered(bot)
    assert questions(alice) == 1
    bot.clock.advance(days=91)
    for amount in ("8", "9"):
        await buy(bot, barista, alice, amount)
        bot.clock.advance(minutes=3)
    await delivered(bot)
    assert questions(alice) == 2
    (ordinary,) = await alice.send("hello")  # no comment awaited: the usual pointer
    assert "Use the buttons below" in ordinary.body


# -- quiet hours, switches, blocked ----------------------------------------------------------


async def test_quiet_hours_defer_and_then_send(bot_factory: BotFactory) -> None:
    bot = await bot_factory(birthday_bonus_points=10, birthday_treat_on="day")
    alice = await bot.customer(2001, "Alice")
    await alice.send("/birthday 24.11")
    bot.clock.current = datetime(2026, 11, 24, 6, 30, tzinfo=UTC)  # quiet until 09:00
    await run_job(bot)
    bot.app.bot_data.broadcaster.wake()
    await asyncio.sleep(0.2)  # the sender looks, and holds it back
    assert await pending_outbox(bot) == 1 and bodies(alice, "Happy birthday") == []
    assert (await bot.services.members.find(2001)).balance == 10  # type: ignore[union-attr]
    bot.clock.current = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    await delivered(bot)
    assert len(bodies(alice, "Happy birthday")) == 1


async def test_switches_and_blocked_members(bot_factory: BotFactory) -> None:
    bot = await bot_factory(birthday_bonus_points=10, birthday_treat_on="day", **QUIET_OFF)
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    for person in (alice, bob):
        await person.send("/birthday 25.11")
    (settings,) = await alice.send("/settings")
    assert "Points reminders and birthday treat: on" in settings.body
    await alice.press(settings, "Stop reminders")
    assert "Points reminders and birthday treat: off" in settings.body
    bob.block()
    bot.fake.expected_error_codes.add(403)
    bot.clock.current = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    await run_job(bot)
    await delivered(bot)
    assert bodies(alice, "Happy birthday") == []
    states = await rows(bot, "SELECT m.first_name, o.state, o.last_error FROM outbox o"
                             " JOIN members m ON m.id = o.member_id ORDER BY m.id")  # fmt: skip
    assert states[0] == ("Alice", "skipped", "service messages off")
    assert states[1][:2] == ("Bob", "blocked")
    assert await rows(bot, "SELECT unreachable_at IS NOT NULL FROM members WHERE id = 2") == [(1,)]


# -- privacy ---------------------------------------------------------------------------------


async def test_mydata_parses_back(bot_factory: BotFactory) -> None:
    bot = await bot_factory(nps_every_visits=1, **QUIET_OFF)
    await bot.owner().send("/start")
    await bot.owner().send("/catalog add 5 Espresso")
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await alice.send("/birthday 24.12")
    await buy(bot, barista, alice, "12")
    await delivered(bot)
    question = next(m for m in alice.messages if "How likely" in m.body)
    await alice.press(question, "10")
    await alice.send("Lovely")
    (listing,) = await alice.send("🎁 Rewards")
    await alice.press(listing, "Redeem Espresso")
    (document,) = await alice.send("/mydata")
    assert document.method == "sendDocument" and document.document is not None
    data = json.loads(document.document)
    assert data["profile"]["first_name"] == "Alice" and data["profile"]["birthday"] == "12-24"
    assert data["profile"]["balance"] == 7
    assert [(e["kind"], e["points"]) for e in data["ledger"]] == [("earn", 12), ("redeem", -5)]
    assert [c["reward"] for c in data["coupons"]] == ["Espresso"]
    assert data["feedback"] == [
        {"asked_at": data["feedback"][0]["asked_at"], "after_entry": 1, "score": 10,
         "comment": "Lovely"}
    ]  # fmt: skip


async def test_forget_keeps_the_books_and_removes_the_person(bot_factory: BotFactory) -> None:
    bot = await bot_factory(nps_every_visits=1, **QUIET_OFF)
    await bot.owner().send("/start")
    await bot.owner().send("/catalog add 5 Espresso")
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = bot.user(2001, "Alice", "alice_tg")
    await alice.send("/start")
    await alice.send("/birthday 24.12")
    await buy(bot, barista, alice, "12")
    await delivered(bot)
    question = next(m for m in alice.messages if "How likely" in m.body)
    await alice.press(question, "4")
    await alice.send("Too slow")
    (listing,) = await alice.send("🎁 Rewards")
    await alice.press(listing, "Redeem Espresso")
    totals_before = await rows(bot, "SELECT kind, SUM(points), COUNT(*) FROM ledger GROUP BY kind")

    (question_forget,) = await alice.send("/forget")
    assert "Your 1 open coupon is cancelled.\nYour 7 points are lost." in question_forget.body
    await alice.press(question_forget, "No, keep")
    assert (await bot.services.members.find(2001)) is not None
    (question_forget,) = await alice.send("/forget")
    replies = await alice.press(question_forget, "Yes, forget me")
    assert replies[-1].body.startswith("Done: we've forgotten you.")

    # The books: every entry stays (the coupon's refund is one more), none edited.
    totals_after = await rows(bot, "SELECT kind, SUM(points), COUNT(*) FROM ledger GROUP BY kind")
    assert [t for t in totals_after if t[0] != "refund"] == totals_before
    assert ("refund", 5, 1) in totals_after
    assert await rows(bot, "SELECT DISTINCT member_id FROM ledger") == [(2,)]
    # The person: nothing that identifies them is left.
    (member,) = await rows(
        bot,
        "SELECT tg_user_id, chat_id, first_name, username, birthday, referral_code,"
        " forgotten_at IS NOT NULL, balance FROM members WHERE id = 2",
    )
    assert member == (-2, -2, "Former member", None, None, None, 1, 12)
    assert await rows(bot, "SELECT comment, score FROM feedback") == [(None, 4)]
    assert await rows(bot, "SELECT state FROM coupons") == [("cancelled",)]
    # They can join again, as a new member.
    (welcome,) = await alice.send("/start")
    assert "Welcome to Bean There, Alice!" in welcome.body
    assert (await bot.services.members.find(2001)).id == 3  # type: ignore[union-attr]
    owner_ids = await rows(bot, "SELECT id FROM members WHERE tg_user_id = :owner", owner=OWNER_ID)
    assert owner_ids == [(1,)]


async def test_a_low_score_at_night_reaches_the_owners_silently(bot_factory: BotFactory) -> None:
    bot = await bot_factory(nps_every_visits=1, quiet_hours="21:00-09:00")
    owner = bot.owner()
    await owner.send("/start")
    barista = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    await buy(bot, barista, alice, "5")
    await delivered(bot)
    question = next(m for m in alice.messages if questions_in(m))
    bot.clock.current = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # Alice answers late
    await alice.press(question, "2")
    (alert,) = [m for m in owner.messages if "rated us" in m.body]
    assert alert.silent
