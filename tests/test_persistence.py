"""Conversations kept in the database across restarts: migration 12, the storage and
service, and PTB's persistence interface on top of them, against real databases: a SQLite
file and a PostgreSQL schema (the ``database_url`` fixture)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pydantic import BaseModel

from bot.clock import Clock
from bot.services.conversations import ConversationService
from bot.telegram.persistence import DatabasePersistence
from storage import Database
from storage.engine import sql
from storage.migrations import MIGRATIONS
from storage.timeutil import from_db, to_db

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OWNER = 1_000_001
CUSTOMER = 2_000_002


class StepClock(Clock):
    def __init__(self) -> None:
        self.current = START

    def now(self) -> datetime:
        return self.current


class Draft(BaseModel):
    title: str = ""
    bonus: int | None = None


class Drafts(BaseModel):
    offer: Draft | None = None
    step_count: int = 0


class Step(IntEnum):
    TITLE = 0
    BONUS = 7


class CountingConversations(ConversationService):
    """The real service, counting the user-data writes that reach the database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db, clock)
        self.user_data_writes = 0

    async def save_user_data(self, tg_user_id: int, data: str | None) -> None:
        self.user_data_writes += 1
        await super().save_user_data(tg_user_id, data)


class Bot:
    """One run of the bot's storage: a database opened lazily, as the app does when PTB
    asks for the conversations inside Application.initialize()."""

    def __init__(self, target: Path | str, clock: StepClock) -> None:
        self.target = target
        self.clock = clock
        self.db: Database | None = None
        self.service: CountingConversations | None = None
        self.opened = 0

    async def conversations(self) -> ConversationService:
        if self.service is None:
            self.db = Database(self.target)
            await self.db.open()
            self.service = CountingConversations(self.db, self.clock)
            self.opened += 1
        return self.service

    def persistence(self) -> DatabasePersistence[Drafts, dict[Any, Any]]:
        return DatabasePersistence(self.conversations, Drafts)

    @property
    def writes(self) -> int:
        return 0 if self.service is None else self.service.user_data_writes

    async def rows(self, table: str) -> list[tuple[Any, ...]]:
        """A table's rows in key order, its moments as datetimes on either engine."""
        await self.conversations()
        assert self.db is not None
        rows = await self.db.reader.all(sql(f"SELECT * FROM {table}"))
        return sorted(
            tuple(from_db(value) if key == "updated_at" else value for key, value in row.items())
            for row in rows
        )

    async def close(self) -> None:
        if self.db is not None:
            await self.db.close()
        self.db = self.service = None


@pytest_asyncio.fixture
async def run(
    tmp_path: Path, database_url: str | None
) -> AsyncIterator[Callable[[], Awaitable[Bot]]]:
    """Start the bot's storage; call again after closing the previous one for a restart."""
    clock = StepClock()
    runs: list[Bot] = []
    target = database_url if database_url is not None else tmp_path / "data" / "loyalty.db"

    async def start() -> Bot:
        bot = Bot(target, clock)
        runs.append(bot)
        return bot

    yield start
    for bot in runs:
        await bot.close()


