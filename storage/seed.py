"""Bulk history for benchmarks: many members and ledger entries written directly, fast.

Not used by the bot itself. The entries go through the same triggers as the bot's own
(balances, last visits), so the database is one the bot could have written.
"""

from __future__ import annotations

import random
from datetime import datetime

from storage.db import Database
from storage.timeutil import to_db

CHUNK = 20_000


async def seed_history(
    db: Database,
    *,
    members: int,
    entries: int,
    start: datetime,
    end: datetime,
    first_user_id: int = 10_000_000,
    seed: int = 1,
) -> None:
    """``members`` members who joined at ``start``, and ``entries`` ledger entries spread
    evenly over [start, end): about 85 % purchases (with their sale allocation) and 15 %
    redemptions, never overdrawing a balance."""
    rng = random.Random(seed)
    joined = to_db(start)
    member_rows = [
        (first_user_id + n, first_user_id + n, f"Guest{n}", joined) for n in range(members)
    ]
    for offset in range(0, members, CHUNK):
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO members (tg_user_id, chat_id, first_name, created_at)"
                " VALUES (?, ?, ?, ?)",
                member_rows[offset : offset + CHUNK],
            )
            # Members inserted here get ids in order after whatever existed before.
    async with db.reader.execute(
        "SELECT MIN(id) FROM members WHERE tg_user_id >= ?", (first_user_id,)
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    first_id = int(row[0])
    balances = [0] * members
    step = (end - start) / max(entries, 1)
    ledger_rows: list[tuple[object, ...]] = []
    sales: list[tuple[int, int, int]] = []  # (row index, amount, points)
    for n in range(entries):
        who = rng.randrange(members)
        at = to_db(start + step * n)
        if balances[who] >= 20 and rng.random() < 0.15:
            ledger_rows.append(
                (first_id + who, -20, "redeem", "Espresso", None, f"seed:{first_user_id}:{n}", at)
            )
            balances[who] -= 20
        else:
            amount = rng.randrange(250, 2500)
            points = amount // 100
            ledger_rows.append(
                (
                    first_id + who,
                    points,
                    "earn",
                    "purchase",
                    amount,
                    f"seed:{first_user_id}:{n}",
                    at,
                )
            )
            balances[who] += points
            sales.append((n, amount, points))
        if len(ledger_rows) == CHUNK or n == entries - 1:
            await _write(db, ledger_rows, sales, n + 1 - len(ledger_rows))
            ledger_rows, sales = [], []


async def _write(
    db: Database, rows: list[tuple[object, ...]], sales: list[tuple[int, int, int]], first: int
) -> None:
    """One chunk of entries, and the allocations of its purchases (the bot's defaults:
    a point worth €0.05, 80 % expected to be redeemed)."""
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO ledger (member_id, points, kind, reason, amount_minor,"
            " idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        async with tx.execute("SELECT last_insert_rowid()") as cur:
            row = await cur.fetchone()
        assert row is not None
        first_id = int(row[0]) - len(rows) + 1  # one statement in one transaction: consecutive
        allocations = []
        for n, amount, points in sales:
            ssp = points * 4_000_000  # points × €0.05 × 80 %, in millionths of a cent
            price = amount * 1_000_000
            allocations.append(
                (first_id + n - first, amount, points, ssp, price * ssp // (price + ssp))
            )
        await tx.executemany(
            "INSERT INTO sale_allocations (entry_id, amount_minor, points, offer_points,"
            " rate_ppm, ssp_micro, deferred_micro) VALUES (?, ?, ?, 0, 800000, ?, ?)",
            allocations,
        )


async def seeded_recipients(db: Database, first_user_id: int, count: int) -> list[tuple[int, int]]:
    """(member id, chat id) of ``count`` seeded members from ``first_user_id`` on."""
    async with db.reader.execute(
        "SELECT id, chat_id FROM members WHERE tg_user_id >= ? AND tg_user_id < ? ORDER BY id",
        (first_user_id, first_user_id + count),
    ) as cur:
        return [(int(row[0]), int(row[1])) for row in await cur.fetchall()]
