"""Limited-time offers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from bot.domain import NewOffer, Offer
from storage.engine import Conn, Row, sql, with_list
from storage.timeutil import from_db, from_db_optional, to_db

# The offer's daily hours live in the column ``hours`` (``window`` until migration 14:
# a reserved word on PostgreSQL); the domain record keeps the name ``window``.
_COLUMNS = (
    "id, title, description, kind, multiplier, bonus_points, reward_id, starts_at, ends_at,"
    " hours, audience, announce, started_at, ended_at, created_by"
)
_RUNNING = "starts_at <= :now AND ends_at > :now AND ended_at IS NULL"

_CREATE = sql(
    "INSERT INTO offers (title, description, kind, multiplier, bonus_points, reward_id,"
    " starts_at, ends_at, hours, audience, announce, created_by, created_at)"
    " VALUES (:title, :description, :kind, :multiplier, :bonus_points, :reward_id,"
    " :starts_at, :ends_at, :hours, :audience, :announce, :created_by, :created_at)"
    f" RETURNING {_COLUMNS}"
)
_GET = sql(f"SELECT {_COLUMNS} FROM offers WHERE id = :id")
_CURRENT = sql(f"SELECT {_COLUMNS} FROM offers WHERE {_RUNNING} ORDER BY id")
_RECENT = sql(f"SELECT {_COLUMNS} FROM offers ORDER BY id DESC LIMIT :limit")
_DUE_TO_START = sql(
    f"SELECT {_COLUMNS} FROM offers WHERE started_at IS NULL AND {_RUNNING} ORDER BY id"
)
_MARK_STARTED = sql("UPDATE offers SET started_at = :now WHERE id = :id AND started_at IS NULL")
# Where an offer is valid (no rows: everywhere), read for the offers at hand by its key.
_ADD_LOCATION = sql(
    "INSERT INTO offer_locations (offer_id, location_id) VALUES (:offer_id, :location_id)"
)
_LOCATIONS_OF = with_list(
    "SELECT offer_id, location_id FROM offer_locations WHERE offer_id IN :ids"
    " ORDER BY offer_id, location_id",
    "ids",
)
_END = sql(
    "UPDATE offers SET ended_at = :now WHERE id = :id AND ended_at IS NULL AND ends_at > :now"
    f" RETURNING {_COLUMNS}"
)


def _offer(row: Row) -> Offer:
    return Offer(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        kind=row["kind"],
        multiplier=Decimal(row["multiplier"]) if row["multiplier"] is not None else None,
        bonus_points=row["bonus_points"],
        reward_id=row["reward_id"],
        starts_at=from_db(row["starts_at"]),
        ends_at=from_db(row["ends_at"]),
        window=row["hours"],
        audience=row["audience"],
        announce=bool(row["announce"]),
        started_at=from_db_optional(row["started_at"]),
        ended_at=from_db_optional(row["ended_at"]),
        created_by=row["created_by"],
    )


async def create(tx: Conn, new: NewOffer, created_by: int, now: datetime) -> Offer:
    row = await tx.one(
        _CREATE,
        title=new.title,
        description=new.description,
        kind=new.kind,
        multiplier=None if new.multiplier is None else str(new.multiplier),
        bonus_points=new.bonus_points,
        reward_id=new.reward_id,
        starts_at=to_db(new.starts_at),
        ends_at=to_db(new.ends_at),
        hours=new.window,
        audience=new.audience,
        announce=new.announce,
        created_by=created_by,
        created_at=to_db(now),
    )
    assert row is not None
    places = sorted(set(new.location_ids))
    if places:
        await tx.run_many(
            _ADD_LOCATION, [{"offer_id": row["id"], "location_id": place} for place in places]
        )
    return replace(_offer(row), location_ids=tuple(places))


async def _placed(conn: Conn, offers: list[Offer]) -> list[Offer]:
    """The offers with the locations they are valid in (one read for all of them)."""
    if not offers:
        return offers
    places: dict[int, list[int]] = {}
    for row in await conn.all(_LOCATIONS_OF, ids=[offer.id for offer in offers]):
        places.setdefault(int(row["offer_id"]), []).append(int(row["location_id"]))
    return [
        replace(offer, location_ids=tuple(places[offer.id])) if offer.id in places else offer
        for offer in offers
    ]


async def get(conn: Conn, offer_id: int) -> Offer | None:
    row = await conn.one(_GET, id=offer_id)
    return (await _placed(conn, [_offer(row)]))[0] if row else None


async def current(conn: Conn, now: datetime) -> list[Offer]:
    """Offers that have started and not ended (their hours window is checked by the caller)."""
    return await _placed(conn, [_offer(row) for row in await conn.all(_CURRENT, now=to_db(now))])


async def recent(conn: Conn, limit: int = 20) -> list[Offer]:
    return await _placed(conn, [_offer(row) for row in await conn.all(_RECENT, limit=limit)])


async def due_to_start(conn: Conn, now: datetime) -> list[Offer]:
    """Running offers whose start has not been acted on yet (gift coupons, announcement)."""
    rows = await conn.all(_DUE_TO_START, now=to_db(now))
    return await _placed(conn, [_offer(row) for row in rows])


async def mark_started(tx: Conn, offer_id: int, now: datetime) -> bool:
    """Take the offer's start gate; False when another run took it first."""
    return await tx.run(_MARK_STARTED, now=to_db(now), id=offer_id) == 1


async def end(tx: Conn, offer_id: int, now: datetime) -> Offer | None:
    row = await tx.one(_END, now=to_db(now), id=offer_id)
    return (await _placed(tx, [_offer(row)]))[0] if row else None
