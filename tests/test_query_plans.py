"""A guard, on each engine: no statement the bot issues reads a whole big table, unless
allow-listed.

The real bot runs a broad flow (joining, cards, scans, categories, undo, redemptions,
coupons at the counter, broadcasts to every kind of audience, offers, the lifecycle and
coupon jobs, reports) on a database seeded with thousands of members and tens of
thousands of entries and analysed, so the planner sees realistic statistics. Every
statement is recorded as the driver gets it (through SQLAlchemy's engine events), with
its parameters, then planned with them:

- SQLite: ``EXPLAIN QUERY PLAN``; a full scan of members, ledger, scans, coupons or
  broadcast recipients fails the test unless the statement is on SQLITE_ALLOWED.
- PostgreSQL: ``EXPLAIN (FORMAT JSON)`` with ``enable_seqscan`` off, so the question is
  "can an index serve this?" whatever the table's size; a ``Seq Scan`` of any table, or
  an index walked end to end in its place, fails the test unless the statement is on
  POSTGRESQL_ALLOWED (see whole_reads for the walks that are fine).

Each allow-list entry says why that statement must read so much.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.domain import NewOffer
from storage import Database
from storage.engine import sql
from storage.seed import analyze, seed_history
from tests.conftest import START, BotFactory, make_settings
from tests.helpers import first_link, link_payload, qr_payload, show_card

# Statements a plan can be asked for; the rest (BEGIN IMMEDIATE, PRAGMA, SAVEPOINT…)
# read no table.
PLANNED = re.compile(r"\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b", re.I)

GUARDED = ("members", "ledger", "scans", "coupons", "broadcast_recipients")

# SQLite: statements allowed to read a guarded table whole, and why.
SQLITE_ALLOWED = (
    # The report's reconciliation adds up every member's balance: that is its point.
    r"SELECT COALESCE\(SUM\(balance\), 0\) AS total FROM members$",
    # An owner's preview of an audience ("Send it to N members?") counts everyone the
    # audience names: for "everyone" and for a tier that is the member table. An
    # aggregate on the reader, outside any transaction, when an owner asks; the
    # recipients themselves are then read a page at a time by primary key.
    r"SELECT COUNT\(\*\) AS n FROM members AS m WHERE m\.unreachable_at IS NULL",
)

# PostgreSQL: statements allowed to read a table whole, and why. (Placeholders are
# psycopg's: %(name)s.)
POSTGRESQL_ALLOWED = (
    # As on SQLite: the reconciliation's sum of every balance, and an owner's preview
    # counts of the "everyone" and tier audiences (see above). No index narrows "every
    # reachable member who accepts promotions": that is most of them.
    r"SELECT COALESCE\(SUM\(balance\), 0\) AS total FROM members$",
    r"SELECT COUNT\(\*\) AS n FROM members AS m WHERE m\.unreachable_at IS NULL",
    # The /staff list and the reward catalog (for the owner, and /rewards): the list is
    # the whole table, a café's team and the rewards its owner wrote, tens of rows.
    r"SELECT tg_user_id, chat_id, first_name, added_by, added_at FROM staff"
    r" WHERE removed_at IS NULL ORDER BY",
    r"SELECT id, title, cost, active FROM rewards (WHERE active )?ORDER BY cost",
    # The accounting report's deferred revenue at a moment: every sale before it, from the
    # café's first day (an aggregate on the report connection, once a report).
    r"SELECT COALESCE\(SUM\(a\.offer_points\), 0\) AS offer_points, .* FROM ledger AS l"
    r" JOIN sale_allocations AS a ON a\.entry_id = l\.id",
    # The owner's /referrals leaderboard ranks every referrer: all referrals, grouped.
    r"SELECT t\.referrer_id, m\.first_name, t\.rewarded, t\.pending, t\.refused FROM",
    # The hourly job forgetting replicas not seen for a day: one row per bot process.
    r"DELETE FROM replicas WHERE seen_at <",
)

# Tables an owner fills by hand, a few rows a week at most: offers, broadcasts, the
# catalog, the team. On such a table the planner may walk a whole index (in the order
# asked for) rather than sort the few rows another index finds, a choice the table's
# size makes and that changes as it grows (an offers table of 20,000 rows is read
# through offers_time, checked by hand), so an index walk there is not counted. A
# sequential scan is: then no index serves the statement at all.
SMALL_TABLES = (
    "offers", "broadcasts", "rewards", "staff", "owners", "meta",
    # A chain's shops, who works in which, and where each said they are today.
    "locations", "staff_locations", "staff_whereabouts",
)  # fmt: skip

INDEX_SCANS = ("Index Scan", "Index Only Scan", "Bitmap Index Scan")


def one_of_each(statements: Iterator[tuple[str, Any]]) -> dict[str, Any]:
    """Each distinct statement text once, with the parameters of one of its runs (the
    first row of a batch)."""
    found: dict[str, Any] = {}
    for statement, parameters in statements:
        if isinstance(parameters, list):
            parameters = parameters[0] if parameters else ()
        found.setdefault(statement, parameters)
    return found


def allowed(statement: str, patterns: tuple[str, ...]) -> bool:
    text = " ".join(statement.split())
    return any(re.match(pattern, text) for pattern in patterns)


async def run_flow(bot_factory: BotFactory, target: Path | str) -> dict[str, Any]:
    """Seed ``target``, start the bot on it, run the broad flow, and return every
    statement the bot sent meanwhile (with the parameters of one of its runs)."""
    # A café with history, and statistics for the planner.
    seeder = Database(target)
    await seeder.open()
    await seed_history(
        seeder, members=3000, entries=30_000, start=START - timedelta(days=300), end=START
    )
    await analyze(seeder)
    await seeder.close()

    bot = await bot_factory(
        categories="coffee, food",
        points_expire_after_months=6,
        winback_after_days=30,
        birthday_bonus_points=10,
        referral_bonus_points=5,
        nps_every_visits=1,
        quiet_hours="off",
    )
    sent: list[tuple[str, Any]] = []
    stop_recording = bot.services.db.on_statement(lambda text, params: sent.append((text, params)))
    # Watches the broadcasts' progress on connections of its own: not recorded.
    progress = Database(target)
    await progress.open()

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
    assert invite  # the referral link was made (its statements are among those checked)
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
    bot.app.bot_data.broadcaster.wake()  # created here, not by a handler that wakes it
    for command in ("/staff", "/offers", "/broadcasts", "/referrals", "/winback", "/mydata"):
        await owner.send(command)
    # A second shop: its team by location, a barista in both saying where she is (her
    # daily limit per shop), receipts and history naming the shop.
    (shops,) = await owner.send("/locations")
    await owner.press(shops, "Add a location")
    await owner.send("Harbour")
    (team,) = await owner.send("/staff")
    (link,) = await owner.press(team, "Barista for Harbour")
    await anna.send(f"/start {link_payload(first_link(link))}")
    where = await bot.scan(anna, alice)
    await anna.press(where, "Harbour")
    (question,) = await anna.send("7")
    await anna.press(question, "coffee")
    await alice.send("/history")
    await anna.send("/where")
    # Promotions by location: an offer valid at Harbour only, for its customers of the
    # last 30 days (applied at the counter), and a broadcast to them.
    harbour = next(loc.id for loc in await bot.services.locations.all() if loc.name == "Harbour")
    visitors = f"visited:{harbour}:30"
    await bot.services.offers.create(owner.id, NewOffer(
        title="Harbour week", description="", kind="bonus", multiplier=None, bonus_points=5,
        reward_id=None, starts_at=bot.clock.now(), ends_at=bot.clock.now() + timedelta(days=7),
        window=None, audience=visitors, announce=False, location_ids=(harbour,),
    ))  # fmt: skip
    await bot.scan(anna, alice)
    (question,) = await anna.send("8")
    await anna.press(question, "coffee")
    await bot.services.broadcasts.create(
        created_by=owner.id, text="Harbour news", photo_file_id=None, audience=visitors
    )
    await bot.services.offers.audience_size(visitors)
    sending = sql("SELECT COUNT(*) AS n FROM broadcast_recipients WHERE state <> 'pending'")
    for _ in range(300):  # until the broadcasts are well under way
        if await progress.reader.value(sending) > 200:
            break
        await asyncio.sleep(0.05)
    await progress.close()
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
    (report, *_) = await owner.send("/report")
    await owner.send("/audit member 2")
    # One location's numbers, and the chain-wide part of the books.
    await owner.send("/stats Harbour")
    await owner.send("/audit Harbour")
    await owner.send("/audit member 2 Harbour")
    await owner.press(report, "Harbour")
    await owner.press(report, "Chain-wide")

    stop_recording()
    assert len(sent) > 200  # the flow really ran
    return one_of_each(iter(sent))


# -- SQLite --------------------------------------------------------------------------------


def guarded_names(statement: str) -> set[str]:
    """The guarded tables a statement reads, by name and by alias (plans use aliases)."""
    names = set(GUARDED)
    tables = "|".join(GUARDED)
    for _table, alias in re.findall(rf"\b({tables})\s+(?:AS\s+)?(\w+)", statement, re.I):
        if alias.upper() not in {"WHERE", "SET", "ON", "JOIN", "LEFT", "ORDER", "GROUP",
                                 "LIMIT", "VALUES", "USING"}:  # fmt: skip
            names.add(alias)
    return names


def sqlite_full_scans(conn: sqlite3.Connection, statement: str, parameters: Any) -> list[str]:
    """The plan's full scans of guarded tables (by name or alias)."""
    plan = conn.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    names = guarded_names(statement)
    found = []
    for *_, detail in plan:
        match = re.match(r"SCAN (\w+)", detail)
        if match and match.group(1) in names:
            found.append(detail)
    return found


