"""Aggregates for /stats: members, visits, retention, coupons, NPS, offers, staff, tiers.

Each is one SQL aggregate over indexed columns, read on the reader connection. A
"purchase" is a ledger 'earn' entry that was not undone; a member's "visit" is one.

SUM() of an integer column is a numeric on PostgreSQL (a Decimal in Python), and SUM()
over no rows is NULL on both engines: every figure is read through :func:`_int`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from storage.engine import Conn, Statement, per_engine, sql
from storage.timeutil import from_db, to_db

# "reverses_id IS NOT NULL" is implied by the equality, but written out it lets
# PostgreSQL read only the reversals' part of the reverses_id index for its anti-join
# instead of scanning the whole ledger; SQLite reads that index either way.
STANDING = (
    "NOT EXISTS (SELECT 1 FROM ledger AS r"
    " WHERE r.reverses_id = e.id AND r.reverses_id IS NOT NULL)"
)


def _int(value: Any) -> int:
    return int(value or 0)


async def _count(conn: Conn, statement: Statement, **params: Any) -> int:
    return _int(await conn.value(statement, **params))


@dataclass(frozen=True, slots=True)
class MemberCounts:
    total: int
    new: int
    reachable: int


_MEMBER_COUNTS = sql(
    "SELECT COUNT(*) AS total,"
    " SUM(CASE WHEN created_at >= :start THEN 1 ELSE 0 END) AS new,"
    " SUM(CASE WHEN unreachable_at IS NULL AND forgotten_at IS NULL THEN 1 ELSE 0 END)"
    " AS reachable"
    " FROM members WHERE created_at < :end"
)


async def member_counts(conn: Conn, start: datetime, end: datetime) -> MemberCounts:
    row = await conn.one(_MEMBER_COUNTS, start=to_db(start), end=to_db(end))
    assert row is not None
    return MemberCounts(_int(row["total"]), _int(row["new"]), _int(row["reachable"]))


@dataclass(frozen=True, slots=True)
class Visits:
    customers: int  # members with at least one purchase
    visits: int  # purchases
    spend_minor: int
    repeat_customers: int  # members with two or more purchases
    new_customers: int  # members whose first purchase ever is in the period


# At one location (``AT``): its purchases, read through ledger_location; a customer who
# is new there made their first purchase there in the period.
AT = " AND {alias}.location_id = :location_id"


def _at(alias: str, location_id: int | None) -> str:
    return "" if location_id is None else AT.format(alias=alias)


def _scoped(template: str, **aliases: str) -> tuple[Statement, Statement]:
    """A statement for the whole café and its twin for one location (``{name}`` in the
    template becomes the location condition on the alias ``aliases[name]``)."""
    whole = sql(template.format(**{name: "" for name in aliases}))
    one = sql(template.format(**{name: AT.format(alias=a) for name, a in aliases.items()}))
    return whole, one


def _params(location_id: int | None, **params: Any) -> dict[str, Any]:
    return params if location_id is None else {**params, "location_id": location_id}


_VISITS = _scoped(
    "SELECT COUNT(*) AS customers, COALESCE(SUM(n), 0) AS visits,"
    " COALESCE(SUM(spend), 0) AS spend_minor,"
    " COALESCE(SUM(CASE WHEN n >= 2 THEN 1 ELSE 0 END), 0) AS repeat_customers,"
    " COALESCE(SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM ledger AS f WHERE"
    "  f.member_id = per.member_id AND f.kind = 'earn'{f} AND f.created_at < :start)"
    "  THEN 1 ELSE 0 END), 0) AS new_customers"
    " FROM (SELECT e.member_id, COUNT(*) AS n, SUM(e.amount_minor) AS spend FROM ledger AS e"
    "  WHERE e.kind = 'earn'{e} AND e.created_at >= :start AND e.created_at < :end"
    f"  AND {STANDING} GROUP BY e.member_id) AS per",
    f="f",
    e="e",
)
_POINTS_MOVED = _scoped(
    "SELECT kind, SUM(points) AS points FROM ledger AS e"
    " WHERE e.created_at >= :start AND e.created_at < :end{e} GROUP BY kind ORDER BY kind",
    e="e",
)


def _pick(statements: tuple[Statement, Statement], location_id: int | None) -> Statement:
    return statements[0] if location_id is None else statements[1]


async def visits(
    conn: Conn, start: datetime, end: datetime, location_id: int | None = None
) -> Visits:
    """The period's purchases: the whole café's, or one location's."""
    row = await conn.one(
        _pick(_VISITS, location_id), **_params(location_id, start=to_db(start), end=to_db(end))
    )
    assert row is not None
    return Visits(
        customers=_int(row["customers"]),
        visits=_int(row["visits"]),
        spend_minor=_int(row["spend_minor"]),
        repeat_customers=_int(row["repeat_customers"]),
        new_customers=_int(row["new_customers"]),
    )


