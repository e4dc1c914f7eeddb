"""The PostgreSQL schema (storage/schema/postgresql.sql) against SQLite's migrated history:
the same tables, columns, keys and indexes, PostgreSQL's own types, the triggers that keep
the ledger's rules, and the migrations that bring a SQLite file to the shared schema."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from storage import ConstraintViolated, Database
from storage.engine import sql
from storage.migrations import MIGRATIONS, POSTGRESQL_BASELINE
from storage.port import NOT_MOVED, TABLES
from storage.timeutil import from_db, to_db
from tests.databases import fresh_schema, server_url

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NEWEST = MIGRATIONS[-1][0]

# Telegram's ids: user and chat ids pass 2**31 (and group chats are negative).
TELEGRAM_IDS = {
    "tg_user_id", "chat_id", "actor_id", "created_by", "set_by", "added_by", "used_by",
    "closed_by", "staff_id", "message_id", "progress_chat_id", "progress_message_id",
}  # fmt: skip
# Columns holding a moment whose names do not end in _at.
MOMENTS = {"winback_for", "effective_from", "comment_until"}
FLAGS = {
    ("rewards", "active"), ("offers", "announce"), ("members", "promotions_opt_out"),
    ("members", "service_opt_out"), ("outbox", "service"),
}  # fmt: skip
# Amounts in millionths of a minor unit: past 2**31 at everyday prices.
MICRO_AMOUNTS = {"ssp_micro", "deferred_micro"}


@pytest_asyncio.fixture
async def pg_url() -> AsyncIterator[str]:
    async with fresh_schema(server_url()) as url:
        yield url


@pytest_asyncio.fixture
async def pg(pg_url: str) -> AsyncIterator[Database]:
    database = Database(pg_url)
    await database.open()
    yield database
    await database.close()


@pytest_asyncio.fixture
async def lite(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "loyalty.db")
    await database.open()
    yield database
    await database.close()


# --- What each engine's catalogue says, in one comparable shape ----------------------

_PG_COLUMNS = sql(
    "SELECT table_name, column_name, data_type, is_nullable = 'YES' AS nullable,"
    " column_default IS NOT NULL AS has_default"
    " FROM information_schema.columns WHERE table_schema = current_schema()"
    " ORDER BY table_name, ordinal_position"
)
_PG_TABLES = sql(
    "SELECT table_name FROM information_schema.tables"
    " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
)
# Indexes created as indexes: those backing a PRIMARY KEY or UNIQUE constraint are the
# constraints' (SQLite's sqlite_autoindex_*), compared as keys below.
_PG_INDEXES = sql(
    "SELECT i.tablename AS table_name, i.indexname AS name,"
    " x.indisunique AS is_unique, x.indpred IS NOT NULL AS partial,"
    " ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(n, o)"
    "  LEFT JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.n"
    "  ORDER BY k.o) AS columns"
    " FROM pg_indexes AS i"
    " JOIN pg_class AS c ON c.relname = i.indexname"
    "  AND c.relnamespace = current_schema()::regnamespace"
    " JOIN pg_index AS x ON x.indexrelid = c.oid"
    " WHERE i.schemaname = current_schema()"
    " AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = c.oid)"
)
_PG_CONSTRAINTS = sql(
    "SELECT c.conrelid::regclass::text AS table_name, c.contype AS kind, c.conname AS name,"
    " ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o)"
    "  JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.n"
    "  ORDER BY k.o) AS columns,"
    " c.confrelid::regclass::text AS ref_table,"
    " (SELECT a.attname::text FROM pg_attribute AS a"
    "  WHERE a.attrelid = c.confrelid AND a.attnum = c.confkey[1]) AS ref_column"
    " FROM pg_constraint AS c WHERE c.connamespace = current_schema()::regnamespace"
)


class Catalogue:
    """Tables, columns, indexes and keys of one database."""

    def __init__(self) -> None:
        self.columns: dict[str, list[str]] = {}
        self.nullable: set[tuple[str, str]] = set()  # non-key columns that take NULL
        self.defaults: set[tuple[str, str]] = set()  # non-key columns with a DEFAULT
        self.indexes: dict[str, tuple[str, bool, bool, tuple[str | None, ...]]] = {}
        self.primary_keys: dict[str, tuple[str, ...]] = {}
        self.uniques: set[tuple[str, tuple[str, ...]]] = set()
        self.foreign_keys: set[tuple[str, str, str, str]] = set()
        self.checks: dict[str, int] = {}


async def sqlite_catalogue(db: Database) -> Catalogue:
    cat = Catalogue()
    tables = await db.reader.all(
        sql("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    )
    for table in tables:
        name = table["name"]
        cat.checks[name] = len(re.findall(r"\bCHECK\s*\(", table["sql"], re.IGNORECASE))
        columns = await db.reader.all(
            sql('SELECT name, "notnull", dflt_value, pk FROM pragma_table_info(:t) ORDER BY cid'),
            t=name,
        )
        cat.columns[name] = [c["name"] for c in columns]
        cat.primary_keys[name] = tuple(
            c["name"] for c in sorted((c for c in columns if c["pk"]), key=lambda c: c["pk"])
        )
        for c in columns:
            if not c["pk"]:
                if not c["notnull"]:
                    cat.nullable.add((name, c["name"]))
                if c["dflt_value"] is not None:
                    cat.defaults.add((name, c["name"]))
        for index in await db.reader.all(
            sql('SELECT name, "unique", partial, origin FROM pragma_index_list(:t)'), t=name
        ):
            keys = tuple(
                k["name"]
                for k in await db.reader.all(
                    sql("SELECT name FROM pragma_index_info(:i) ORDER BY seqno"), i=index["name"]
                )
            )
            if index["origin"] == "c":
                cat.indexes[index["name"]] = (
                    name,
                    bool(index["unique"]),
                    bool(index["partial"]),
                    keys,
                )
            elif index["origin"] == "u":
                cat.uniques.add((name, keys))
        for fk in await db.reader.all(
            sql('SELECT "from", "table", "to" FROM pragma_foreign_key_list(:t)'), t=name
        ):
            cat.foreign_keys.add((name, fk["from"], fk["table"], fk["to"]))
    return cat


async def postgresql_catalogue(db: Database) -> Catalogue:
    cat = Catalogue()
    for table in await db.reader.all(_PG_TABLES):
        cat.columns[table["table_name"]] = []
        cat.checks[table["table_name"]] = 0
    keyed: set[tuple[str, str]] = set()
    for con in await db.reader.all(_PG_CONSTRAINTS):
        table, columns = con["table_name"], tuple(con["columns"])
        if con["kind"] == "p":
            cat.primary_keys[table] = columns
            keyed.update((table, column) for column in columns)
        elif con["kind"] == "u":
            cat.uniques.add((table, columns))
        elif con["kind"] == "f":
            cat.foreign_keys.add((table, columns[0], con["ref_table"], con["ref_column"]))
        elif con["kind"] == "c":
            cat.checks[table] += 1
    for c in await db.reader.all(_PG_COLUMNS):
        table, column = c["table_name"], c["column_name"]
        cat.columns[table].append(column)
        if (table, column) not in keyed:
            if c["nullable"]:
                cat.nullable.add((table, column))
            if c["has_default"]:
                cat.defaults.add((table, column))
    for index in await db.reader.all(_PG_INDEXES):
        cat.indexes[index["name"]] = (
            index["table_name"],
            index["is_unique"],
            index["partial"],
            tuple(index["columns"]),
        )
    return cat


async def schema_version_rows(db: Database) -> list[tuple[int, Any]]:
    rows = await db.reader.all(
        sql("SELECT version, applied_at FROM schema_version ORDER BY version")
    )
    return [(row["version"], row["applied_at"]) for row in rows]


# --- Migrations ------------------------------------------------------------------------


async def test_a_fresh_database_migrates_to_the_newest_version_and_once(pg_url: str) -> None:
    first = Database(pg_url)
    await first.open()
    assert await first.version() == NEWEST
    history = await schema_version_rows(first)
    assert [version for version, _ in history] == list(range(1, NEWEST + 1))
    catalogue = await postgresql_catalogue(first)
    await first.close()

    again = Database(pg_url)
    await again.open()
    assert await schema_version_rows(again) == history  # nothing applied twice
    assert vars(await postgresql_catalogue(again)) == vars(catalogue)
    await again.close()


async def test_two_processes_starting_at_once_create_the_schema_once(pg_url: str) -> None:
    first, second = Database(pg_url), Database(pg_url)
    try:
        # Without the advisory lock both would create the tables, and one would fail.
        await asyncio.gather(first.open(), second.open())
        assert await first.version() == await second.version() == NEWEST
        versions = [version for version, _ in await schema_version_rows(first)]
        assert versions == list(range(1, NEWEST + 1))
    finally:
        await first.close()
        await second.close()


def test_the_baseline_is_the_newest_migration_or_before_it() -> None:
    assert POSTGRESQL_BASELINE <= NEWEST
    assert POSTGRESQL_BASELINE >= 14  # window renamed, NOCASE gone: see migration 14


# --- The same schema on both engines ---------------------------------------------------


async def test_postgresql_has_the_schema_sqlite_reaches_by_migrating(
    pg: Database, lite: Database
) -> None:
    want, got = await sqlite_catalogue(lite), await postgresql_catalogue(pg)
    assert sorted(got.columns) == sorted(want.columns)
    for table, columns in want.columns.items():
        assert got.columns[table] == columns, table
    assert got.primary_keys == want.primary_keys
    assert got.nullable == want.nullable
    assert got.defaults == want.defaults
    assert got.indexes == want.indexes
    assert got.uniques == want.uniques
    assert got.foreign_keys == want.foreign_keys
    assert got.checks == want.checks


async def test_postgresql_uses_its_own_types(pg: Database, lite: Database) -> None:
    """Ids are BIGINT, moments timestamptz, flags boolean; the rest keeps its kind."""
    got = {
        (c["table_name"], c["column_name"]): c["data_type"]
        for c in await pg.reader.all(_PG_COLUMNS)
    }
    wrong = []
    for table in (await sqlite_catalogue(lite)).columns:
        for c in await lite.reader.all(
            sql("SELECT name, type FROM pragma_table_info(:t)"), t=table
        ):
            column, kind = c["name"], c["type"]
            if table == "schema_version":
                want = "integer" if column == "version" else "timestamp with time zone"
            elif (table, column) in FLAGS:
                want = "boolean"
            elif kind == "INTEGER":
                is_id = column == "id" or column.endswith("_id") or column in TELEGRAM_IDS
                want = "bigint" if is_id or column in MICRO_AMOUNTS else "integer"
            elif column.endswith("_at") or column in MOMENTS:
                want = "timestamp with time zone"
            else:
                want = "text"
            if got[(table, column)] != want:
                wrong.append((table, column, got[(table, column)], want))
    assert wrong == []


# --- The triggers and constraints -------------------------------------------------------

_NEW_MEMBER = sql(
    "INSERT INTO members (tg_user_id, chat_id, first_name, created_at)"
    " VALUES (:tg, :chat, 'Alice', :at) RETURNING id, last_visit_at"
)
_ENTRY = sql(
    "INSERT INTO ledger (member_id, points, kind, reason, idempotency_key, created_at)"
    " VALUES (:member_id, :points, :kind, 'test', :key, :at) RETURNING id"
)
_MEMBER = sql("SELECT balance, last_visit_at FROM members WHERE id = :id")


async def new_member(db: Database, tg: int = 42, at: datetime = NOW) -> int:
    async with db.transaction() as tx:
        row = await tx.one(_NEW_MEMBER, tg=tg, chat=tg, at=to_db(at))
    assert row is not None
    return int(row["id"])


async def entry(
    db: Database, member_id: int, points: int, key: str, kind: str = "earn", at: datetime = NOW
) -> int:
    async with db.transaction() as tx:
        return int(
            await tx.value(
                _ENTRY, member_id=member_id, points=points, kind=kind, key=key, at=to_db(at)
            )
        )


async def test_the_ledger_is_append_only(pg: Database) -> None:
    member_id = await new_member(pg)
    entry_id = await entry(pg, member_id, 5, "k1")
    for statement in (
        "UPDATE ledger SET points = 50 WHERE id = :id",
        "DELETE FROM ledger WHERE id = :id",
        "TRUNCATE ledger CASCADE",  # without CASCADE the foreign keys refuse it first
    ):
        with pytest.raises(ConstraintViolated, match="append-only"):
            async with pg.transaction() as tx:
                await tx.run(sql(statement), id=entry_id)
    rows = await pg.reader.all(sql("SELECT id, points FROM ledger"))
    assert [(row["id"], row["points"]) for row in rows] == [(entry_id, 5)]


async def test_an_entry_moves_the_balance_and_an_overdraft_is_refused_by_name(
    pg: Database,
) -> None:
    member_id = await new_member(pg)
    await entry(pg, member_id, 10, "earn")
    await entry(pg, member_id, -4, "redeem", kind="redeem")
    assert (await pg.reader.one(_MEMBER, id=member_id))["balance"] == 6  # type: ignore[index]

    with pytest.raises(ConstraintViolated) as refused:
        await entry(pg, member_id, -7, "too much", kind="redeem")
    # The constraint says what happened, not the message's wording.
    assert refused.value.constraint == "members_balance_not_negative"
    assert (await pg.reader.one(_MEMBER, id=member_id))["balance"] == 6  # type: ignore[index]
    keys = await pg.reader.all(sql("SELECT idempotency_key FROM ledger ORDER BY id"))
    assert [row["idempotency_key"] for row in keys] == ["earn", "redeem"]


async def test_a_coupon_only_leaves_issued(pg: Database) -> None:
    member_id = await new_member(pg)
    debit = await entry(pg, member_id, 10, "earn")
    async with pg.transaction() as tx:
        reward_id = await tx.value(
            sql(
                "INSERT INTO rewards (title, cost, created_at) VALUES ('Latte', 5, :at)"
                " RETURNING id"
            ),
            at=to_db(NOW),
        )
        coupon_id = await tx.value(
            sql(
                "INSERT INTO coupons (token, code, member_id, reward_id, title, cost, issued_at,"
                " expires_at, debit_entry_id) VALUES ('t', 'c', :member_id, :reward_id, 'Latte', 5,"
                " :at, :until, :debit) RETURNING id"
            ),
            member_id=member_id,
            reward_id=reward_id,
            at=to_db(NOW),
            until=to_db(NOW + timedelta(days=30)),
            debit=debit,
        )
    set_state = sql("UPDATE coupons SET state = :state WHERE id = :id")
    with pytest.raises(ConstraintViolated, match="can only leave issued"):
        async with pg.transaction() as tx:
            await tx.run(set_state, state="issued", id=coupon_id)
    async with pg.transaction() as tx:
        assert await tx.run(set_state, state="redeemed", id=coupon_id) == 1
    for state in ("issued", "cancelled"):
        with pytest.raises(ConstraintViolated, match="can only leave issued"):
            async with pg.transaction() as tx:
                await tx.run(set_state, state=state, id=coupon_id)
    state = await pg.reader.value(sql("SELECT state FROM coupons WHERE id = :id"), id=coupon_id)
    assert state == "redeemed"


async def test_the_last_visit_follows_purchases_and_redemptions(pg: Database) -> None:
    joined = NOW
    member_id = await new_member(pg, at=joined)
    visit = sql("SELECT last_visit_at FROM members WHERE id = :id")
    assert await pg.reader.value(visit, id=member_id) == joined  # joining is the first visit

    await entry(pg, member_id, 5, "buy", at=joined + timedelta(days=2))
    assert await pg.reader.value(visit, id=member_id) == joined + timedelta(days=2)
    await entry(pg, member_id, 5, "late sync", at=joined + timedelta(days=1))  # older: stays
    await entry(pg, member_id, 5, "gift", kind="adjust", at=joined + timedelta(days=3))
    assert await pg.reader.value(visit, id=member_id) == joined + timedelta(days=2)
    await entry(pg, member_id, -3, "use", kind="redeem", at=joined + timedelta(days=4))
    assert await pg.reader.value(visit, id=member_id) == joined + timedelta(days=4)

    # A member copied with a last visit of their own keeps it.
    async with pg.transaction() as tx:
        kept = await tx.one(
            sql(
                "INSERT INTO members (tg_user_id, chat_id, first_name, created_at, last_visit_at)"
                " VALUES (7, 7, 'Bob', :at, :visit) RETURNING last_visit_at"
            ),
            at=to_db(joined),
            visit=to_db(joined + timedelta(hours=5)),
        )
    assert kept is not None and kept["last_visit_at"] == joined + timedelta(hours=5)


async def test_reward_titles_are_unique_whatever_their_case(pg: Database) -> None:
    add = sql("INSERT INTO rewards (title, cost, created_at) VALUES (:title, 5, :at)")
    async with pg.transaction() as tx:
        await tx.run(add, title="Flat White", at=to_db(NOW))
    with pytest.raises(ConstraintViolated):
        async with pg.transaction() as tx:
            await tx.run(add, title="FLAT white", at=to_db(NOW))
    row = await pg.reader.one(
        sql("SELECT title, active FROM rewards WHERE lower(title) = lower(:title)"),
        title="flat WHITE",
    )
    assert row is not None and (row["title"], row["active"]) == ("Flat White", True)


async def test_telegram_ids_past_32_bits_round_trip(pg: Database) -> None:
    user_id, group_chat = 2**40 + 3, -1_002_345_678_901
    async with pg.transaction() as tx:
        member_id = await tx.value(
            sql(
                "INSERT INTO members (id, tg_user_id, chat_id, first_name, created_at)"
                " VALUES (:id, :tg, :chat, 'Alice', :at) RETURNING id"
            ),
            id=2**33,  # an id kept from a SQLite file (the identity is BY DEFAULT)
            tg=user_id,
            chat=group_chat,
            at=to_db(NOW),
        )
        await tx.run(
            sql(
                "INSERT INTO ledger (member_id, points, kind, reason, actor_id, idempotency_key,"
                " created_at) VALUES (:member_id, 1, 'earn', 'x', :actor, 'k', :at)"
            ),
            member_id=member_id,
            actor=2**62,
            at=to_db(NOW),
        )
    row = await pg.reader.one(
        sql(
            "SELECT m.id, m.tg_user_id, m.chat_id, m.created_at, e.actor_id FROM members AS m"
            " JOIN ledger AS e ON e.member_id = m.id WHERE m.tg_user_id = :tg"
        ),
        tg=user_id,
    )
    assert row is not None
    assert (row["id"], row["tg_user_id"], row["chat_id"], row["actor_id"]) == (
        2**33,
        user_id,
        group_chat,
        2**62,
    )
    assert from_db(row["created_at"]) == NOW


# --- SQLite: an existing file reaches the shared schema ---------------------------------


def sqlite_file_at(path: Path, version: int) -> None:
    """A database as a bot of schema ``version`` left it (its migrations, applied)."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")  # as the bot leaves its file
    conn.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
        " applied_at TEXT NOT NULL DEFAULT (datetime('now')))"
    )
    for number, statements in MIGRATIONS[:version]:
        for statement in statements:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    conn.commit()
    conn.close()


