"""Moving a café from its SQLite file to an empty PostgreSQL database, ids kept.

Modelled on Matrix Synapse's ``synapse_port_db``: the target gets this version's schema,
then every table is copied in an order that satisfies its foreign keys, in batches, in
one transaction (a failure leaves the target empty, ready for another try). Balances are
not copied but rebuilt: members arrive with none, and the ledger's own trigger adds each
entry in order, so every balance equals its ledger sum by construction; they are then
compared with the SQLite file's. The card signing key is in ``meta`` and moves too, so
printed and saved QR cards keep working.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.backup import verify
from storage.db import Database, StorageError
from storage.engine import Conn, Engine, sql
from storage.migrations import MIGRATIONS

BATCH = 2_000

# Every table, parents before children. tests/test_postgresql_schema.py checks that this
# and NOT_MOVED name exactly the tables the schema has, so a new one cannot be forgotten.
TABLES = (
    "meta",
    "members",
    "languages",
    "rewards",
    "offers",
    "locations",
    "offer_locations",
    "staff",
    "staff_locations",
    "staff_whereabouts",
    "staff_invites",
    "owners",
    "owner_claims",
    "card_codes",
    "ledger",
    "scans",
    "audit_log",
    "coupons",
    "coupon_messages",
    "broadcasts",
    "broadcast_recipients",
    "broadcast_texts",
    "referrals",
    "feedback",
    "outbox",
    "sale_allocations",
    "redemption_rates",
    "conversation_states",
    "conversation_user_data",
    "error_alerts",
)
# Not copied: they describe the bot processes running on the SQLite file (heartbeats, job
# leases, the replies each sent in the last seconds, the webhook updates it handled), not
# the café; the bot on PostgreSQL writes its own.
NOT_MOVED = ("leases", "replicas", "reply_counts", "handled_updates")
# Rebuilt on the target, not copied (see the module's docstring).
REBUILT = {("members", "balance")}
# Tables the target's migrations fill (the default location): emptied before the copy,
# which brings the SQLite file's rows with their ids.
SEEDED = ("locations",)


@dataclass(frozen=True, slots=True)
class Moved:
    table: str
    source_rows: int
    target_rows: int


@dataclass(frozen=True, slots=True)
class PortReport:
    tables: tuple[Moved, ...]
    balances_match: bool  # every member's balance equals the SQLite file's

    @property
    def ok(self) -> bool:
        return self.balances_match and all(t.source_rows == t.target_rows for t in self.tables)


def _batches(
    source: sqlite3.Connection, table: str, columns: list[str]
) -> Iterator[list[dict[str, Any]]]:
    # rowid order: the order rows were written, so a row's parents (ledger reversals,
    # which point at earlier entries) always arrive first.
    cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid")
    while rows := cursor.fetchmany(BATCH):
        yield [dict(zip(columns, row, strict=True)) for row in rows]


async def port(
    sqlite_path: Path, url: str, progress: Callable[[str], None] = lambda _: None
) -> PortReport:
    """Copy the SQLite database at ``sqlite_path`` into the empty PostgreSQL database at
    ``url``. Raises StorageError (one line) when the source or the target will not do."""
    verdict = verify(sqlite_path)
    if not verdict.ok:
        raise StorageError(
            f"{sqlite_path} is not whole (integrity {verdict.integrity}): restore a backup first"
        )
    if verdict.schema_version != MIGRATIONS[-1][0]:
        raise StorageError(
            f"{sqlite_path} is at schema {verdict.schema_version}, this bot at "
            f"{MIGRATIONS[-1][0]}: start this version once on the SQLite file, then move it"
        )
    target = Database(url)
    if target.engine is not Engine.POSTGRESQL:
        raise StorageError("the target must be a postgresql:// URL")
    await target.open()  # creates this version's schema in an empty database
    # Blocking reads of the source are fine here: a one-off command, alone on its loop.
    source_uri = f"{sqlite_path.resolve().as_uri()}?mode=ro"  # noqa: ASYNC240
    source = sqlite3.connect(source_uri, uri=True)
    try:
        for table in TABLES:
            if table in SEEDED:
                continue
            if await target.reader.value(sql(f"SELECT 1 AS found FROM {table} LIMIT 1")):
                raise StorageError(
                    f"the PostgreSQL database is not empty (table {table} has rows): "
                    "move into a new, empty database"
                )
        booleans = await _boolean_columns(target)
        async with target.transaction() as tx:
            for table in SEEDED:
                await tx.run(sql(f"DELETE FROM {table}"))
            for table in TABLES:
                columns = [
                    row[1]
                    for row in source.execute(f"PRAGMA table_info({table})")
                    if (table, row[1]) not in REBUILT
                ]
                insert = sql(
                    f"INSERT INTO {table} ({', '.join(columns)})"
                    f" VALUES ({', '.join(':' + c for c in columns)})"
                )
                flags = [c for c in columns if (table, c) in booleans]
                moved = 0
                for batch in _batches(source, table, columns):
                    for row in batch:
                        for column in flags:
                            if row[column] is not None:
                                row[column] = bool(row[column])
                    await tx.run_many(insert, batch)
                    moved += len(batch)
                progress(f"{table}: {moved} rows")
            await _advance_identities(tx, columns_with_identity=await _identity_tables(target))
        report = await _compare(source, target)
    finally:
        source.close()
        await target.close()
    return report


async def _boolean_columns(target: Database) -> set[tuple[str, str]]:
    rows = await target.reader.all(
        sql(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type = 'boolean'"
        )
    )
    return {(row["table_name"], row["column_name"]) for row in rows}


async def _identity_tables(target: Database) -> list[str]:
    rows = await target.reader.all(
        sql(
            "SELECT table_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND is_identity = 'YES'"
            " AND column_name = 'id'"
        )
    )
    return sorted(row["table_name"] for row in rows)


async def _advance_identities(tx: Conn, *, columns_with_identity: list[str]) -> None:
    """New rows continue after the copied ids."""
    for table in columns_with_identity:
        await tx.value(
            sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false) AS v"
            )
        )


async def _compare(source: sqlite3.Connection, target: Database) -> PortReport:
    moved = []
    for table in TABLES:
        (count,) = source.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        copied = await target.reader.value(sql(f"SELECT COUNT(*) AS n FROM {table}"))
        moved.append(Moved(table, int(count), int(copied or 0)))
    before = dict(source.execute("SELECT id, balance FROM members").fetchall())
    rows = await target.reader.all(
        sql(
            "SELECT m.id, m.balance, COALESCE(SUM(l.points), 0) AS total FROM members m"
            " LEFT JOIN ledger l ON l.member_id = m.id GROUP BY m.id, m.balance"
        )
    )
    after = {row["id"]: int(row["balance"]) for row in rows}
    sums_match = all(int(row["balance"]) == int(row["total"]) for row in rows)
    return PortReport(tuple(moved), balances_match=sums_match and after == before)
