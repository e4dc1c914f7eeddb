"""Staff management: one-time invites, joining, removal, per location.

An invite is for one location and one role there (barista or manager). Someone already on
the staff who opens an invite for another location works there too. Removal is from one
location; whoever is left with none is no longer staff. Who may invite or remove whom is
decided by :class:`RoleService` (owners: anyone; a manager: their location's baristas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.errors import (
    AlreadyStaff,
    InviteExpired,
    InviteInvalid,
    InviteUsed,
    LocationClosed,
    NotAllowed,
)
from bot.services.locations import LocationService
from bot.services.membership import Profile
from bot.services.roles import RoleService
from bot.tokens import LinkKind, random_token
from storage import Database
from storage import audit as audit_store
from storage import locations as location_store
from storage import staff as staff_store
from storage.locations import BARISTA, MANAGER, ROLES, Location, TeamMember
from storage.staff import StaffMember

INVITE_VALIDITY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class NewInvite:
    payload: str
    expires_at: datetime
    location: Location
    role: str


@dataclass(frozen=True, slots=True)
class Joined:
    staff: StaffMember
    invited_by: int
    location: Location
    role: str
    new_staff: bool  # False: on the staff already, now at this location too


@dataclass(frozen=True, slots=True)
class Removed:
    staff: StaffMember
    location: Location | None  # None: removed from every location at once
    left_staff: bool  # no location left: no longer staff at all


@dataclass(frozen=True, slots=True)
class LocationTeam:
    location: Location
    members: tuple[TeamMember, ...]


class StaffService:
    def __init__(
        self, db: Database, clock: Clock, roles: RoleService, locations: LocationService
    ) -> None:
        self._db = db
        self._clock = clock
        self._roles = roles
        self._locations = locations

    async def create_invite(
        self, creator_id: int, location_id: int | None = None, role: str = BARISTA
    ) -> NewInvite:
        """A one-time link to work at a location (the café's first open one when none is
        given) as ``role``; owners invite anyone, a manager their location's baristas."""
        if role not in ROLES:
            raise NotAllowed
        if location_id is None:
            location = await self._locations.default_location()
        else:
            location = await self._locations.get(location_id)
        if not location.is_open:
            raise LocationClosed
        if not await self._roles.may_manage(creator_id, location.id, role):
            raise NotAllowed
        now = self._clock.now()
        payload = random_token(LinkKind.STAFF_INVITE)
        async with self._db.transaction() as tx:
            await staff_store.create_invite(
                tx,
                token=payload,
                created_by=creator_id,
                now=now,
                expires_at=now + INVITE_VALIDITY,
                location_id=location.id,
                role=role,
            )
            await audit_store.record(
                tx,
                actor_id=creator_id,
                action="staff.invite",
                now=now,
                detail=f"{role} at location {location.id}",
                location_id=location.id,
            )
        return NewInvite(payload, now + INVITE_VALIDITY, location, role)

    async def accept_invite(self, payload: str, profile: Profile) -> Joined:
        """Make whoever opened the invite staff at its location; each invite works once.
        Staff of another location join this one too; a barista invited as manager of
        their own location becomes its manager."""
        if await self._roles.is_owner(profile.tg_user_id):
            raise AlreadyStaff
        now = self._clock.now()
        async with self._db.transaction() as tx:
            invite = await staff_store.invite(tx, payload)
            if invite is None:
                raise InviteInvalid
            if invite.used_by is not None:
                raise InviteUsed
            if invite.expires_at <= now:
                raise InviteExpired
            location = (
                await location_store.get(tx, invite.location_id)
                if invite.location_id is not None
                else None
            ) or (await self._locations.default_location())
            if not location.is_open:
                raise LocationClosed
            existing = await staff_store.active(tx, profile.tg_user_id)
            if existing is not None:
                places = await location_store.places_of(tx, profile.tg_user_id)
                here = next((p for p in places if p.location_id == location.id), None)
                if here is not None and (here.role == MANAGER or invite.role == BARISTA):
                    raise AlreadyStaff
            if not await staff_store.use_invite(tx, payload, profile.tg_user_id, now):
                raise InviteUsed
            if existing is None:
                await staff_store.add(
                    tx,
                    tg_user_id=profile.tg_user_id,
                    chat_id=profile.chat_id,
                    first_name=profile.first_name,
                    added_by=invite.created_by,
                    now=now,
                )
            await location_store.place(
                tx,
                staff_id=profile.tg_user_id,
                location_id=location.id,
                role=invite.role,
                added_by=invite.created_by,
                now=now,
            )
            await audit_store.record(
                tx,
                actor_id=profile.tg_user_id,
                action="staff.join",
                now=now,
                detail=f"invited by {invite.created_by} as {invite.role} at location {location.id}",
                location_id=location.id,
            )
            staff = await staff_store.active(tx, profile.tg_user_id)
        assert staff is not None
        return Joined(staff, invite.created_by, location, invite.role, existing is None)

    async def remove(
        self, actor_id: int, tg_user_id: int, location_id: int | None = None
    ) -> Removed | None:
        """Remove someone from one location (``location_id``) or, for an owner, from all.
        None when they were not there (any more)."""
        location = await self._locations.get(location_id) if location_id is not None else None
        places = await location_store.places_of(self._db.reader, tg_user_id)
        if location is None:
            if await self._roles.visible_locations(actor_id) is not None:
                raise NotAllowed
        else:
            here = next((p for p in places if p.location_id == location.id), None)
            if here is None:
                return None
            if not await self._roles.may_manage(actor_id, location.id, here.role):
                raise NotAllowed
        now = self._clock.now()
        async with self._db.transaction() as tx:
            if location is None:
                await location_store.unplace_everywhere(tx, tg_user_id)
            elif not await location_store.unplace(tx, tg_user_id, location.id):
                return None
            left = location is None or not await location_store.places_of(tx, tg_user_id)
            if left:
                removed = await staff_store.remove(tx, tg_user_id, now)
            else:
                removed = await staff_store.active(tx, tg_user_id)
            if removed is None:
                return None
            where = "everywhere" if location is None else f"location {location.id}"
            await audit_store.record(
                tx,
                actor_id=actor_id,
                action="staff.remove",
                now=now,
                detail=f"{tg_user_id} from {where}",
                location_id=None if location is None else location.id,
            )
        return Removed(removed, location, left)

    async def teams(self, viewer_id: int) -> list[LocationTeam]:
        """The staff of each location this person may see (owners: every location that
        is open or still has staff; a manager: theirs), by location then name."""
        visible = await self._roles.visible_locations(viewer_id)
        members = await location_store.team(self._db.reader)
        teams = []
        for location in await self._locations.all():
            if visible is not None and location.id not in visible:
                continue
            here = tuple(m for m in members if m.location_id == location.id)
            if location.is_open or here:
                teams.append(LocationTeam(location, here))
        return teams

    async def list(self) -> list[StaffMember]:
        return await staff_store.list_active(self._db.reader)

    async def get(self, tg_user_id: int) -> StaffMember | None:
        return await staff_store.active(self._db.reader, tg_user_id)
