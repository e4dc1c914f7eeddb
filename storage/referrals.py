"""Referrals: who brought whom, and whether the bonus was paid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Conn, Row, per_engine, sql
from storage.timeutil import from_db, from_db_optional, to_db

_CREATE = sql(
    "INSERT INTO referrals (referred_id, referrer_id, joined_at)"
    " VALUES (:referred_id, :referrer_id, :joined_at)"
)
_COLUMNS = "referred_id, referrer_id, joined_at, state, reason, settled_at, settled_entry_id"
_OF_REFERRED = sql(f"SELECT {_COLUMNS} FROM referrals WHERE referred_id = :referred_id")
_SETTLE = sql(
    "UPDATE referrals SET state = :state, reason = :reason, settled_at = :now,"
    " settled_entry_id = :entry_id WHERE referred_id = :referred_id AND state = 'pending'"
)
_SETTLED_BY = sql(f"SELECT {_COLUMNS} FROM referrals WHERE settled_entry_id = :entry_id")
_REOPEN = sql(
    "UPDATE referrals SET state = 'pending', reason = NULL, settled_at = NULL,"
    " settled_entry_id = NULL WHERE referred_id = :referred_id"
)
# Settling a referral counts the referrer's rewarded ones: on PostgreSQL their rows are
# locked first, so settlements for one referrer queue; SQLite's write lock already
# serialises them.
_LOCK_REFERRER = per_engine(
    sqlite="SELECT COUNT(*) AS n FROM referrals WHERE referrer_id = :referrer_id",
    postgresql="SELECT referred_id FROM referrals WHERE referrer_id = :referrer_id FOR UPDATE",
)
_REWARDED_SINCE = sql(
    "SELECT COUNT(*) AS n FROM referrals WHERE referrer_id = :referrer_id"
    " AND state = 'rewarded' AND settled_at >= :since"
)
# Aggregate the referrals first, then look their referrers up by primary key.
_TOP_REFERRERS = sql(
    "SELECT t.referrer_id, m.first_name, t.rewarded, t.pending, t.refused FROM"
    " (SELECT referrer_id,"
    "  SUM(CASE WHEN state = 'rewarded' THEN 1 ELSE 0 END) AS rewarded,"
    "  SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END) AS pending,"
    "  SUM(CASE WHEN state = 'refused' THEN 1 ELSE 0 END) AS refused"
    "  FROM referrals GROUP BY referrer_id"
    "  ORDER BY rewarded DESC, pending DESC, referrer_id LIMIT :limit) AS t"
    " JOIN members AS m ON m.id = t.referrer_id"
    " ORDER BY t.rewarded DESC, t.pending DESC, t.referrer_id"
)


@dataclass(frozen=True, slots=True)
class Referral:
    referred_id: int
    referrer_id: int
    joined_at: datetime
    state: str  # 'pending' | 'rewarded' | 'refused'
    reason: str | None
    settled_at: datetime | None
    settled_entry_id: int | None  # the purchase that settled it


def _referral(row: Row) -> Referral:
    return Referral(
        referred_id=row["referred_id"],
        referrer_id=row["referrer_id"],
        joined_at=from_db(row["joined_at"]),
        state=row["state"],
        reason=row["reason"],
        settled_at=from_db_optional(row["settled_at"]),
        settled_entry_id=row["settled_entry_id"],
    )


async def create(tx: Conn, *, referred_id: int, referrer_id: int, now: datetime) -> None:
    await tx.run(_CREATE, referred_id=referred_id, referrer_id=referrer_id, joined_at=to_db(now))


async def of_referred(conn: Conn, referred_id: int) -> Referral | None:
    row = await conn.one(_OF_REFERRED, referred_id=referred_id)
    return _referral(row) if row else None


async def settle(
    tx: Conn,
    referred_id: int,
    state: str,
    reason: str | None,
    now: datetime,
    entry_id: int | None = None,
) -> bool:
    """Settle a pending referral; False when it was settled already (by another
    transaction too: the update is conditional)."""
    changed = await tx.run(
        _SETTLE,
        state=state,
        reason=reason,
        now=to_db(now),
        entry_id=entry_id,
        referred_id=referred_id,
    )
    return changed == 1


async def settled_by(conn: Conn, entry_id: int) -> Referral | None:
    """The referral the purchase ``entry_id`` settled, if any."""
    row = await conn.one(_SETTLED_BY, entry_id=entry_id)
    return _referral(row) if row else None


async def reopen(tx: Conn, referred_id: int) -> None:
    """Waiting again for a first qualifying purchase (the one that settled it was undone)."""
    await tx.run(_REOPEN, referred_id=referred_id)


async def lock_referrer(tx: Conn, referrer_id: int) -> None:
    """Hold the referrer's referrals until the transaction ends (PostgreSQL)."""
    await tx.all(_LOCK_REFERRER, referrer_id=referrer_id)


async def rewarded_since(conn: Conn, referrer_id: int, since: datetime) -> int:
    value = await conn.value(_REWARDED_SINCE, referrer_id=referrer_id, since=to_db(since))
    return int(value or 0)


@dataclass(frozen=True, slots=True)
class ReferrerRow:
    member_id: int
    first_name: str
    rewarded: int
    pending: int
    refused: int


async def top_referrers(conn: Conn, limit: int = 10) -> list[ReferrerRow]:
    return [
        ReferrerRow(
            member_id=row["referrer_id"],
            first_name=row["first_name"],
            rewarded=int(row["rewarded"]),
            pending=int(row["pending"]),
            refused=int(row["refused"]),
        )
        for row in await conn.all(_TOP_REFERRERS, limit=limit)
    ]
