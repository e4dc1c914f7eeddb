"""Who may do what. The one place that decides a user's role."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from enum import IntEnum

from bot.clock import Clock
from bot.services.errors import NotYourLocation
from bot.settings import Settings
from bot.tokens import LinkKind
from storage import Database
from storage import audit as audit_store
from storage import locations as location_store
from storage import owners as owner_store
from storage import staff as staff_store

logger = logging.getLogger(__name__)

OWNER_CLAIM_VALIDITY = timedelta(hours=24)


class Role(IntEnum):
    CUSTOMER = 0
    STAFF = 1
    MANAGER = 2  # staff who manage a location: its baristas, invites and removals
    OWNER = 3


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _claim_token(key: bytes, nonce: str) -> str:
    """The owner link's payload, derived from the claim's stored nonce with the signing
    key: every replica (and a restart) can show the link, and the database alone, which
    keeps only its hash and the nonce, does not give it away when CARD_SECRET is set."""
    mac = hmac.new(key, b"owner-claim:" + nonce.encode(), hashlib.sha256).digest()[:16]
    return LinkKind.OWNER_CLAIM.value + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


class RoleService:
    """Owners come from ``OWNER_IDS`` when it is set, else from the claim link; staff from
    the database, so a removal takes effect at once."""

    def __init__(self, db: Database, settings: Settings, clock: Clock, key: bytes) -> None:
        self._db = db
        self._settings = settings
        self._clock = clock
        self._key = key

    async def role_of(self, tg_user_id: int) -> Role:
        if await self.is_owner(tg_user_id):
            return Role.OWNER
        manager = await staff_store.standing(self._db.reader, tg_user_id)
        if manager is None:
            return Role.CUSTOMER
        return Role.MANAGER if manager else Role.STAFF

    async def is_owner(self, tg_user_id: int) -> bool:
        if self._settings.owner_ids:
            return tg_user_id in self._settings.owner_ids
        return await owner_store.is_owner(self._db.reader, tg_user_id)

    async def owner_ids(self) -> tuple[int, ...]:
        return self._settings.owner_ids or await owner_store.all_ids(self._db.reader)

    async def owner_claim(self) -> str | None:
        """The single-use link payload that makes its first opener the owner, while the
        bot has none; None when an owner exists already. The unused, unexpired one if
        there is one (made by this replica, another, or before a restart), else a new one:
        replicas starting at once get the same link."""
        if await self.owner_ids():
            return None
        nonce = secrets.token_urlsafe(16)
        now = self._clock.now()
        until = now + OWNER_CLAIM_VALIDITY
        async with self._db.transaction() as tx:
            claim = await owner_store.open_claim(
                tx, _hash(_claim_token(self._key, nonce)), nonce, now, until
            )
        if claim.nonce is not None:
            token = _claim_token(self._key, claim.nonce)
            if hmac.compare_digest(_hash(token), claim.token_hash):
                return token
        # Made with another signing key (CARD_SECRET changed): it cannot be shown, so it
        # is replaced.
        logger.info("The open owner link was made with another signing key: replacing it")
        token = _claim_token(self._key, nonce)
        async with self._db.transaction() as tx:
            await owner_store.replace_claim(tx, _hash(token), now, until, nonce)
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

    async def figures_location(self, tg_user_id: int, asked: int | None) -> int | None:
        """Whose figures (/stats, /report, /audit) this person gets when they ask for
        ``asked``: a location's id, 0 for the chain-wide part of the books, or None (no
        preference). An owner gets what they asked (None: the whole café); a manager the
        location asked if they manage it, their first one if they asked for none, and
        NotYourLocation for anything else. Other staff manage nothing: NotYourLocation."""
        visible = await self.visible_locations(tg_user_id)
        if visible is None:
            return asked
        if asked is None and visible:
            return min(visible)
        if asked is not None and asked in visible:
            return asked
        names = tuple(
            location.name
            for location in await location_store.all_locations(self._db.reader)
            if location.id in visible
        )
        raise NotYourLocation(names)

    async def figures_choices(self, tg_user_id: int) -> tuple[tuple[int, str], ...]:
        """The locations whose figures this person can pick among, (id, name) by id: every
        location for an owner of a café with more than one, the ones a manager manages;
        nothing to pick (empty) where there is one."""
        visible = await self.visible_locations(tg_user_id)
        locations = await location_store.all_locations(self._db.reader)
        choices = tuple(
            (location.id, location.name)
            for location in locations
            if visible is None or location.id in visible
        )
        return choices if len(choices) > 1 else ()

    async def may_manage(self, tg_user_id: int, location_id: int, role: str) -> bool:
        """May this person invite or remove someone of ``role`` at ``location_id``?
        Owners anyone anywhere; a manager only the baristas of a location they manage."""
        visible = await self.visible_locations(tg_user_id)
        if visible is None:
            return True
        return role == location_store.BARISTA and location_id in visible
