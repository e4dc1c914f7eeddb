"""A member's own data: everything the bot holds about them, and forgetting them.

Forgetting anonymises rather than deletes: the ledger keeps every entry with its points,
amounts and dates (the café's books need them), but the member row they point at no
longer says who it was. Open coupons are cancelled (paid ones refunded to that anonymous
balance), feedback comments and the birthday are removed, queued messages are dropped,
and the person can join again later as a new member.
"""

from __future__ import annotations

from typing import Any

from bot.clock import Clock
from bot.domain import Member
from bot.services.coupons import CouponService
from storage import Database
from storage import audit as audit_store
from storage import coupons as coupon_store
from storage import feedback as feedback_store
from storage import languages as language_store
from storage import ledger as ledger_store
from storage import members as member_store
from storage import outbox as outbox_store
from storage import referrals as referral_store
from storage.timeutil import to_db


class PrivacyService:
    def __init__(self, db: Database, clock: Clock, coupons: CouponService) -> None:
        self._db = db
        self._clock = clock
        self._coupons = coupons

    async def export(self, member: Member) -> dict[str, Any]:
        """Everything held about the member, as plain JSON-ready data."""
        reader = self._db.reader
        fresh = await member_store.by_id(reader, member.id) or member
        prefs = await member_store.preferences(reader, member.id)
        referral = await referral_store.of_referred(reader, member.id)
        return {
            "profile": {
                "member_number": fresh.id,
                "telegram_user_id": fresh.tg_user_id,
                "chat_id": fresh.chat_id,
                "first_name": fresh.first_name,
                "username": fresh.username,
                "language": fresh.language,
                "joined_at": to_db(fresh.created_at),
                "last_visit_at": to_db(fresh.last_visit_at),
                "balance": fresh.balance,
                "birthday": prefs.birthday,
                "offers_and_news": prefs.promotions,
                "points_reminders_and_birthday": prefs.service,
                "referred_by_member": referral.referrer_id if referral else None,
            },
            "ledger": [
                {
                    "entry": e.id,
                    "at": to_db(e.created_at),
                    "kind": e.kind.value,
                    "points": e.points,
                    "amount_minor": e.amount_minor,
                    "category": e.category,
                    "reason": e.reason,
                }
                for e in await ledger_store.all_of_member(reader, member.id)
            ],
            "coupons": [
                {
                    "coupon": c.id,
                    "reward": c.title,
                    "cost": c.cost,
                    "state": c.state.value,
                    "issued_at": to_db(c.issued_at),
                    "expires_at": to_db(c.expires_at),
                    "closed_at": to_db(c.closed_at) if c.closed_at else None,
                }
                for c in await coupon_store.all_of_member(reader, member.id)
            ],
            "feedback": [
                {
                    "asked_at": to_db(f.asked_at),
                    "after_entry": f.entry_id,
                    "score": f.score,
                    "comment": f.comment,
                }
                for f in await feedback_store.of_member(reader, member.id)
            ],
        }

    async def forget(self, member: Member) -> int:
        """Anonymise the member; returns how many open coupons were cancelled."""
        cancelled = await self._coupons.cancel_all(member)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await feedback_store.forget_comments(tx, member.id)
            await outbox_store.cancel_for_member(tx, member.id, now)
            await member_store.forget(tx, member.id, now)
            await language_store.forget(tx, member.tg_user_id)
            await audit_store.record(
                tx, actor_id=0, action="member.forget", member_id=member.id, now=now
            )
        return cancelled
