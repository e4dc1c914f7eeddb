"""The append-only points ledger. Balances change only by inserting entries here."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.domain import EntryKind, LedgerEntry
from storage.timeutil import from_db, to_db


class Overdraft(Exception):
    """The entry would take a member's balance below zero."""


_COLUMNS = (
    "id, member_id, points, kind, reason, actor_id, amount_minor, category, reverses_id,"
    " idempotency_key, created_at"
)


def _entry(row: aiosqlite.Row) -> LedgerEntry:
    return LedgerEntry(
        id=row["id"],
        member_id=row["member_id"],
        points=row["points"],
        kind=EntryKind(row["kind"]),
        reason=row["reason"],
        actor_id=row["actor_id"],
        amount_minor=row["amount_minor"],
        category=row["category"],
        reverses_id=row["reverses_id"],
        idempotency_key=row["idempotency_key"],
        created_at=from_db(row["created_at"]),
    )


async def append(
    tx: aiosqlite.Connection,
    *,
    member_id: int,
    points: int,
    kind: EntryKind,
    reason: str,
    idempotency_key: str,
    now: datetime,
    actor_id: int | None = None,
    amount_minor: int | None = None,
    category: str | None = None,
    reverses_id: int | None = None,
    offer_id: int | None = None,
) -> tuple[LedgerEntry, bool]:
    """Insert an entry unless its idempotency key exists. Returns (entry, created).

    Raises :class:`Overdraft` if the entry would make the balance negative.
    """
    existing = await by_key(tx, idempotency_key)
    if existing is not None:
        return existing, False
    try:
        async with tx.execute(
            f"INSERT INTO ledger ({_COLUMNS.removeprefix('id, ')}, offer_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " + _COLUMNS,
            (
                member_id,
                points,
                kind.value,
                reason,
                actor_id,
                amount_minor,
                category,
                reverses_id,
                idempotency_key,
                to_db(now),
                offer_id,
            ),
        ) as cur:
            row = await cur.fetchone()
    except aiosqlite.IntegrityError as exc:
        if "balance" in str(exc):
            raise Overdraft from exc
        raise
    assert row is not None
    return _entry(row), True


async def by_key(conn: aiosqlite.Connection, idempotency_key: str) -> LedgerEntry | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM ledger WHERE idempotency_key = ?", (idempotency_key,)
    ) as cur:
        row = await cur.fetchone()
    return _entry(row) if row else None


async def by_id(conn: aiosqlite.Connection, entry_id: int) -> LedgerEntry | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM ledger WHERE id = ?", (entry_id,)) as cur:
        row = await cur.fetchone()
    return _entry(row) if row else None


async def reversal_of(conn: aiosqlite.Connection, entry_id: int) -> LedgerEntry | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM ledger WHERE reverses_id = ?", (entry_id,)
    ) as cur:
        row = await cur.fetchone()
    return _entry(row) if row else None


async def recent(conn: aiosqlite.Connection, member_id: int, limit: int = 10) -> list[LedgerEntry]:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM ledger WHERE member_id = ? ORDER BY id DESC LIMIT ?",
        (member_id, limit),
    ) as cur:
        rows = await cur.fetchall()
    return [_entry(row) for row in rows]


async def total(conn: aiosqlite.Connection, member_id: int) -> int:
    async with conn.execute(
        "SELECT COALESCE(SUM(points), 0) FROM ledger WHERE member_id = ?", (member_id,)
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def similar_purchase_since(
    conn: aiosqlite.Connection, member_id: int, amount_minor: int, since: datetime
) -> LedgerEntry | None:
    """The member's latest unreversed purchase of the same amount since ``since``."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM ledger AS e WHERE member_id = ? AND kind = ?"
        " AND amount_minor = ? AND created_at >= ?"
        " AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id)"
        " ORDER BY id DESC LIMIT 1",
        (member_id, EntryKind.EARN.value, amount_minor, to_db(since)),
    ) as cur:
        row = await cur.fetchone()
    return _entry(row) if row else None


async def _net_purchases_since(
    conn: aiosqlite.Connection, column: str, value: int, since: datetime
) -> int:
    """Points from purchase entries since ``since`` that were not undone."""
    async with conn.execute(
        f"SELECT COALESCE(SUM(e.points), 0) FROM ledger AS e WHERE e.{column} = ?"
        " AND e.kind = ? AND e.created_at >= ?"
        " AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id)",
        (value, EntryKind.EARN.value, to_db(since)),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def issued_by_since(conn: aiosqlite.Connection, actor_id: int, since: datetime) -> int:
    """Net purchase points a staff member issued since ``since`` (their undos subtracted)."""
    return await _net_purchases_since(conn, "actor_id", actor_id, since)


async def earned_since(conn: aiosqlite.Connection, member_id: int, since: datetime) -> int:
    """Points a member earned from purchases since ``since``, net of undone purchases."""
    return await _net_purchases_since(conn, "member_id", member_id, since)


async def latest_by_actor(
    conn: aiosqlite.Connection, actor_id: int, kind: EntryKind
) -> LedgerEntry | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM ledger WHERE actor_id = ? AND kind = ? ORDER BY id DESC LIMIT 1",
        (actor_id, kind.value),
    ) as cur:
        row = await cur.fetchone()
    return _entry(row) if row else None


async def keys_with_prefix(conn: aiosqlite.Connection, prefix: str) -> list[str]:
    """Idempotency keys ``prefix:…`` (a range on the unique index, newest first)."""
    async with conn.execute(
        "SELECT idempotency_key FROM ledger"
        " WHERE idempotency_key > ? AND idempotency_key < ? ORDER BY id DESC",
        (f"{prefix}:", f"{prefix};"),
    ) as cur:
        return [str(row[0]) for row in await cur.fetchall()]


async def all_of_member(conn: aiosqlite.Connection, member_id: int) -> list[LedgerEntry]:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM ledger WHERE member_id = ? ORDER BY id", (member_id,)
    ) as cur:
        return [_entry(row) for row in await cur.fetchall()]


async def purchases_of(conn: aiosqlite.Connection, member_id: int) -> int:
    """Purchases that stand (not undone): the member's visit count."""
    async with conn.execute(
        "SELECT COUNT(*) FROM ledger AS e WHERE e.member_id = ? AND e.kind = 'earn'"
        " AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id)",
        (member_id,),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
