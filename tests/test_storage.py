"""Storage against real SQLite files: migrations, transactions, ledger consistency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest
import pytest_asyncio

from bot.domain import EntryKind
from storage import Database
from storage import ledger as ledger_store
from storage import members as member_store
from storage.ledger import Overdraft
from storage.migrations import MIGRATIONS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest_asyncio.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "nested" / "loyalty.db")
    await database.open()
    yield database
    await database.close()


async def new_member(db: Database, tg_user_id: int = 42) -> int:
    async with db.transaction() as tx:
        member, _ = await member_store.upsert(
            tx,
            tg_user_id=tg_user_id,
            chat_id=tg_user_id,
            first_name="Alice",
            username=None,
            language="en",
            now=NOW,
        )
    return member.id


async def earn(db: Database, member_id: int, points: int, key: str) -> bool:
    async with db.transaction() as tx:
        _, created = await ledger_store.append(
            tx,
            member_id=member_id,
            points=points,
            kind=EntryKind.EARN,
            reason="test",
            idempotency_key=key,
            now=NOW,
            actor_id=7,
        )
    return created


async def test_migrations_from_an_empty_file(db: Database, tmp_path: Path) -> None:
    assert (tmp_path / "nested" / "loyalty.db").exists()
    assert await db.version() == MIGRATIONS[-1][0]
    async with db.reader.execute("PRAGMA journal_mode") as cur:
        assert (await cur.fetchone())[0] == "wal"  # type: ignore[index]
    async with db.reader.execute("PRAGMA foreign_keys") as cur:
        assert (await cur.fetchone())[0] == 1  # type: ignore[index]


async def test_migrations_rerun_on_an_existing_file_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "loyalty.db"
    first = Database(path)
    await first.open()
    member_id = await new_member(first)
    await earn(first, member_id, 5, "k1")
    await first.close()

    second = Database(path)
    await second.open()
    async with second.reader.execute("SELECT COUNT(*) FROM schema_version") as cur:
        assert (await cur.fetchone())[0] == len(MIGRATIONS)  # type: ignore[index]
    member = await member_store.by_id(second.reader, member_id)
    assert member is not None and member.balance == 5
    await second.close()


async def test_balance_matches_ledger_under_100_concurrent_inserts(db: Database) -> None:
    member_id = await new_member(db)
    results = await asyncio.gather(*(earn(db, member_id, i + 1, f"k{i}") for i in range(100)))
    assert all(results)
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None
    assert member.balance == sum(range(1, 101)) == await ledger_store.total(db.reader, member_id)


async def test_concurrent_inserts_with_one_key_count_once(db: Database) -> None:
    member_id = await new_member(db)
    results = await asyncio.gather(*(earn(db, member_id, 10, "same-key") for _ in range(20)))
    assert results.count(True) == 1
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None and member.balance == 10


async def test_overdraft_is_refused_and_nothing_is_written(db: Database) -> None:
    member_id = await new_member(db)
    await earn(db, member_id, 5, "k1")
    with pytest.raises(Overdraft):
        await earn(db, member_id, -6, "k2")
    assert await ledger_store.by_key(db.reader, "k2") is None
    assert await ledger_store.total(db.reader, member_id) == 5


async def test_a_failing_transaction_rolls_back_everything(db: Database) -> None:
    member_id = await new_member(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await ledger_store.append(
                tx,
                member_id=member_id,
                points=3,
                kind=EntryKind.EARN,
                reason="half",
                idempotency_key="half",
                now=NOW,
            )
            raise RuntimeError("crash between two writes")
    assert await ledger_store.by_key(db.reader, "half") is None
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None and member.balance == 0


async def test_the_ledger_is_append_only(db: Database) -> None:
    member_id = await new_member(db)
    await earn(db, member_id, 5, "k1")
    for statement in ("UPDATE ledger SET points = 500", "DELETE FROM ledger"):
        with pytest.raises(aiosqlite.IntegrityError, match="append-only"):
            async with db.transaction() as tx:
                await tx.execute(statement)
    assert await ledger_store.total(db.reader, member_id) == 5


async def test_upsert_is_idempotent_and_refreshes_the_profile(db: Database) -> None:
    first = await new_member(db, 42)
    async with db.transaction() as tx:
        member, created = await member_store.upsert(
            tx,
            tg_user_id=42,
            chat_id=42,
            first_name="Alicia",
            username="al",
            language="de",
            now=NOW,
        )
    assert (member.id, created, member.first_name) == (first, False, "Alicia")


async def test_a_failing_migration_rolls_back_and_closes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.db

    broken = (*MIGRATIONS, (MIGRATIONS[-1][0] + 1, ("CREATE TABLE x (a)", "NOT SQL AT ALL")))
    monkeypatch.setattr(storage.db, "MIGRATIONS", broken)
    database = Database(tmp_path / "loyalty.db")
    with pytest.raises(aiosqlite.OperationalError):
        await database.open()
    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS)
    reopened = Database(tmp_path / "loyalty.db")
    await reopened.open()
    assert await reopened.version() == MIGRATIONS[-1][0]
    async with reopened.reader.execute(
        "SELECT COUNT(*) FROM sqlite_master WHERE name = 'x'"
    ) as cur:
        assert (await cur.fetchone())[0] == 0  # type: ignore[index]
    await reopened.close()


async def test_a_failed_commit_rolls_back_and_the_writer_stays_usable(db: Database) -> None:
    member_id = await new_member(db)
    # A deferred foreign key is only checked at COMMIT, so COMMIT itself fails.
    with pytest.raises(aiosqlite.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("PRAGMA defer_foreign_keys = ON")
            await earn_in(tx, member_id, 5, "kept-out")
            await tx.execute(
                "INSERT INTO ledger (member_id, points, kind, reason, idempotency_key,"
                " created_at) VALUES (999999, 1, 'earn', 'orphan', 'orphan', '2026-11-23')"
            )
    # Nothing of the failed transaction stayed, and the next one commits normally.
    assert await earn(db, member_id, 7, "after")
    async with db.reader.execute("SELECT idempotency_key, points FROM ledger") as cur:
        assert [tuple(row) for row in await cur.fetchall()] == [("after", 7)]
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None and member.balance == 7


async def earn_in(tx: aiosqlite.Connection, member_id: int, points: int, key: str) -> None:
    await ledger_store.append(
        tx,
        member_id=member_id,
        points=points,
        kind=EntryKind.EARN,
        reason="test",
        idempotency_key=key,
        now=NOW,
    )