async def test_conversation_states_survive_a_restart(run: Callable[[], Awaitable[Bot]]) -> None:
    first = await run()
    persistence = first.persistence()
    assert first.opened == 0  # nothing is opened before PTB asks
    assert await persistence.get_conversations("offer") == {}
    assert first.opened == 1
    await persistence.update_conversation("offer", (OWNER, OWNER), 3)
    await persistence.update_conversation("offer", (OWNER, OWNER), Step.BONUS)
    await persistence.update_conversation("offer", (-100_123, OWNER), 4)
    await persistence.update_conversation("broadcast", (OWNER, OWNER), 0)
    await persistence.update_conversation("menu", (OWNER, "AgAAAInline-ID"), 2)
    await persistence.update_conversation("broadcast", (42, 42), 1)
    await persistence.update_conversation("broadcast", (42, 42), None)  # ended
    await persistence.update_conversation("broadcast", (43, 43), None)  # never started
    assert await first.rows("conversation_states") == [
        ("broadcast", f"[{OWNER},{OWNER}]", 0, START),
        ("menu", f'[{OWNER},"AgAAAInline-ID"]', 2, START),
        ("offer", f"[-100123,{OWNER}]", 4, START),
        ("offer", f"[{OWNER},{OWNER}]", 7, START),
    ]
    await persistence.flush()
    await first.close()

    second = await run()
    restarted = second.persistence()
    offer = await restarted.get_conversations("offer")
    assert offer == {(OWNER, OWNER): 7, (-100_123, OWNER): 4}
    assert all(type(state) is int for state in offer.values())
    assert await restarted.get_conversations("broadcast") == {(OWNER, OWNER): 0}
    assert await restarted.get_conversations("menu") == {(OWNER, "AgAAAInline-ID"): 2}
    assert await restarted.get_conversations("unknown") == {}


async def test_only_integer_states_are_stored(run: Callable[[], Awaitable[Bot]]) -> None:
    bot = await run()
    persistence = bot.persistence()
    for state in ("TITLE", True, 1.5, object()):
        with pytest.raises(TypeError, match="only integer states"):
            await persistence.update_conversation("offer", (OWNER, OWNER), state)
    assert await bot.rows("conversation_states") == []


async def test_user_data_survives_a_restart(run: Callable[[], Awaitable[Bot]]) -> None:
    first = await run()
    persistence = first.persistence()
    assert await persistence.get_user_data() == {}
    draft = Drafts(offer=Draft(title="Welcome week", bonus=10), step_count=3)
    await persistence.update_user_data(OWNER, draft)
    assert await first.rows("conversation_user_data") == [(OWNER, draft.model_dump_json(), START)]
    await persistence.flush()
    await first.close()

    second = await run()
    restarted = second.persistence()
    assert await restarted.get_user_data() == {OWNER: draft}
    # Loaded data handed back unchanged is not written again.
    await restarted.update_user_data(OWNER, draft.model_copy(deep=True))
    assert second.writes == 0


async def test_empty_user_data_has_no_row(run: Callable[[], Awaitable[Bot]]) -> None:
    bot = await run()
    persistence = bot.persistence()
    await persistence.get_user_data()
    for _ in range(100):  # a barista's day of scans: every customer's data is empty
        await persistence.update_user_data(CUSTOMER, Drafts())
    assert await bot.rows("conversation_user_data") == []
    assert bot.writes == 0

    # A finished wizard empties the data again: the row goes.
    await persistence.update_user_data(OWNER, Drafts(step_count=1))
    await persistence.update_user_data(OWNER, Drafts())
    assert await bot.rows("conversation_user_data") == []
    assert bot.writes == 2


async def test_unchanged_user_data_is_written_once(run: Callable[[], Awaitable[Bot]]) -> None:
    bot = await run()
    persistence = bot.persistence()
    await persistence.get_user_data()
    draft = Drafts(offer=Draft(title="Happy hour"))
    await persistence.update_user_data(OWNER, draft)
    bot.clock.current += timedelta(minutes=5)
    for _ in range(10):
        await persistence.update_user_data(OWNER, draft.model_copy(deep=True))
    assert bot.writes == 1
    assert await bot.rows("conversation_user_data") == [(OWNER, draft.model_dump_json(), START)]

    changed = Drafts(offer=Draft(title="Happy hour", bonus=5))
    await persistence.update_user_data(OWNER, changed)
    assert bot.writes == 2
    assert await bot.rows("conversation_user_data") == [
        (OWNER, changed.model_dump_json(), START + timedelta(minutes=5))
    ]


async def test_update_before_loading_still_compares_with_the_rows(
    run: Callable[[], Awaitable[Bot]],
) -> None:
    first = await run()
    draft = Drafts(step_count=2)
    await first.persistence().update_user_data(OWNER, draft)
    await first.close()

    second = await run()
    persistence = second.persistence()
    await persistence.update_user_data(OWNER, draft)  # get_user_data was never called
    assert second.writes == 0
    await persistence.update_user_data(OWNER, Drafts())
    assert await second.rows("conversation_user_data") == []