@pytest.mark.sqlite_only
async def test_no_statement_reads_a_whole_big_table(
    bot_factory: BotFactory, tmp_path: Path
) -> None:
    path = make_settings(tmp_path, "http://127.0.0.1:1").database_path
    statements = await run_flow(bot_factory, path)

    checker = sqlite3.connect(path)
    offending = {}
    for statement, parameters in statements.items():
        if not PLANNED.match(statement) or allowed(statement, SQLITE_ALLOWED):
            continue
        scans = sqlite_full_scans(checker, statement, parameters)
        if scans:
            offending[" ".join(statement.split())[:240]] = scans
    checker.close()
    assert not offending, "\n".join(f"{s}\n  → {p}" for s, p in offending.items())


# -- PostgreSQL ----------------------------------------------------------------------------


def whole_reads(
    node: dict[str, Any], indexes: dict[str, tuple[str, bool]], limited: bool = False
) -> Iterator[str]:
    """The scans in a JSON plan that read a table whole: a sequential scan, or an index
    walked end to end (no Index Cond) to dodge one. A walk is fine along a partial index
    (its condition is the statement's), on a SMALL_TABLE, or where a LIMIT right above
    it stops it early and it filters nothing out (so the first rows it reads are kept).
    ``indexes``: each index's table, and whether it is partial."""
    kind = node["Node Type"]
    if kind == "Seq Scan":
        yield f"Seq Scan on {node['Relation Name']} {node['Alias']}"
    elif kind in INDEX_SCANS and "Index Cond" not in node:
        table, partial = indexes[node["Index Name"]]
        if not (partial or table in SMALL_TABLES or (limited and "Filter" not in node)):
            yield f"{kind} walking all of {node['Index Name']} on {table}"
    for child in node.get("Plans", ()):
        yield from whole_reads(child, indexes, limited=kind == "Limit")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_no_statement_needs_a_sequential_scan_on_postgresql(
    bot_factory: BotFactory, database_url: str
) -> None:
    statements = await run_flow(bot_factory, database_url)

    offending = {}
    with psycopg.connect(database_url, autocommit=True) as checker:
        indexes = {
            name: (table, partial)
            for name, table, partial in checker.execute(
                "SELECT indexname, tablename, indexdef LIKE '% WHERE %' FROM pg_indexes"
                " WHERE schemaname = current_schema()"
            )
        }
        # A sequential scan costs so much that the planner takes any index that serves
        # the statement, whatever the table's size: what is left, no index serves.
        checker.execute("SET enable_seqscan = off")
        for statement, parameters in statements.items():
            if not PLANNED.match(statement) or allowed(statement, POSTGRESQL_ALLOWED):
                continue
            ((plans,),) = checker.execute(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
            scans = list(whole_reads(plans[0]["Plan"], indexes))
            if scans:
                offending[" ".join(statement.split())[:240]] = scans
    assert not offending, "\n".join(f"{s}\n  → {p}" for s, p in offending.items())
