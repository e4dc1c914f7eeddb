"""Issuing points at the counter, and undoing mistakes.

A barista's scan opens a *scan*; the amount (and, where the café uses them, a category)
completes it. The scan id is the idempotency key of the one ledger entry it can produce,
so a double tap, a re-delivered update or two racing messages all land on one entry.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

from bot.accounting import allocate, rate_ppm
from bot.clock import Clock
from bot.domain import EntryKind, LedgerEntry, Member, Offer
from bot.earning import ONE, Category, points_for_purchase
from bot.money import AmountError, parse_amount
from bot.offers import OfferEffect
from bot.services.errors import (
    AmountInvalid,
    AmountReplaced,
    EntryNotFound,
    LocationNeeded,
    NoOpenScan,
    NotUndoable,
    NotYourEntry,
    PointsAlreadySpent,
    ScanClosed,
    SelfIssue,
    ServiceError,
    UndoWindowPassed,
    ZeroPoints,
)
from bot.services.locations import LocationService
from bot.services.membership import MembershipService
from bot.services.roles import Role
from bot.settings import Settings
from bot.tiers import TIER_PERIOD, Tier, next_tier, tier_for
from storage import Conn, Database, retry_transient
from storage import audit as audit_store
from storage import ledger as ledger_store
from storage import members as member_store
from storage import reports as report_store
from storage import scans as scan_store
from storage import staff as staff_store
from storage.ledger import Overdraft
from storage.scans import Scan

SCAN_VALIDITY = timedelta(minutes=10)
DUPLICATE_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class Actor:
    """A staff member or owner acting at the counter."""

    tg_user_id: int
    first_name: str
    role: Role


@dataclass(frozen=True, slots=True)
class ScanView:
    scan: Scan
    member: Member
    tier: Tier
    # The open locations to pick from when the barista has not said where they are today
    # (the scan then waits for the answer before it takes an amount).
    choices: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class NeedsCategory:
    scan: Scan
    member: Member
    amount_minor: int
    categories: tuple[Category, ...]


@dataclass(frozen=True, slots=True)
class Issued:
    entry: LedgerEntry
    member: Member
    created: bool
    tier: Tier
    promoted_to: Tier | None = None
    offers: tuple[Offer, ...] = ()
    referral_paid: bool = False
    # The member's offers open now that are not valid at this location (the barista is
    # told they do not apply here).
    offers_not_here: tuple[Offer, ...] = ()


@dataclass(frozen=True, slots=True)
class Reversed:
    original: LedgerEntry
    reversal: LedgerEntry
    member: Member
    created: bool
    # Referral bonuses the purchase had paid, taken back with it: by side, the member who
    # invited ("referrer") and this customer ("friend").
    referral_taken_back: dict[str, int] = field(default_factory=dict)


class DuplicateSuspected(ServiceError):
    def __init__(self, scan: Scan, previous: LedgerEntry, member: Member, amount: int) -> None:
        super().__init__("duplicate")
        self.scan = scan
        self.previous = previous
        self.member = member
        self.amount_minor = amount


class LimitExceeded(ServiceError):
    def __init__(self, limit_kind: str, points: int, limit: int, member: Member) -> None:
        super().__init__(limit_kind)
        self.limit_kind = limit_kind
        self.points = points
        self.limit = limit
        self.member = member


AmountResult = NeedsCategory | Issued


def scan_key(scan_id: str) -> str:
    return f"scan:{scan_id}"


class OfferRules(Protocol):
    async def effect_for(
        self, conn: Conn, member: Member, location_id: int | None = None
    ) -> OfferEffect: ...


class ReferralRules(Protocol):
    async def settle_on_purchase(
        self, tx: Conn, member: Member, purchase: LedgerEntry, now: datetime
    ) -> bool: ...

    async def take_back(
        self, tx: Conn, purchase: LedgerEntry, actor_id: int, now: datetime
    ) -> dict[str, int]: ...


class IssuingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: Settings,
        members: MembershipService,
        offers: OfferRules,
        referrals: ReferralRules,
        locations: LocationService,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._members = members
        self._offers = offers
        self._referrals = referrals
        self._locations = locations

    # -- scanning ------------------------------------------------------------------------

    @retry_transient
    async def scan_card(self, actor: Actor, payload: str) -> ScanView:
        """A barista opened a member card link: start a scan for that member."""
        member = await self._members.resolve_card(payload)
        return await self._open_scan(actor, member, secrets.token_urlsafe(8))

    @retry_transient
    async def scan_code(self, actor: Actor, code: str, message_key: str) -> ScanView:
        """A barista typed the card's one-time code. ``message_key`` makes re-delivery safe."""
        existing = await scan_store.get(self._db.reader, message_key)
        if existing is not None:
            member = await self._members.get(existing.member_id)
            assert member is not None
            return await self._view(actor, existing, member)
        member = await self._members.resolve_code(code)
        return await self._open_scan(actor, member, message_key)

    async def _open_scan(self, actor: Actor, member: Member, scan_id: str) -> ScanView:
        if member.tg_user_id == actor.tg_user_id:
            raise SelfIssue
        try:
            location_id: int | None = await self._locations.where_is(actor.tg_user_id)
        except LocationNeeded:
            location_id = None  # the scan waits for the barista to say where they are
        now = self._clock.now()
        async with self._db.transaction() as tx:
            scan = await scan_store.open_scan(
                tx,
                scan_id=scan_id,
                staff_id=actor.tg_user_id,
                member_id=member.id,
                now=now,
                location_id=location_id,
            )
            await audit_store.record(
                tx,
                actor_id=actor.tg_user_id,
                action="card.scan",
                member_id=member.id,
                now=now,
                location_id=location_id,
            )
        return await self._view(actor, scan, member)

    async def _view(self, actor: Actor, scan: Scan, member: Member) -> ScanView:
        choices = (
            await self._locations.choices_for(actor.tg_user_id) if scan.location_id is None else ()
        )
        return ScanView(scan, member, await self.tier_of(member), choices)

    @retry_transient
    async def locate_scan(self, actor: Actor, scan_id: str) -> ScanView:
        """The barista said where they are: their waiting scan takes that location."""
        scan = await scan_store.get(self._db.reader, scan_id)
        if scan is None or scan.staff_id != actor.tg_user_id or not scan.is_open:
            raise ScanClosed
        location_id = await self._locations.where_is(actor.tg_user_id)
        async with self._db.transaction() as tx:
            await scan_store.set_location(tx, scan_id, location_id)
            located = await scan_store.get(tx, scan_id)
        assert located is not None
        member = await self._members.get(located.member_id)
        assert member is not None
        return await self._view(actor, located, member)

    # -- amounts and issuing ---------------------------------------------------------------

    def parse(self, text: str) -> int:
        try:
            return parse_amount(
                text,
                exponent=self._settings.currency_exponent,
                max_minor=self._settings.max_purchase_minor,
                currency=self._settings.currency,
                locale=self._settings.locale,
            )
        except AmountError as exc:
            raise AmountInvalid(exc.problem.value, text, exc.readings) from exc

    async def open_scan_of(self, actor: Actor) -> Scan | None:
        since = self._clock.now() - SCAN_VALIDITY
        return await scan_store.latest_open(self._db.reader, actor.tg_user_id, since)

    async def enter_amount(
        self, actor: Actor, text: str, scan_id: str | None = None
    ) -> AmountResult:
        """The amount for the barista's open scan: issue now, or ask for the category."""
        scan = await scan_store.get(self._db.reader, scan_id) if scan_id else None
        if scan is None:
            scan = await self.open_scan_of(actor)
        if scan is None:
            raise NoOpenScan
        if scan.entry_id is not None:
            return await self._already_issued(scan)
        if scan.location_id is None:
            raise LocationNeeded(await self._locations.choices_for(actor.tg_user_id), scan.id)
        amount = self.parse(text)
        if not self._settings.categories:
            return await self.issue(actor, scan.id, amount=amount, typed=True)
        # The amount the category buttons will carry; a later correction replaces it, and
        # buttons under the earlier amount then refuse instead of issuing the new one.
        async with self._db.transaction() as tx:
            await scan_store.set_amount(tx, scan.id, amount)
        member = await self._members.get(scan.member_id)
        assert member is not None
        return NeedsCategory(scan, member, amount, self._settings.categories)

    async def _already_issued(self, scan: Scan) -> Issued:
        entry = await ledger_store.by_key(self._db.reader, scan_key(scan.id))
        member = await self._members.get(scan.member_id)
        assert entry is not None and member is not None
        return Issued(entry, member, created=False, tier=await self.tier_of(member))

    @retry_transient
    async def issue(
        self,
        actor: Actor,
        scan_id: str,
        category_index: int | None = None,
        *,
        amount: int,
        typed: bool = False,
        force: bool = False,
    ) -> Issued:
        """Turn a scan into exactly one ledger entry for ``amount``, what the barista saw.

        ``typed``: the barista just sent this amount, so it becomes the scan's amount in
        this same transaction. Otherwise it came on a button, and a scan whose amount was
        corrected since refuses it (AmountReplaced) rather than issue a different sum."""
        now = self._clock.now()
        refusal: LimitExceeded | None = None
        async with self._db.transaction() as tx:
            existing = await ledger_store.by_key(tx, scan_key(scan_id))
            scan = await scan_store.get(tx, scan_id)
            if scan is None or scan.staff_id != actor.tg_user_id:
                raise ScanClosed
            member = await member_store.by_id(tx, scan.member_id)
            assert member is not None
            if existing is not None:
                return Issued(existing, member, created=False, tier=await self._tier(tx, member))
            if not scan.is_open or now - scan.created_at > SCAN_VALIDITY:
                raise ScanClosed
            if scan.location_id is None:
                raise LocationNeeded((), scan.id)
            if member.tg_user_id == actor.tg_user_id:
                raise SelfIssue
            if typed:
                await scan_store.set_amount(tx, scan.id, amount)
            elif scan.amount_minor != amount:
                raise AmountReplaced(amount, scan.amount_minor)
            if not force:
                previous = await ledger_store.similar_purchase_since(
                    tx, member.id, amount, now - DUPLICATE_WINDOW
                )
                if previous is not None:
                    raise DuplicateSuspected(scan, previous, member, amount)
            category = self._category(category_index)
            earned_before = await ledger_store.earned_since(tx, member.id, now - TIER_PERIOD)
            tier = tier_for(earned_before, self._settings.tiers)
            effect = await self._offers.effect_for(tx, member, scan.location_id)

            def earned(offer_multiplier: Decimal) -> int:
                return points_for_purchase(
                    amount,
                    exponent=self._settings.currency_exponent,
                    points_per_unit=self._settings.points_per_unit,
                    category_multiplier=category.multiplier if category else ONE,
                    tier_multiplier=tier.multiplier,
                    offer_multiplier=offer_multiplier,
                )

            points = effect.bonus_points + earned(effect.multiplier)
            if points <= 0:
                raise ZeroPoints(amount)
            refusal = await self._check_limits(tx, actor, member, points, now, scan.location_id)
            if refusal is not None:
                await scan_store.close(tx, scan.id, now)
                await audit_store.record(
                    tx,
                    actor_id=actor.tg_user_id,
                    action="points.refused",
                    member_id=member.id,
                    now=now,
                    detail=f"{refusal.limit_kind}: {points} > {refusal.limit}",
                    location_id=scan.location_id,
                )
            else:
                entry, created = await ledger_store.append(
                    tx,
                    member_id=member.id,
                    points=points,
                    kind=EntryKind.EARN,
                    reason="purchase",
                    idempotency_key=scan_key(scan.id),
                    now=now,
                    actor_id=actor.tg_user_id,
                    amount_minor=amount,
                    category=category.name if category else None,
                    offer_id=effect.main_offer_id,
                    location_id=scan.location_id,
                )
                await scan_store.close(tx, scan.id, now, entry.id)
                if created:
                    await self._allocate(tx, entry, offer_points=points - earned(ONE), now=now)
                referral_paid = created and await self._referrals.settle_on_purchase(
                    tx, member, entry, now
                )
                await audit_store.record(
                    tx,
                    actor_id=actor.tg_user_id,
                    action="points.issue",
                    member_id=member.id,
                    now=now,
                    detail=f"entry {entry.id}: {points} points for {amount}",
                    location_id=scan.location_id,
                )
                fresh = await member_store.by_id(tx, member.id)
                assert fresh is not None
                new_tier = tier_for(earned_before + points, self._settings.tiers)
                promoted = new_tier if new_tier.threshold > tier.threshold else None
                return Issued(
                    entry,
                    fresh,
                    created,
                    new_tier,
                    promoted_to=promoted,
                    offers=effect.offers,
                    referral_paid=referral_paid,
                    offers_not_here=effect.not_here,
                )
        raise refusal

    async def _allocate(
        self, tx: Conn, entry: LedgerEntry, *, offer_points: int, now: datetime
    ) -> None:
        """Split the sale's price between the goods and its points (IFRS 15), with the
        expected redemption rate in force now; fixed here, once, for the books."""
        settings = self._settings
        rate = await report_store.rate_at(tx, now)
        if rate is None:
            rate = rate_ppm(settings.expected_redemption_rate)
        amount = entry.amount_minor or 0
        allocation = allocate(
            amount, entry.points, settings.point_value, rate, settings.currency_exponent
        )
        await report_store.record_sale(
            tx,
            entry_id=entry.id,
            amount_minor=amount,
            points=entry.points,
            offer_points=offer_points,
            rate_ppm=rate,
            ssp_micro=allocation.ssp_micro,
            deferred_micro=allocation.deferred_micro,
        )

    def _category(self, index: int | None) -> Category | None:
        categories = self._settings.categories
        if index is None:
            return None
        if not 0 <= index < len(categories):
            raise ScanClosed
        return categories[index]

    async def _check_limits(
        self,
        tx: Conn,
        actor: Actor,
        member: Member,
        points: int,
        now: datetime,
        location_id: int,
    ) -> LimitExceeded | None:
        settings = self._settings
        if points > settings.max_points_per_purchase:
            return LimitExceeded("purchase", points, settings.max_points_per_purchase, member)
        if actor.role is Role.OWNER:
            return None
        today = self.start_of_day(now)
        # What they issued decides this write: two of their scans at once (PostgreSQL)
        # are counted one after the other, never both against the same total.
        await staff_store.lock(tx, actor.tg_user_id)
        # Per location: a barista in two shops has the daily limit in each.
        issued_today = await ledger_store.issued_by_since(tx, actor.tg_user_id, today, location_id)
        if issued_today + points > settings.max_points_per_staff_day:
            return LimitExceeded("daily", points, settings.max_points_per_staff_day, member)
        return None

    def start_of_day(self, now: datetime) -> datetime:
        """Midnight in the café's time zone, as an aware datetime."""
        local = now.astimezone(self._settings.tz)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    @retry_transient
    async def cancel_scan(self, actor: Actor, scan_id: str) -> None:
        scan = await scan_store.get(self._db.reader, scan_id)
        if scan is None or scan.staff_id != actor.tg_user_id:
            raise ScanClosed
        async with self._db.transaction() as tx:
            await scan_store.close(tx, scan_id, self._clock.now())

    # -- tiers -----------------------------------------------------------------------------

    async def _tier(self, conn: Conn, member: Member) -> Tier:
        earned = await ledger_store.earned_since(conn, member.id, self._clock.now() - TIER_PERIOD)
        return tier_for(earned, self._settings.tiers)

    async def tier_of(self, member: Member) -> Tier:
        return await self._tier(self._db.reader, member)

    async def tier_progress(self, member: Member) -> tuple[Tier, Tier | None, int]:
        """(current tier, next tier, points still needed for it)."""
        since = self._clock.now() - TIER_PERIOD
        earned = await ledger_store.earned_since(self._db.reader, member.id, since)
        upcoming = next_tier(earned, self._settings.tiers)
        needed = upcoming.threshold - earned if upcoming else 0
        return tier_for(earned, self._settings.tiers), upcoming, needed

    async def visits_of(self, member: Member) -> int:
        """Purchases that stand: what "every Nth visit" counts."""
        return await ledger_store.purchases_of(self._db.reader, member.id)

    # -- undo ------------------------------------------------------------------------------

    async def latest_undoable(self, actor: Actor) -> LedgerEntry | None:
        return await ledger_store.latest_by_actor(self._db.reader, actor.tg_user_id, EntryKind.EARN)

    @retry_transient
    async def undo(self, actor: Actor, entry_id: int) -> Reversed:
        """Write the reversing entry for a purchase. Staff: own entries, within the window."""
        now = self._clock.now()
        async with self._db.transaction() as tx:
            original = await ledger_store.by_id(tx, entry_id)
            if original is None:
                raise EntryNotFound
            if original.kind is not EntryKind.EARN:
                raise NotUndoable
            if actor.role is not Role.OWNER:
                if original.actor_id != actor.tg_user_id:
                    raise NotYourEntry
                if now - original.created_at > timedelta(
                    minutes=self._settings.undo_window_minutes
                ):
                    raise UndoWindowPassed
            referral_taken_back: dict[str, int] = {}
            # Reversed already (under any key: an entry has one reversal at most): report
            # the existing reversal. Looked up first, so no insert fails in the transaction.
            existing = await ledger_store.reversal_of(tx, original.id)
            if existing is not None:
                reversal, created = existing, False
            else:
                try:
                    reversal, created = await ledger_store.append(
                        tx,
                        member_id=original.member_id,
                        points=-original.points,
                        kind=EntryKind.REVERSAL,
                        reason=f"undo of entry {original.id}",
                        idempotency_key=f"reverse:{original.id}",
                        now=now,
                        actor_id=actor.tg_user_id,
                        amount_minor=original.amount_minor,
                        category=original.category,
                        reverses_id=original.id,
                        location_id=original.location_id,
                    )
                    if created:
                        referral_taken_back = await self._referrals.take_back(
                            tx, original, actor.tg_user_id, now
                        )
                except Overdraft as exc:
                    raise PointsAlreadySpent from exc
            if created:
                await audit_store.record(
                    tx,
                    actor_id=actor.tg_user_id,
                    action="points.undo",
                    member_id=original.member_id,
                    now=now,
                    detail=f"entry {original.id} reversed by {reversal.id}",
                    location_id=original.location_id,
                )
            member = await member_store.by_id(tx, original.member_id)
        assert member is not None
        return Reversed(original, reversal, member, created, referral_taken_back)
