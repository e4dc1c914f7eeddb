"""Limited-time offers: creating, ending, applying to purchases, and starting them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.clock import Clock
from bot.domain import Member, NewOffer, Offer
from bot.offers import NO_OFFER, OfferEffect, combine_at, is_open, parse_audience
from bot.services.audience import AudienceService
from bot.services.broadcasts import BroadcastService
from bot.services.coupons import CouponService
from bot.services.errors import ServiceError
from bot.settings import Settings
from storage import Conn, Database
from storage import audit as audit_store
from storage import offers as offer_store

logger = logging.getLogger(__name__)


class OfferNotFound(ServiceError):
    """No such offer, or it has already ended."""


@dataclass(frozen=True, slots=True)
class Started:
    offer: Offer
    coupons_issued: int
    broadcast_id: int | None


class OfferService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        audience: AudienceService,
        coupons: CouponService,
        broadcasts: BroadcastService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._audience = audience
        self._coupons = coupons
        self._broadcasts = broadcasts

    async def create(self, owner_id: int, new: NewOffer) -> Offer:
        now = self._clock.now()
        async with self._db.transaction() as tx:
            offer = await offer_store.create(tx, new, owner_id, now)
            await audit_store.record(
                tx, actor_id=owner_id, action="offer.create", now=now, detail=f"offer {offer.id}"
            )
        return offer

    async def end(self, owner_id: int, offer_id: int) -> Offer:
        now = self._clock.now()
        async with self._db.transaction() as tx:
            offer = await offer_store.end(tx, offer_id, now)
            if offer is None:
                raise OfferNotFound
            await audit_store.record(
                tx, actor_id=owner_id, action="offer.end", now=now, detail=f"offer {offer.id}"
            )
        return offer

    async def recent(self) -> list[Offer]:
        return await offer_store.recent(self._db.reader)

    async def audience_size(self, audience: str) -> int:
        return await self._audience.count(parse_audience(audience))

    async def current_for(self, member: Member) -> list[Offer]:
        """Offers running now (between their dates) whose audience includes the member."""
        offers = await offer_store.current(self._db.reader, self._clock.now())
        return await self._for_member(self._db.reader, member, offers)

    async def _for_member(self, conn: Conn, member: Member, offers: list[Offer]) -> list[Offer]:
        """The purchase offers among ``offers`` whose audience includes the member."""
        purchase_offers = [offer for offer in offers if offer.kind in ("multiplier", "bonus")]
        if not purchase_offers:
            return []
        audiences = [parse_audience(offer.audience) for offer in purchase_offers]
        facts = await self._audience.facts_for(
            conn, member.id, with_locations=any(a.kind == "visited" for a in audiences)
        )
        if facts is None:
            return []
        return [
            offer
            for offer in purchase_offers
            if self._audience.matches(parse_audience(offer.audience), facts)
        ]

    async def effect_for(
        self, conn: Conn, member: Member, location_id: int | None = None
    ) -> OfferEffect:
        """How the offers open right now change a purchase by this member at
        ``location_id``; the member's offers not valid there are named in ``not_here``."""
        now = self._clock.now()
        open_now = [
            offer
            for offer in await offer_store.current(conn, now)
            if is_open(offer, now, self._settings.tz)
        ]
        if not open_now:
            return NO_OFFER
        return combine_at(await self._for_member(conn, member, open_now), location_id)

    async def start_due(self, announcement: Callable[[Offer], str]) -> list[Started]:
        """Start offers whose time has come: each in one transaction, marked started
        together with its gift coupons and its queued announcement, so a crash leaves an
        offer either not started (the next run starts it) or started completely.

        ``announcement`` writes the message for an offer (texts live with the handlers).
        The audience is read before the write lock is taken."""
        started = []
        for offer in await offer_store.due_to_start(self._db.reader, self._clock.now()):
            recipients = await self._broadcasts.recipients(offer.audience)
            gift = offer.kind == "coupon" and offer.reward_id is not None
            announce = offer.announce or offer.kind == "coupon"
            text = announcement(offer) if announce else ""
            now = self._clock.now()
            async with self._db.transaction() as tx:
                if not await offer_store.mark_started(tx, offer.id, now):
                    continue
                issued = 0
                if gift:
                    member_ids = [member_id for member_id, _ in recipients]
                    issued = await self._coupons.gift_in(tx, offer, member_ids, now)
                broadcast_id = None
                if announce:
                    broadcast = await self._broadcasts.create_in(
                        tx,
                        created_by=offer.created_by,
                        text=text,
                        photo_file_id=None,
                        audience=offer.audience,
                        recipients=recipients,
                        now=now,
                        offer_id=offer.id,
                    )
                    broadcast_id = broadcast.id
            logger.info(
                "Offer %s started: %s coupons, broadcast %s", offer.id, issued, broadcast_id
            )
            started.append(Started(offer, issued, broadcast_id))
        return started
