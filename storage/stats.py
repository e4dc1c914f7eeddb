"""Aggregates for /stats: members, visits, retention, coupons, NPS, offers, staff, tiers.

Each is one SQL aggregate over indexed columns, read on the reader connection. A
"purchase" is a ledger 'earn' entry that was not undone; a member's "visit" is one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

import aiosqlite

from storage.timeutil import from_db, to_db

STANDING = "NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id)"


async def _one(conn: aiosqlite.Connection, sql: str, params: tuple[object, ...]) -> int:
    async with conn.execute(sql, params) as cur:
        row = await cur.fetchone()
    return int(row[0] or 0) if row else 0


@dataclass(frozen=True, slots=True)
class MemberCounts:
    total: int
    new: int
    reachable: int


async def member_counts(conn: aiosqlite.Connection, start: datetime, end: datetime) -> MemberCounts:
    async with conn.execute(
        "SELECT COUNT(*),"
        " SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN unreachable_at IS NULL AND forgotten_at IS NULL THEN 1 ELSE 0 END)"
        " FROM members WHERE created_at < ?",
        (to_db(start), to_db(end)),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return MemberCounts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


@dataclass(frozen=True, slots=True)
class Visits:
    customers: int  # members with at least one purchase
    visits: int  # purchases
    spend_minor: int
    repeat_customers: int  # members with two or more purchases
    new_customers: int  # members whose first purchase ever is in the period


async def visits(conn: aiosqlite.Connection, start: datetime, end: datetime) -> Visits:
    async with conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(n), 0), COALESCE(SUM(spend), 0),"
        " COALESCE(SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM ledger AS f WHERE"
        "  f.member_id = per.member_id AND f.kind = 'earn' AND f.created_at < ?1)"
        "  THEN 1 ELSE 0 END), 0)"
        " FROM (SELECT e.member_id, COUNT(*) AS n, SUM(e.amount_minor) AS spend FROM ledger AS e"
        f"  WHERE e.kind = 'earn' AND e.created_at >= ?1 AND e.created_at < ?2 AND {STANDING}"
        "  GROUP BY e.member_id) AS per",
        (to_db(start), to_db(end)),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return Visits(*(int(value or 0) for value in row))


async def points_moved(
    conn: aiosqlite.Connection, start: datetime, end: datetime
) -> dict[str, int]:
    async with conn.execute(
        "SELECT kind, SUM(points) FROM ledger WHERE created_at >= ? AND created_at < ?"
        " GROUP BY kind",
        (to_db(start), to_db(end)),
    ) as cur:
        return {str(row[0]): int(row[1]) for row in await cur.fetchall()}


@dataclass(frozen=True, slots=True)
class CouponCounts:
    issued: int
    used: int
    expired: int


async def coupon_counts(conn: aiosqlite.Connection, start: datetime, end: datetime) -> CouponCounts:
    at = (to_db(start), to_db(end))
    issued = await _one(
        conn, "SELECT COUNT(*) FROM coupons WHERE issued_at >= ? AND issued_at < ?", at
    )
    async with conn.execute(
        "SELECT SUM(CASE WHEN state = 'redeemed' THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN state = 'expired' THEN 1 ELSE 0 END)"
        " FROM coupons WHERE closed_at >= ? AND closed_at < ?",
        at,
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return CouponCounts(issued, int(row[0] or 0), int(row[1] or 0))


@dataclass(frozen=True, slots=True)
class NpsCounts:
    answers: int
    promoters: int
    detractors: int


async def nps_counts(conn: aiosqlite.Connection, start: datetime, end: datetime) -> NpsCounts:
    async with conn.execute(
        "SELECT COUNT(*), SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)"
        " FROM feedback WHERE score IS NOT NULL AND answered_at >= ? AND answered_at < ?",
        (to_db(start), to_db(end)),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return NpsCounts(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0))


@dataclass(frozen=True, slots=True)
class OfferUptake:
    offer_id: int
    title: str
    purchases: int
    members: int
    spend_users_minor: int  # in the period, by members who used the offer
    spend_others_minor: int  # by the period's other customers


async def offer_uptake(
    conn: aiosqlite.Connection, start: datetime, end: datetime
) -> list[OfferUptake]:
    """Offers that ran during the period, with their use and the spend of their users
    against everyone else's."""
    at = (to_db(start), to_db(end))
    async with conn.execute(
        "SELECT o.id, o.title,"
        " (SELECT COUNT(*) FROM ledger AS e WHERE e.offer_id = o.id AND e.kind = 'earn'"
        f"   AND e.created_at >= ?1 AND e.created_at < ?2 AND {STANDING}),"
        " (SELECT COUNT(DISTINCT e.member_id) FROM ledger AS e WHERE e.offer_id = o.id"
        "   AND e.kind = 'earn' AND e.created_at >= ?1 AND e.created_at < ?2)"
        " FROM offers AS o WHERE o.starts_at < ?2 AND o.ends_at > ?1 ORDER BY o.id",
        at,
    ) as cur:
        offers = [(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in await cur.fetchall()]
    result = []
    for offer_id, title, purchases, members in offers:
        async with conn.execute(
            "SELECT COALESCE(SUM(CASE WHEN u.member_id IS NOT NULL THEN e.amount_minor END), 0),"
            " COALESCE(SUM(CASE WHEN u.member_id IS NULL THEN e.amount_minor END), 0)"
            " FROM ledger AS e LEFT JOIN (SELECT DISTINCT member_id FROM ledger"
            "  WHERE offer_id = ?3 AND kind = 'earn' AND created_at >= ?1 AND created_at < ?2)"
            "  AS u ON u.member_id = e.member_id"
            f" WHERE e.kind = 'earn' AND e.created_at >= ?1 AND e.created_at < ?2 AND {STANDING}",
            (*at, offer_id),
        ) as cur:
            row = await cur.fetchone()
        assert row is not None
        result.append(OfferUptake(offer_id, title, purchases, members, int(row[0]), int(row[1])))
    return result


@dataclass(frozen=True, slots=True)
class Reach:
    broadcasts: int
    recipients: int
    sent: int


async def broadcast_reach(conn: aiosqlite.Connection, start: datetime, end: datetime) -> Reach:
    async with conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(total), 0),"
        " COALESCE(SUM((SELECT COUNT(*) FROM broadcast_recipients AS r"
        "   WHERE r.broadcast_id = b.id AND r.state = 'sent')), 0)"
        " FROM broadcasts AS b WHERE b.created_at >= ? AND b.created_at < ?",
        (to_db(start), to_db(end)),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return Reach(int(row[0]), int(row[1]), int(row[2]))


