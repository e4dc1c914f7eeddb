"""Referrals: who brought whom, and whether the bonus was paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.timeutil import from_db, from_db_optional, to_db


@dataclass(frozen=True, slots=True)
class Referral:
    referred_id: int
    referrer_id: int
    joined_at: datetime
    state: str  # 'pending' | 'rewarded' | 'refused'
    reason: str | None
    settled_at: datetime | None
    settled_entry_id: int | None  # the purchase that settled it


def _referral(row: aiosqlite.Row) -> Referral:
    return Referral(
        referred_id=row["referred_id"],
        referrer_id=row["referrer_id"],
        joined_at=from_db(row["joined_at"]),
        state=row["state"],
        reason=row["reason"],
        settled_at=from_db_optional(row["settled_at"]),
        settled_entry_id=row["settled_entry_id"],
    )


async def create(
    tx: aiosqlite.Connection, *, referred_id: int, referrer_id: int, now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO referrals (referred_id, referrer_id, joined_at) VALUES (?, ?, ?)",
        (referred_id, referrer_id, to_db(now)),
    )


async def of_referred(conn: aiosqlite.Connection, referred_id: int) -> Referral | None:
    async with conn.execute("SELECT * FROM referrals WHERE referred_id = ?", (referred_id,)) as cur:
        row = await cur.fetchone()
    return _referral(row) if row else None


async def settle(
    tx: aiosqlite.Connection,
    referred_id: int,
    state: str,
    reason: str | None,
    now: datetime,
    entry_id: int | None = None,
) -> bool:
    cur = await tx.execute(
        "UPDATE referrals SET state = ?, reason = ?, settled_at = ?, settled_entry_id = ?"
        " WHERE referred_id = ? AND state = 'pending'",
        (state, reason, to_db(now), entry_id, referred_id),
    )
    return cur.rowcount == 1


async def settled_by(conn: aiosqlite.Connection, entry_id: int) -> Referral | None:
    """The referral the purchase ``entry_id`` settled, if any."""
    async with conn.execute(
        "SELECT * FROM referrals WHERE settled_entry_id = ?", (entry_id,)
    ) as cur:
        row = await cur.fetchone()
    return _referral(row) if row else None


async def reopen(tx: aiosqlite.Connection, referred_id: int) -> None:
    """Waiting again for a first qualifying purchase (the one that settled it was undone)."""
    await tx.execute(
        "UPDATE referrals SET state = 'pending', reason = NULL, settled_at = NULL,"
        " settled_entry_id = NULL WHERE referred_id = ?",
        (referred_id,),
    )


async def rewarded_since(conn: aiosqlite.Connection, referrer_id: int, since: datetime) -> int:
    async with conn.execute(
        "SELECT COUNT(*) FROM referrals WHERE referrer_id = ? AND state = 'rewarded'"
        " AND settled_at >= ?",
        (referrer_id, to_db(since)),
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True, slots=True)
class ReferrerRow:
    member_id: int
    first_name: str
    rewarded: int
    pending: int
    refused: int


async def top_referrers(conn: aiosqlite.Connection, limit: int = 10) -> list[ReferrerRow]:
    # Aggregate the referrals first, then look their referrers up by primary key.
    async with conn.execute(
        "SELECT t.referrer_id, m.first_name, t.rewarded, t.pending, t.refused FROM"
        " (SELECT referrer_id,"
        "  SUM(CASE WHEN state = 'rewarded' THEN 1 ELSE 0 END) AS rewarded,"
        "  SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending,"
        "  SUM(CASE WHEN state = 'refused' THEN 1 ELSE 0 END) AS refused"
        "  FROM referrals GROUP BY referrer_id"
        "  ORDER BY rewarded DESC, pending DESC, referrer_id LIMIT ?) AS t"
        " JOIN members AS m ON m.id = t.referrer_id"
        " ORDER BY t.rewarded DESC, t.pending DESC, t.referrer_id",
        (limit,),
    ) as cur:
        return [ReferrerRow(row[0], row[1], row[2], row[3], row[4]) for row in await cur.fetchall()]