async def test_dropped_user_data_is_deleted(run: Callable[[], Awaitable[Bot]]) -> None:
    bot = await run()
    persistence = bot.persistence()
    await persistence.get_user_data()
    draft = Drafts(step_count=4)
    await persistence.update_user_data(OWNER, draft)
    await persistence.drop_user_data(OWNER)
    assert await bot.rows("conversation_user_data") == []
    # The same data again is a change now, so it is written again.
    await persistence.update_user_data(OWNER, draft)
    assert len(await bot.rows("conversation_user_data")) == 1


async def test_a_row_that_no_longer_fits_is_dropped_with_a_warning(
    run: Callable[[], Awaitable[Bot]], caplog: pytest.LogCaptureFixture
) -> None:
    bot = await run()
    await bot.conversations()
    assert bot.db is not None
    good = Drafts(offer=Draft(title="Still fine"))
    async with bot.db.transaction() as tx:
        await tx.run_many(
            sql(
                "INSERT INTO conversation_user_data (tg_user_id, data, updated_at)"
                " VALUES (:user, :data, :at)"
            ),
            [
                {"user": user, "data": data, "at": to_db(START)}
                for user, data in [
                    (1, '{"offer": {"title": "x", "bonus": "many"}}'),  # changed type
                    (2, "{not json"),
                    (3, good.model_dump_json()),
                ]
            ],
        )
    caplog.set_level(logging.WARNING, logger="bot.telegram.persistence")
    persistence = bot.persistence()
    assert await persistence.get_user_data() == {3: good}
    warnings = [r for r in caplog.records if r.name == "bot.telegram.persistence"]
    assert [(r.levelname, r.args[0] if isinstance(r.args, tuple) else None) for r in warnings] == [
        ("WARNING", 1),
        ("WARNING", 2),
    ]
    assert "many" not in caplog.text  # what the person typed stays out of the log
    assert [row[0] for row in await bot.rows("conversation_user_data")] == [3]
    # The person whose row went starts afresh: empty data needs no write.
    writes = bot.writes
    await persistence.update_user_data(1, Drafts())
    assert bot.writes == writes


@pytest.mark.sqlite_only  # a SQLite file from before; PostgreSQL starts at a later schema
async def test_migration_12_applies_to_a_database_at_version_11(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.db
    import storage.migrations

    assert [version for version, _ in MIGRATIONS][-1] >= 12
    at_11 = tuple(migration for migration in MIGRATIONS if migration[0] <= 11)
    monkeypatch.setattr(storage.db, "MIGRATIONS", at_11)
    monkeypatch.setattr(storage.migrations, "MIGRATIONS", at_11)
    path = tmp_path / "loyalty.db"
    old = Database(path)
    await old.open()
    assert await old.version() == 11
    async with old.transaction() as tx:
        await tx.run(sql("INSERT INTO meta (key, value) VALUES ('kept', 'yes')"))
    await old.close()

    monkeypatch.setattr(storage.db, "MIGRATIONS", MIGRATIONS)
    monkeypatch.setattr(storage.migrations, "MIGRATIONS", MIGRATIONS)
    new = Database(path)
    await new.open()
    try:
        assert await new.version() == MIGRATIONS[-1][0]
        assert await new.reader.value(sql("SELECT value FROM meta WHERE key = 'kept'")) == "yes"
        service = ConversationService(new, StepClock())
        await service.set_state("offer", (OWNER, OWNER), 1)
        await service.set_state("offer", (OWNER, OWNER), 2)  # an upsert, not a second row
        await service.save_user_data(OWNER, "{}")
        await service.save_user_data(OWNER, '{"a":1}')
        assert await service.states("offer") == {(OWNER, OWNER): 2}
        assert await service.user_data() == {OWNER: '{"a":1}'}
    finally:
        await new.close()