async def points_moved(
    conn: Conn, start: datetime, end: datetime, location_id: int | None = None
) -> dict[str, int]:
    """Points moved in the period by ledger kind (at one location: its purchases and
    undos, the only entries made at a location)."""
    rows = await conn.all(
        _pick(_POINTS_MOVED, location_id),
        **_params(location_id, start=to_db(start), end=to_db(end)),
    )
    return {str(row["kind"]): _int(row["points"]) for row in rows}


@dataclass(frozen=True, slots=True)
class CouponCounts:
    issued: int
    used: int
    expired: int


_COUPONS_ISSUED = sql(
    "SELECT COUNT(*) AS n FROM coupons WHERE issued_at >= :start AND issued_at < :end"
)
_COUPONS_CLOSED = sql(
    "SELECT SUM(CASE WHEN state = 'redeemed' THEN 1 ELSE 0 END) AS used,"
    " SUM(CASE WHEN state = 'expired' THEN 1 ELSE 0 END) AS expired"
    " FROM coupons WHERE closed_at >= :start AND closed_at < :end"
)


_COUPONS_USED_AT = sql(
    "SELECT COUNT(*) AS n FROM coupons WHERE closed_at >= :start AND closed_at < :end"
    " AND state = 'redeemed' AND redeemed_location_id = :location_id"
)


async def coupons_used_at(conn: Conn, start: datetime, end: datetime, location_id: int) -> int:
    """Coupons handed over at one location in the period."""
    return await _count(
        conn, _COUPONS_USED_AT, start=to_db(start), end=to_db(end), location_id=location_id
    )


async def coupon_counts(conn: Conn, start: datetime, end: datetime) -> CouponCounts:
    at = {"start": to_db(start), "end": to_db(end)}
    issued = await _count(conn, _COUPONS_ISSUED, **at)
    row = await conn.one(_COUPONS_CLOSED, **at)
    assert row is not None
    return CouponCounts(issued, _int(row["used"]), _int(row["expired"]))


@dataclass(frozen=True, slots=True)
class NpsCounts:
    answers: int
    promoters: int
    detractors: int


_NPS_COUNTS = sql(
    "SELECT COUNT(*) AS answers, SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,"
    " SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors"
    " FROM feedback WHERE score IS NOT NULL AND answered_at >= :start AND answered_at < :end"
)


async def nps_counts(conn: Conn, start: datetime, end: datetime) -> NpsCounts:
    row = await conn.one(_NPS_COUNTS, start=to_db(start), end=to_db(end))
    assert row is not None
    return NpsCounts(_int(row["answers"]), _int(row["promoters"]), _int(row["detractors"]))


@dataclass(frozen=True, slots=True)
class OfferUptake:
    offer_id: int
    title: str
    purchases: int
    members: int
    spend_users_minor: int  # in the period, by members who used the offer
    spend_others_minor: int  # by the period's other customers


_OFFERS_RUN = _scoped(
    "SELECT o.id, o.title,"
    " (SELECT COUNT(*) FROM ledger AS e WHERE e.offer_id = o.id AND e.kind = 'earn'"
    f"   AND e.created_at >= :start AND e.created_at < :end{{e}} AND {STANDING}) AS purchases,"
    " (SELECT COUNT(DISTINCT e.member_id) FROM ledger AS e WHERE e.offer_id = o.id"
    "   AND e.kind = 'earn' AND e.created_at >= :start AND e.created_at < :end{e}) AS members"
    " FROM offers AS o WHERE o.starts_at < :end AND o.ends_at > :start ORDER BY o.id",
    e="e",
)
_OFFER_SPEND = _scoped(
    "SELECT COALESCE(SUM(CASE WHEN u.member_id IS NOT NULL THEN e.amount_minor END), 0)"
    " AS users,"
    " COALESCE(SUM(CASE WHEN u.member_id IS NULL THEN e.amount_minor END), 0) AS others"
    " FROM ledger AS e LEFT JOIN (SELECT DISTINCT member_id FROM ledger AS o"
    "  WHERE o.offer_id = :offer_id AND o.kind = 'earn'{o}"
    "  AND o.created_at >= :start AND o.created_at < :end) AS u ON u.member_id = e.member_id"
    " WHERE e.kind = 'earn' AND e.created_at >= :start AND e.created_at < :end{e}"
    f" AND {STANDING}",
    o="o",
    e="e",
)


