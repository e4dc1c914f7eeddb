"""End to end: a café chain's locations (issue 21 §1). A café with one location sees no
change; an owner adds, renames and closes shops; invites are for a location; a barista in
two shops says where they are once a day; receipts, /history, the ledger, coupons and the
export record the shop; a manager manages only their shop's baristas; the daily cap
counts per shop; an existing database joins its history to the default location."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import psycopg

from bot.services.roles import Role
from sandbox.botapi import FakeUser, SentMessage
from storage import ConstraintViolated, Database
from storage.engine import sql
from storage.migrations import MIGRATIONS, POSTGRESQL_BASELINE, postgresql_schema
from storage.timeutil import to_db
from tests.conftest import CUSTOMER_MENU, OWNER_ID, START, BotFactory, BotHarness
from tests.helpers import first_link, link_payload, qr_payload, show_card

ANNA, BEN, MIA, CLEO = 3001, 3002, 3003, 3004
ALICE = 2001


async def add_location(bot: BotHarness, name: str) -> None:
    owner = bot.owner()
    (overview,) = await owner.send("/locations")
    (asked,) = await owner.press(overview, "Add a location")
    assert "name of the new location" in asked.body
    (added,) = await owner.send(name)
    assert added.body.startswith(f"📍 {name} added."), added.body


async def location_id(bot: BotHarness, name: str) -> int:
    return int(await bot.value("SELECT id FROM locations WHERE name = :name", name=name))


async def invite(by: FakeUser, label: str) -> SentMessage:
    """Press an invite button on the sender's /staff and return the message with the link."""
    (overview,) = await by.send("/staff")
    (link,) = await by.press(overview, label)
    return link


async def join(bot: BotHarness, user_id: int, name: str, link: SentMessage) -> FakeUser:
    person = bot.user(user_id, name)
    (welcome,) = await person.send(f"/start {link_payload(first_link(link))}")
    assert "works once" not in welcome.body
    return person


async def scan(bot: BotHarness, barista: FakeUser, customer: FakeUser) -> list[SentMessage]:
    card = await show_card(customer)
    return await barista.send(f"/start {qr_payload(card.photo)}")


async def chain(bot: BotHarness) -> tuple[FakeUser, FakeUser]:
    """Main and Harbour; Anna works in both, Alice is a customer."""
    owner = bot.owner()
    await owner.send("/start")
    await add_location(bot, "Harbour")
    anna = await join(bot, ANNA, "Anna", await invite(owner, "Barista for Main"))
    await join(bot, ANNA, "Anna", await invite(owner, "Barista for Harbour"))
    assert "You now work at Harbour too" in anna.last.body
    alice = await bot.customer(ALICE, "Alice")
    return anna, alice


async def test_a_cafe_with_one_location_sees_no_change(bot: BotHarness) -> None:
    anna = await bot.hire(ANNA, "Anna")
    assert bot.owner().last.body == "✅ Anna joined as staff."
    alice = await bot.customer(ALICE, "Alice")
    (shown,) = await scan(bot, anna, alice)
    assert shown.body.startswith("👤 Alice · Bronze · 0 points")  # never asked where
    await anna.send("4.50")
    assert alice.last.body == (
        "🧾 +4 points for your purchase of €4.50 at Bean There.\n"
        "Served by Anna. New balance: 4 points."
    )
    (history,) = await alice.send("/history")
    assert "Main" not in history.body
    (overview,) = await bot.owner().send("/staff")
    assert overview.body == "👥 Staff\n• Anna (since Nov 23, 2026)"
    assert [b.text for b in overview.buttons] == [
        "Remove Anna",
        "➕ Invite a barista",
    ]
    (where,) = await anna.send("/where")
    assert where.body == "📍 You work at Main: nothing to choose."
    main = await location_id(bot, "Main")
    # Recorded all the same, so a second shop later finds the history in the first.
    (entry,) = await bot.ledger()
    assert entry["location_id"] == main
    assert [r["location_id"] for r in await bot.rows("SELECT location_id FROM scans")] == [main]
    assert await bot.rows("SELECT staff_id, location_id, role FROM staff_locations") == [
        {"staff_id": ANNA, "location_id": main, "role": "barista"}
    ]


