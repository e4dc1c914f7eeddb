"""The rewards catalog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timeutil import to_db


@dataclass(frozen=True, slots=True)
class Reward:
    id: int
    title: str
    cost: int
    active: bool


def _reward(row: aiosqlite.Row) -> Reward:
    return Reward(id=row["id"], title=row["title"], cost=row["cost"], active=bool(row["active"]))


async def list_all(conn: aiosqlite.Connection, *, active_only: bool = False) -> list[Reward]:
    where = "WHERE active = 1" if active_only else ""
    async with conn.execute(
        f"SELECT id, title, cost, active FROM rewards {where} ORDER BY cost, title"
    ) as cur:
        rows = await cur.fetchall()
    return [_reward(row) for row in rows]


async def get(conn: aiosqlite.Connection, reward_id: int) -> Reward | None:
    async with conn.execute(
        "SELECT id, title, cost, active FROM rewards WHERE id = ?", (reward_id,)
    ) as cur:
        row = await cur.fetchone()
    return _reward(row) if row else None


async def by_title(conn: aiosqlite.Connection, title: str) -> Reward | None:
    async with conn.execute(
        "SELECT id, title, cost, active FROM rewards WHERE title = ? COLLATE NOCASE", (title,)
    ) as cur:
        row = await cur.fetchone()
    return _reward(row) if row else None


async def add(tx: aiosqlite.Connection, title: str, cost: int, now: datetime) -> Reward:
    async with tx.execute(
        "INSERT INTO rewards (title, cost, created_at) VALUES (?, ?, ?)"
        " RETURNING id, title, cost, active",
        (title, cost, to_db(now)),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return _reward(row)


async def update(
    tx: aiosqlite.Connection, reward_id: int, *, cost: int | None = None, active: bool | None = None
) -> Reward | None:
    async with tx.execute(
        "UPDATE rewards SET cost = COALESCE(?, cost), active = COALESCE(?, active)"
        " WHERE id = ? RETURNING id, title, cost, active",
        (cost, None if active is None else int(active), reward_id),
    ) as cur:
        row = await cur.fetchone()
    return _reward(row) if row else None