async def offer_uptake(
    conn: Conn, start: datetime, end: datetime, location_id: int | None = None
) -> list[OfferUptake]:
    """Offers that ran during the period, with their use and the spend of their users
    against everyone else's (at one location: its purchases only)."""
    at = _params(location_id, start=to_db(start), end=to_db(end))
    result = []
    for offer in await conn.all(_pick(_OFFERS_RUN, location_id), **at):
        offer_id = int(offer["id"])
        spend = await conn.one(_pick(_OFFER_SPEND, location_id), offer_id=offer_id, **at)
        assert spend is not None
        result.append(
            OfferUptake(
                offer_id=offer_id,
                title=str(offer["title"]),
                purchases=_int(offer["purchases"]),
                members=_int(offer["members"]),
                spend_users_minor=_int(spend["users"]),
                spend_others_minor=_int(spend["others"]),
            )
        )
    return result


@dataclass(frozen=True, slots=True)
class Reach:
    broadcasts: int
    recipients: int
    sent: int


_BROADCAST_REACH = sql(
    "SELECT COUNT(*) AS broadcasts, COALESCE(SUM(total), 0) AS recipients,"
    " COALESCE(SUM((SELECT COUNT(*) FROM broadcast_recipients AS r"
    "   WHERE r.broadcast_id = b.id AND r.state = 'sent')), 0) AS sent"
    " FROM broadcasts AS b WHERE b.created_at >= :start AND b.created_at < :end"
)


async def broadcast_reach(conn: Conn, start: datetime, end: datetime) -> Reach:
    row = await conn.one(_BROADCAST_REACH, start=to_db(start), end=to_db(end))
    assert row is not None
    return Reach(_int(row["broadcasts"]), _int(row["recipients"]), _int(row["sent"]))


_REFERRALS_JOINED = sql(
    "SELECT COUNT(*) AS n FROM referrals WHERE joined_at >= :start AND joined_at < :end"
)
_REFERRALS_REWARDED = sql(
    "SELECT COUNT(*) AS n FROM referrals WHERE state = 'rewarded'"
    " AND settled_at >= :start AND settled_at < :end"
)


async def referral_counts(conn: Conn, start: datetime, end: datetime) -> tuple[int, int]:
    """(joined through a referral, rewarded) in the period."""
    at = {"start": to_db(start), "end": to_db(end)}
    joined = await _count(conn, _REFERRALS_JOINED, **at)
    rewarded = await _count(conn, _REFERRALS_REWARDED, **at)
    return joined, rewarded


# Counted first, named after: only the top few actors are looked up by name (and every
# selected column is grouped or aggregated, as PostgreSQL requires). Entries without an
# actor sort as actor 0 on both engines (SQLite puts NULL first, PostgreSQL last).
_TOP_STAFF = _scoped(
    "SELECT t.actor_id, COALESCE(s.first_name, m.first_name, '') AS name, t.n FROM"
    " (SELECT e.actor_id, COUNT(*) AS n FROM ledger AS e"
    "  WHERE e.kind = 'earn' AND e.created_at >= :start AND e.created_at < :end{e}"
    "  GROUP BY e.actor_id ORDER BY n DESC, COALESCE(e.actor_id, 0) LIMIT :limit) AS t"
    " LEFT JOIN staff AS s ON s.tg_user_id = t.actor_id"
    " LEFT JOIN members AS m ON m.tg_user_id = t.actor_id"
    " ORDER BY t.n DESC, COALESCE(t.actor_id, 0)",
    e="e",
)


async def top_staff(
    conn: Conn, start: datetime, end: datetime, limit: int = 5, location_id: int | None = None
) -> list[tuple[int, str, int]]:
    """(user id, name, purchases recorded) of who scanned most (at one location: there)."""
    rows = await conn.all(
        _pick(_TOP_STAFF, location_id),
        **_params(location_id, start=to_db(start), end=to_db(end), limit=limit),
    )
    return [(_int(r["actor_id"]), str(r["name"]), _int(r["n"])) for r in rows]


