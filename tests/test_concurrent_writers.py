"""Writers racing each other, on both engines. On SQLite they queue behind one writer; on
PostgreSQL they truly overlap (a pool of connections, no lock in the process), so the
outcome rests on row locks and constraints: one winner, never a half-written loser."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from bot.clock import Clock
from bot.domain import EntryKind
from bot.services import errors
from bot.services.container import Services
from storage import Database
from storage import ledger as ledger_store
from storage import members as member_store
from storage.ledger import Overdraft
from tests.conftest import make_settings
from tests.databases import ENGINES, fresh_schema, server_url

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RACERS = 8


class FixedClock(Clock):
    def now(self) -> datetime:
        return NOW


@pytest_asyncio.fixture(params=ENGINES)
async def services(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Services]:
    async def opened(url: str | None) -> Services:
        settings = make_settings(tmp_path, "http://127.0.0.1:1", url, owner_ids=())
        return await Services.open(settings, FixedClock())

    if request.param == "sqlite":
        opened_services = await opened(None)
        yield opened_services
        await opened_services.close()
        return
    async with fresh_schema(server_url()) as url:
        opened_services = await opened(url)
        yield opened_services
        await opened_services.close()


async def new_member(db: Database, tg_user_id: int, points: int = 0) -> int:
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
        if points:
            await ledger_store.append(
                tx,
                member_id=member.id,
                points=points,
                kind=EntryKind.EARN,
                reason="start",
                idempotency_key=f"start:{tg_user_id}",
                now=NOW,
            )
    return member.id


async def test_one_idempotency_key_writes_one_entry(services: Services) -> None:
    db = services.db
    member_id = await new_member(db, 42)

    async def append() -> tuple[int, bool]:
        async with db.transaction() as tx:
            entry, created = await ledger_store.append(
                tx,
                member_id=member_id,
                points=5,
                kind=EntryKind.EARN,
                reason="race",
                idempotency_key="scan:same",
                now=NOW,
            )
        return entry.id, created

    results = await asyncio.gather(*(append() for _ in range(RACERS)))
    assert sum(created for _, created in results) == 1
    assert len({entry_id for entry_id, _ in results}) == 1
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None and member.balance == 5


async def test_racing_debits_never_overdraw(services: Services) -> None:
    db = services.db
    member_id = await new_member(db, 43, points=10)

    async def debit(n: int) -> bool:
        try:
            async with db.transaction() as tx:
                await ledger_store.append(
                    tx,
                    member_id=member_id,
                    points=-3,
                    kind=EntryKind.REDEEM,
                    reason="race",
                    idempotency_key=f"debit:{n}",
                    now=NOW,
                )
        except Overdraft:
            return False
        return True

    results = await asyncio.gather(*(debit(n) for n in range(RACERS)))
    assert sum(results) == 3  # 10 points: three debits of 3, then the fourth would overdraw
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None and member.balance == 1
    assert await ledger_store.total(db.reader, member_id) == 1


async def test_one_reward_title_whatever_its_case(services: Services) -> None:
    titles = ["Latte", "LATTE", "latte", "Latte", "lAtTe", "Latte", "LATTE", "latte"]

    async def add(title: str) -> bool:
        try:
            await services.catalog.add(1, title, "10")
        except errors.RewardInvalid:
            return False
        return True

    results = await asyncio.gather(*(add(title) for title in titles))
    assert sum(results) == 1
    assert [r.title.lower() for r in await services.catalog.list()] == ["latte"]


async def test_one_owner_from_a_claim_link(services: Services) -> None:
    token = await services.roles.owner_claim()
    assert token is not None
    claimed = await asyncio.gather(
        *(services.roles.claim_owner(token, 5000 + n) for n in range(RACERS))
    )
    assert sum(claimed) == 1
    owners = await services.roles.owner_ids()
    assert len(owners) == 1 and owners[0] == 5000 + claimed.index(True)