async def referral_counts(
    conn: aiosqlite.Connection, start: datetime, end: datetime
) -> tuple[int, int]:
    """(joined through a referral, rewarded) in the period."""
    at = (to_db(start), to_db(end))
    joined = await _one(
        conn, "SELECT COUNT(*) FROM referrals WHERE joined_at >= ? AND joined_at < ?", at
    )
    rewarded = await _one(
        conn,
        "SELECT COUNT(*) FROM referrals WHERE state = 'rewarded'"
        " AND settled_at >= ? AND settled_at < ?",
        at,
    )
    return joined, rewarded


async def top_staff(
    conn: aiosqlite.Connection, start: datetime, end: datetime, limit: int = 5
) -> list[tuple[int, str, int]]:
    """(user id, name, purchases recorded) of who scanned most."""
    async with conn.execute(
        "SELECT e.actor_id, COALESCE(s.first_name, m.first_name, ''), COUNT(*) AS n"
        " FROM ledger AS e LEFT JOIN staff AS s ON s.tg_user_id = e.actor_id"
        " LEFT JOIN members AS m ON m.tg_user_id = e.actor_id"
        " WHERE e.kind = 'earn' AND e.created_at >= ? AND e.created_at < ?"
        " GROUP BY e.actor_id ORDER BY n DESC, e.actor_id LIMIT ?",
        (to_db(start), to_db(end), limit),
    ) as cur:
        return [(int(r[0] or 0), str(r[1]), int(r[2])) for r in await cur.fetchall()]


async def tier_counts(
    conn: aiosqlite.Connection, since: datetime, end: datetime, thresholds: list[int]
) -> list[int]:
    """How many members stand in each tier (by points earned in [since, end)), lowest
    tier first; ``thresholds`` ascending, the first 0."""
    cases = " ".join(
        f"WHEN earned >= {int(threshold)} THEN {index}"
        for index, threshold in reversed(list(enumerate(thresholds)))
    )
    async with conn.execute(
        f"SELECT CASE {cases} ELSE 0 END AS tier, COUNT(*) FROM"
        " (SELECT e.member_id, SUM(e.points) AS earned FROM ledger AS e"
        "  WHERE e.kind = 'earn' AND e.created_at >= ? AND e.created_at < ?"
        f"  AND {STANDING} GROUP BY e.member_id) GROUP BY tier",
        (to_db(since), to_db(end)),
    ) as cur:
        counted = {int(r[0]): int(r[1]) for r in await cur.fetchall()}
    members = await _one(
        conn, "SELECT COUNT(*) FROM members WHERE created_at < ? AND forgotten_at IS NULL",
        (to_db(end),),
    )  # fmt: skip
    counts = [counted.get(index, 0) for index in range(len(thresholds))]
    counts[0] += max(0, members - sum(counts))  # members who earned nothing in the year
    return counts


