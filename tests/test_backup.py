"""Backups while the bot writes, restored and checked: every entry, an intact ledger."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.domain import EntryKind
from sandbox.botapi import TOKEN
from storage import Database
from storage import ledger as ledger_store
from storage import members as member_store
from storage.backup import backup, prune, verify
from tests.conftest import BotFactory
from tests.test_process import ROOT, command

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def write_entries(db: Database, member_id: int, count: int, written: list[str]) -> None:
    for n in range(count):
        async with db.transaction() as tx:
            await ledger_store.append(
                tx, member_id=member_id, points=1 + n % 5, kind=EntryKind.EARN,
                reason="purchase", idempotency_key=f"w{n}", now=NOW, amount_minor=100,
            )  # fmt: skip
        written.append(f"w{n}")
        await asyncio.sleep(0)


@pytest.mark.sqlite_only  # SQLite's backup API; PostgreSQL's backups are pg_dump's
async def test_a_backup_during_writes_restores_whole(tmp_path: Path) -> None:
    db = Database(tmp_path / "live" / "loyalty.db")
    await db.open()
    async with db.transaction() as tx:
        member, _ = await member_store.upsert(
            tx, tg_user_id=1, chat_id=1, first_name="A", username=None, language=None, now=NOW
        )
    written: list[str] = []
    writer = asyncio.create_task(write_entries(db, member.id, 400, written))
    await asyncio.sleep(0.05)
    committed_before = list(written)
    target = tmp_path / "backups" / "loyalty-2026-11-23.db"
    await asyncio.to_thread(backup, db.path, target)
    await writer
    await db.close()
    assert 0 < len(committed_before) < 400  # it really ran during the writes

    verdict = verify(target)
    assert verdict.ok and verdict.integrity == "ok" and verdict.balances_match
    copy = sqlite3.connect(target)
    keys = {row[0] for row in copy.execute("SELECT idempotency_key FROM ledger")}
    copy.close()
    assert set(committed_before) <= keys  # every entry committed before it began
    assert verdict.entries == len(keys) >= len(committed_before)


@pytest.mark.sqlite_only
async def test_restore_from_the_command_line(tmp_path: Path) -> None:
    live = tmp_path / "data" / "loyalty.db"
    db = Database(live)
    await db.open()
    async with db.transaction() as tx:
        member, _ = await member_store.upsert(
            tx, tg_user_id=1, chat_id=1, first_name="A", username=None, language=None, now=NOW
        )
    written: list[str] = []
    await write_entries(db, member.id, 10, written)
    await db.close()
    env = {**os.environ, "BOT_TOKEN": TOKEN, "DATABASE_PATH": str(live), "PYTHONPATH": ROOT}

    async def run(*args: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            *command(), *args, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    code, out, _ = await run("backup", str(tmp_path / "saved.db"))
    assert code == 0 and "1 members, 10 ledger entries, integrity ok" in out
    # Then the live database is damaged.
    live.write_bytes(b"not a database any more" * 100)
    for leftover in ("-wal", "-shm"):
        live.with_name(live.name + leftover).unlink(missing_ok=True)
    code, out, err = await run("restore", str(tmp_path / "saved.db"))
    assert code == 0, err
    assert "Restored" in out and "10 ledger entries" in out
    assert verify(live).ok and verify(live).entries == 10
    kept = list(live.parent.glob("loyalty.db.before-restore-*"))
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"not a database")
    # A damaged file is never restored.
    (tmp_path / "broken.db").write_bytes(b"garbage")
    code, _, err = await run("restore", str(tmp_path / "broken.db"))
    assert code == 1 and err.startswith("Configuration error: restore:")


def test_old_backups_are_pruned(tmp_path: Path) -> None:
    for day in range(1, 11):
        (tmp_path / f"loyalty-2026-11-{day:02d}.db").write_bytes(b"x")
    deleted = prune(tmp_path, "loyalty-*.db", 7)
    assert [p.name for p in deleted] == [f"loyalty-2026-11-{d:02d}.db" for d in (1, 2, 3)]
    assert len(list(tmp_path.glob("loyalty-*.db"))) == 7


@pytest.mark.sqlite_only
async def test_the_daily_backup_job(bot_factory: BotFactory, tmp_path: Path) -> None:
    bot = await bot_factory(backup_dir=tmp_path / "nightly", backup_keep=2)
    await bot.customer(2001, "Alice")
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name("backup")
    for day in (23, 24, 24, 25):
        bot.clock.current = datetime(2026, 11, day, 10, 0, tzinfo=UTC)
        await job.run(bot.app)
    names = sorted(p.name for p in (tmp_path / "nightly").glob("loyalty-*.db"))
    assert names == ["loyalty-2026-11-24.db", "loyalty-2026-11-25.db"]  # two kept
    assert verify(tmp_path / "nightly" / names[-1]).members == 1  # Alice


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_daily_backup_job_leaves_postgresql_to_pg_dump(
    bot_factory: BotFactory, tmp_path: Path
) -> None:
    bot = await bot_factory(backup_dir=tmp_path / "nightly")
    await bot.customer(2001, "Alice")
    assert bot.app.job_queue is not None
    (job,) = bot.app.job_queue.get_jobs_by_name("backup")
    await job.run(bot.app)  # no SQLite file to copy, and no error for the owner
    assert not (tmp_path / "nightly").exists()
    assert not bot.services.settings.database_path.exists()
