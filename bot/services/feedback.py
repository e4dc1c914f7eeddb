"""NPS feedback: after every Nth visit, at most once per 90 days per member, ask how likely
they are to recommend the café (0-10), with an optional comment. A second tap changes the
answer; a low score (0-6) is for the owners to hear about the same day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.domain import LedgerEntry, Member
from bot.services.errors import ServiceError
from bot.settings import Settings
from storage import Database, retry_transient
from storage import feedback as feedback_store
from storage import outbox as outbox_store
from storage.feedback import Feedback

ASK_AT_MOST_EVERY = timedelta(days=90)
COMMENT_WINDOW = timedelta(minutes=30)
LOW_SCORE = 6  # 0-6: detractors
MAX_COMMENT = 1000


class FeedbackUnknown(ServiceError):
    """Not this member's question, or no such question."""


@dataclass(frozen=True, slots=True)
class Answered:
    feedback: Feedback
    previous: int | None

    @property
    def low(self) -> bool:
        return self.feedback.score is not None and self.feedback.score <= LOW_SCORE


class FeedbackService:
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings

    async def after_purchase(self, member: Member, entry: LedgerEntry, visits: int) -> bool:
        """Queue the question after this visit if it is due; True when queued."""
        every = self._settings.nps_every_visits
        if not every or visits % every:
            return False
        now = self._clock.now()
        last = await feedback_store.last_asked(self._db.reader, member.id)
        if last is not None and now - last < ASK_AT_MOST_EVERY:
            return False
        async with self._db.transaction() as tx:
            feedback_id = await feedback_store.create(tx, member.id, entry.id, now)
            if feedback_id is None:
                return False  # this visit was asked about already
            return await outbox_store.enqueue(
                tx,
                member_id=member.id,
                kind="nps",
                dedup_key=f"nps:{entry.id}",
                params={"feedback": feedback_id},
                service=False,
                now=now,
            )

    @retry_transient
    async def answer(self, member: Member, feedback_id: int, score: int) -> Answered:
        now = self._clock.now()
        async with self._db.transaction() as tx:
            current = await feedback_store.get(tx, feedback_id)
            if current is None or current.member_id != member.id or not 0 <= score <= 10:
                raise FeedbackUnknown
            await feedback_store.answer(tx, feedback_id, score, now, now + COMMENT_WINDOW)
            fresh = await feedback_store.get(tx, feedback_id)
        assert fresh is not None
        return Answered(fresh, current.score)

    async def take_comment(self, member: Member, text: str) -> Answered | None:
        """A message right after answering is the comment; None when none is awaited."""
        now = self._clock.now()
        awaiting = await feedback_store.awaiting_comment(self._db.reader, member.id, now)
        if awaiting is None or not text.strip():
            return None
        async with self._db.transaction() as tx:
            await feedback_store.set_comment(tx, awaiting.id, text.strip()[:MAX_COMMENT])
            fresh = await feedback_store.get(tx, awaiting.id)
        assert fresh is not None
        return Answered(fresh, awaiting.score)