async def test_the_owner_adds_renames_and_closes_locations(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    assert "locations" in bot.fake.menu_for(OWNER_ID)
    (overview,) = await owner.send("/locations")
    assert "• Main: 0 people on the team" in overview.body
    assert "Opening a second shop?" in overview.body
    await add_location(bot, "Harbour")
    (overview,) = await owner.send("/locations")
    (asked,) = await owner.press(overview, "Add a location")
    (taken,) = await owner.send("HARBOUR")
    assert "already a location called “HARBOUR”" in taken.body
    (cancelled,) = await owner.send("/cancel")
    assert "Cancelled" in cancelled.body

    (overview,) = await owner.send("/locations")
    await owner.press(overview, "📍 Main")  # the message turns into Main's page
    assert "Open since" in overview.body
    (asked,) = await owner.press(overview, "Rename")
    assert "new name for Main" in asked.body
    (renamed,) = await owner.send("  Old   Town ")
    assert renamed.body.startswith("✏️ Renamed to Old Town.")

    (overview,) = await owner.send("/locations")
    await owner.press(overview, "📍 Harbour")
    await owner.press(overview, "Close")
    assert "Close Harbour?" in overview.body
    (done,) = await owner.press(overview, "Yes, close it")
    assert done.body == "🔒 Harbour is closed. Its history stays."
    assert "• Harbour: closed since Nov 23, 2026" in overview.body

    # The last open location stays open (the owner is told in an alert).
    await owner.press(overview, "📍 Old Town")
    await owner.press(overview, "Close")
    await owner.press(overview, "Yes, close it")
    assert bot.fake.callback_answers[-1]["text"] == "That's your last open location: it stays open."
    rows = await bot.rows("SELECT name, closed_at FROM locations ORDER BY id")
    assert [(r["name"], r["closed_at"] is None) for r in rows] == [
        ("Old Town", True),
        ("Harbour", False),
    ]
    actions = await bot.audit_actions()
    assert actions.count("location.add") == 1 and "location.close" in actions

    # Staff cannot manage locations.
    anna = await join(bot, ANNA, "Anna", await invite(owner, "Barista for Old Town"))
    (refused,) = await anna.send("/locations")
    assert refused.body == "Sorry, that's not available for your account."


async def test_a_barista_in_two_shops_says_where_once_a_day(bot: BotHarness) -> None:
    anna, alice = await chain(bot)
    main, harbour = await location_id(bot, "Main"), await location_id(bot, "Harbour")
    assert bot.fake.menu_for(ANNA) == [*CUSTOMER_MENU, "scan", "redeem", "undo"]

    (question,) = await scan(bot, anna, alice)
    assert "Where are you working today?" in question.body
    assert [b.text for b in question.buttons] == ["📍 Main", "📍 Harbour"]
    (nothing,) = await anna.send("5")  # an amount before the answer asks again
    assert "Where are you working" in nothing.body
    chosen, shown = await anna.press(question, "Harbour")
    assert chosen.body == "📍 You're at Harbour today. To change it, send /where."
    assert shown.body.startswith("👤 Alice")
    await anna.send("5")
    assert alice.last.body == (
        "🧾 +5 points for your purchase of €5.00 at Bean There, Harbour.\n"
        "Served by Anna. New balance: 5 points."
    )
    (shown,) = await scan(bot, anna, alice)  # remembered: not asked again today
    assert shown.body.startswith("👤 Alice")
    await anna.send("3")

    bot.clock.advance(days=1)  # a new café day: asked again
    (question,) = await scan(bot, anna, alice)
    await anna.press(question, "Main")
    await anna.send("2")
    (where,) = await anna.send("/where")  # changed by hand
    await anna.press(where, "Harbour")
    await scan(bot, anna, alice)
    await anna.send("4")

    entries = await bot.rows("SELECT points, location_id FROM ledger ORDER BY id")
    assert [(e["points"], e["location_id"]) for e in entries] == [
        (5, harbour), (3, harbour), (2, main), (4, harbour)
    ]  # fmt: skip
    (history,) = await alice.send("/history")
    assert "+2  Purchase €2.00 · Main" in history.body
    assert "+4  Purchase €4.00 · Harbour" in history.body
    scans = await bot.rows("SELECT location_id FROM scans ORDER BY created_at")
    assert {s["location_id"] for s in scans} == {main, harbour}

    # A closed shop takes no new scans: Anna is left with Main and is not asked.
    owner = bot.owner()
    (overview,) = await owner.send("/locations")
    await owner.press(overview, "📍 Harbour")
    await owner.press(overview, "Close")
    await owner.press(overview, "Yes, close it")
    bot.clock.advance(days=1)
    (shown,) = await scan(bot, anna, alice)
    assert shown.body.startswith("👤 Alice")
    await anna.send("1")
    assert (await bot.ledger())[-1]["location_id"] == main


async def test_staff_list_per_location_and_a_manager_sees_only_theirs(bot: BotHarness) -> None:
    owner = bot.owner()
    await owner.send("/start")
    await add_location(bot, "Harbour")
    main, harbour = await location_id(bot, "Main"), await location_id(bot, "Harbour")
    link = await invite(owner, "Manager for Main")
    assert "link to the manager of Main" in link.body
    mia = await join(bot, MIA, "Mia", link)
    assert "you are now the manager of Main" in mia.last.body
    assert owner.last.body == "✅ Mia is now the manager of Main."
    assert bot.fake.menu_for(MIA) == [
        *CUSTOMER_MENU, "scan", "redeem", "undo", "staff", "stats", "report", "audit"
    ]  # fmt: skip
    cleo = await join(bot, CLEO, "Cleo", await invite(owner, "Barista for Harbour"))

    # Mia invites a barista for Main, and sees only Main.
    link = await invite(mia, "Barista for Main")
    ben = await join(bot, BEN, "Ben", link)
    assert "You work at Main" in ben.last.body
    assert mia.last.body == "✅ Ben joined Main as a barista."
    (overview,) = await mia.send("/staff")
    assert "Main" in overview.body and "Ben" in overview.body and "Mia, manager" in overview.body
    assert "Harbour" not in overview.body and "Cleo" not in overview.body
    labels = [b.text for b in overview.buttons]
    assert labels == ["Remove Ben (Main)", "➕ Barista for Main"]  # not herself, no managers

    # The owner sees every location, grouped.
    (everyone,) = await owner.send("/staff")
    assert everyone.body.index("Main") < everyone.body.index("Ben")
    assert everyone.body.index("Harbour") < everyone.body.index("Cleo")
    assert everyone.button("Remove Mia (Main)") and everyone.button("Manager for Harbour")

    # Forged buttons outside her location or role are refused, and change nothing.
    for data in (f"slrm:{CLEO}:{harbour}", f"slrm:{MIA}:{main}", f"linv:{harbour}:b",
                 f"linv:{main}:m", "srm:3002"):  # fmt: skip
        replies = await mia.press_data(overview, data)
        refused = replies[-1].body if replies else bot.fake.callback_answers[-1]["text"]
        assert "not available for your account" in refused, data
    (refused,) = await mia.send("/locations")
    assert "not available" in refused.body
    assert await bot.value("SELECT COUNT(*) AS n FROM staff_locations") == 3

    # She removes Ben: his access ends.
    replies = await mia.press(overview, "Remove Ben")
    assert replies[-1].body == "Ben was removed from staff."
    assert "no longer staff at Bean There" in ben.last.body
    assert bot.fake.menu_for(BEN) == CUSTOMER_MENU
    assert await bot.services.roles.role_of(BEN) is Role.CUSTOMER
    assert await bot.services.roles.role_of(MIA) is Role.MANAGER
    assert await bot.services.roles.role_of(CLEO) is Role.STAFF
    assert cleo.last.body  # untouched


async def test_removing_from_one_shop_keeps_the_other(bot: BotHarness) -> None:
    anna, _ = await chain(bot)
    owner = bot.owner()
    (overview,) = await owner.send("/staff")
    replies = await owner.press(overview, "Remove Anna (Harbour)")
    assert replies[-1].body == "Anna no longer works at Harbour."
    assert anna.last.body == "You no longer work at Harbour (Bean There)."
    assert await bot.services.roles.role_of(ANNA) is Role.STAFF
    assert "Remove Anna (Main)" in [b.text for b in overview.buttons]


async def test_the_daily_cap_counts_per_location(bot_factory: BotFactory) -> None:
    bot = await bot_factory(max_points_per_staff_day=10)
    anna, alice = await chain(bot)
    (question,) = await scan(bot, anna, alice)
    await anna.press(question, "Main")
    await anna.send("8")
    await scan(bot, anna, alice)
    (refused,) = await anna.send("5")
    assert "daily limit of 10 points" in refused.body
    (where,) = await anna.send("/where")
    await anna.press(where, "Harbour")
    await scan(bot, anna, alice)
    (issued,) = await anna.send("5")
    assert issued.body.startswith("✅ +5 points"), issued.body
    await scan(bot, anna, alice)
    (refused,) = await anna.send("6")
    assert "daily limit of 10 points" in refused.body


async def test_undo_and_a_coupon_hand_over_record_the_location(bot: BotHarness) -> None:
    anna, alice = await chain(bot)
    harbour = await location_id(bot, "Harbour")
    owner = bot.owner()
    await owner.send("/catalog add 5 Espresso")
    (question,) = await scan(bot, anna, alice)
    await anna.press(question, "Harbour")
    (confirmation,) = await anna.send("9")
    await anna.press(confirmation, "Undo")
    await scan(bot, anna, alice)
    await anna.send("9")
    entries = await bot.rows("SELECT kind, location_id, reverses_id FROM ledger ORDER BY id")
    assert [(e["kind"], e["location_id"]) for e in entries] == [
        ("earn", harbour), ("reversal", harbour), ("earn", harbour)
    ]  # fmt: skip
    (listing,) = await alice.send("/rewards")
    (coupon,) = await alice.press(listing, "Redeem")
    (shown,) = await anna.send(f"/start {qr_payload(coupon.photo)}")
    await anna.press(shown, "Confirm")
    row = await bot.rows("SELECT state, redeemed_location_id FROM coupons")
    assert row == [{"state": "redeemed", "redeemed_location_id": harbour}]
    redeem = await bot.rows("SELECT location_id FROM ledger WHERE kind = 'redeem'")
    assert redeem == [{"location_id": None}]  # the customer's debit: the chain's


async def test_a_barista_must_say_where_before_handing_over_a_coupon(bot: BotHarness) -> None:
    anna, alice = await chain(bot)
    owner = bot.owner()
    await owner.send("/catalog add 5 Espresso")
    (question,) = await scan(bot, owner, alice)  # the owner works anywhere: asked too
    await owner.press(question, "Main")
    await owner.send("9")
    (listing,) = await alice.send("/rewards")
    (coupon,) = await alice.press(listing, "Redeem")
    (shown,) = await anna.send(f"/start {qr_payload(coupon.photo)}")
    (asked,) = await anna.press(shown, "Confirm")
    assert "Where are you working now?" in asked.body
    await anna.press(asked, "Main")
    replies = await anna.press(shown, "Confirm")  # the button stayed
    assert any("Espresso" in r.body for r in replies)
    main = await location_id(bot, "Main")
    assert await bot.value("SELECT redeemed_location_id FROM coupons") == main


async def test_the_ledger_export_has_location_columns(bot: BotHarness) -> None:
    anna, alice = await chain(bot)
    (question,) = await scan(bot, anna, alice)
    await anna.press(question, "Harbour")
    await anna.send("5")
    owner = bot.owner()
    await owner.send("/export")
    (ledger,) = [
        m
        for m in owner.messages
        if m.method == "sendDocument" and "ledger" in (m.document_name or "")
    ]
    assert ledger.document is not None
    rows = list(csv.DictReader(io.StringIO(ledger.document.decode("utf-8").removeprefix("\ufeff"))))
    harbour = await location_id(bot, "Harbour")
    assert [(r["kind"], r["location"], r["location_name"]) for r in rows] == [
        ("earn", str(harbour), "Harbour")
    ]


# -- an existing database ----------------------------------------------------------------------


def _sqlite_at_14(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
        " applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
    )
    for number, statements in MIGRATIONS[:POSTGRESQL_BASELINE]:
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    conn.commit()
    conn.close()


def _postgresql_at_14(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(postgresql_schema())
        for number in range(1, POSTGRESQL_BASELINE + 1):
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))


