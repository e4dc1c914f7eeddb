"""Who an offer or broadcast is for. Opted-out and unreachable members never are."""

from __future__ import annotations

import aiosqlite

from bot.clock import Clock
from bot.offers import Audience, in_audience
from bot.settings import Settings
from bot.tiers import TIER_PERIOD
from storage import Database
from storage import members as member_store
from storage.members import AudienceFacts


class AudienceService:
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings

    async def members(
        self, audience: Audience, conn: aiosqlite.Connection | None = None
    ) -> list[AudienceFacts]:
        now = self._clock.now()
        facts = await member_store.audience_facts(conn or self._db.reader, now - TIER_PERIOD)
        return [f for f in facts if self.matches(audience, f)]

    async def facts_for(self, conn: aiosqlite.Connection, member_id: int) -> AudienceFacts | None:
        """One member's facts, for offers (promotion opt-out does not matter there)."""
        now = self._clock.now()
        facts = await member_store.audience_facts(conn, now - TIER_PERIOD, member_id=member_id)
        return facts[0] if facts else None

    def matches(self, audience: Audience, facts: AudienceFacts) -> bool:
        return in_audience(
            audience, facts, self._clock.now(), self._settings.tiers, self._settings.tz
        )