# Points each member earned in a range (purchases not undone); tiers are counted from it
# in Python, so the statement does not depend on how many tiers there are.
_EARNED_PER_MEMBER = sql(
    "SELECT per.earned, COUNT(*) AS members FROM"
    " (SELECT e.member_id, SUM(e.points) AS earned FROM ledger AS e"
    "  WHERE e.kind = 'earn' AND e.created_at >= :since AND e.created_at < :end"
    f"  AND {STANDING} GROUP BY e.member_id) AS per GROUP BY per.earned"
)
_MEMBERS_AT = sql(
    "SELECT COUNT(*) AS n FROM members WHERE created_at < :end AND forgotten_at IS NULL"
)


async def tier_counts(
    conn: Conn, since: datetime, end: datetime, thresholds: list[int]
) -> list[int]:
    """How many members stand in each tier (by points earned in [since, end)), lowest
    tier first; ``thresholds`` ascending, the first 0."""
    counts = [0] * len(thresholds)
    for row in await conn.all(_EARNED_PER_MEMBER, since=to_db(since), end=to_db(end)):
        earned = _int(row["earned"])
        tier = max((i for i, threshold in enumerate(thresholds) if earned >= threshold), default=0)
        counts[tier] += _int(row["members"])
    members = await _count(conn, _MEMBERS_AT, end=to_db(end))
    counts[0] += max(0, members - sum(counts))  # members who earned nothing in the year
    return counts


# The chart's ranges [lo, hi) reach SQL as one parameter, a JSON array of [lo, hi] pairs
# (how many there are varies, the statement does not), and become a table span(i, lo, hi),
# i counted from 0. Per engine because the engines unpack JSON with different functions,
# and because PostgreSQL must be told that lo and hi are timestamps to compare them with
# timestamptz columns, where SQLite compares the ISO text as it is stored. NOT
# MATERIALIZED lets PostgreSQL plan each use of span (the cohorts read it twice) with
# the index on the other side, instead of joining a materialised copy to a whole table.
_SPANS_SQLITE = (
    "WITH span(i, lo, hi) AS (SELECT CAST(key AS INTEGER),"
    " json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:spans))"
)
_SPANS_POSTGRESQL = (
    "WITH span(i, lo, hi) AS NOT MATERIALIZED (SELECT CAST(t.n - 1 AS INTEGER),"
    " CAST(t.pair ->> 0 AS TIMESTAMP WITH TIME ZONE),"
    " CAST(t.pair ->> 1 AS TIMESTAMP WITH TIME ZONE)"
    " FROM jsonb_array_elements(CAST(:spans AS JSONB)) WITH ORDINALITY AS t(pair, n))"
)


def _with_spans(query: str) -> Statement:
    """``query``, which reads the table span, after the CTE that makes it."""
    return per_engine(sqlite=f"{_SPANS_SQLITE} {query}", postgresql=f"{_SPANS_POSTGRESQL} {query}")


def _spans(bounds: list[datetime]) -> str:
    """The ``:spans`` parameter: the consecutive ranges [bounds[i], bounds[i + 1])."""
    return json.dumps([[to_db(lo), to_db(hi)] for lo, hi in pairwise(bounds)])


