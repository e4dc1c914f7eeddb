"""End to end: the owner's /offer and /broadcast conversations survive a restart.

The bot is stopped the way a deploy stops it (the graceful stop run_polling does on
SIGTERM) and started again on the same database file: the owner's next message continues
the conversation where it stood, with the draft typed before the restart. /cancel after a
restart drops the draft and its rows; customers who only use the bot leave no rows.
The last test does the same with the installed ``loyalty-bot run`` process and SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

from handlers.broadcasts import B_AUDIENCE
from handlers.offers import O_DESCRIPTION, O_KIND, O_VALUE, O_WINDOW
from sandbox.botapi import TOKEN, FakeTelegram, FakeUser, SentMessage
from storage.engine import sql
from tests.conftest import OWNER_ID, BotFactory, BotHarness, stop_bot
from tests.databases import database_env, opened
from tests.test_process import ROOT, command

OWNER_KEY = json.dumps([OWNER_ID, OWNER_ID], separators=(",", ":"))  # (chat id, user id)
UNKNOWN = "I didn't catch that"


async def rows(bot: BotHarness, table: str) -> list[dict[str, Any]]:
    """One of the two persistence tables, read through the running bot's database."""
    assert table in ("conversation_states", "conversation_user_data")
    return await bot.rows(f"SELECT * FROM {table} ORDER BY 1, 2")


async def states(bot: BotHarness) -> list[tuple[str, str, int]]:
    return [(r["name"], r["conv_key"], r["state"]) for r in await rows(bot, "conversation_states")]


async def drafts(bot: BotHarness) -> dict[int, dict[str, Any]]:
    """Every stored person's data, by user id, as the JSON it was saved as."""
    return {
        r["tg_user_id"]: json.loads(r["data"]) for r in await rows(bot, "conversation_user_data")
    }


