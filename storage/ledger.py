"""The append-only points ledger. Balances change only by inserting entries here."""

from __future__ import annotations

from datetime import datetime

from bot.domain import EntryKind, LedgerEntry
from storage.engine import Conn, Row, per_engine, sql
from storage.timeutil import from_db, to_db


class Overdraft(Exception):
    """The entry would take a member's balance below zero."""


_COLUMNS = (
    "id, member_id, points, kind, reason, actor_id, amount_minor, category, reverses_id,"
    " idempotency_key, created_at, location_id"
)

# A second writer with the same key waits on the unique index, then does nothing: the
# entry it would have made is read back instead (see append).
_INSERT = sql(
    "INSERT INTO ledger (member_id, points, kind, reason, actor_id, amount_minor, category,"
    " reverses_id, idempotency_key, created_at, offer_id, location_id)"
    " VALUES (:member_id, :points, :kind, :reason, :actor_id, :amount_minor, :category,"
    " :reverses_id, :idempotency_key, :created_at, :offer_id, :location_id)"
    f" ON CONFLICT (idempotency_key) DO NOTHING RETURNING {_COLUMNS}"
)
# The balance a debit is checked against. On PostgreSQL the row stays locked until the
# transaction ends, so two debits of one member run one after the other and the second
# sees the first's entry; SQLite's BEGIN IMMEDIATE already admits one writer at a time.
_BALANCE_FOR_DEBIT = per_engine(
    sqlite="SELECT balance FROM members WHERE id = :member_id",
    postgresql="SELECT balance FROM members WHERE id = :member_id FOR UPDATE",
)
_BY_KEY = sql(f"SELECT {_COLUMNS} FROM ledger WHERE idempotency_key = :idempotency_key")
_BY_ID = sql(f"SELECT {_COLUMNS} FROM ledger WHERE id = :id")
_REVERSAL_OF = sql(f"SELECT {_COLUMNS} FROM ledger WHERE reverses_id = :entry_id")
_RECENT = sql(
    f"SELECT {_COLUMNS} FROM ledger WHERE member_id = :member_id ORDER BY id DESC LIMIT :limit"
)
_TOTAL = sql("SELECT COALESCE(SUM(points), 0) AS total FROM ledger WHERE member_id = :member_id")
_SIMILAR_PURCHASE = sql(
    f"SELECT {_COLUMNS} FROM ledger AS e WHERE member_id = :member_id AND kind = 'earn'"
    " AND amount_minor = :amount_minor AND created_at >= :since"
    " AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id)"
    " ORDER BY id DESC LIMIT 1"
)
# Purchase points since a moment that were not undone, by the staff member who issued
# them or by the member who earned them (each on its own index).
_NET_PURCHASES = (
    "SELECT COALESCE(SUM(e.points), 0) AS points FROM ledger AS e WHERE e.{column} = :id"
    " AND e.kind = 'earn' AND e.created_at >= :since"
    " AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id)"
)
_ISSUED_BY_SINCE = sql(_NET_PURCHASES.format(column="actor_id"))
# The daily limit counts per location (ledger_actor_location).
_ISSUED_AT_SINCE = sql(
    _NET_PURCHASES.format(column="actor_id") + " AND e.location_id = :location_id"
)
_EARNED_SINCE = sql(_NET_PURCHASES.format(column="member_id"))
_LATEST_BY_ACTOR = sql(
    f"SELECT {_COLUMNS} FROM ledger WHERE actor_id = :actor_id AND kind = :kind"
    " ORDER BY id DESC LIMIT 1"
)
_KEY_EXISTS = sql("SELECT 1 AS found FROM ledger WHERE idempotency_key = :idempotency_key")
_ALL_OF_MEMBER = sql(f"SELECT {_COLUMNS} FROM ledger WHERE member_id = :member_id ORDER BY id")
_PURCHASES_OF = sql(
    "SELECT COUNT(*) AS n FROM ledger AS e WHERE e.member_id = :member_id AND e.kind = 'earn'"
    " AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id)"
)


def _entry(row: Row) -> LedgerEntry:
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
        location_id=row["location_id"],
    )