_ACTIVITY = _with_spans(
    "SELECT s.i,"
    f" COALESCE(SUM(CASE WHEN e.kind = 'earn' AND {STANDING} THEN 1 END), 0) AS visits,"
    " COALESCE(SUM(CASE WHEN e.points > 0 AND e.kind NOT IN ('refund') THEN e.points END), 0)"
    " AS issued,"
    " COALESCE(-SUM(CASE WHEN e.kind IN ('redeem', 'refund') THEN e.points END), 0)"
    " AS redeemed"
    " FROM span AS s LEFT JOIN ledger AS e ON e.created_at >= s.lo AND e.created_at < s.hi"
    " GROUP BY s.i ORDER BY s.i"
)
_COHORT_SIZES = _with_spans(
    "SELECT s.i, COUNT(m.id) AS n FROM span AS s LEFT JOIN members AS m"
    " ON m.created_at >= s.lo AND m.created_at < s.hi GROUP BY s.i ORDER BY s.i"
)
_COHORT_ACTIVE = _with_spans(
    "SELECT j.i AS joined, a.i AS active, COUNT(DISTINCT m.id) AS n FROM span AS j"
    " JOIN members AS m ON m.created_at >= j.lo AND m.created_at < j.hi"
    " JOIN ledger AS e ON e.member_id = m.id AND e.kind = 'earn'"
    " JOIN span AS a ON e.created_at >= a.lo AND e.created_at < a.hi"
    " WHERE a.i >= j.i GROUP BY j.i, a.i"
)
_ACTIVE_MEMBERS = _scoped(
    "SELECT COUNT(DISTINCT member_id) AS n FROM ledger AS e"
    " WHERE e.kind = 'earn'{e} AND e.created_at >= :since AND e.created_at < :end",
    e="e",
)
# A location's chart: its purchases and the points they earned, and the points of the
# coupons handed over there (redemptions themselves are the chain's, made at no counter).
_ACTIVITY_AT = _with_spans(
    "SELECT s.i,"
    f" COALESCE(SUM(CASE WHEN e.kind = 'earn' AND {STANDING} THEN 1 END), 0) AS visits,"
    " COALESCE(SUM(CASE WHEN e.points > 0 THEN e.points END), 0) AS issued,"
    " (SELECT COALESCE(SUM(c.cost), 0) FROM coupons AS c WHERE c.closed_at >= s.lo"
    "  AND c.closed_at < s.hi AND c.state = 'redeemed'"
    "  AND c.redeemed_location_id = :location_id) AS redeemed"
    " FROM span AS s LEFT JOIN ledger AS e ON e.location_id = :location_id"
    " AND e.created_at >= s.lo AND e.created_at < s.hi"
    " GROUP BY s.i, s.lo, s.hi ORDER BY s.i"
)


async def activity(
    conn: Conn, bounds: list[datetime], location_id: int | None = None
) -> list[tuple[int, int, int]]:
    """(purchases, points issued, points redeemed net of refunds) in each range
    [bounds[i], bounds[i + 1]), in one aggregate. At one location: its purchases, the
    points they earned, and the cost of the coupons handed over there."""
    if location_id is None:
        rows = await conn.all(_ACTIVITY, spans=_spans(bounds))
    else:
        rows = await conn.all(_ACTIVITY_AT, spans=_spans(bounds), location_id=location_id)
    return [(_int(r["visits"]), _int(r["issued"]), _int(r["redeemed"])) for r in rows]


async def cohort_sizes(conn: Conn, bounds: list[datetime]) -> list[int]:
    """How many members joined in each range [bounds[i], bounds[i + 1])."""
    return [_int(r["n"]) for r in await conn.all(_COHORT_SIZES, spans=_spans(bounds))]


async def cohort_active(conn: Conn, bounds: list[datetime]) -> dict[tuple[int, int], int]:
    """{(joined, active): members who joined in range ``joined`` and made a purchase in
    range ``active``} over the ranges [bounds[i], bounds[i + 1]); pairs with none are left out."""
    rows = await conn.all(_COHORT_ACTIVE, spans=_spans(bounds))
    return {(int(r["joined"]), int(r["active"])): _int(r["n"]) for r in rows}


async def active_members(
    conn: Conn, since: datetime, end: datetime, location_id: int | None = None
) -> int:
    """Members with a purchase in [since, end) (at one location: there)."""
    return await _count(
        conn,
        _pick(_ACTIVE_MEMBERS, location_id),
        **_params(location_id, since=to_db(since), end=to_db(end)),
    )


# -- a chain's figures by location ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocationFigures:
    """One part of a period's figures: a location's, or (``location_id`` None) what was
    done at no location. Purchases, spend and points add up over the parts to the whole
    café's; customers do not (a member may buy in several shops)."""

    location_id: int | None
    customers: int
    visits: int
    spend_minor: int
    points: dict[str, int]  # by ledger kind


# The period's entries grouped by location (the time index, one aggregate each).
_VISITS_BY_LOCATION = sql(
    "SELECT e.location_id, COUNT(DISTINCT e.member_id) AS customers, COUNT(*) AS visits,"
    " COALESCE(SUM(e.amount_minor), 0) AS spend_minor FROM ledger AS e"
    " WHERE e.kind = 'earn' AND e.created_at >= :start AND e.created_at < :end"
    f" AND {STANDING} GROUP BY e.location_id"
)
_POINTS_BY_LOCATION = sql(
    "SELECT e.location_id, e.kind, SUM(e.points) AS points FROM ledger AS e"
    " WHERE e.created_at >= :start AND e.created_at < :end GROUP BY e.location_id, e.kind"
)


