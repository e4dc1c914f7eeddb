"""A guard: no statement the bot issues reads a whole big table, unless allow-listed.

The real bot runs a broad flow (joining, cards, scans, categories, undo, redemptions,
coupons at the counter, broadcasts to every kind of audience, offers, the lifecycle and
coupon jobs, reports) on a database seeded with thousands of members and tens of
thousands of entries and ANALYZEd, so the planner sees realistic statistics. Every
statement is recorded as executed, then run through EXPLAIN QUERY PLAN: a full scan of
members, ledger, scans, coupons or broadcast recipients fails the test unless the
statement is on the allow-list below, each entry with the reason it must read so much.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from datetime import UTC, datetime, timedelta

from storage import Database
from storage.seed import seed_history
from tests.conftest import START, BotFactory, make_settings
from tests.helpers import qr_payload, show_card

GUARDED = ("members", "ledger", "scans", "coupons", "broadcast_recipients")

# Statements allowed to read a guarded table whole, and why.
ALLOWED = (
    # The report's reconciliation adds up every member's balance: that is its point.
    r"SELECT COALESCE\(SUM\(balance\), 0\) FROM members$",
    # Tier breakdown in /stats: every member counts once (an aggregate, on the report
    # connection, outside any transaction).
    r"SELECT COUNT\(\*\) FROM members WHERE created_at < .* AND forgotten_at IS NULL",
    # An owner's preview of an audience ("Send it to N members?") counts everyone the
    # audience names: for "everyone" and for a tier that is the member table. An
    # aggregate on the reader, outside any transaction, when an owner asks; the
    # recipients themselves are then read a page at a time by primary key.
    r"SELECT COUNT\(\*\) FROM members AS m WHERE m.unreachable_at IS NULL",
)


def guarded_names(statement: str) -> set[str]:
    """The guarded tables a statement reads, by name and by alias (plans use aliases)."""
    names = set(GUARDED)
    tables = "|".join(GUARDED)
    for _table, alias in re.findall(rf"\b({tables})\s+(?:AS\s+)?(\w+)", statement, re.I):
        if alias.upper() not in {"WHERE", "SET", "ON", "JOIN", "LEFT", "ORDER", "GROUP",
                                 "LIMIT", "VALUES", "USING"}:  # fmt: skip
            names.add(alias)
    return names


def full_scans(conn: sqlite3.Connection, statement: str) -> list[str]:
    try:
        plan = conn.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()
    except sqlite3.Error:
        return []  # not a query on its own (BEGIN, COMMIT, PRAGMA…)
    names = guarded_names(statement)
    found = []
    for *_, detail in plan:
        match = re.match(r"SCAN (\w+)", detail)
        if match and match.group(1) in names:
            found.append(detail)
    return found


async def test_no_statement_reads_a_whole_big_table(bot_factory: BotFactory, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A café with history, and statistics for the planner.
    seeded = make_settings(tmp_path, "http://127.0.0.1:1")
    db = Database(seeded.database_path)
    await db.open()
    await seed_history(
        db, members=3000, entries=30_000, start=START - timedelta(days=300), end=START
    )
    async with db.transaction() as tx:
        await tx.execute("ANALYZE")
    await db.close()

    bot = await bot_factory(
        categories="coffee, food",
        points_expire_after_months=6,
        winback_after_days=30,
        birthday_bonus_points=10,
        referral_bonus_points=5,
        nps_every_visits=1,
        quiet_hours="off",
    )
    statements: list[str] = []
    for conn in (bot.services.db._writer, bot.services.db.reader, bot.services.db.report_reader):
        assert conn is not None
        await conn.set_trace_callback(statements.append)

    # The seeded members never opened this fake Telegram: messages to them fail there.
    bot.fake.expected_errors.add("chat not found")
    bot.fake.expected_error_codes.add(403)
    owner = bot.owner()
    await owner.send("/start")
    await owner.send("/catalog add 5 Espresso")
    bob = await bot.customer(2002, "Bob")
    bob.block()  # a 403 marks him unreachable, by his chat id
    anna = await bot.hire(3001, "Anna")
    alice = await bot.customer(2001, "Alice")
    (invite,) = await alice.send("/invite")
    card = await show_card(alice)
    await anna.send(f"/start {qr_payload(card.photo)}")
    (question,) = await anna.send("12")
    await anna.press(question, "coffee")
    await anna.send("/undo")
    await bot.scan(anna, alice)
    (question,) = await anna.send("12")
    await anna.press(question, "food")
    for command in ("/balance", "/history", "/coupons", "/offers", "/settings", "/birthday 3.4"):
        await alice.send(command)
    (listing,) = await alice.send("/rewards")
    (coupon,) = await alice.press(listing, "Redeem")
    (shown,) = await anna.send(f"/start {qr_payload(coupon.photo)}")
    await anna.press(shown, "Confirm")
    for audience in ("all", "tier:Silver", "lapsed:30", "birthday"):
        await bot.services.broadcasts.create(
            created_by=owner.id, text="News", photo_file_id=None, audience=audience
        )
        await bot.services.offers.audience_size(audience)
    for command in ("/staff", "/offers", "/broadcasts", "/referrals", "/winback", "/mydata"):
        await owner.send(command)
    progress = sqlite3.connect(bot.services.settings.database_path)  # untraced
    for _ in range(300):  # until the broadcasts are well under way
        query = "SELECT COUNT(*) FROM broadcast_recipients WHERE state <> 'pending'"
        if progress.execute(query).fetchone()[0] > 200:
            break
        await asyncio.sleep(0.05)
    progress.close()
    # Telegram says Bob blocked the bot (and later unblocked it): found by chat id.
    for status in ("kicked", "member"):
        bot.fake.push_update({"my_chat_member": {
            "chat": {"id": bob.chat_id, "type": "private", "first_name": "Bob"},
            "from": bob.as_json(), "date": 0,
            "old_chat_member": {"user": bot.fake._me(), "status": "member"},
            "new_chat_member": {"user": bot.fake._me(), "status": status,
                                **({"until_date": 0} if status == "kicked" else {})},
        }})  # fmt: skip
    await asyncio.sleep(0.3)
    assert bot.app.job_queue is not None
    bot.clock.current = datetime(2027, 7, 1, 10, 0, tzinfo=UTC)
    for job in bot.app.job_queue.jobs():
        if job.name != "heartbeat":
            await job.run(bot.app)
    await owner.send("/stats")
    await owner.send("/report")
    await owner.send("/audit member 2")

    for conn in (bot.services.db._writer, bot.services.db.reader, bot.services.db.report_reader):
        assert conn is not None
        await conn.set_trace_callback(None)
    assert len(statements) > 200  # the flow really ran

    checker = sqlite3.connect(bot.services.settings.database_path)
    offending = {}
    for statement in set(statements):
        text = " ".join(statement.split())
        if any(re.match(pattern, text) for pattern in ALLOWED):
            continue
        scans = full_scans(checker, statement)
        if scans:
            offending[text[:240]] = scans
    checker.close()
    assert not offending, "\n".join(f"{s}\n  → {p}" for s, p in offending.items())
    assert invite  # the referral link was made (its statements are among those checked)