async def append(
    tx: Conn,
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
    location_id: int | None = None,
) -> tuple[LedgerEntry, bool]:
    """Insert an entry unless its idempotency key exists. Returns (entry, created).

    Raises :class:`Overdraft` if the entry would make the balance negative: a debit is
    checked against the member's balance read under a row lock, before anything is
    written, so the transaction stays usable. The balance's CHECK constraint remains the
    safety net (``ConstraintViolated`` if it fires all the same)."""
    # A debit locks the balance first, then looks for its key: a concurrent writer of
    # the same key has committed by the time the lock is ours, and its entry is found.
    balance = await tx.value(_BALANCE_FOR_DEBIT, member_id=member_id) if points < 0 else None
    existing = await by_key(tx, idempotency_key)
    if existing is not None:
        return existing, False
    if balance is not None and balance + points < 0:
        raise Overdraft
    row = await tx.one(
        _INSERT,
        member_id=member_id,
        points=points,
        kind=kind.value,
        reason=reason,
        actor_id=actor_id,
        amount_minor=amount_minor,
        category=category,
        reverses_id=reverses_id,
        idempotency_key=idempotency_key,
        created_at=to_db(now),
        offer_id=offer_id,
        location_id=location_id,
    )
    if row is not None:
        return _entry(row), True
    # Another transaction wrote this key between our look and our insert.
    existing = await by_key(tx, idempotency_key)
    assert existing is not None
    return existing, False


async def by_key(conn: Conn, idempotency_key: str) -> LedgerEntry | None:
    row = await conn.one(_BY_KEY, idempotency_key=idempotency_key)
    return _entry(row) if row else None


async def by_id(conn: Conn, entry_id: int) -> LedgerEntry | None:
    row = await conn.one(_BY_ID, id=entry_id)
    return _entry(row) if row else None


async def reversal_of(conn: Conn, entry_id: int) -> LedgerEntry | None:
    """The entry that reverses ``entry_id`` (at most one: ``reverses_id`` is unique)."""
    row = await conn.one(_REVERSAL_OF, entry_id=entry_id)
    return _entry(row) if row else None


async def recent(conn: Conn, member_id: int, limit: int = 10) -> list[LedgerEntry]:
    return [_entry(row) for row in await conn.all(_RECENT, member_id=member_id, limit=limit)]


async def total(conn: Conn, member_id: int) -> int:
    return int(await conn.value(_TOTAL, member_id=member_id) or 0)


async def similar_purchase_since(
    conn: Conn, member_id: int, amount_minor: int, since: datetime
) -> LedgerEntry | None:
    """The member's latest unreversed purchase of the same amount since ``since``."""
    row = await conn.one(
        _SIMILAR_PURCHASE, member_id=member_id, amount_minor=amount_minor, since=to_db(since)
    )
    return _entry(row) if row else None


async def issued_by_since(
    conn: Conn, actor_id: int, since: datetime, location_id: int | None = None
) -> int:
    """Net purchase points a staff member issued since ``since`` (their undos subtracted),
    at one location when ``location_id`` is given."""
    if location_id is not None:
        value = await conn.value(
            _ISSUED_AT_SINCE, id=actor_id, since=to_db(since), location_id=location_id
        )
        return int(value or 0)
    return int(await conn.value(_ISSUED_BY_SINCE, id=actor_id, since=to_db(since)) or 0)


async def earned_since(conn: Conn, member_id: int, since: datetime) -> int:
    """Points a member earned from purchases since ``since``, net of undone purchases."""
    return int(await conn.value(_EARNED_SINCE, id=member_id, since=to_db(since)) or 0)


async def latest_by_actor(conn: Conn, actor_id: int, kind: EntryKind) -> LedgerEntry | None:
    row = await conn.one(_LATEST_BY_ACTOR, actor_id=actor_id, kind=kind.value)
    return _entry(row) if row else None


async def keys_with_prefix(conn: Conn, prefix: str) -> list[str]:
    """The numbered idempotency keys ``prefix:1``, ``prefix:2``, … that exist, newest
    first. Numbered keys are taken in order and the ledger never loses an entry, so they
    run from 1 without a gap: each is looked up by equality on the unique index until
    one is missing (no range over key text, whose order depends on the collation)."""
    found: list[str] = []
    while await conn.value(_KEY_EXISTS, idempotency_key=f"{prefix}:{len(found) + 1}"):
        found.append(f"{prefix}:{len(found) + 1}")
    return found[::-1]


async def all_of_member(conn: Conn, member_id: int) -> list[LedgerEntry]:
    return [_entry(row) for row in await conn.all(_ALL_OF_MEMBER, member_id=member_id)]


async def purchases_of(conn: Conn, member_id: int) -> int:
    """Purchases that stand (not undone): the member's visit count."""
    return int(await conn.value(_PURCHASES_OF, member_id=member_id) or 0)
