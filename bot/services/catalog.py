"""The rewards catalog the owner manages.

The active rewards are read on every /balance and /rewards, and change only when an
owner changes the catalog: each process keeps them in memory. Every change is announced
to every process sharing the database (storage/changes.py: LISTEN/NOTIFY on PostgreSQL),
each of which drops its copy; while a process cannot hear the announcements it keeps
no copy and reads the database each time.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from bot.clock import Clock
from bot.inputs import parse_int
from bot.services.errors import RewardInvalid, RewardUnavailable
from storage import Database
from storage import audit as audit_store
from storage import rewards as reward_store
from storage.changes import ChangeFeed, announce
from storage.rewards import Reward

logger = logging.getLogger(__name__)

MAX_TITLE = 48
MAX_COST = 1_000_000
SYSTEM_ACTOR = 0
CHANGES = "rewards"  # the topic a change of the catalog is announced under


def check_title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not 1 <= len(cleaned) <= MAX_TITLE:
        raise RewardInvalid("title")
    return cleaned


def check_cost(cost: object) -> int:
    points = parse_int(str(cost), low=1, high=MAX_COST)
    if points is None:
        raise RewardInvalid("cost")
    return points


class CatalogFileError(ValueError):
    """REWARDS_FILE cannot be read; start-up stops with this message."""


def describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"every [[rewards]] entry needs {error}"
    if isinstance(error, RewardInvalid):
        return f"a reward has an invalid {error.reason} (title 1-48 characters, cost 1-1000000)"
    if isinstance(error, OSError):
        return error.strerror or "cannot be read"
    return str(error)


def read_rewards_file(path: Path) -> list[tuple[str, int]]:
    """The (title, cost) pairs of a rewards file, or CatalogFileError saying what is wrong."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
        return [
            (check_title(str(item["title"])), check_cost(item["cost"]))
            for item in data.get("rewards", [])
        ]
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, RewardInvalid) as exc:
        raise CatalogFileError(f"{path}: {describe(exc)}") from exc


class CatalogService:
    def __init__(self, db: Database, clock: Clock, changes: ChangeFeed | None = None) -> None:
        self._db = db
        self._clock = clock
        self._changes = changes
        self._active: list[Reward] | None = None  # the active rewards, until one changes
        self._version = 0  # moves at every change: a read begun before one is not kept
        if changes is not None:
            changes.subscribe(CHANGES, self._changed)

    async def list(self, *, active_only: bool = False) -> list[Reward]:
        if not active_only:
            return await reward_store.list_all(self._db.reader)
        if self._active is not None:
            return list(self._active)
        version = self._version
        rewards = await reward_store.list_all(self._db.reader, active_only=True)
        if version == self._version and (self._changes is None or self._changes.live):
            self._active = rewards
        return list(rewards)

    async def cheapest(self) -> Reward | None:
        rewards = await self.list(active_only=True)
        return rewards[0] if rewards else None

    def _changed(self) -> None:
        self._active = None
        self._version += 1

    async def add(self, actor_id: int, title: str, cost: object) -> Reward:
        title, points = check_title(title), check_cost(cost)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            reward = await reward_store.add(tx, title, points, now)
            if reward is None:  # the title exists already, whatever its case
                raise RewardInvalid("duplicate")
            await announce(tx, CHANGES)
            await audit_store.record(
                tx, actor_id=actor_id, action="catalog.add", now=now, detail=f"{title}: {points}"
            )
        self._changed()
        return reward

    async def change(
        self, actor_id: int, reward_id: int, *, cost: object = None, active: bool | None = None
    ) -> Reward:
        points = None if cost is None else check_cost(cost)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            reward = await reward_store.update(tx, reward_id, cost=points, active=active)
            if reward is None:
                raise RewardUnavailable
            await announce(tx, CHANGES)
            await audit_store.record(
                tx,
                actor_id=actor_id,
                action="catalog.change",
                now=now,
                detail=f"{reward.title}: cost={reward.cost} active={reward.active}",
            )
        self._changed()
        return reward

    async def seed(self, path: Path) -> int:
        """Add the file's rewards that the catalog lacks; changes made in the chat win."""
        items = read_rewards_file(path)
        added = 0
        now = self._clock.now()
        async with self._db.transaction() as tx:
            for title, cost in items:
                if await reward_store.add(tx, title, cost, now) is not None:
                    await audit_store.record(
                        tx,
                        actor_id=SYSTEM_ACTOR,
                        action="catalog.seed",
                        now=now,
                        detail=f"{title}: {cost}",
                    )
                    added += 1
            if added:
                await announce(tx, CHANGES)
        self._changed()
        logger.info("Seeded %s rewards from %s", added, path)
        return added
