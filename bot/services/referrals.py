"""Referrals: a member's personal link, a friend who joins through it, and the bonus both
get on the friend's first qualifying purchase, once. Undoing that purchase takes both
bonuses back and the referral waits for a qualifying purchase again.

Refused, with the reason shown to whoever can act on it: opening one's own link; a
staff or owner account on either side; someone who was a member already (which also
makes loops impossible: only a new member can be referred, and a new member has referred
nobody yet); and more rewarded referrals in a café month than ``REFERRAL_MAX_PER_MONTH``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.clock import Clock
from bot.domain import EntryKind, LedgerEntry, Member
from bot.lifecycle import month_start
from bot.services.errors import ReferralBonusSpent
from bot.services.membership import Profile, upsert_profile
from bot.services.roles import Role, RoleService
from bot.settings import Settings
from bot.tokens import LinkKind, random_token
from storage import Conn, Database, retry_transient
from storage import audit as audit_store
from storage import ledger as ledger_store
from storage import members as member_store
from storage import outbox as outbox_store
from storage import referrals as referral_store
from storage.ledger import Overdraft
from storage.referrals import ReferrerRow

CODE_BYTES = 9  # 12 characters of base64: the payload is 13, far below 64


def bonus_key(referred_id: int, side: str, purchase_id: int) -> str:
    """One bonus per side per settling purchase: a referral settled again after an undo
    pays again, under new keys."""
    return f"referral:{referred_id}:{side}:{purchase_id}"


def settled_key(referred_id: int, purchase_id: int) -> str:
    """The referrer hears once per settling purchase, whether it paid or hit the monthly
    limit: a referral settled again after an undo is told again."""
    return f"referral-settled:{referred_id}:{purchase_id}"


class Refusal(StrEnum):
    UNKNOWN = "unknown"
    OWN_LINK = "own_link"
    ALREADY_MEMBER = "already_member"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class Joined:
    member: Member
    referrer: Member | None  # None: the link was refused (see ``refusal``)
    refusal: Refusal | None = None


class ReferralService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, roles: RoleService) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._roles = roles

    @property
    def rewards(self) -> tuple[int, int]:
        """(points for the member who invited, points for the friend)."""
        return self._settings.referral_bonus_points, self._settings.referral_friend_bonus_points

    async def link_payload(self, member: Member) -> str:
        """The member's personal invite payload (``r…``), the same every time."""
        async with self._db.transaction() as tx:
            return await member_store.referral_code(
                tx, member.id, random_token(LinkKind.REFERRAL, CODE_BYTES)
            )

    @retry_transient
    async def join_via(self, profile: Profile, payload: str) -> Joined:
        """Someone opened a referral link: they join, referred when the rules allow."""
        now = self._clock.now()
        referrer = await member_store.by_referral_code(self._db.reader, payload)
        staff = await self._roles.role_of(profile.tg_user_id) is not Role.CUSTOMER
        referrer_staff = (
            referrer is not None
            and await self._roles.role_of(referrer.tg_user_id) is not Role.CUSTOMER
        )
        async with self._db.transaction() as tx:
            member, created = await upsert_profile(tx, profile, now)
            refusal = None
            if referrer is None:
                refusal = Refusal.UNKNOWN
            elif referrer.id == member.id:
                refusal = Refusal.OWN_LINK
            elif not created:
                refusal = Refusal.ALREADY_MEMBER
            elif staff or referrer_staff:
                refusal = Refusal.STAFF
            if refusal is None and referrer is not None:
                await referral_store.create(
                    tx, referred_id=member.id, referrer_id=referrer.id, now=now
                )
                await outbox_store.enqueue(
                    tx,
                    member_id=referrer.id,
                    kind="referral_joined",
                    dedup_key=f"referral-joined:{member.id}",
                    params={"friend": member.first_name, "points": self.rewards[0]},
                    service=True,
                    now=now,
                )
        return Joined(member, referrer if refusal is None else None, refusal)

    async def settle_on_purchase(
        self, tx: Conn, member: Member, purchase: LedgerEntry, now: datetime
    ) -> bool:
        """Inside the purchase's transaction: pay both sides on the referred member's first
        purchase of at least ``REFERRAL_MIN_PURCHASE``, once. True when it paid."""
        referral = await referral_store.of_referred(tx, member.id)
        if referral is None or referral.state != "pending":
            return False
        if (purchase.amount_minor or 0) < self._settings.referral_min_minor:
            return False
        month = month_start(now, self._settings.tz)
        cap = self._settings.referral_max_per_month
        # The referrer's referrals are counted under lock, and each settlement is a
        # conditional update made before any bonus: two purchases settling at once (on
        # PostgreSQL) neither pay one referral twice nor pass the monthly limit together.
        await referral_store.lock_referrer(tx, referral.referrer_id)
        if await referral_store.rewarded_since(tx, referral.referrer_id, month) >= cap:
            if not await referral_store.settle(
                tx, member.id, "refused", "monthly limit", now, purchase.id
            ):
                return False  # another purchase settled it first
            await outbox_store.enqueue(
                tx,
                member_id=referral.referrer_id,
                kind="referral_capped",
                dedup_key=settled_key(member.id, purchase.id),
                params={"friend": member.first_name, "limit": cap},
                service=True,
                now=now,
            )
            return False
        if not await referral_store.settle(tx, member.id, "rewarded", None, now, purchase.id):
            return False  # another purchase settled it first
        for_referrer, for_friend = self.rewards
        for whom, points, side in (
            (referral.referrer_id, for_referrer, "referrer"),
            (member.id, for_friend, "friend"),
        ):
            if points:
                await ledger_store.append(
                    tx,
                    member_id=whom,
                    points=points,
                    kind=EntryKind.REFERRAL,
                    reason=f"referral of member {member.id}",
                    idempotency_key=bonus_key(member.id, side, purchase.id),
                    now=now,
                )
        await audit_store.record(
            tx,
            actor_id=0,
            action="referral.reward",
            member_id=member.id,
            now=now,
            detail=f"referred by member {referral.referrer_id}",
        )
        await outbox_store.enqueue(
            tx,
            member_id=referral.referrer_id,
            kind="referral_rewarded",
            dedup_key=settled_key(member.id, purchase.id),
            params={"friend": member.first_name, "points": for_referrer},
            service=True,
            now=now,
        )
        return True

    async def take_back(
        self, tx: Conn, purchase: LedgerEntry, actor_id: int, now: datetime
    ) -> dict[str, int]:
        """Inside the undo's transaction: if ``purchase`` settled a referral, take back the
        bonuses it paid (raising ``Overdraft`` if they were spent) and let the referral wait
        for a qualifying purchase again. Returns the points taken back, by side."""
        referral = await referral_store.settled_by(tx, purchase.id)
        if referral is None:
            return {}
        # Read before taking anything back: on PostgreSQL a transaction whose statement
        # failed (an overdraft) reads nothing more.
        referrer = await member_store.by_id(tx, referral.referrer_id)
        taken: dict[str, int] = {}
        for side, whom in (("referrer", referral.referrer_id), ("friend", referral.referred_id)):
            bonus = await ledger_store.by_key(
                tx, bonus_key(referral.referred_id, side, purchase.id)
            )
            if bonus is None:
                continue
            try:
                await ledger_store.append(
                    tx,
                    member_id=whom,
                    points=-bonus.points,
                    kind=EntryKind.REFERRAL,
                    reason=f"taken back: purchase {purchase.id} undone",
                    idempotency_key=f"unreferral:{bonus.id}",
                    now=now,
                    actor_id=actor_id,
                    reverses_id=bonus.id,
                )
            except Overdraft:
                if side == "friend":
                    raise  # the customer spent it: like the purchase's own points
                raise ReferralBonusSpent(referrer.first_name if referrer else "") from None
            taken[side] = bonus.points
        await referral_store.reopen(tx, referral.referred_id)
        await audit_store.record(
            tx,
            actor_id=actor_id,
            action="referral.reopen",
            member_id=referral.referred_id,
            now=now,
            detail=f"purchase {purchase.id} undone; bonuses taken back: {taken or 'none'}",
        )
        if "referrer" in taken:
            friend = await member_store.by_id(tx, referral.referred_id)
            await outbox_store.enqueue(
                tx,
                member_id=referral.referrer_id,
                kind="referral_taken_back",
                dedup_key=f"referral-taken-back:{purchase.id}",
                params={
                    "friend": friend.first_name if friend else "",
                    "points": taken["referrer"],
                },
                service=True,
                now=now,
            )
        return taken

    async def top(self, limit: int = 10) -> list[ReferrerRow]:
        return await referral_store.top_referrers(self._db.reader, limit)