async def by_location(conn: Conn, start: datetime, end: datetime) -> list[LocationFigures]:
    """The period's purchases and points moved, for each location that had any and for
    the entries made at none (``location_id`` None)."""
    at = {"start": to_db(start), "end": to_db(end)}
    visits = {row["location_id"]: row for row in await conn.all(_VISITS_BY_LOCATION, **at)}
    points: dict[int | None, dict[str, int]] = {}
    for row in await conn.all(_POINTS_BY_LOCATION, **at):
        points.setdefault(row["location_id"], {})[str(row["kind"])] = _int(row["points"])
    return [
        LocationFigures(
            location_id=None if place is None else int(place),
            customers=_int(visits[place]["customers"]) if place in visits else 0,
            visits=_int(visits[place]["visits"]) if place in visits else 0,
            spend_minor=_int(visits[place]["spend_minor"]) if place in visits else 0,
            points=points.get(place, {}),
        )
        for place in visits.keys() | points.keys()
    ]


# -- the audit log ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditLine:
    created_at: datetime
    actor_id: int
    actor_name: str
    action: str
    member_id: int | None
    detail: str
    location_id: int | None = None


def _audit_lines(where: str) -> Statement:
    return sql(
        "SELECT a.created_at, a.actor_id, COALESCE(s.first_name, m.first_name, '') AS actor_name,"
        " a.action, a.member_id, a.detail, a.location_id FROM audit_log AS a"
        " LEFT JOIN staff AS s ON s.tg_user_id = a.actor_id"
        " LEFT JOIN members AS m ON m.tg_user_id = a.actor_id"
        f" {where} ORDER BY a.id DESC LIMIT :limit"
    )


# One statement per filter (not "(:member_id IS NULL OR ...)"), so each reads its index,
# and PostgreSQL never has to guess the type of a parameter that is only tested for NULL.
_AUDIT_OF_MEMBER = _audit_lines("WHERE a.member_id = :member_id")
_AUDIT_OF_ACTOR = _audit_lines("WHERE a.actor_id = :actor_id")
_AUDIT_ALL = _audit_lines("")
# One location's lines (a manager's /audit): audit_location, or the member's or actor's
# index with the location checked on each of their lines.
_AUDIT_OF_MEMBER_AT = _audit_lines(
    "WHERE a.member_id = :member_id AND a.location_id = :location_id"
)
_AUDIT_OF_ACTOR_AT = _audit_lines("WHERE a.actor_id = :actor_id AND a.location_id = :location_id")
_AUDIT_AT = _audit_lines("WHERE a.location_id = :location_id")


async def audit_lines(
    conn: Conn,
    *,
    member_id: int | None = None,
    actor_id: int | None = None,
    limit: int = 20,
    location_id: int | None = None,
) -> list[AuditLine]:
    """The latest audit lines, of one member or one actor (by index), or of everyone;
    with ``location_id``, only those of actions at that location."""
    if location_id is not None:
        at = {"location_id": location_id, "limit": limit}
        if member_id is not None:
            rows = await conn.all(_AUDIT_OF_MEMBER_AT, member_id=member_id, **at)
        elif actor_id is not None:
            rows = await conn.all(_AUDIT_OF_ACTOR_AT, actor_id=actor_id, **at)
        else:
            rows = await conn.all(_AUDIT_AT, **at)
    elif member_id is not None:
        rows = await conn.all(_AUDIT_OF_MEMBER, member_id=member_id, limit=limit)
    elif actor_id is not None:
        rows = await conn.all(_AUDIT_OF_ACTOR, actor_id=actor_id, limit=limit)
    else:
        rows = await conn.all(_AUDIT_ALL, limit=limit)
    return [
        AuditLine(
            created_at=from_db(r["created_at"]),
            actor_id=int(r["actor_id"]),
            actor_name=str(r["actor_name"]),
            action=str(r["action"]),
            member_id=r["member_id"],
            detail=str(r["detail"]),
            location_id=r["location_id"],
        )
        for r in rows
    ]