def _spans(bounds: list[datetime]) -> tuple[str, list[object]]:
    """A CTE ``span(i, lo, hi)`` of the consecutive ranges [bounds[i], bounds[i + 1])."""
    rows = ", ".join("(?, ?, ?)" for _ in bounds[1:])
    params: list[object] = []
    for index, (lo, hi) in enumerate(pairwise(bounds)):
        params += [index, to_db(lo), to_db(hi)]
    return f"WITH span(i, lo, hi) AS (VALUES {rows})", params


async def activity(
    conn: aiosqlite.Connection, bounds: list[datetime]
) -> list[tuple[int, int, int]]:
    """(purchases, points issued, points redeemed net of refunds) in each range
    [bounds[i], bounds[i + 1]), in one aggregate."""
    spans, params = _spans(bounds)
    async with conn.execute(
        f"{spans} SELECT s.i,"
        f" COALESCE(SUM(CASE WHEN e.kind = 'earn' AND {STANDING} THEN 1 END), 0),"
        " COALESCE(SUM(CASE WHEN e.points > 0 AND e.kind NOT IN ('refund') THEN e.points END), 0),"
        " COALESCE(-SUM(CASE WHEN e.kind IN ('redeem', 'refund') THEN e.points END), 0)"
        " FROM span AS s LEFT JOIN ledger AS e ON e.created_at >= s.lo AND e.created_at < s.hi"
        " GROUP BY s.i ORDER BY s.i",
        params,
    ) as cur:
        return [(int(r[1]), int(r[2]), int(r[3])) for r in await cur.fetchall()]


async def cohort_sizes(conn: aiosqlite.Connection, bounds: list[datetime]) -> list[int]:
    """How many members joined in each range [bounds[i], bounds[i + 1])."""
    spans, params = _spans(bounds)
    async with conn.execute(
        f"{spans} SELECT s.i, COUNT(m.id) FROM span AS s LEFT JOIN members AS m"
        " ON m.created_at >= s.lo AND m.created_at < s.hi GROUP BY s.i ORDER BY s.i",
        params,
    ) as cur:
        return [int(r[1]) for r in await cur.fetchall()]


async def cohort_active(
    conn: aiosqlite.Connection, bounds: list[datetime]
) -> dict[tuple[int, int], int]:
    """{(joined, active): members who joined in range ``joined`` and made a purchase in
    range ``active``} over the ranges [bounds[i], bounds[i + 1]); pairs with none are left out."""
    spans, params = _spans(bounds)
    async with conn.execute(
        f"{spans} SELECT j.i, a.i, COUNT(DISTINCT m.id) FROM span AS j"
        " JOIN members AS m ON m.created_at >= j.lo AND m.created_at < j.hi"
        " JOIN ledger AS e ON e.member_id = m.id AND e.kind = 'earn'"
        " JOIN span AS a ON e.created_at >= a.lo AND e.created_at < a.hi"
        " WHERE a.i >= j.i GROUP BY j.i, a.i",
        params,
    ) as cur:
        return {(int(r[0]), int(r[1])): int(r[2]) for r in await cur.fetchall()}


async def active_members(conn: aiosqlite.Connection, since: datetime, end: datetime) -> int:
    return await _one(
        conn,
        "SELECT COUNT(DISTINCT member_id) FROM ledger"
        " WHERE kind = 'earn' AND created_at >= ? AND created_at < ?",
        (to_db(since), to_db(end)),
    )


# -- the audit log ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditLine:
    created_at: datetime
    actor_id: int
    actor_name: str
    action: str
    member_id: int | None
    detail: str


async def audit_lines(
    conn: aiosqlite.Connection,
    *,
    member_id: int | None = None,
    actor_id: int | None = None,
    limit: int = 20,
) -> list[AuditLine]:
    """The latest audit lines, of one member or one actor (by index), or of everyone."""
    where, params = "", []
    if member_id is not None:
        where, params = "WHERE a.member_id = ?", [member_id]
    elif actor_id is not None:
        where, params = "WHERE a.actor_id = ?", [actor_id]
    async with conn.execute(
        "SELECT a.created_at, a.actor_id, COALESCE(s.first_name, m.first_name, ''),"
        " a.action, a.member_id, a.detail FROM audit_log AS a"
        " LEFT JOIN staff AS s ON s.tg_user_id = a.actor_id"
        " LEFT JOIN members AS m ON m.tg_user_id = a.actor_id"
        f" {where} ORDER BY a.id DESC LIMIT ?",
        (*params, limit),
    ) as cur:
        rows = await cur.fetchall()
    return [
        AuditLine(from_db(r[0]), int(r[1]), str(r[2]), str(r[3]), r[4], str(r[5])) for r in rows
    ]
