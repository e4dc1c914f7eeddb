"""The owner's numbers: aggregates over the ledger, and the two things the books write.

The aggregates run on the reader connections (WAL), so a report never holds the write
lock and the counter goes on while it runs; each is an SQL aggregate over indexed
columns, and exports read the ledger in batches. Writes, each in the caller's
transaction: every sale's IFRS 15 allocation (recorded with the sale, or backfilled) and
the redemption rates the owner sets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from storage.engine import Conn, sql
from storage.timeutil import from_db, to_db

# -- sale allocations and rates --------------------------------------------------------------

_RECORD_SALE = sql(
    "INSERT INTO sale_allocations (entry_id, amount_minor, points, offer_points, rate_ppm,"
    " ssp_micro, deferred_micro) VALUES (:entry_id, :amount_minor, :points, :offer_points,"
    " :rate_ppm, :ssp_micro, :deferred_micro) ON CONFLICT (entry_id) DO NOTHING"
)
_UNALLOCATED = sql(
    "SELECT l.id, l.amount_minor, l.points, l.created_at FROM ledger AS l"
    " LEFT JOIN sale_allocations AS a ON a.entry_id = l.id"
    " WHERE l.kind = 'earn' AND a.entry_id IS NULL ORDER BY l.id LIMIT :limit"
)
# Timestamps are compared and ordered as the column's own type (timestamptz on
# PostgreSQL; on SQLite the one fixed-width UTC text to_db writes).
_RATE_AT = sql(
    "SELECT rate_ppm FROM redemption_rates WHERE effective_from <= :at"
    " ORDER BY effective_from DESC LIMIT 1"
)
_SET_RATE = sql(
    "INSERT INTO redemption_rates (effective_from, rate_ppm, set_by, set_at)"
    " VALUES (:effective_from, :rate_ppm, :set_by, :set_at)"
    " ON CONFLICT (effective_from) DO UPDATE SET rate_ppm = excluded.rate_ppm,"
    " set_by = excluded.set_by, set_at = excluded.set_at"
)
_RATES = sql("SELECT effective_from, rate_ppm FROM redemption_rates ORDER BY effective_from")


@dataclass(frozen=True, slots=True)
class SaleAllocation:
    """How one sale's price splits between the goods and its points (a row of
    sale_allocations)."""

    entry_id: int
    amount_minor: int
    points: int
    offer_points: int
    rate_ppm: int
    ssp_micro: int
    deferred_micro: int


async def record_sale(
    tx: Conn,
    *,
    entry_id: int,
    amount_minor: int,
    points: int,
    offer_points: int,
    rate_ppm: int,
    ssp_micro: int,
    deferred_micro: int,
) -> None:
    await tx.run(
        _RECORD_SALE,
        entry_id=entry_id,
        amount_minor=amount_minor,
        points=points,
        offer_points=offer_points,
        rate_ppm=rate_ppm,
        ssp_micro=ssp_micro,
        deferred_micro=deferred_micro,
    )


@dataclass(frozen=True, slots=True)
class UnallocatedSale:
    entry_id: int
    amount_minor: int
    points: int
    created_at: datetime


async def unallocated_sales(conn: Conn, limit: int) -> list[UnallocatedSale]:
    """Purchases recorded before allocations existed (filled in once, at start-up)."""
    return [
        UnallocatedSale(
            int(row["id"]), int(row["amount_minor"] or 0), int(row["points"]),
            from_db(row["created_at"]),
        )
        for row in await conn.all(_UNALLOCATED, limit=limit)
    ]  # fmt: skip


async def record_sales(tx: Conn, allocations: Sequence[SaleAllocation]) -> None:
    """Many allocations in one round trip (those already recorded are left as they are)."""
    await tx.run_many(_RECORD_SALE, [asdict(allocation) for allocation in allocations])


async def rate_at(conn: Conn, moment: datetime) -> int | None:
    """The expected redemption rate (ppm) in force at ``moment``, if the owner set one."""
    value = await conn.value(_RATE_AT, at=to_db(moment))
    return None if value is None else int(value)


async def set_rate(
    tx: Conn, effective_from: datetime, rate_ppm: int, set_by: int, now: datetime
) -> None:
    await tx.run(
        _SET_RATE,
        effective_from=to_db(effective_from),
        rate_ppm=rate_ppm,
        set_by=set_by,
        set_at=to_db(now),
    )


async def rates(conn: Conn) -> list[tuple[datetime, int]]:
    return [
        (from_db(row["effective_from"]), int(row["rate_ppm"])) for row in await conn.all(_RATES)
    ]


# -- cumulative totals -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """Everything in the ledger before an instant, summed."""

    by_kind: dict[str, int]  # ledger kind → points
    offer_points: int  # the part of purchase points that offers added
    reversed_offer_points: int
    deferred_micro: int  # of all sales
    reversed_deferred_micro: int  # of the sales undone


# SUM() of an integer column is a numeric on PostgreSQL (a Decimal in Python) and an
# integer on SQLite: every sum is read through int().
_POINTS_BY_KIND_BEFORE = sql(
    "SELECT kind, SUM(points) AS points FROM ledger WHERE created_at < :at"
    " GROUP BY kind ORDER BY kind"
)
_SALES_BEFORE = sql(
    "SELECT COALESCE(SUM(a.offer_points), 0) AS offer_points,"
    " COALESCE(SUM(a.deferred_micro), 0) AS deferred_micro"
    " FROM ledger AS l JOIN sale_allocations AS a ON a.entry_id = l.id"
    " WHERE l.created_at < :at AND l.kind = 'earn'"
)
_UNDONE_BEFORE = sql(
    "SELECT COALESCE(SUM(a.offer_points), 0) AS offer_points,"
    " COALESCE(SUM(a.deferred_micro), 0) AS deferred_micro"
    " FROM ledger AS r JOIN sale_allocations AS a ON a.entry_id = r.reverses_id"
    " WHERE r.created_at < :at AND r.kind = 'reversal'"
)
_BALANCES_TOTAL = sql("SELECT COALESCE(SUM(balance), 0) AS total FROM members")
# The same sums split by the location each entry was made at (NULL: entries made at no
# counter, the chain's): the same rows partitioned, so the parts add up to the whole.
_POINTS_BY_LOCATION_BEFORE = sql(
    "SELECT location_id, kind, SUM(points) AS points FROM ledger WHERE created_at < :at"
    " GROUP BY location_id, kind"
)
_SALES_BY_LOCATION_BEFORE = sql(
    "SELECT COALESCE(SUM(a.offer_points), 0) AS offer_points,"
    " COALESCE(SUM(a.deferred_micro), 0) AS deferred_micro, l.location_id"
    " FROM ledger AS l JOIN sale_allocations AS a ON a.entry_id = l.id"
    " WHERE l.created_at < :at AND l.kind = 'earn' GROUP BY l.location_id"
)
# An undo is made at its purchase's location (the reversal entry records it).
_UNDONE_BY_LOCATION_BEFORE = sql(
    "SELECT COALESCE(SUM(a.offer_points), 0) AS offer_points,"
    " COALESCE(SUM(a.deferred_micro), 0) AS deferred_micro, r.location_id"
    " FROM ledger AS r JOIN sale_allocations AS a ON a.entry_id = r.reverses_id"
    " WHERE r.created_at < :at AND r.kind = 'reversal' GROUP BY r.location_id"
)


async def totals_before(conn: Conn, moment: datetime) -> LedgerTotals:
    at = to_db(moment)
    by_kind = {
        str(row["kind"]): int(row["points"])
        for row in await conn.all(_POINTS_BY_KIND_BEFORE, at=at)
    }
    sales = await conn.one(_SALES_BEFORE, at=at)
    undone = await conn.one(_UNDONE_BEFORE, at=at)
    assert sales is not None and undone is not None
    return LedgerTotals(
        by_kind=by_kind,
        offer_points=int(sales["offer_points"]),
        reversed_offer_points=int(undone["offer_points"]),
        deferred_micro=int(sales["deferred_micro"]),
        reversed_deferred_micro=int(undone["deferred_micro"]),
    )


async def totals_by_location_before(conn: Conn, moment: datetime) -> dict[int | None, LedgerTotals]:
    """:func:`totals_before` for each location (None: the entries without one). Every
    location with an entry before ``moment`` is a key; the values add up to
    ``totals_before(moment)`` exactly."""
    at = to_db(moment)
    kinds: dict[int | None, dict[str, int]] = {}
    for row in await conn.all(_POINTS_BY_LOCATION_BEFORE, at=at):
        place = None if row["location_id"] is None else int(row["location_id"])
        kinds.setdefault(place, {})[str(row["kind"])] = int(row["points"])
    sales = {
        None if row["location_id"] is None else int(row["location_id"]): row
        for row in await conn.all(_SALES_BY_LOCATION_BEFORE, at=at)
    }
    undone = {
        None if row["location_id"] is None else int(row["location_id"]): row
        for row in await conn.all(_UNDONE_BY_LOCATION_BEFORE, at=at)
    }
    totals = {}
    for place in kinds.keys() | sales.keys() | undone.keys():
        sold, back = sales.get(place), undone.get(place)
        totals[place] = LedgerTotals(
            by_kind=kinds.get(place, {}),
            offer_points=int(sold["offer_points"]) if sold else 0,
            reversed_offer_points=int(back["offer_points"]) if back else 0,
            deferred_micro=int(sold["deferred_micro"]) if sold else 0,
            reversed_deferred_micro=int(back["deferred_micro"]) if back else 0,
        )
    return totals


async def balances_total(conn: Conn) -> int:
    """The sum of every member's balance (which the triggers keep equal to the ledger)."""
    return int(await conn.value(_BALANCES_TOTAL) or 0)


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
    location_id: int | None = None


