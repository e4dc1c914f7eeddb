"""Who an offer or broadcast is for. Opted-out and unreachable members never are."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.clock import Clock
from bot.domain import AudienceFacts
from bot.offers import Audience, in_audience
from bot.settings import Settings
from bot.tiers import TIER_PERIOD
from storage import Conn, Database
from storage import members as member_store
from storage.members import AudienceFilter

AUDIENCE_PAGE = 1000


class AudienceService:
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings

    def _filter(self, audience: Audience) -> AudienceFilter:
        now = self._clock.now()
        if audience.kind == "lapsed":
            days = int(audience.value)
            return member_store.audience_filter("lapsed", visited_before=now - timedelta(days))
        if audience.kind == "birthday":
            month = now.astimezone(self._settings.tz).month
            return member_store.audience_filter("birthday", birthday_month=month)
        if audience.kind == "visited":
            places, days = audience.visited
            return member_store.audience_filter(
                "visited", locations=list(places), visited_since=now - timedelta(days)
            )
        if audience.kind == "tier":
            tiers = self._settings.tiers
            names = [tier.name.lower() for tier in tiers]
            if audience.value.lower() not in names:
                return member_store.audience_filter(
                    "tier", earned_since=now, earned_from=1, earned_below=0
                )
            index = names.index(audience.value.lower())
            below = tiers[index + 1].threshold if index + 1 < len(tiers) else None
            return member_store.audience_filter(
                "tier",
                earned_since=now - TIER_PERIOD,
                earned_from=tiers[index].threshold,
                earned_below=below,
            )
        return member_store.audience_filter("all")

    async def recipients(self, audience: Audience) -> list[tuple[int, int]]:
        """(member id, chat id) of everyone in the audience now, read a page at a time on
        the reader connection (never inside a write transaction)."""
        selected = self._filter(audience)
        found: list[tuple[int, int]] = []
        while page := await member_store.audience_page(
            self._db.reader, selected, found[-1][0] if found else 0, AUDIENCE_PAGE
        ):
            found += page
        return found

    async def count(self, audience: Audience) -> int:
        return await member_store.audience_count(self._db.reader, self._filter(audience))

    async def facts_for(
        self, conn: Conn, member_id: int, *, with_locations: bool = False
    ) -> AudienceFacts | None:
        """One member's facts, for offers (promotion opt-out does not matter there); with
        their last purchase at each location when an audience asks who visited where."""
        now = self._clock.now()
        facts = await member_store.audience_facts(conn, now - TIER_PERIOD, member_id=member_id)
        if not facts:
            return None
        if not with_locations:
            return facts[0]
        visits = await member_store.last_purchase_by_location(conn, member_id)
        return replace(facts[0], last_purchase_by_location=visits)

    def matches(self, audience: Audience, facts: AudienceFacts) -> bool:
        return in_audience(
            audience, facts, self._clock.now(), self._settings.tiers, self._settings.tz
        )
