"""The owner's numbers: aggregates over the ledger, and the two things the books write.

The aggregates run on the reader connections (WAL), so a report never holds the write
lock and the counter goes on while it runs; each is an SQL aggregate over indexed
columns, and exports read the ledger in batches. Writes, each in the caller's
transaction: every sale's IFRS 15 allocation (recorded with the sale, or backfilled) and
the redemption rates the owner sets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timeutil import from_db, to_db

# -- sale allocations and rates --------------------------------------------------------------


async def record_sale(
    tx: aiosqlite.Connection,
    *,
    entry_id: int,
    amount_minor: int,
    points: int,
    offer_points: int,
    rate_ppm: int,
    ssp_micro: int,
    deferred_micro: int,
) -> None:
    await tx.execute(
        "INSERT INTO sale_allocations (entry_id, amount_minor, points, offer_points, rate_ppm,"
        " ssp_micro, deferred_micro) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (entry_id, amount_minor, points, offer_points, rate_ppm, ssp_micro, deferred_micro),
    )


@dataclass(frozen=True, slots=True)
class UnallocatedSale:
    entry_id: int
    amount_minor: int
    points: int
    created_at: datetime


async def unallocated_sales(conn: aiosqlite.Connection, limit: int) -> list[UnallocatedSale]:
    """Purchases recorded before allocations existed (filled in once, at start-up)."""
    async with conn.execute(
        "SELECT l.id, l.amount_minor, l.points, l.created_at FROM ledger AS l"
        " LEFT JOIN sale_allocations AS a ON a.entry_id = l.id"
        " WHERE l.kind = 'earn' AND a.entry_id IS NULL ORDER BY l.id LIMIT ?",
        (limit,),
    ) as cur:
        return [
            UnallocatedSale(row[0], row[1] or 0, row[2], from_db(row[3]))
            for row in await cur.fetchall()
        ]


async def record_sales(tx: aiosqlite.Connection, rows: list[tuple[int, ...]]) -> None:
    await tx.executemany(
        "INSERT INTO sale_allocations (entry_id, amount_minor, points, offer_points, rate_ppm,"
        " ssp_micro, deferred_micro) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        rows,
    )


async def rate_at(conn: aiosqlite.Connection, moment: datetime) -> int | None:
    """The expected redemption rate (ppm) in force at ``moment``, if the owner set one."""
    async with conn.execute(
        "SELECT rate_ppm FROM redemption_rates WHERE effective_from <= ?"
        " ORDER BY effective_from DESC LIMIT 1",
        (to_db(moment),),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else int(row[0])


async def set_rate(
    tx: aiosqlite.Connection, effective_from: datetime, rate_ppm: int, set_by: int, now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO redemption_rates (effective_from, rate_ppm, set_by, set_at)"
        " VALUES (?, ?, ?, ?)"
        " ON CONFLICT (effective_from) DO UPDATE SET rate_ppm = excluded.rate_ppm,"
        " set_by = excluded.set_by, set_at = excluded.set_at",
        (to_db(effective_from), rate_ppm, set_by, to_db(now)),
    )


async def rates(conn: aiosqlite.Connection) -> list[tuple[datetime, int]]:
    async with conn.execute(
        "SELECT effective_from, rate_ppm FROM redemption_rates ORDER BY effective_from"
    ) as cur:
        return [(from_db(row[0]), int(row[1])) for row in await cur.fetchall()]


# -- cumulative totals -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """Everything in the ledger before an instant, summed."""

    by_kind: dict[str, int]  # ledger kind → points
    offer_points: int  # the part of purchase points that offers added
    reversed_offer_points: int
    deferred_micro: int  # of all sales
    reversed_deferred_micro: int  # of the sales undone


async def totals_before(conn: aiosqlite.Connection, moment: datetime) -> LedgerTotals:
    at = to_db(moment)
    async with conn.execute(
        "SELECT kind, SUM(points) FROM ledger WHERE created_at < ? GROUP BY kind", (at,)
    ) as cur:
        by_kind = {str(row[0]): int(row[1]) for row in await cur.fetchall()}
    async with conn.execute(
        "SELECT COALESCE(SUM(a.offer_points), 0), COALESCE(SUM(a.deferred_micro), 0)"
        " FROM ledger AS l JOIN sale_allocations AS a ON a.entry_id = l.id"
        " WHERE l.created_at < ? AND l.kind = 'earn'",
        (at,),
    ) as cur:
        sales = await cur.fetchone()
    async with conn.execute(
        "SELECT COALESCE(SUM(a.offer_points), 0), COALESCE(SUM(a.deferred_micro), 0)"
        " FROM ledger AS r JOIN sale_allocations AS a ON a.entry_id = r.reverses_id"
        " WHERE r.created_at < ? AND r.kind = 'reversal'",
        (at,),
    ) as cur:
        undone = await cur.fetchone()
    assert sales is not None and undone is not None
    return LedgerTotals(
        by_kind=by_kind,
        offer_points=int(sales[0]),
        reversed_offer_points=int(undone[0]),
        deferred_micro=int(sales[1]),
        reversed_deferred_micro=int(undone[1]),
    )


async def balances_total(conn: aiosqlite.Connection) -> int:
    """The sum of every member's balance (which the triggers keep equal to the ledger)."""
    async with conn.execute("SELECT COALESCE(SUM(balance), 0) FROM members") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


# -- the export ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportRow:
    entry_id: int
    created_at: datetime
    member_id: int
    kind: str
    points: int
    amount_minor: int | None
    category: str | None
    actor_id: int | None
    reason: str
    offer_id: int | None
    reverses_id: int | None


async def ledger_rows(
    conn: aiosqlite.Connection, start: datetime, end: datetime, batch: int = 5000
) -> AsyncIterator[list[ExportRow]]:
    """The ledger entries of a period, oldest first, a batch at a time (never all in
    memory): keyset pages over the time index."""
    after = (to_db(start), 0)
    while True:
        async with conn.execute(
            "SELECT id, created_at, member_id, kind, points, amount_minor, category, actor_id,"
            " reason, offer_id, reverses_id FROM ledger"
            " WHERE created_at < ? AND (created_at > ? OR (created_at = ? AND id > ?))"
            " ORDER BY created_at, id LIMIT ?",
            (to_db(end), after[0], after[0], after[1], batch),
        ) as cur:
            rows = list(await cur.fetchall())
        if not rows:
            return
        yield [
            ExportRow(
                entry_id=row[0],
                created_at=from_db(row[1]),
                member_id=row[2],
                kind=row[3],
                points=row[4],
                amount_minor=row[5],
                category=row[6],
                actor_id=row[7],
                reason=row[8],
                offer_id=row[9],
                reverses_id=row[10],
            )
            for row in rows
        ]
        after = (rows[-1][1], rows[-1][0])