# One keyset page: the entries after (:after_at, :after_id) in (created_at, id) order.
# The bound "created_at >= :after_at" is implied by the OR but written out, so both
# planners read one range of the time index instead of filtering it from its start.
_LEDGER_PAGE_OF = (
    "SELECT id, created_at, member_id, kind, points, amount_minor, category, actor_id,"
    " reason, offer_id, reverses_id, location_id FROM ledger"
    " WHERE {only}created_at >= :after_at AND created_at < :end"
    " AND (created_at > :after_at OR id > :after_id)"
    " ORDER BY created_at, id LIMIT :batch"
)
_LEDGER_PAGE = sql(_LEDGER_PAGE_OF.format(only=""))
# One location's entries, or those made at no location (the chain's): ledger_location.
_LEDGER_PAGE_AT = sql(_LEDGER_PAGE_OF.format(only="location_id = :location_id AND "))
_LEDGER_PAGE_WITHOUT_LOCATION = sql(_LEDGER_PAGE_OF.format(only="location_id IS NULL AND "))


async def ledger_rows(
    conn: Conn,
    start: datetime,
    end: datetime,
    batch: int = 5000,
    *,
    location_id: int | None = None,
    without_location: bool = False,
) -> AsyncIterator[list[ExportRow]]:
    """The ledger entries of a period, oldest first, a batch at a time (never all in
    memory): keyset pages over the time index, the primary key breaking ties between
    entries of the same instant (never OFFSET, which rereads every page before). Only
    one location's with ``location_id``; only those made at none with
    ``without_location``."""
    page, only = _LEDGER_PAGE, {}
    if location_id is not None:
        page, only = _LEDGER_PAGE_AT, {"location_id": location_id}
    elif without_location:
        page = _LEDGER_PAGE_WITHOUT_LOCATION
    # The last page's end, as the database returned it (text on SQLite, a datetime on
    # PostgreSQL), so the next page starts exactly after it.
    after_at: Any = to_db(start)
    after_id = 0
    while True:
        rows = await conn.all(
            page, after_at=after_at, after_id=after_id, end=to_db(end), batch=batch, **only
        )
        if not rows:
            return
        yield [
            ExportRow(
                entry_id=int(row["id"]),
                created_at=from_db(row["created_at"]),
                member_id=int(row["member_id"]),
                kind=str(row["kind"]),
                points=int(row["points"]),
                amount_minor=row["amount_minor"],
                category=row["category"],
                actor_id=row["actor_id"],
                reason=str(row["reason"]),
                offer_id=row["offer_id"],
                reverses_id=row["reverses_id"],
                location_id=row["location_id"],
            )
            for row in rows
        ]
        after_at, after_id = rows[-1]["created_at"], int(rows[-1]["id"])