_HISTORY = (
    "INSERT INTO members (id, tg_user_id, chat_id, first_name, created_at)"
    " VALUES (1, 2001, 2001, 'Alice', :at)",
    "INSERT INTO staff (tg_user_id, chat_id, first_name, added_by, added_at)"
    " VALUES (3001, 3001, 'Anna', 1000001, :at)",
    "INSERT INTO staff (tg_user_id, chat_id, first_name, added_by, added_at, removed_at)"
    " VALUES (3002, 3002, 'Ben', 1000001, :at, :at)",
    "INSERT INTO staff_invites (token, created_by, created_at, expires_at)"
    " VALUES ('sX', 1000001, :at, :at)",
    "INSERT INTO ledger (id, member_id, points, kind, reason, actor_id, amount_minor,"
    " idempotency_key, created_at) VALUES (1, 1, 5, 'earn', 'purchase', 3001, 500, 'scan:a', :at)",
    "INSERT INTO ledger (id, member_id, points, kind, reason, actor_id, amount_minor,"
    " reverses_id, idempotency_key, created_at)"
    " VALUES (2, 1, -5, 'reversal', 'undo', 3001, 500, 1, 'reverse:1', :at)",
    "INSERT INTO ledger (id, member_id, points, kind, reason, idempotency_key, created_at)"
    " VALUES (3, 1, 10, 'bonus', 'gift', 'bonus:1', :at)",
    "INSERT INTO scans (id, staff_id, member_id, created_at, entry_id, closed_at)"
    " VALUES ('a', 3001, 1, :at, 1, :at)",
)


