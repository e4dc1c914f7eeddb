"""Redeeming points for coupons, and each coupon's life: issued → redeemed | cancelled | expired.

Every state change is one transaction: the debit and the coupon are created together;
cancelling or expiring refunds in the same transaction as the state change. A coupon
leaves ``issued`` by a conditional update made before anything it causes: of two racing
transactions (two baristas, a cancel and the expiry job; in one process or, on
PostgreSQL, in several) only one changes the row, and the other writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain import Coupon, CouponState, EntryKind, Member, Offer
from bot.services.errors import (
    CouponClosed,
    CouponMalformed,
    CouponUnknown,
    NotEnoughPoints,
    RewardUnavailable,
)
from bot.services.issuing import Actor
from bot.services.locations import LocationService
from bot.settings import Settings
from bot.tokens import LinkKind, link_kind, normalise_code, random_token, short_code
from storage import Conn, Database, retry_transient
from storage import audit as audit_store
from storage import coupons as coupon_store
from storage import ledger as ledger_store
from storage import members as member_store
from storage import rewards as reward_store
from storage.ledger import Overdraft
from storage.rewards import Reward

COUPON_CODE_LENGTH = 8
COUPON_TOKEN_BYTES = 16
COUPON_TOKEN_LENGTH = len(random_token(LinkKind.COUPON, COUPON_TOKEN_BYTES))


@dataclass(frozen=True, slots=True)
class CouponView:
    coupon: Coupon
    member: Member


@dataclass(frozen=True, slots=True)
class Redeemed:
    view: CouponView
    created: bool  # False: the button's earlier coupon, still open, was found


def display_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


class CouponService:
    def __init__(
        self, db: Database, clock: Clock, settings: Settings, locations: LocationService
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._locations = locations

    # -- customers ---------------------------------------------------------------------

    @retry_transient
    async def redeem(self, member: Member, reward_id: int, button: str) -> Redeemed:
        """Debit the points and issue the coupon in one transaction.

        ``button`` names the Redeem button pressed (its message and reward). While the
        coupon it gave is still open, pressing it again (a double tap, a re-delivered
        update) gives that same coupon, not a second one; once that coupon is used,
        cancelled or expired, the next press redeems afresh."""
        now = self._clock.now()
        cost = 0
        try:
            async with self._db.transaction() as tx:
                earlier = await ledger_store.keys_with_prefix(tx, button)
                if earlier:
                    debit = await ledger_store.by_key(tx, earlier[0])
                    assert debit is not None
                    existing = await coupon_store.by_debit_entry(tx, debit.id)
                    assert existing is not None
                    if existing.state is CouponState.ISSUED:
                        return Redeemed(await self._view(tx, existing), created=False)
                reward = await reward_store.get(tx, reward_id)
                if reward is None or not reward.active:
                    raise RewardUnavailable
                cost = reward.cost
                debit, debited = await ledger_store.append(
                    tx,
                    member_id=member.id,
                    points=-reward.cost,
                    kind=EntryKind.REDEEM,
                    reason=reward.title,
                    idempotency_key=f"{button}:{len(earlier) + 1}",
                    now=now,
                    actor_id=member.tg_user_id,
                )
                if not debited:
                    # The same press, handled at the same moment by another process
                    # (PostgreSQL), redeemed first: its coupon is this press's too.
                    existing = await coupon_store.by_debit_entry(tx, debit.id)
                    assert existing is not None
                    return Redeemed(await self._view(tx, existing), created=False)
                coupon = await coupon_store.create(
                    tx,
                    token=random_token(LinkKind.COUPON, COUPON_TOKEN_BYTES),
                    code=short_code(COUPON_CODE_LENGTH),
                    member_id=member.id,
                    reward_id=reward.id,
                    title=reward.title,
                    cost=reward.cost,
                    debit_entry_id=debit.id,
                    now=now,
                    expires_at=now + timedelta(days=self._settings.coupon_validity_days),
                )
                assert coupon is not None
                return Redeemed(await self._view(tx, coupon), created=True)
        except Overdraft:
            # Read on the reader, after the rollback: the refusal needs nothing from the
            # transaction (on PostgreSQL one whose statement failed runs nothing more).
            fresh = await member_store.by_id(self._db.reader, member.id)
            raise NotEnoughPoints(cost - (fresh.balance if fresh else 0)) from None

    async def gift_one(
        self,
        tx: Conn,
        member_id: int,
        reward: Reward,
        expires_at: datetime,
        now: datetime,
    ) -> Coupon:
        """A free coupon (a birthday treat, a win-back gift), inside the caller's
        transaction. It costs no points, so it refunds none when it expires."""
        coupon = await coupon_store.create(
            tx,
            token=random_token(LinkKind.COUPON, COUPON_TOKEN_BYTES),
            code=short_code(COUPON_CODE_LENGTH),
            member_id=member_id,
            reward_id=reward.id,
            title=reward.title,
            cost=0,
            debit_entry_id=None,
            now=now,
            expires_at=expires_at,
        )
        assert coupon is not None
        return coupon

    async def remember_message(self, coupon: Coupon, chat_id: int, message_id: int) -> None:
        async with self._db.transaction() as tx:
            await coupon_store.remember_message(tx, coupon.id, chat_id, message_id)

    async def messages_of(self, coupon: Coupon) -> list[tuple[int, int]]:
        """(chat, message) of every message that showed this coupon's QR."""
        return await coupon_store.messages(self._db.reader, coupon.id)

    async def gift_in(self, tx: Conn, offer: Offer, member_ids: list[int], now: datetime) -> int:
        """A free coupon for each member from an offer, inside the caller's transaction
        (starting the offer); each member gets at most one."""
        reward = await reward_store.get(tx, offer.reward_id or 0)
        if reward is None:
            return 0
        gifts = [
            (
                random_token(LinkKind.COUPON, COUPON_TOKEN_BYTES),
                short_code(COUPON_CODE_LENGTH),
                member_id,
            )
            for member_id in member_ids
        ]
        issued = await coupon_store.create_gifts(
            tx,
            gifts,
            reward_id=reward.id,
            title=reward.title,
            offer_id=offer.id,
            now=now,
            expires_at=min(
                offer.ends_at, now + timedelta(days=self._settings.coupon_validity_days)
            ),
        )
        await audit_store.record(
            tx,
            actor_id=0,
            action="coupon.gift",
            now=now,
            detail=f"{issued} gift coupons from offer {offer.id}",
        )
        return issued

    async def open_coupons(self, member: Member) -> list[Coupon]:
        return await coupon_store.open_for_member(self._db.reader, member.id)

    async def of_member(self, member: Member, coupon_id: int) -> Coupon:
        coupon = await coupon_store.get(self._db.reader, coupon_id)
        if coupon is None or coupon.member_id != member.id:
            raise CouponUnknown
        return coupon

    @retry_transient
    async def cancel(self, member: Member, coupon_id: int) -> CouponView:
        """The customer gives an unused coupon back and gets the points back."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            coupon = await coupon_store.get(tx, coupon_id)
            if coupon is None or coupon.member_id != member.id:
                raise CouponUnknown
            if coupon.state is not CouponState.ISSUED:
                raise CouponClosed(coupon)
            closed = await self._close_with_refund(
                tx, coupon, CouponState.CANCELLED, now, actor=member.tg_user_id
            )
            return await self._view(tx, closed)

    async def cancel_all(self, member: Member) -> int:
        """Cancel every open coupon of the member (forgetting them), refunding paid ones."""
        cancelled = 0
        for coupon in await self.open_coupons(member):
            try:
                await self.cancel(member, coupon.id)
            except CouponClosed:
                continue  # used or expired meanwhile
            cancelled += 1
        return cancelled

    # -- staff ---------------------------------------------------------------------------

    async def lookup(self, payload_or_code: str) -> CouponView:
        """The coupon behind a scanned link payload or a typed code."""
        text = payload_or_code.strip()
        # A typed code may start with "c" too; only a link token has the token's length.
        if link_kind(text) is LinkKind.COUPON and len(text) == COUPON_TOKEN_LENGTH:
            coupon = await coupon_store.by_token(self._db.reader, text)
        else:
            code = normalise_code(text)
            if len(code) != COUPON_CODE_LENGTH:
                raise CouponMalformed
            coupon = await coupon_store.by_code(self._db.reader, code)
        if coupon is None:
            raise CouponUnknown
        return await self._view(self._db.reader, coupon)

    @retry_transient
    async def confirm(self, actor: Actor, coupon_id: int) -> CouponView:
        """Hand over the reward: exactly one confirmation wins. Recorded at the location
        the barista is working in (LocationNeeded when they must say where first)."""
        location_id = await self._locations.where_is(actor.tg_user_id)
        now = self._clock.now()
        closed: Coupon | None = None
        async with self._db.transaction() as tx:
            coupon = await coupon_store.get(tx, coupon_id)
            if coupon is None:
                raise CouponUnknown
            if coupon.state is CouponState.ISSUED and coupon.expires_at <= now:
                # Past its date: refused. The expiry job refunds it and tells the customer.
                closed = coupon
            elif await coupon_store.close(
                tx,
                coupon.id,
                CouponState.REDEEMED,
                now,
                by=actor.tg_user_id,
                by_name=actor.first_name,
                location_id=location_id,
            ):
                await audit_store.record(
                    tx,
                    actor_id=actor.tg_user_id,
                    action="coupon.redeem",
                    member_id=coupon.member_id,
                    now=now,
                    detail=f"coupon {coupon.id}: {coupon.title}",
                    location_id=location_id,
                )
                redeemed = await coupon_store.get(tx, coupon.id)
                assert redeemed is not None
                return await self._view(tx, redeemed)
            else:
                closed = await coupon_store.get(tx, coupon.id)
        assert closed is not None
        raise CouponClosed(closed)

    # -- the expiry job --------------------------------------------------------------------

    async def expire_due(self, batch: int = 200) -> list[CouponView]:
        """Expire every unused coupon past its date and refund its points."""
        expired: list[CouponView] = []
        while True:
            now = self._clock.now()
            due = await coupon_store.due_for_expiry(self._db.reader, now, batch)
            if not due:
                return expired
            for coupon in due:
                try:
                    async with self._db.transaction() as tx:
                        fresh = await coupon_store.get(tx, coupon.id)
                        if fresh is None or fresh.state is not CouponState.ISSUED:
                            continue
                        closed = await self._close_with_refund(tx, fresh, CouponState.EXPIRED, now)
                        expired.append(await self._view(tx, closed))
                except CouponClosed:
                    continue  # redeemed or cancelled by another process meanwhile
            if len(due) < batch:
                return expired

    # -- helpers ---------------------------------------------------------------------------

    async def _close_with_refund(
        self,
        tx: Conn,
        coupon: Coupon,
        state: CouponState,
        now: datetime,
        actor: int | None = None,
    ) -> Coupon:
        """Close a coupon as cancelled or expired; paid coupons get their points back.

        The conditional state change comes first: only the transaction that made it
        refunds, so the points go back once; the other raises CouponClosed having
        written nothing."""
        if not await coupon_store.close(tx, coupon.id, state, now):
            raise CouponClosed(await coupon_store.get(tx, coupon.id) or coupon)
        if coupon.cost > 0:
            refund, _ = await ledger_store.append(
                tx,
                member_id=coupon.member_id,
                points=coupon.cost,
                kind=EntryKind.REFUND,
                reason=coupon.title,
                idempotency_key=f"refund:coupon:{coupon.id}",
                now=now,
                actor_id=actor,
            )
            await coupon_store.set_refund(tx, coupon.id, refund.id)
        else:
            await audit_store.record(
                tx,
                actor_id=actor or 0,
                action=f"coupon.{state.value}",
                member_id=coupon.member_id,
                now=now,
                detail=f"gift coupon {coupon.id}",
            )
        closed = await coupon_store.get(tx, coupon.id)
        assert closed is not None
        return closed

    async def _view(self, conn: Conn, coupon: Coupon) -> CouponView:
        member = await member_store.by_id(conn, coupon.member_id)
        assert member is not None
        return CouponView(coupon, member)
