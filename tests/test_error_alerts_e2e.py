"""End to end: an unexpected error reaches the owners as one short alert per kind in a
while, saying what and when but never who, and never the exception's details."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from telegram.error import Forbidden

from bot.services.alerts import ALERT_EVERY, AlertService
from handlers.texts import t
from sandbox.botapi import TOKEN, FakeUser, SentMessage
from storage import Database
from tests.conftest import OWNER_ID, BotFactory, BotHarness, FakeClock

APOLOGY = "Sorry, something went wrong on our side. Please try again in a moment."
SECRET = "sk_live_51HqLyjWDarjtT1zdp7dc"
CUSTOMER_ID = 2001


def crash_with(kind: type[Exception]) -> Callable[..., None]:
    """A service method that fails with a message holding a secret and a customer."""

    def broken(*args: object, **kwargs: object) -> None:
        raise kind(f"token {TOKEN} key {SECRET} while serving Alice (user {CUSTOMER_ID})")

    return broken


async def started(bot: BotHarness) -> tuple[FakeUser, FakeUser]:
    owner = bot.owner()
    await owner.send("/start")
    alice = await bot.customer(CUSTOMER_ID, "Alice")
    return owner, alice


async def alerts_after(owner: FakeUser, action: Awaitable[object]) -> list[SentMessage]:
    """What the owner received while ``action`` ran."""
    before = len(owner.messages)
    await action
    return owner.messages[before:]


def assert_says_nothing_private(alert: SentMessage) -> None:
    for private in (SECRET, TOKEN, TOKEN.partition(":")[2], "Alice", str(CUSTOMER_ID)):
        assert private not in alert.raw, private
    for trace in ("Traceback", 'File "', "token ", "serving"):
        assert trace not in alert.raw, trace


async def test_an_error_alerts_the_owner_once_per_kind_per_window(
    bot_factory: BotFactory, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 09:00 UTC is 10:00 in Berlin: outside the default quiet hours (21:00-09:00).
    bot = await bot_factory(timezone="Europe/Berlin")
    owner, alice = await started(bot)
    monkeypatch.setattr(bot.services.members, "balance", crash_with(RuntimeError))

    before = len(owner.messages)
    (answer,) = await alice.send("/balance")
    assert answer.body == APOLOGY
    (alert,) = owner.messages[before:]
    assert alert.body == (
        "⚠️ The bot hit an unexpected error (RuntimeError) at Nov 23, 10:00\u202fAM, during the "
        "command /balance. The details are in the bot's log. Further RuntimeError errors "
        "in the next 10 minutes are only logged."
    )
    assert not alert.silent
    assert_says_nothing_private(alert)

    # The same kind again within the window: the customer is told, the owner is not.
    clock.advance(minutes=9, seconds=59)
    assert await alerts_after(owner, alice.send("/balance")) == []
    assert alice.last.body == APOLOGY
    # The main keyboard's button is named by its label.
    assert await alerts_after(owner, alice.send("⭐ Balance")) == []

    # Past the window: a new alert, with the new time.
    clock.advance(seconds=1)
    (again,) = await alerts_after(owner, alice.send("⭐ Balance"))
    assert "(RuntimeError) at Nov 23, 10:10\u202fAM, during the “⭐ Balance” button." in again.body
    assert_says_nothing_private(again)

    # Another kind alerts at once, though RuntimeError's window is still running.
    monkeypatch.setattr(bot.services.members, "balance", crash_with(KeyError))
    (other,) = await alerts_after(owner, alice.send("/balance"))
    assert "(KeyError) at Nov 23, 10:10\u202fAM, during the command /balance." in other.body
    assert_says_nothing_private(other)
    assert alice.last.body == APOLOGY


async def test_each_owner_reads_the_alert_in_their_own_language(
    bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An alert is about a customer's update, but its reader is each owner: an owner who
    chose German reads it in German, with a German date and time; the customer's button
    is named as the customer saw it."""
    bot = await bot_factory(timezone="Europe/Berlin", quiet_hours="off")
    owner, _ = await started(bot)
    await bot.services.languages.choose(OWNER_ID, "de")
    lucia = await bot.customer(CUSTOMER_ID + 1, "Lucía", language_code="es")
    monkeypatch.setattr(bot.services.members, "balance", crash_with(RuntimeError))
    label = t("es", "btn_balance")
    (alert,) = await alerts_after(owner, lucia.send(label))
    assert alert.raw == t(
        "de", "error_alert_keyboard", kind="RuntimeError", time="23. Nov., 10:00", label=label,
        minutes=10,
    )  # fmt: skip
    assert lucia.last.body == t("es", "error")


