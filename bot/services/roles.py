"""Who may do what. The one place that decides a user's role."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from enum import IntEnum

from bot.clock import Clock
from bot.settings import Settings
from bot.tokens import LinkKind, random_token
from storage import Database
from storage import audit as audit_store
from storage import locations as location_store
from storage import owners as owner_store
from storage import staff as staff_store

OWNER_CLAIM_VALIDITY = timedelta(hours=24)


class Role(IntEnum):
    CUSTOMER = 0
    STAFF = 1
    MANAGER = 2  # staff who manage a location: its baristas, invites and removals
    OWNER = 3


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RoleService:
    """Owners come from ``OWNER_IDS`` when it is set, else from the claim link; staff from
    the database, so a removal takes effect at once."""

    def __init__(self, db: Database, settings: Settings, clock: Clock) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock

    async def role_of(self, tg_user_id: int) -> Role:
        if await self.is_owner(tg_user_id):
            return Role.OWNER
        if await staff_store.active(self._db.reader, tg_user_id) is not None:
            if await location_store.is_manager(self._db.reader, tg_user_id):
                return Role.MANAGER
            return Role.STAFF
        return Role.CUSTOMER

    async def is_owner(self, tg_user_id: int) -> bool:
        if self._settings.owner_ids:
            return tg_user_id in self._settings.owner_ids
        return await owner_store.is_owner(self._db.reader, tg_user_id)

    async def owner_ids(self) -> tuple[int, ...]:
        return self._settings.owner_ids or await owner_store.all_ids(self._db.reader)

    async def new_owner_claim(self) -> str | None:
        """A single-use link payload that makes its first opener the owner, while the bot
        has none; None when an owner exists already."""
        if await self.owner_ids():
            return None
        token = random_token(LinkKind.OWNER_CLAIM, 16)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await owner_store.replace_claim(tx, _hash(token), now, now + OWNER_CLAIM_VALIDITY)
        return token

    async def claim_owner(self, payload: str, tg_user_id: int) -> bool:
        """Spend a claim link; False when it is unknown, used, expired or not needed."""
        if self._settings.owner_ids:
            return False
        now = self._clock.now()
        async with self._db.transaction() as tx:
            claimed = await owner_store.use_claim(tx, _hash(payload), tg_user_id, now)
            if claimed:
                await audit_store.record(
                    tx, actor_id=tg_user_id, action="owner.claim", now=now, detail="claim link"
                )
        return claimed

    # -- locations: who may see and manage which shop's team ---------------------------------

    async def visible_locations(self, tg_user_id: int) -> frozenset[int] | None:
        """The locations whose team this person may see and manage: None for an owner
        (all of them), the ones they manage for a manager, none for anyone else."""
        if await self.is_owner(tg_user_id):
            return None
        if await staff_store.active(self._db.reader, tg_user_id) is None:
            return frozenset()
        places = await location_store.places_of(self._db.reader, tg_user_id)
        return frozenset(p.location_id for p in places if p.role == location_store.MANAGER)

    async def may_manage(self, tg_user_id: int, location_id: int, role: str) -> bool:
        """May this person invite or remove someone of ``role`` at ``location_id``?
        Owners anyone anywhere; a manager only the baristas of a location they manage."""
        visible = await self.visible_locations(tg_user_id)
        if visible is None:
            return True
        return role == location_store.BARISTA and location_id in visible
