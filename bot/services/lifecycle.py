"""The jobs that keep members engaged between visits: expiry (announced in advance),
win-back, birthday treats. Each never pays or sends twice, across restarts too.

Every job reads one page of due members outside any transaction (by index), then
handles each member in a short transaction of its own whose first write is a unique gate
(a ledger idempotency key, an outbox dedup key, or a conditional update): a second run,
or a restart in the middle, finds the gate taken and does nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain import EntryKind, Member
from bot.lifecycle import birthdays_due, expiry_cutoff, points_expire_at
from bot.services.coupons import CouponService
from bot.services.roles import Role, RoleService
from bot.settings import Settings
from storage import Conn, Database
from storage import ledger as ledger_store
from storage import members as member_store
from storage import meta as meta_store
from storage import outbox as outbox_store
from storage import rewards as reward_store
from storage.rewards import Reward
from storage.timeutil import to_db

logger = logging.getLogger(__name__)

PAGE = 200
WINBACK_META = "winback"
NO_PAGE = member_store.FIRST_PAGE


@dataclass(frozen=True, slots=True)
class WinBack:
    """What a dormant member gets, set by the owner with /winback."""

    text: str = ""
    bonus_points: int = 0
    reward_id: int | None = None
    coupon_days: int = 14

    def to_json(self) -> str:
        return json.dumps(
            {
                "text": self.text,
                "bonus_points": self.bonus_points,
                "reward_id": self.reward_id,
                "coupon_days": self.coupon_days,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> WinBack:
        data = json.loads(text)
        return cls(
            text=str(data.get("text", "")),
            bonus_points=int(data.get("bonus_points", 0)),
            reward_id=data.get("reward_id"),
            coupon_days=int(data.get("coupon_days", 14)),
        )


def best_affordable(rewards: list[Reward], points: int) -> Reward | None:
    """The most expensive active reward the points buy now."""
    affordable = [r for r in rewards if r.active and r.cost <= points]
    return max(affordable, key=lambda r: (r.cost, -r.id), default=None)


class LifecycleService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        coupons: CouponService,
        roles: RoleService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._coupons = coupons
        self._roles = roles

    # -- points expiry ---------------------------------------------------------------------

    def expires_at(self, member: Member) -> datetime | None:
        """When the member's points lapse without another visit (None: they never do)."""
        months = self._settings.points_expire_after_months
        if not months or member.balance <= 0:
            return None
        return points_expire_at(member.last_visit_at, months, self._settings.tz)

    async def remind_expiring(self) -> int:
        """Queue one reminder per expiry date for balances lapsing within the reminder
        window. A visit moves the date, so that reminder is no longer due (and a queued
        one is dropped: ``visit_at``)."""
        months, days = (
            self._settings.points_expire_after_months,
            self._settings.expiry_reminder_days,
        )
        if not months or not days:
            return 0
        now, tz = self._clock.now(), self._settings.tz
        start = expiry_cutoff(now, months, tz)
        end = expiry_cutoff(now + timedelta(days=days), months, tz)
        rewards = await reward_store.list_all(self._db.reader, active_only=True)
        queued, after = 0, NO_PAGE
        while page := await member_store.balances_visited_between(
            self._db.reader, start, end, after, PAGE
        ):
            for member in page:
                expires = points_expire_at(member.last_visit_at, months, tz)
                best = best_affordable(rewards, member.balance)
                async with self._db.transaction() as tx:
                    queued += await outbox_store.enqueue(
                        tx,
                        member_id=member.id,
                        kind="expiry_reminder",
                        dedup_key=f"expiry-reminder:{member.id}:{to_db(expires)}",
                        params={
                            "points": member.balance,
                            "expires_at": to_db(expires),
                            "reward": best.title if best else None,
                        },
                        service=True,
                        now=now,
                        visit_at=member.last_visit_at,
                    )
            after = (page[-1].last_visit_at, page[-1].id)
        return queued

    async def expire_lapsed(self) -> int:
        """Write an expiry entry for each lapsed balance and queue its notice."""
        months = self._settings.points_expire_after_months
        if not months:
            return 0
        now = self._clock.now()
        cutoff = expiry_cutoff(now, months, self._settings.tz)
        expired, after = 0, NO_PAGE
        while page := await member_store.lapsed_balances(self._db.reader, cutoff, after, PAGE):
            for member in page:
                expired += await self._expire(member, cutoff, now)
            after = (page[-1].last_visit_at, page[-1].id)
        return expired

    async def _expire(self, member: Member, cutoff: datetime, now: datetime) -> int:
        async with self._db.transaction() as tx:
            # Locked: a visit committed meanwhile is seen, or waits for this to end.
            fresh = await member_store.lock(tx, member.id)
            if fresh is None or fresh.balance <= 0 or fresh.last_visit_at >= cutoff:
                return 0  # a visit or a redemption got there first
            key = f"expire:{fresh.id}:{to_db(fresh.last_visit_at)}"
            _, created = await ledger_store.append(
                tx,
                member_id=fresh.id,
                points=-fresh.balance,
                kind=EntryKind.EXPIRE,
                reason=f"no visit since {fresh.last_visit_at:%Y-%m-%d}",
                idempotency_key=key,
                now=now,
            )
            if created:
                await outbox_store.enqueue(
                    tx,
                    member_id=fresh.id,
                    kind="expired",
                    dedup_key=key,
                    params={"points": fresh.balance},
                    service=True,
                    now=now,
                )
        return int(created)

    # -- win-back --------------------------------------------------------------------------

    async def winback(self) -> WinBack:
        stored = await meta_store.read(self._db.reader, WINBACK_META)
        return WinBack.from_json(stored) if stored else WinBack()

    async def set_winback(self, owner_id: int, winback: WinBack) -> WinBack:
        async with self._db.transaction() as tx:
            await meta_store.put(tx, WINBACK_META, winback.to_json())
        logger.info("Owner %s changed the win-back message", owner_id)
        return winback

    async def win_back_dormant(self) -> int:
        """One message per dormant spell (a visit ends the spell), with the owner's bonus
        or coupon. Members who opted out of offers get nothing, but the spell is counted."""
        days = self._settings.winback_after_days
        if not days:
            return 0
        now = self._clock.now()
        offer = await self.winback()
        reward = await reward_store.get(self._db.reader, offer.reward_id or 0)
        sent = 0
        while page := await member_store.dormant_without_winback(
            self._db.reader, now - timedelta(days=days), PAGE
        ):
            for member in page:
                sent += await self._win_back(member, offer, reward, now)
            if len(page) < PAGE:
                break
        return sent

    async def _win_back(
        self, member: Member, offer: WinBack, reward: Reward | None, now: datetime
    ) -> int:
        async with self._db.transaction() as tx:
            if not await member_store.mark_winback(tx, member.id, member.last_visit_at):
                return 0
            prefs = await member_store.preferences(tx, member.id)
            if (
                not prefs.promotions
                or await self._roles.role_of(member.tg_user_id) is not Role.CUSTOMER
            ):
                return 0  # opted out, or the café's own people: the spell is counted
            spell = f"{member.id}:{to_db(member.last_visit_at)}"
            if offer.bonus_points:
                await self._bonus(tx, member, offer.bonus_points, EntryKind.WINBACK, spell, now)
            coupon = None
            if reward is not None and reward.active:
                coupon = await self._coupons.gift_one(
                    tx, member.id, reward, now + timedelta(days=offer.coupon_days), now
                )
            await outbox_store.enqueue(
                tx,
                member_id=member.id,
                kind="winback",
                dedup_key=f"winback:{spell}",
                params={
                    "text": offer.text,
                    "bonus": offer.bonus_points,
                    "reward": coupon.title if coupon else None,
                    "until": to_db(coupon.expires_at) if coupon else None,
                },
                service=False,
                now=now,
            )
        return 1

    # -- birthdays -------------------------------------------------------------------------

    async def birthday_treats(self) -> int:
        """The treat for every member whose birthday (week) is today, once a year."""
        settings = self._settings
        if not settings.birthday_bonus_points and not settings.birthday_reward:
            return 0
        now = self._clock.now()
        today = now.astimezone(settings.tz).date()
        due = birthdays_due(today, week=settings.birthday_treat_on == "week")
        reward = (
            await reward_store.by_title(self._db.reader, settings.birthday_reward)
            if settings.birthday_reward
            else None
        )
        treated, after = 0, 0
        while page := await member_store.with_birthdays(self._db.reader, sorted(due), after, PAGE):
            for member, stored in page:
                treated += await self._treat(member, due[stored].year, reward, now)
            after = page[-1][0].id
        return treated

    async def _treat(self, member: Member, year: int, reward: Reward | None, now: datetime) -> int:
        settings = self._settings
        async with self._db.transaction() as tx:
            key = f"birthday:{member.id}:{year}"
            coupon = None
            gives_coupon = reward is not None and reward.active
            until = now + timedelta(days=settings.birthday_coupon_days)
            coupon_params: dict[str, str | None] = {
                "reward": reward.title if reward is not None and gives_coupon else None,
                "until": to_db(until) if gives_coupon else None,
            }
            # The message's dedup key is the gate: once a year, whatever else happens.
            if not await outbox_store.enqueue(
                tx,
                member_id=member.id,
                kind="birthday",
                dedup_key=key,
                params={"bonus": settings.birthday_bonus_points, **coupon_params},
                service=True,
                now=now,
            ):
                return 0
            if settings.birthday_bonus_points:
                await self._bonus(
                    tx, member, settings.birthday_bonus_points, EntryKind.BIRTHDAY, str(year), now
                )
            if reward is not None and gives_coupon:
                coupon = await self._coupons.gift_one(tx, member.id, reward, until, now)
            logger.debug("Birthday treat for member %s (%s)", member.id, coupon)
        return 1

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    async def _bonus(
        tx: Conn,
        member: Member,
        points: int,
        kind: EntryKind,
        occasion: str,
        now: datetime,
    ) -> None:
        await ledger_store.append(
            tx,
            member_id=member.id,
            points=points,
            kind=kind,
            reason=kind.value,
            idempotency_key=f"{kind.value}:{member.id}:{occasion}",
            now=now,
        )