async def test_a_sqlite_file_at_13_upgrades_keeping_offers_and_rewards(tmp_path: Path) -> None:
    path = tmp_path / "loyalty.db"
    sqlite_file_at(path, 13)
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO rewards (id, title, cost, active, created_at)"
        " VALUES (3, 'Flat White', 40, 1, ?)",
        (to_db(NOW),),
    )
    conn.execute(
        "INSERT INTO offers (id, title, kind, bonus_points, starts_at, ends_at, window, audience,"
        " created_by, created_at) VALUES (5, 'Happy hour', 'bonus', 10, ?, ?,"
        " 'Mon-Fri 15:00-17:00', 'all', 1, ?)",
        (to_db(NOW), to_db(NOW + timedelta(days=7)), to_db(NOW)),
    )
    conn.commit()
    conn.close()

    db = Database(path)
    await db.open()
    try:
        assert await db.version() == NEWEST
        offer = await db.reader.one(sql("SELECT * FROM offers WHERE id = 5"))
        assert offer is not None and "window" not in offer
        assert (offer["title"], offer["hours"], offer["bonus_points"]) == (
            "Happy hour",
            "Mon-Fri 15:00-17:00",
            10,
        )
        found = await db.reader.one(
            sql("SELECT id, title, cost FROM rewards WHERE lower(title) = lower(:title)"),
            title="FLAT WHITE",
        )
        assert found is not None and tuple(found.values()) == (3, "Flat White", 40)
        with pytest.raises(ConstraintViolated):
            async with db.transaction() as tx:
                await tx.run(
                    sql("INSERT INTO rewards (title, cost, created_at) VALUES (:t, 1, :at)"),
                    t="flat white",
                    at=to_db(NOW),
                )
        plan = await db.reader.all(
            sql("EXPLAIN QUERY PLAN SELECT id FROM rewards WHERE lower(title) = lower(:title)"),
            title="x",
        )
        assert any("rewards_title" in row["detail"] for row in plan)
    finally:
        await db.close()


async def test_the_mover_copies_every_table_the_schema_has(lite: Database) -> None:
    """``loyalty-bot move-to`` names every table: a new one cannot be left behind."""
    tables = {
        row["name"]
        for row in await lite.reader.all(
            sql("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        )
    }
    assert tables - {"schema_version"} == set(TABLES) | set(NOT_MOVED)
