"""A café's locations (shops), who works where in which role, and where each person said
they are working today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Conn, Row, per_engine, sql
from storage.timeutil import from_db, from_db_optional, to_db

_COLUMNS = "id, name, created_at, closed_at"
_ALL = sql(f"SELECT {_COLUMNS} FROM locations ORDER BY id")
_GET = sql(f"SELECT {_COLUMNS} FROM locations WHERE id = :id")
_BY_NAME = sql(f"SELECT {_COLUMNS} FROM locations WHERE lower(name) = lower(:name)")
_COUNT = sql("SELECT COUNT(*) AS n FROM locations")
_ADD = sql(f"INSERT INTO locations (name, created_at) VALUES (:name, :now) RETURNING {_COLUMNS}")
_RENAME = sql("UPDATE locations SET name = :name WHERE id = :id")
_CLOSE = sql("UPDATE locations SET closed_at = :now WHERE id = :id AND closed_at IS NULL")
# The open locations, held until the transaction ends: of two owners closing the last two
# at once (PostgreSQL), the second sees the first's close and keeps its location open.
_LOCK_OPEN = per_engine(
    sqlite="SELECT id FROM locations WHERE closed_at IS NULL ORDER BY id",
    postgresql="SELECT id FROM locations WHERE closed_at IS NULL ORDER BY id FOR UPDATE",
)

_WORKPLACES = sql(
    "SELECT l.id, l.name, l.created_at, l.closed_at FROM staff_locations AS p"
    " JOIN staff AS s ON s.tg_user_id = p.staff_id AND s.removed_at IS NULL"
    " JOIN locations AS l ON l.id = p.location_id AND l.closed_at IS NULL"
    " WHERE p.staff_id = :staff_id ORDER BY l.id"
)
_PLACES_OF = sql(
    "SELECT location_id, role FROM staff_locations WHERE staff_id = :staff_id ORDER BY location_id"
)
_TEAM = sql(
    "SELECT l.location_id, l.role, s.tg_user_id, s.chat_id, s.first_name, l.added_at"
    " FROM staff_locations AS l JOIN staff AS s ON s.tg_user_id = l.staff_id"
    " WHERE s.removed_at IS NULL ORDER BY l.location_id, lower(s.first_name), s.tg_user_id"
)
_PLACE = sql(
    "INSERT INTO staff_locations (staff_id, location_id, role, added_by, added_at)"
    " VALUES (:staff_id, :location_id, :role, :added_by, :now)"
    " ON CONFLICT (staff_id, location_id) DO UPDATE SET role = CASE"
    " WHEN staff_locations.role = 'manager' THEN 'manager' ELSE excluded.role END"
)
_UNPLACE = sql(
    "DELETE FROM staff_locations WHERE staff_id = :staff_id AND location_id = :location_id"
)
_UNPLACE_ALL = sql("DELETE FROM staff_locations WHERE staff_id = :staff_id")
_IS_MANAGER = sql(
    "SELECT 1 AS found FROM staff_locations WHERE staff_id = :staff_id AND role = 'manager' LIMIT 1"
)

_WHERE = sql("SELECT location_id, chosen_at FROM staff_whereabouts WHERE tg_user_id = :tg_user_id")
_SET_WHERE = sql(
    "INSERT INTO staff_whereabouts (tg_user_id, location_id, chosen_at)"
    " VALUES (:tg_user_id, :location_id, :now) ON CONFLICT (tg_user_id) DO UPDATE SET"
    " location_id = excluded.location_id, chosen_at = excluded.chosen_at"
)

BARISTA = "barista"
MANAGER = "manager"
ROLES = (BARISTA, MANAGER)


@dataclass(frozen=True, slots=True)
class Location:
    id: int
    name: str
    created_at: datetime
    closed_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True, slots=True)
class Place:
    """Where a staff member works, and as what."""

    location_id: int
    role: str


@dataclass(frozen=True, slots=True)
class TeamMember:
    """One staff member at one location."""

    location_id: int
    role: str
    tg_user_id: int
    chat_id: int
    first_name: str
    added_at: datetime


@dataclass(frozen=True, slots=True)
class Whereabouts:
    location_id: int
    chosen_at: datetime


def _location(row: Row) -> Location:
    return Location(
        id=int(row["id"]),
        name=row["name"],
        created_at=from_db(row["created_at"]),
        closed_at=from_db_optional(row["closed_at"]),
    )


async def all_locations(conn: Conn) -> list[Location]:
    """Every location, open and closed, oldest first (a café has a handful)."""
    return [_location(row) for row in await conn.all(_ALL)]


async def get(conn: Conn, location_id: int) -> Location | None:
    row = await conn.one(_GET, id=location_id)
    return _location(row) if row else None


async def by_name(conn: Conn, name: str) -> Location | None:
    """The location of this name, whatever its case."""
    row = await conn.one(_BY_NAME, name=name)
    return _location(row) if row else None


async def count(conn: Conn) -> int:
    return int(await conn.value(_COUNT) or 0)


async def add(tx: Conn, name: str, now: datetime) -> Location:
    row = await tx.one(_ADD, name=name, now=to_db(now))
    assert row is not None
    return _location(row)


async def rename(tx: Conn, location_id: int, name: str) -> bool:
    return await tx.run(_RENAME, name=name, id=location_id) == 1


async def lock_open(tx: Conn) -> list[int]:
    """The open locations' ids, held until the transaction ends."""
    return [int(row["id"]) for row in await tx.all(_LOCK_OPEN)]


