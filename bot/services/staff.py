"""Staff management: one-time invites, joining, removal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.services.errors import AlreadyStaff, InviteExpired, InviteInvalid, InviteUsed
from bot.services.membership import Profile
from bot.services.roles import Role, RoleService
from bot.tokens import LinkKind, random_token
from storage import Database
from storage import audit as audit_store
from storage import staff as staff_store
from storage.staff import StaffMember

INVITE_VALIDITY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class NewInvite:
    payload: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Joined:
    staff: StaffMember
    invited_by: int


class StaffService:
    def __init__(self, db: Database, clock: Clock, roles: RoleService) -> None:
        self._db = db
        self._clock = clock
        self._roles = roles

    async def create_invite(self, owner_id: int) -> NewInvite:
        now = self._clock.now()
        payload = random_token(LinkKind.STAFF_INVITE)
        async with self._db.transaction() as tx:
            await staff_store.create_invite(
                tx, token=payload, created_by=owner_id, now=now, expires_at=now + INVITE_VALIDITY
            )
            await audit_store.record(tx, actor_id=owner_id, action="staff.invite", now=now)
        return NewInvite(payload=payload, expires_at=now + INVITE_VALIDITY)

    async def accept_invite(self, payload: str, profile: Profile) -> Joined:
        """Make whoever opened the invite a staff member; each invite works once."""
        if await self._roles.role_of(profile.tg_user_id) is not Role.CUSTOMER:
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
            if not await staff_store.use_invite(tx, payload, profile.tg_user_id, now):
                raise InviteUsed
            await staff_store.add(
                tx,
                tg_user_id=profile.tg_user_id,
                chat_id=profile.chat_id,
                first_name=profile.first_name,
                added_by=invite.created_by,
                now=now,
            )
            await audit_store.record(
                tx,
                actor_id=profile.tg_user_id,
                action="staff.join",
                now=now,
                detail=f"invited by {invite.created_by}",
            )
            staff = await staff_store.active(tx, profile.tg_user_id)
        assert staff is not None
        return Joined(staff=staff, invited_by=invite.created_by)

    async def remove(self, owner_id: int, tg_user_id: int) -> StaffMember | None:
        now = self._clock.now()
        async with self._db.transaction() as tx:
            removed = await staff_store.remove(tx, tg_user_id, now)
            if removed is not None:
                await audit_store.record(
                    tx, actor_id=owner_id, action="staff.remove", now=now, detail=str(tg_user_id)
                )
        return removed

    async def list(self) -> list[StaffMember]:
        return await staff_store.list_active(self._db.reader)

    async def get(self, tg_user_id: int) -> StaffMember | None:
        return await staff_store.active(self._db.reader, tg_user_id)