async def eventually_empty(bot: BotHarness, timeout: float = 10) -> None:
    """Wait until no conversation rows are left (PTB writes them about once a second)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = (await states(bot), await drafts(bot))
        if left == ([], {}):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"conversation rows still stored: {left}")
        await asyncio.sleep(0.05)


async def restart(bot: BotHarness, bot_factory: BotFactory) -> BotHarness:
    """Stop the bot as a deploy does and start a new one on the same database file."""
    await stop_bot(bot)
    return await bot_factory()


def only(replies: list[SentMessage]) -> SentMessage:
    assert len(replies) == 1, [m.body for m in replies]
    return replies[0]


async def test_an_offer_conversation_continues_after_restarts(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    owner = bot.owner()
    await owner.send("/start")
    assert "What's its title?" in only(await owner.send("/offer")).body
    ask_description = only(await owner.send("Pumpkin week"))
    assert "A short description customers will see?" in ask_description.body
    ask_kind = only(await owner.send("Double points on everything pumpkin"))
    assert ask_kind.body.startswith("What does the offer give?")
    ask_value = only(await owner.press(ask_kind, "Points multiplier"))
    assert "The multiplier, e.g. 2" in ask_value.body

    bot = await restart(bot, bot_factory)
    owner = bot.owner()
    # What the first run stored is what the second one read back.
    assert await states(bot) == [("offer", OWNER_KEY, O_VALUE)]
    stored = (await drafts(bot))[OWNER_ID]["offer"]
    assert (stored["title"], stored["kind"]) == ("Pumpkin week", "multiplier")
    # The owner's next answer is taken by the step they were at, not the free-text route.
    ask_start = only(await owner.send("2"))
    assert "When does it start?" in ask_start.body
    assert only(await owner.send("now")).body.startswith("When does it end?")
    ask_window = only(await owner.send("2026-11-30 18:00"))
    assert "Only at certain hours?" in ask_window.body

    # A second restart, with a Decimal and two datetimes in the draft, and the next answer
    # a button on a message the previous run sent.
    bot = await restart(bot, bot_factory)
    owner = bot.owner()
    assert await states(bot) == [("offer", OWNER_KEY, O_WINDOW)]
    ask_audience = only(await owner.press(ask_window, "Any time"))
    assert ask_audience.body == "Who is it for?"
    ask_announce = only(await owner.press(ask_audience, "Everyone"))
    assert ask_announce.body == "Announce it to them when it starts?"
    preview = only(await owner.press(ask_announce, "No"))
    assert "🎉 Pumpkin week\nDouble points on everything pumpkin\nGives: ×2 points" in preview.body
    assert "From Nov 23, 9:00\u202fAM to Nov 30, 6:00\u202fPM" in preview.body
    saved = only(await owner.press(preview, "Save"))
    assert saved.body.startswith("Offer #1 saved.")

    assert UNKNOWN not in "\n".join(m.body for m in owner.messages)
    listing = only(await owner.send("/offers"))
    assert "#1 Pumpkin week: running until Nov 30" in listing.body
    assert "Gives: ×2 points" in listing.body
    (offer,) = await bot.services.offers.recent()
    assert (offer.title, offer.description) == (
        "Pumpkin week",
        "Double points on everything pumpkin",
    )
    assert offer.multiplier == 2 and offer.window is None and offer.audience == "all"
    await eventually_empty(bot)  # a finished conversation keeps nothing


async def test_a_broadcast_conversation_continues_after_a_restart(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    owner = bot.owner()
    await owner.send("/start")
    assert "Send the message for your members" in only(await owner.send("/broadcast")).body
    who = only(await owner.send("Cinnamon rolls are back tomorrow"))
    assert who.body == "Who should get it?"

    bot = await restart(bot, bot_factory)
    owner = bot.owner()
    assert await states(bot) == [("broadcast", OWNER_KEY, B_AUDIENCE)]
    replies = await owner.press(who, "Everyone")
    # The preview is the message typed before the restart, exactly as members will see it.
    assert [m.body for m in replies][:1] == ["Cinnamon rolls are back tomorrow"]
    question = next(m for m in replies if "Send it to" in m.body)
    assert "Send it to 3 members (Everyone)?" in question.body  # Alice, Bob and the owner
    await owner.press(question, "Send")
    assert question.body.startswith("Broadcast #1 queued for 3 members")

    await bot.fake.wait_for(
        lambda: any("finished" in m.body and not m.edits for m in owner.messages), timeout=15
    )
    for person in (alice, bob):
        assert bot.fake.delivered(person.chat_id, "Cinnamon rolls are back tomorrow") == 1
    assert UNKNOWN not in "\n".join(m.body for m in owner.messages)
    await eventually_empty(bot)


async def test_cancel_after_a_restart_drops_the_draft(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/offer")
    await owner.send("Half-baked idea")
    ask_kind = only(await owner.send("-"))
    assert ask_kind.body.startswith("What does the offer give?")

    bot = await restart(bot, bot_factory)
    owner = bot.owner()
    assert await states(bot) == [("offer", OWNER_KEY, O_KIND)]
    assert (await drafts(bot))[OWNER_ID]["offer"]["title"] == "Half-baked idea"
    assert only(await owner.send("/cancel")).body == "Cancelled. Nothing was saved."
    await eventually_empty(bot)
    # The conversation is over: the next text is no answer to a step.
    assert only(await owner.send("Whatever")).body.startswith(UNKNOWN)
    await owner.press(ask_kind, "Points multiplier")  # a button of the cancelled wizard
    assert await bot.services.offers.recent() == []

    # Nor does a later restart bring it back.
    bot = await restart(bot, bot_factory)
    owner = bot.owner()
    assert await states(bot) == [] and await drafts(bot) == {}
    assert only(await owner.send("Still nothing")).body.startswith(UNKNOWN)
    assert await bot.services.offers.recent() == []


async def test_the_cancel_button_of_a_question_asked_before_a_restart(
    bot_factory: BotFactory,
) -> None:
    bot = await bot_factory()
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/broadcast")
    who = only(await owner.send("Not sending this"))

    bot = await restart(bot, bot_factory)
    owner = bot.owner()
    replies = await owner.press(who, "Cancel")
    assert replies[-1].body == "Cancelled. Nothing was saved."
    await eventually_empty(bot)
    assert await bot.services.broadcasts.recent() == []


async def test_customers_leave_no_conversation_rows(bot_factory: BotFactory) -> None:
    bot = await bot_factory()
    people = [await bot.customer(2001 + n, name) for n, name in enumerate(("Alice", "Bob"))]
    for person in people:
        assert "You have" in only(await person.send("/balance")).body
        await person.send("⭐ Balance")
        await person.send("/card")
        await person.send("hello?")
    # The owner starts a conversation: their row is written, in the same runs.
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/offer")
    await owner.send("Customers' week")

    # The graceful stop writes everything pending; the next run reads what is stored.
    bot = await restart(bot, bot_factory)
    assert list(await drafts(bot)) == [OWNER_ID]
    assert [key for _, key, _ in await states(bot)] == [OWNER_KEY]
    # And customers using the restarted bot still add none.
    for person in people:
        assert "You have" in only(await person.send("/balance")).body
    await bot.owner().send("/cancel")
    await eventually_empty(bot)


# -- the installed process, stopped with SIGTERM ---------------------------------------------

PROCESS_OWNER = 1  # OWNER_IDS=1


async def start_process(
    fake: FakeTelegram, env: dict[str, str], cwd: Path
) -> asyncio.subprocess.Process:
    fake.drain_polls(False)
    polls = sum(1 for method, _ in fake.calls if method == "getUpdates")
    process = await asyncio.create_subprocess_exec(
        *command(), "run", cwd=cwd, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await fake.wait_for(
        lambda: sum(1 for method, _ in fake.calls if method == "getUpdates") > polls, timeout=30
    )
    return process


async def terminate(fake: FakeTelegram, process: asyncio.subprocess.Process) -> str:
    """SIGTERM, as ``docker stop`` sends it; returns what the process logged."""
    fake.drain_polls(True)
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    log = stderr.decode()
    assert process.returncode == 0, log
    return log


async def answer(person: FakeUser, update: dict[str, Any], expected: str) -> SentMessage:
    """Send an update to the process; return the bot's reply, which must contain ``expected``."""
    fake = person.fake
    before = len(fake.sent[person.chat_id])
    fake.push_update(update)
    await fake.wait_for(lambda: len(fake.sent[person.chat_id]) > before, timeout=15)
    await asyncio.sleep(0.2)  # anything else the bot sends for this update
    replies = fake.sent[person.chat_id][before:]
    assert [expected in m.body for m in replies] == [True], [m.body for m in replies]
    return replies[0]