async def close(tx: Conn, location_id: int, now: datetime) -> bool:
    """Close an open location; False when it was closed already."""
    return await tx.run(_CLOSE, now=to_db(now), id=location_id) == 1


# -- who works where -------------------------------------------------------------------------


async def workplaces(conn: Conn, staff_id: int) -> list[Location]:
    """The open locations an active staff member works at (one read: every scan asks)."""
    return [_location(row) for row in await conn.all(_WORKPLACES, staff_id=staff_id)]


async def places_of(conn: Conn, staff_id: int) -> list[Place]:
    """The locations a staff member works in, with their role in each."""
    return [
        Place(int(row["location_id"]), row["role"])
        for row in await conn.all(_PLACES_OF, staff_id=staff_id)
    ]


async def team(conn: Conn) -> list[TeamMember]:
    """Every active staff member at each of their locations, by location then name."""
    return [
        TeamMember(
            location_id=int(row["location_id"]),
            role=row["role"],
            tg_user_id=row["tg_user_id"],
            chat_id=row["chat_id"],
            first_name=row["first_name"],
            added_at=from_db(row["added_at"]),
        )
        for row in await conn.all(_TEAM)
    ]


async def place(
    tx: Conn, *, staff_id: int, location_id: int, role: str, added_by: int, now: datetime
) -> None:
    """Someone works at a location (a manager stays one when invited as a barista)."""
    await tx.run(
        _PLACE,
        staff_id=staff_id,
        location_id=location_id,
        role=role,
        added_by=added_by,
        now=to_db(now),
    )


async def unplace(tx: Conn, staff_id: int, location_id: int) -> bool:
    return await tx.run(_UNPLACE, staff_id=staff_id, location_id=location_id) == 1


async def unplace_everywhere(tx: Conn, staff_id: int) -> None:
    await tx.run(_UNPLACE_ALL, staff_id=staff_id)


async def is_manager(conn: Conn, staff_id: int) -> bool:
    """Does this staff member manage any location?"""
    return bool(await conn.value(_IS_MANAGER, staff_id=staff_id))


# -- where people are today ------------------------------------------------------------------


async def whereabouts(conn: Conn, tg_user_id: int) -> Whereabouts | None:
    row = await conn.one(_WHERE, tg_user_id=tg_user_id)
    if row is None:
        return None
    return Whereabouts(int(row["location_id"]), from_db(row["chosen_at"]))


async def set_whereabouts(tx: Conn, tg_user_id: int, location_id: int, now: datetime) -> None:
    await tx.run(_SET_WHERE, tg_user_id=tg_user_id, location_id=location_id, now=to_db(now))
