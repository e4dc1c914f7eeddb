"""Fixtures: a fake Bot API server, a movable clock, and the real bot running against both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from telegram.ext import Application

from bot.app import build_application
from bot.clock import Clock
from bot.services.container import Services
from bot.settings import Settings
from sandbox.botapi import TOKEN, FakeTelegram, FakeUser, SentMessage
from sandbox.running import start_polling, stop_polling
from storage.engine import sql
from tests.databases import ENGINES, fresh_schema, server_url
from tests.helpers import first_link, link_payload, qr_payload, show_card

OWNER_ID = 1_000_001
CUSTOMER_MENU = [
    "start", "card", "balance", "rewards", "coupons", "offers", "history", "invite", "settings",
    "mydata", "forget", "help",
]  # fmt: skip
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FakeClock(Clock):
    """Time that tests move. A sleep moves it at once (no real waiting), unless a test
    sets ``hold_sleeps``: then sleepers wait until the test advances past their end."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start
        self.hold_sleeps = False

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return (self.current - START).total_seconds()

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)

    async def sleep(self, seconds: float) -> None:
        end = self.current + timedelta(seconds=max(seconds, 0))
        if not self.hold_sleeps:
            self.current = max(self.current, end)
            await asyncio.sleep(0)
            return
        while self.current < end:  # noqa: ASYNC110 - advance() is plain code, not a coroutine
            await asyncio.sleep(0.005)


def make_settings(
    tmp_path: Path, api_url: str, database_url: str | None = None, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "owner_ids": (OWNER_ID,),
        "database_path": tmp_path / "data" / "loyalty.db",
        "database_url": database_url,
        "telegram_api_url": api_url,
        "cafe_name": "Bean There",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class BotHarness:
    """The real Application, polling the fake server, with helpers to act as people."""

    def __init__(self, fake: FakeTelegram, app: Application, clock: FakeClock) -> None:  # type: ignore[type-arg]
        self.fake = fake
        self.app = app
        self.clock = clock
        self.stopped = False

    @property
    def services(self) -> Services:
        services: Services = self.app.bot_data.services
        return services

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str = "en",
    ) -> FakeUser:
        return self.fake.user(user_id, first_name, username, language_code)

    def owner(self) -> FakeUser:
        return self.fake.user(OWNER_ID, "Olga", "olga_owner")

    async def customer(self, user_id: int, first_name: str, language_code: str = "en") -> FakeUser:
        """A user who has already pressed Start (in a Telegram app set to ``language_code``)."""
        person = self.user(user_id, first_name, language_code=language_code)
        await person.send("/start")
        return person

    async def hire(self, user_id: int, first_name: str) -> FakeUser:
        """The owner invites someone, who opens the invite link: a new staff member."""
        owner = self.owner()
        if OWNER_ID not in self.fake.known_chats:
            await owner.send("/start")
        (overview,) = await owner.send("/staff")
        (invite,) = await owner.press(overview, "Invite")
        person = self.user(user_id, first_name)
        (welcome,) = await person.send(f"/start {link_payload(first_link(invite))}")
        assert "Welcome to the team" in welcome.body, welcome.body
        return person

    async def scan(self, barista: FakeUser, customer: FakeUser) -> SentMessage:
        """The barista scans the customer's current card with the phone camera."""
        card = await show_card(customer)
        (shown,) = await barista.send(f"/start {qr_payload(card.photo)}")
        return shown

    async def rows(self, statement: str, **params: Any) -> list[dict[str, Any]]:
        """What the database holds, read as the bot reads (either engine)."""
        return [dict(row) for row in await self.services.db.reader.all(sql(statement), **params)]

    async def value(self, statement: str, **params: Any) -> Any:
        return await self.services.db.reader.value(sql(statement), **params)

    async def ledger(self) -> list[dict[str, Any]]:
        return await self.rows("SELECT * FROM ledger ORDER BY id")

    async def audit_actions(self) -> list[str]:
        return [
            row["action"] for row in await self.rows("SELECT action FROM audit_log ORDER BY id")
        ]


async def start_bot(fake: FakeTelegram, settings: Settings, clock: FakeClock) -> BotHarness:
    app = build_application(settings, clock=clock, update_processor=fake.processor())
    await start_polling(app)
    return BotHarness(fake, app, clock)


async def stop_bot(harness: BotHarness) -> None:
    if harness.stopped:
        return
    harness.stopped = True
    await stop_polling(harness.app, harness.fake)


@pytest_asyncio.fixture
async def fake(clock: FakeClock) -> AsyncIterator[FakeTelegram]:
    # The fake judges Telegram's flood limits on the same clock the bot paces itself by.
    server = FakeTelegram(monotonic=clock.monotonic)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


BotFactory = Callable[..., Awaitable[BotHarness]]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test about SQLite itself (its query planner, its backup API) runs on SQLite only:
    its PostgreSQL variant is not collected, rather than skipped."""
    kept, dropped = [], []
    for item in items:
        on_postgresql = getattr(item, "callspec", None) and (
            item.callspec.params.get("database_url") == "postgresql"  # type: ignore[attr-defined]
        )
        (dropped if on_postgresql and item.get_closest_marker("sqlite_only") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest_asyncio.fixture(params=ENGINES)
async def database_url(request: pytest.FixtureRequest) -> AsyncIterator[str | None]:
    """Each end-to-end test runs on both engines: None is the SQLite file in tmp_path; a
    URL is a fresh PostgreSQL schema (see tests/databases.py)."""
    if request.param == "sqlite":
        yield None
        return
    async with fresh_schema(server_url()) as url:
        yield url


@pytest_asyncio.fixture
async def bot_factory(
    fake: FakeTelegram, clock: FakeClock, tmp_path: Path, database_url: str | None
) -> AsyncIterator[BotFactory]:
    """Start the bot with setting overrides; everything started is stopped afterwards."""
    running: list[BotHarness] = []

    async def factory(**overrides: Any) -> BotHarness:
        settings = make_settings(tmp_path, fake.url, database_url, **overrides)
        harness = await start_bot(fake, settings, clock)
        running.append(harness)
        return harness

    yield factory
    for harness in reversed(running):
        await stop_bot(harness)
    # Every Bot API error the bot provoked is a bug, unless the test said it expects it.
    unexpected = [
        (method, error.description)
        for method, error in fake.errors
        if not (method == "setMyCommands" and "chat not found" in error.description)
        and error.code not in fake.expected_error_codes
        and not any(text in error.description for text in fake.expected_errors)
        and not (error.code == 429 and "retry after" in error.description)
    ]
    assert not unexpected, f"the bot made requests Telegram would reject: {unexpected}"
    # 429s are judged by each test: injected ones are fine, ones the bot caused are not.


@pytest_asyncio.fixture
async def bot(bot_factory: BotFactory) -> BotHarness:
    return await bot_factory()
