"""Alerting the owners about unexpected errors, without flooding them."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import Clock
from storage import Database
from storage import alerts as alert_store

# At most one alert per kind of error (its exception type) in this long; the rest of the
# burst is in the log.
ALERT_EVERY = timedelta(minutes=10)


class AlertService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def may_alert(self, kind: str) -> bool:
        """True when no alert about ``kind`` went out in the last ``ALERT_EVERY``; the
        caller then sends it. Kept in the database, so the limit holds across several
        bot processes and restarts."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            return await alert_store.claim(tx, kind, now, now - ALERT_EVERY)
