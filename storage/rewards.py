"""The rewards catalog. Titles are unique whatever their case (a unique index on
``lower(title)``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Conn, Row, sql
from storage.timeutil import to_db


@dataclass(frozen=True, slots=True)
class Reward:
    id: int
    title: str
    cost: int
    active: bool


_LIST_ALL = sql("SELECT id, title, cost, active FROM rewards ORDER BY cost, lower(title), id")
_LIST_ACTIVE = sql(
    "SELECT id, title, cost, active FROM rewards WHERE active ORDER BY cost, lower(title), id"
)
_GET = sql("SELECT id, title, cost, active FROM rewards WHERE id = :id")
_BY_TITLE = sql("SELECT id, title, cost, active FROM rewards WHERE lower(title) = lower(:title)")
# No conflict target: the one that matters is the unique index on lower(title), which
# ON CONFLICT cannot name the same way on both engines.
_ADD = sql(
    "INSERT INTO rewards (title, cost, created_at) VALUES (:title, :cost, :created_at)"
    " ON CONFLICT DO NOTHING RETURNING id, title, cost, active"
)
_UPDATE = sql(
    "UPDATE rewards SET cost = COALESCE(:cost, cost), active = COALESCE(:active, active)"
    " WHERE id = :id RETURNING id, title, cost, active"
)


def _reward(row: Row) -> Reward:
    return Reward(id=row["id"], title=row["title"], cost=row["cost"], active=bool(row["active"]))


async def list_all(conn: Conn, *, active_only: bool = False) -> list[Reward]:
    rows = await conn.all(_LIST_ACTIVE if active_only else _LIST_ALL)
    return [_reward(row) for row in rows]


async def get(conn: Conn, reward_id: int) -> Reward | None:
    row = await conn.one(_GET, id=reward_id)
    return _reward(row) if row else None


async def by_title(conn: Conn, title: str) -> Reward | None:
    """The reward with this title, whatever its case."""
    row = await conn.one(_BY_TITLE, title=title)
    return _reward(row) if row else None


async def add(tx: Conn, title: str, cost: int, now: datetime) -> Reward | None:
    """Add a reward; None when one with this title (whatever its case) exists already."""
    row = await tx.one(_ADD, title=title, cost=cost, created_at=to_db(now))
    return _reward(row) if row else None


async def update(
    tx: Conn, reward_id: int, *, cost: int | None = None, active: bool | None = None
) -> Reward | None:
    row = await tx.one(_UPDATE, cost=cost, active=active, id=reward_id)
    return _reward(row) if row else None