async def test_an_existing_database_joins_the_default_location(
    tmp_path: Path, database_url: str | None
) -> None:
    target: Path | str
    if database_url is None:
        target = tmp_path / "loyalty.db"
        _sqlite_at_14(target)
    else:
        target = database_url
        _postgresql_at_14(database_url)
    # The history as a version-14 bot left it.
    if database_url is None:
        conn = sqlite3.connect(target)
        for statement in _HISTORY:
            conn.execute(statement.replace(":at", "?"), (to_db(START),) * statement.count(":at"))
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(database_url, autocommit=True) as pg:
            for statement in _HISTORY:
                pg.execute(statement.replace(":at", "%(at)s"), {"at": START})

    db = Database(target)
    await db.open()
    try:
        assert await db.version() >= 15
        (main,) = await db.reader.all(sql("SELECT id, name, closed_at FROM locations"))
        assert (main["name"], main["closed_at"]) == ("Main", None)
        places = await db.reader.all(sql("SELECT staff_id, location_id, role FROM staff_locations"))
        assert [dict(p) for p in places] == [
            {"staff_id": 3001, "location_id": main["id"], "role": "barista"}
        ]  # Ben had left: not placed anywhere
        entries = await db.reader.all(sql("SELECT id, location_id FROM ledger ORDER BY id"))
        assert [(e["id"], e["location_id"]) for e in entries] == [
            (1, main["id"]), (2, main["id"]), (3, None)
        ]  # fmt: skip
        assert await db.reader.value(sql("SELECT location_id FROM scans")) == main["id"]
        invite_row = await db.reader.one(sql("SELECT location_id, role FROM staff_invites"))
        assert invite_row is not None
        assert (invite_row["location_id"], invite_row["role"]) == (main["id"], "barista")
        balance = await db.reader.value(sql("SELECT balance FROM members WHERE id = 1"))
        assert balance == 10  # the backfill moved no points
        # The ledger is append-only again after the migration's one update.
        try:
            async with db.transaction() as tx:
                await tx.run(sql("UPDATE ledger SET location_id = NULL WHERE id = 1"))
        except ConstraintViolated as refused:
            assert "append-only" in str(refused)
        else:
            raise AssertionError("the ledger took an update")
        # A new location gets the next id (PostgreSQL's identity was not bypassed).
        async with db.transaction() as tx:
            added = await tx.value(
                sql("INSERT INTO locations (name, created_at) VALUES ('Two', :at) RETURNING id"),
                at=to_db(START),
            )
        assert added == main["id"] + 1
    finally:
        await db.close()