async def test_the_process_continues_an_offer_after_sigterm(
    fake: FakeTelegram, tmp_path: Path, database_url: str | None
) -> None:
    database = tmp_path / "db" / "loyalty.db"
    env = database_env({
        **os.environ, "BOT_TOKEN": TOKEN, "OWNER_IDS": str(PROCESS_OWNER),
        "TELEGRAM_API_URL": fake.url, "PYTHONPATH": ROOT, "LOG_LEVEL": "WARNING",
    }, database, database_url)  # fmt: skip
    owner = fake.user(PROCESS_OWNER, "Olga")
    process = await start_process(fake, env, tmp_path)
    try:
        await answer(owner, owner.text_update("/offer"), "What's its title?")
        await answer(owner, owner.text_update("Process week"), "A short description")
    finally:
        log = await terminate(fake, process)
    assert "Traceback" not in log, log
    async with opened(database, database_url) as stored:
        (state,) = await stored.reader.all(
            sql("SELECT name, conv_key, state FROM conversation_states")
        )
        (data,) = await stored.reader.all(
            sql("SELECT tg_user_id, data FROM conversation_user_data")
        )
    assert dict(state) == {"name": "offer", "conv_key": "[1,1]", "state": O_DESCRIPTION}
    assert data["tg_user_id"] == PROCESS_OWNER
    assert json.loads(data["data"])["offer"]["title"] == "Process week"

    process = await start_process(fake, env, tmp_path)
    try:
        ask_kind = await answer(owner, owner.text_update("-"), "What does the offer give?")
        ask_bonus = owner.callback(ask_kind, ask_kind.button("Bonus points").callback_data or "")
        await answer(owner, {"callback_query": ask_bonus}, "Bonus points per purchase")
        await answer(owner, owner.text_update("15"), "When does it start?")
        await answer(owner, owner.text_update("now"), "When does it end?")
        await answer(owner, owner.text_update("2099-01-31 18:00"), "Only at certain hours?")
        ask_window = fake.sent[owner.chat_id][-1]
        any_time = owner.callback(ask_window, ask_window.button("Any time").callback_data or "")
        ask_audience = await answer(owner, {"callback_query": any_time}, "Who is it for?")
        everyone = owner.callback(ask_audience, ask_audience.button("Everyone").callback_data or "")
        ask_announce = await answer(owner, {"callback_query": everyone}, "Announce it")
        silent = owner.callback(ask_announce, ask_announce.button("No").callback_data or "")
        preview = await answer(owner, {"callback_query": silent}, "🎉 Process week")
        save = owner.callback(preview, preview.button("Save").callback_data or "")
        await answer(owner, {"callback_query": save}, "Offer #1 saved.")
    finally:
        log = await terminate(fake, process)
    assert "Traceback" not in log, log
    assert not any(UNKNOWN in m.body for m in fake.sent[owner.chat_id])
    async with opened(database, database_url) as stored:
        offers = await stored.reader.all(sql("SELECT title, bonus_points FROM offers"))
        assert [dict(row) for row in offers] == [{"title": "Process week", "bonus_points": 15}]
        assert await stored.reader.value(sql("SELECT COUNT(*) FROM conversation_states")) == 0
        assert await stored.reader.value(sql("SELECT COUNT(*) FROM conversation_user_data")) == 0
