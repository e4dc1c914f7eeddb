"""Bulk history for benchmarks: many members and ledger entries written directly, fast.

Not used by the bot itself. The entries go through the same triggers as the bot's own
(balances, last visits), so the database is one the bot could have written.
"""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from storage.db import Database
from storage.engine import sql
from storage.timeutil import to_db

CHUNK = 20_000

_INSERT_MEMBER = sql(
    "INSERT INTO members (tg_user_id, chat_id, first_name, created_at)"
    " VALUES (:tg_user_id, :chat_id, :first_name, :created_at)"
)
_SEEDED_IDS = sql(
    "SELECT id FROM members WHERE tg_user_id >= :first AND tg_user_id < :stop ORDER BY tg_user_id"
)
_INSERT_ENTRY = sql(
    "INSERT INTO ledger (member_id, points, kind, reason, amount_minor, idempotency_key,"
    " created_at) VALUES (:member_id, :points, :kind, :reason, :amount_minor,"
    " :idempotency_key, :created_at)"
)
# A purchase's allocation finds its entry by the entry's unique idempotency key: the ids
# a bulk insert gives are the engine's business (no last_insert_rowid() arithmetic).
_INSERT_ALLOCATION = sql(
    "INSERT INTO sale_allocations (entry_id, amount_minor, points, offer_points, rate_ppm,"
    " ssp_micro, deferred_micro)"
    " SELECT l.id, l.amount_minor, l.points, 0, 800000, :ssp_micro, :deferred_micro"
    " FROM ledger AS l WHERE l.idempotency_key = :idempotency_key"
)
_SEEDED_RECIPIENTS = sql(
    "SELECT id, chat_id FROM members WHERE tg_user_id >= :first AND tg_user_id < :stop ORDER BY id"
)
_ANALYZE = sql("ANALYZE")


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
        {
            "tg_user_id": first_user_id + n,
            "chat_id": first_user_id + n,
            "first_name": f"Guest{n}",
            "created_at": joined,
        }
        for n in range(members)
    ]
    for offset in range(0, members, CHUNK):
        async with db.transaction() as tx:
            await tx.run_many(_INSERT_MEMBER, member_rows[offset : offset + CHUNK])
    # Their ids, as the engine gave them (never assumed consecutive).
    ids = [
        int(row["id"])
        for row in await db.reader.all(
            _SEEDED_IDS, first=first_user_id, stop=first_user_id + members
        )
    ]
    balances = [0] * members
    step = (end - start) / max(entries, 1)
    ledger_rows: list[dict[str, Any]] = []
    sales: list[dict[str, Any]] = []
    for n in range(entries):
        who = rng.randrange(members)
        key = f"seed:{first_user_id}:{n}"
        at = to_db(start + step * n)
        if balances[who] >= 20 and rng.random() < 0.15:
            points, kind, reason, amount = -20, "redeem", "Espresso", None
        else:
            amount = rng.randrange(250, 2500)
            points, kind, reason = amount // 100, "earn", "purchase"
            sales.append(_allocation(key, amount, points))
        balances[who] += points
        ledger_rows.append(
            {
                "member_id": ids[who],
                "points": points,
                "kind": kind,
                "reason": reason,
                "amount_minor": amount,
                "idempotency_key": key,
                "created_at": at,
            }
        )
        if len(ledger_rows) == CHUNK or n == entries - 1:
            async with db.transaction() as tx:
                await tx.run_many(_INSERT_ENTRY, ledger_rows)
                await tx.run_many(_INSERT_ALLOCATION, sales)
            ledger_rows, sales = [], []


def _allocation(key: str, amount: int, points: int) -> dict[str, Any]:
    """A purchase's allocation with the bot's defaults (a point worth €0.05, 80 %
    expected to be redeemed), computed here in integers so both engines store the same."""
    ssp = points * 4_000_000  # points × €0.05 × 80 %, in millionths of a cent
    price = amount * 1_000_000
    return {
        "idempotency_key": key,
        "ssp_micro": ssp,
        "deferred_micro": price * ssp // (price + ssp),
    }


async def seeded_recipients(db: Database, first_user_id: int, count: int) -> list[tuple[int, int]]:
    """(member id, chat id) of ``count`` seeded members from ``first_user_id`` on."""
    rows = await db.reader.all(_SEEDED_RECIPIENTS, first=first_user_id, stop=first_user_id + count)
    return [(int(row["id"]), int(row["chat_id"])) for row in rows]


async def analyze(db: Database) -> None:
    """Fresh planner statistics after a bulk load (ANALYZE means the same on both)."""
    async with db.transaction() as tx:
        await tx.run(_ANALYZE)
