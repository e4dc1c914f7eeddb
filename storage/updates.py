"""Webhook updates handled once each, and each chat's turn across the bot's replicas.

Telegram posts each update to one replica and delivers it again when it gets no 2xx
answer (the replica died mid-request, or the database was away). Two things keep that
safe, both used in webhook mode only (polling has one process, and getUpdates' offset):

- ``handled_updates`` holds the ids of the updates already handled, for a day (a job
  prunes older rows). An update is *claimed* before it is handled and the claim is
  *kept* after; an update whose id is there is answered without being handled again.
- On PostgreSQL each chat's updates take turns across replicas: a transaction-level
  advisory lock per chat, on a connection held while the update is handled. The claim
  is that transaction's row, so it becomes visible and the chat's lock is released at
  the same COMMIT: a second delivery of the update, waiting for the chat's lock, always
  finds it. A replica that dies mid-update loses its connection, and with it the claim
  and the lock; Telegram's next delivery is then handled afresh (the ledger's
  idempotency keys protect anything the dead replica half wrote).

  Per update that is two round trips: ``BEGIN``, the chat's lock and the claim in one
  message, then ``COMMIT`` (or ``ROLLBACK``). Several statements go in one message by
  psycopg's client-side binding (the simple query protocol), which quotes each value.
  The held connections are this module's own small pool, sized for the bot's
  concurrent updates, opened as needed.
- SQLite has one process, whose in-process chat order is enough: the claim is a read
  before the update and a write after it.

Where several processes share the database, each keeps python-telegram-bot's
conversations (where an owner is in a wizard, and the drafts) in memory: the claim can
also read the sender's, as the database has them once the chat's turn is taken, in the
same message (:class:`Conversations`), so the replica handling the next step of a
wizard continues where another left it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg import AsyncClientCursor, AsyncConnection
from psycopg.pq import TransactionStatus

from storage.conversations import ConversationKey, encode_key
from storage.db import Database
from storage.engine import DatabaseError, Engine, TransientError, sql
from storage.timeutil import to_db

logger = logging.getLogger(__name__)

# Two-key advisory locks: their key space is apart from the one-key locks (such as the
# migrations'). The first key says what is locked; the second, which one.
CHAT_TURN = 1_651_076_724  # a chat's turn; the second key is the chat id, folded
ONE_AT_A_TIME = 1_651_076_725  # work one replica at a time does (start-up's setWebhook)

_SEEN = sql("SELECT update_id FROM handled_updates WHERE update_id = :update_id")
_RECORD = sql(
    "INSERT INTO handled_updates (update_id, handled_at) VALUES (:update_id, :handled_at)"
    " ON CONFLICT (update_id) DO NOTHING"
)
_PRUNE = sql("DELETE FROM handled_updates WHERE handled_at < :before")

# PostgreSQL, each one message on a held connection (psycopg's %(name)s placeholders).
_CLAIM = (
    " INSERT INTO handled_updates (update_id, handled_at) VALUES (%(update_id)s, %(now)s)"
    " ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
)
_CLAIM_IN_TURN = "BEGIN; SELECT pg_advisory_xact_lock(%(space)s, %(key)s);" + _CLAIM
_CLAIM_ALONE = "BEGIN;" + _CLAIM  # an update without a chat: no turn to take
# The sender's conversations, read after the claim (so after the chat's turn is taken).
_CONVERSATIONS = (
    "; SELECT name, state FROM conversation_states"
    " WHERE name = ANY(%(names)s) AND conv_key = %(conv_key)s"
    "; SELECT data FROM conversation_user_data WHERE tg_user_id = %(user_id)s"
)
_LOCK = "SELECT pg_advisory_lock(%(space)s, %(key)s)"
_UNLOCK = "SELECT pg_advisory_unlock(%(space)s, %(key)s)"


def fold(value: int) -> int:
    """A 64-bit id as a 32-bit lock key. Two chats may share a key: they then take
    turns with each other, which is slower for them, never wrong."""
    return (value + 2**31) % 2**32 - 2**31


@dataclass(frozen=True, slots=True)
class Conversations:
    """Whose conversations a claim reads: the states of the conversations ``names`` at
    ``key``, and the data of ``user_id``."""

    names: tuple[str, ...]
    key: ConversationKey
    user_id: int


class Claim:
    """One update's claim: ``fresh`` is False when it was handled before (by this or
    another replica). :meth:`keep` after handling it records it as handled; a claim
    left unkept (the handling failed for a reason worth another delivery) leaves no
    trace. ``states`` and ``user_data``: the sender's conversations as stored, when
    they were asked for (on PostgreSQL); ``loaded`` says whether they were read."""

    def __init__(
        self, fresh: bool, states: dict[str, int] | None = None, user_data: str | None = None
    ) -> None:
        self.fresh = fresh
        self.kept = False
        self.loaded = states is not None
        self.states = states or {}
        self.user_data = user_data

    def keep(self) -> None:
        self.kept = True


def _translated(error: psycopg.Error) -> Exception:
    """The project's error for psycopg's (see storage.engine.translate)."""
    sqlstate = error.sqlstate or ""
    # A lost or refused connection (no SQLSTATE of its own), a restart, a deadlock.
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) or sqlstate.startswith(
        ("08", "40", "57P")
    ):
        return TransientError(type(error).__name__)
    return DatabaseError(str(error).strip())


class UpdateLedger:
    """Claims webhook updates before they are handled (see the module's docstring)."""

    def __init__(self, db: Database, connections: int) -> None:
        self._db = db
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[AsyncConnection[Any]] = []

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    @asynccontextmanager
    async def claim(
        self,
        update_id: int,
        chat: int | None,
        now: datetime,
        conversations: Conversations | None = None,
    ) -> AsyncIterator[Claim]:
        """Claim the update for the block, in its chat's turn (``chat``: its chat id,
        None for an update without one), reading ``conversations`` too where other
        processes may have changed them. Raises TransientError when the database does
        not answer: then nothing was claimed, and the update should be delivered again."""
        if self._db.engine is Engine.SQLITE:
            claim = Claim(await self._db.reader.value(_SEEN, update_id=update_id) is None)
            yield claim
            if claim.fresh and claim.kept:
                async with self._db.transaction() as tx:
                    await tx.run(_RECORD, update_id=update_id, handled_at=to_db(now))
            return
        query = _CLAIM_ALONE if chat is None else _CLAIM_IN_TURN
        params: dict[str, Any] = {
            "space": CHAT_TURN,
            "key": fold(chat or 0),
            "update_id": update_id,
            "now": now,
        }
        if conversations is not None:
            query += _CONVERSATIONS
            params |= {
                "names": list(conversations.names),
                "conv_key": encode_key(conversations.key),
                "user_id": conversations.user_id,
            }
        async with self._slots:
            connection, results = await self._begin(query, params)
            if conversations is None:
                claim = Claim(bool(results[-1]))
            else:
                claimed, states, data = results[-3:]
                claim = Claim(
                    bool(claimed),
                    {str(name): int(state) for name, state in states},
                    str(data[0][0]) if data else None,
                )
            try:
                yield claim
            except BaseException:
                await self._end(connection, "ROLLBACK")
                raise
            await self._end(connection, "COMMIT" if claim.fresh and claim.kept else "ROLLBACK")

    async def _begin(
        self, query: str, params: dict[str, Any]
    ) -> tuple[AsyncConnection[Any], list[list[Any]]]:
        """Run the claim on a held connection. A pooled connection the server has closed
        since (a restart, an idle timeout) is dropped with every other idle one, and the
        claim is tried once more on a new connection."""
        while True:
            pooled = bool(self._idle)
            connection = self._idle.pop() if pooled else await self._connect()
            try:
                return connection, await _results(connection, query, params)
            except psycopg.Error as error:
                await self._discard(connection)
                if pooled and (connection.broken or connection.closed):
                    await self.close()
                    continue
                raise _translated(error) from error
            except BaseException:
                await self._discard(connection)
                raise

    async def _end(self, connection: AsyncConnection[Any], command: str) -> None:
        """COMMIT or ROLLBACK, then the connection goes back to the pool; one in doubt
        is closed instead (the server then rolls back whatever it held)."""
        try:
            await connection.execute(command)
        except psycopg.Error as error:
            await self._discard(connection)
            raise _translated(error) from error
        except BaseException:
            await self._discard(connection)
            raise
        if connection.info.transaction_status is TransactionStatus.IDLE:
            self._idle.append(connection)
        else:
            await self._discard(connection)

    async def _connect(self) -> AsyncConnection[Any]:
        try:
            return await AsyncConnection.connect(
                self._db.url, autocommit=True, cursor_factory=AsyncClientCursor
            )
        except psycopg.Error as error:
            raise _translated(error) from error

    @staticmethod
    async def _discard(connection: AsyncConnection[Any]) -> None:
        try:
            await connection.close()
        except psycopg.Error:
            logger.debug("closing a broken connection failed", exc_info=True)

    @asynccontextmanager
    async def one_at_a_time(self, key: int) -> AsyncIterator[None]:
        """Run the block on one replica at a time (start-up work such as setWebhook,
        which talks to Telegram: a session lock on a connection of its own, no
        transaction held open). SQLite has one process: nothing to take."""
        if self._db.engine is Engine.SQLITE:
            yield
            return
        connection = await self._connect()
        params = {"space": ONE_AT_A_TIME, "key": key}
        try:
            try:
                await connection.execute(_LOCK, params)
            except psycopg.Error as error:
                raise _translated(error) from error
            yield
            # Closing the connection below releases the lock too; unlocking first says so.
            await connection.execute(_UNLOCK, params)
        finally:
            await self._discard(connection)

    async def prune(self, before: datetime) -> int:
        """Forget the updates handled before ``before``; returns how many."""
        async with self._db.transaction() as tx:
            return await tx.run(_PRUNE, before=to_db(before))


async def _results(
    connection: AsyncConnection[Any], query: str, params: dict[str, Any]
) -> list[list[Any]]:
    """Run a message of several statements; the rows of each one that returns rows."""
    results: list[list[Any]] = []
    async with connection.cursor() as cursor:
        await cursor.execute(query, params)
        while True:
            if cursor.description is not None:
                results.append(await cursor.fetchall())
            if not cursor.nextset():
                return results