async def test_a_button_and_a_scheduled_job_are_named_but_no_one_is(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, alice = await started(bot)
    monkeypatch.setattr(bot.services.coupons, "redeem", crash_with(LookupError))
    (alert,) = await alerts_after(owner, alice.press_data(alice.last, "rdm:1"))
    assert "(LookupError) at Nov 23, 9:00\u202fAM, during a button press (rdm)." in alert.body
    assert_says_nothing_private(alert)
    assert alice.last.body == APOLOGY

    monkeypatch.setattr(bot.services.lifecycle, "remind_expiring", crash_with(OSError))
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name("lifecycle")
    (alert,) = await alerts_after(owner, job.run(bot.app))
    assert "(OSError) at Nov 23, 9:00\u202fAM, during a scheduled job (lifecycle)." in alert.body
    assert_says_nothing_private(alert)


async def test_the_command_is_named_without_what_follows_it(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, alice = await started(bot)
    monkeypatch.setattr(bot.services.members, "balance", crash_with(RuntimeError))
    (alert,) = await alerts_after(owner, alice.send(f"/balance@{bot.app.bot.username} {SECRET}"))
    assert "during the command /balance." in alert.body
    assert_says_nothing_private(alert)


async def test_an_alert_in_quiet_hours_arrives_silently(
    bot_factory: BotFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await bot_factory(quiet_hours="08:00-10:00")
    owner, alice = await started(bot)
    monkeypatch.setattr(bot.services.members, "balance", crash_with(RuntimeError))
    (alert,) = await alerts_after(owner, alice.send("/balance"))
    assert alert.silent and "RuntimeError" in alert.body


async def test_a_blocked_bot_is_logged_without_an_alert(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    owner, alice = await started(bot)

    def blocked(*args: object) -> None:
        raise Forbidden("Forbidden: bot was blocked by the user")

    monkeypatch.setattr(bot.services.members, "balance", blocked)
    caplog.set_level(logging.INFO)
    assert await alerts_after(owner, alice.send("/balance")) == []
    assert "A user has blocked the bot" in caplog.text
    assert await bot.services.alerts.may_alert("Forbidden")  # no window was taken


async def test_an_alert_that_cannot_be_sent_is_logged_and_nothing_else_breaks(
    bot: BotHarness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    owner, alice = await started(bot)
    monkeypatch.setattr(bot.services.members, "balance", crash_with(RuntimeError))
    bot.fake.expected_error_codes.add(502)
    bot.fake.inject_error(OWNER_ID, 502, "Bad Gateway")
    assert await alerts_after(owner, alice.send("/balance")) == []
    assert alice.last.body == APOLOGY
    assert "Could not alert the owners about a RuntimeError" in caplog.text
    # The bot goes on: the next update is handled as usual.
    monkeypatch.undo()
    (balance,) = await alice.send("/balance")
    assert "You have 0 points" in balance.body


async def test_processes_sharing_one_database_share_the_limit(
    tmp_path: Path, clock: FakeClock
) -> None:
    path = tmp_path / "loyalty.db"
    first_db, second_db = Database(path), Database(path)
    await first_db.open()
    await second_db.open()
    try:
        first, second = AlertService(first_db, clock), AlertService(second_db, clock)
        assert await first.may_alert("RuntimeError")
        assert not await second.may_alert("RuntimeError")
        assert not await first.may_alert("RuntimeError")
        assert await second.may_alert("KeyError")  # each kind has its own window

        clock.advance(seconds=ALERT_EVERY.total_seconds() - 1)
        assert not await second.may_alert("RuntimeError")
        clock.advance(seconds=1)
        assert await second.may_alert("RuntimeError")
        assert not await first.may_alert("RuntimeError")
    finally:
        await first_db.close()
        await second_db.close()

    # A restart remembers: the window still runs after the database is opened again.
    reopened = Database(path)
    await reopened.open()
    try:
        assert not await AlertService(reopened, clock).may_alert("RuntimeError")
    finally:
        await reopened.close()
