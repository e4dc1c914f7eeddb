"""A café chain's locations: adding, renaming and closing them, and where each member of
staff is working today.

Every café has at least one location (the migration gives existing ones "Main"). While it
has only ever had one, nothing the bot says mentions locations (:meth:`is_chain`). A
barista who works in more than one open location says where they are at their first scan
of the café's day; the answer holds until they change it (/where) or the day ends.
"""

from __future__ import annotations

from datetime import datetime

from bot.clock import Clock
from bot.services.errors import (
    LastOpenLocation,
    LocationClosed,
    LocationNameInvalid,
    LocationNameTaken,
    LocationNeeded,
    LocationUnknown,
    NoOpenLocation,
)
from bot.services.roles import RoleService
from bot.settings import Settings
from storage import Conn, Database
from storage import audit as audit_store
from storage import locations as location_store
from storage.locations import Location

NAME_MAX = 40
# A staff member's role at a location.
BARISTA: str = location_store.BARISTA
MANAGER: str = location_store.MANAGER


def clean_name(text: str) -> str:
    """A location's name as typed: trimmed, one line, 1 to NAME_MAX characters."""
    name = " ".join(text.split())
    if not name or len(name) > NAME_MAX or "\n" in text.strip():
        raise LocationNameInvalid
    return name


class LocationService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, roles: RoleService) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._roles = roles

    # -- reading -----------------------------------------------------------------------------

    async def all(self) -> list[Location]:
        return await location_store.all_locations(self._db.reader)

    async def open(self) -> list[Location]:
        return [location for location in await self.all() if location.is_open]

    async def get(self, location_id: int) -> Location:
        location = await location_store.get(self._db.reader, location_id)
        if location is None:
            raise LocationUnknown
        return location

    async def is_chain(self) -> bool:
        """Has the café ever had more than one location? Only then do receipts, history
        and staff lists name locations."""
        return await location_store.count(self._db.reader) > 1

    async def names(self) -> dict[int, str]:
        return {location.id: location.name for location in await self.all()}

    async def name_if_chain(self, location_id: int | None) -> str | None:
        """The location's name where the café has more than one, else None."""
        if location_id is None:
            return None
        locations = await self.all()
        if len(locations) < 2:
            return None
        return next((loc.name for loc in locations if loc.id == location_id), None)

    async def default_location(self) -> Location:
        """The café's only open location, or its first open one."""
        return (await self.open())[0]

    # -- the owner's changes -------------------------------------------------------------------

    async def add(self, owner_id: int, text: str) -> Location:
        name = clean_name(text)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            if await location_store.by_name(tx, name) is not None:
                raise LocationNameTaken
            location = await location_store.add(tx, name, now)
            await audit_store.record(
                tx, actor_id=owner_id, action="location.add", now=now, detail=f"{location.id}"
            )
        return location

    async def rename(self, owner_id: int, location_id: int, text: str) -> Location:
        name = clean_name(text)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            location = await location_store.get(tx, location_id)
            if location is None:
                raise LocationUnknown
            same = await location_store.by_name(tx, name)
            if same is not None and same.id != location_id:
                raise LocationNameTaken
            await location_store.rename(tx, location_id, name)
            await audit_store.record(
                tx,
                actor_id=owner_id,
                action="location.rename",
                now=now,
                detail=f"{location_id}: {location.name} -> {name}",
            )
            renamed = await location_store.get(tx, location_id)
        assert renamed is not None
        return renamed

    async def close(self, owner_id: int, location_id: int) -> Location:
        """Close a location: its history stays, it takes no new scans. The last open
        location stays open."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            open_ids = await location_store.lock_open(tx)
            location = await location_store.get(tx, location_id)
            if location is None:
                raise LocationUnknown
            if location_id not in open_ids:
                raise LocationClosed
            if len(open_ids) < 2:
                raise LastOpenLocation
            await location_store.close(tx, location_id, now)
            await audit_store.record(
                tx, actor_id=owner_id, action="location.close", now=now, detail=f"{location_id}"
            )
            closed = await location_store.get(tx, location_id)
        assert closed is not None
        return closed

    # -- where people work ---------------------------------------------------------------------

    async def workplaces(self, tg_user_id: int) -> list[Location]:
        """The open locations this person can work in: every one for an owner, their own
        for staff."""
        if await self._roles.is_owner(tg_user_id):
            return await self.open()
        return await location_store.workplaces(self._db.reader, tg_user_id)

    def start_of_day(self, now: datetime) -> datetime:
        """Midnight in the café's time zone."""
        local = now.astimezone(self._settings.tz)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    async def where_is(self, tg_user_id: int, conn: Conn | None = None) -> int:
        """Where this person is working now. One open workplace: that one, never asked.
        Several: the one they picked today, else LocationNeeded (with the choices)."""
        choices = await self.workplaces(tg_user_id)
        if not choices:
            raise NoOpenLocation
        if len(choices) == 1:
            return choices[0].id
        picked = await location_store.whereabouts(conn or self._db.reader, tg_user_id)
        today = self.start_of_day(self._clock.now())
        if (
            picked is not None
            and picked.chosen_at >= today
            and any(c.id == picked.location_id for c in choices)
        ):
            return picked.location_id
        raise LocationNeeded(tuple((c.id, c.name) for c in choices))

    async def choose(self, tg_user_id: int, location_id: int) -> Location:
        """Someone says where they are working (until they change it or the day ends)."""
        choices = await self.workplaces(tg_user_id)
        location = next((c for c in choices if c.id == location_id), None)
        if location is None:
            raise LocationClosed
        async with self._db.transaction() as tx:
            await location_store.set_whereabouts(tx, tg_user_id, location_id, self._clock.now())
        return location

    async def choices_for(self, tg_user_id: int) -> tuple[tuple[int, str], ...]:
        return tuple((c.id, c.name) for c in await self.workplaces(tg_user_id))
