"""Telling every bot process that shared data changed: PostgreSQL's LISTEN/NOTIFY.

A service that keeps a copy of some data in memory (the active rewards) announces each
change inside the transaction that makes it (:func:`announce`: a NOTIFY, delivered to
every listening connection when the transaction commits, and to none if it rolls back)
and subscribes to that topic on the process's :class:`ChangeFeed`, to drop its copy.

The feed listens on a connection of its own. While that connection is lost a change
could go unheard: the feed is not :attr:`~ChangeFeed.live` then, and every subscriber is
told when it goes and again when it is back, so caches drop their copies and keep none
until the feed is live again. It reconnects by itself.

SQLite has one process, which drops its own copies as it changes them: the feed is
always live and announcing sends nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import AsyncConnection

from storage.db import Database
from storage.engine import Conn, Engine, sql

logger = logging.getLogger(__name__)

CHANNEL = "loyalty_changes"
# A silent network can hide a dead connection: the feed checks its own this often.
CHECK_EVERY_SECONDS = 30.0
RECONNECT_SECONDS = 1.0

_NOTIFY = sql(f"SELECT pg_notify('{CHANNEL}', :topic) AS notified")


async def announce(tx: Conn, topic: str) -> None:
    """Tell every process, when ``tx`` commits, that the data of ``topic`` changed."""
    if tx.engine is Engine.POSTGRESQL:
        await tx.value(_NOTIFY, topic=topic)


Subscriber = Callable[[], None]


class ChangeFeed:
    """This process's ear for :func:`announce` (see the module's docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._subscribers: dict[str, list[Subscriber]] = defaultdict(list)
        self._task: asyncio.Task[None] | None = None
        self._connection: AsyncConnection[Any] | None = None
        self._listening = asyncio.Event()
        self.live = db.engine is Engine.SQLITE

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        """Call ``subscriber`` whenever ``topic`` changes, and whenever the feed is lost
        or back (a change may have gone unheard)."""
        self._subscribers[topic].append(subscriber)

    @property
    def backend_pid(self) -> int | None:
        """The listening connection's server process (for diagnostics and tests)."""
        connection = self._connection
        return connection.info.backend_pid if connection is not None else None

    async def start(self, wait_seconds: float = 5.0) -> None:
        """Start listening, waiting a little for it to work (caches stay off until it
        does; a database that does not answer yet is retried in the background)."""
        if self._db.engine is Engine.SQLITE or self._task is not None:
            return
        self._task = asyncio.create_task(self._listen(), name="change-feed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._listening.wait(), wait_seconds)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_live(self._db.engine is Engine.SQLITE)

    async def _listen(self) -> None:
        while True:
            try:
                async with await AsyncConnection.connect(
                    self._db.url, autocommit=True
                ) as connection:
                    self._connection = connection
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self._set_live(True)
                    while True:
                        async for notice in connection.notifies(timeout=CHECK_EVERY_SECONDS):
                            self._tell(notice.payload)
                        await connection.execute("SELECT 1")  # still there?
            except psycopg.Error as error:
                if self.live:
                    logger.warning(
                        "Lost the database's change notices (%s): caches are off until"
                        " they are back",
                        type(error).__name__,
                    )
            finally:
                self._connection = None
                self._set_live(False)
            await asyncio.sleep(RECONNECT_SECONDS)

    def _set_live(self, live: bool) -> None:
        if live == self.live:
            return
        self.live = live
        if live:
            self._listening.set()
            logger.info("Listening for the database's change notices")
        else:
            self._listening.clear()
        for topic in self._subscribers:
            self._tell(topic)

    def _tell(self, topic: str) -> None:
        for subscriber in self._subscribers.get(topic, ()):
            try:
                subscriber()
            except Exception:
                logger.exception("A change subscriber for %r failed", topic)
