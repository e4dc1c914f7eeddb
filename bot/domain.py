"""The domain objects services hand to handlers, and storage stores.

Plain frozen records: storage builds them from rows, services and the pure rules work
on them, handlers show them. They know nothing of SQL or of Telegram.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    tg_user_id: int
    chat_id: int
    first_name: str
    username: str | None
    language: str | None
    balance: int
    created_at: datetime
    last_visit_at: datetime


class EntryKind(StrEnum):
    EARN = "earn"
    REVERSAL = "reversal"
    REDEEM = "redeem"
    REFUND = "refund"
    BONUS = "bonus"  # a manual grant
    EXPIRE = "expire"
    BIRTHDAY = "birthday"
    REFERRAL = "referral"
    WINBACK = "winback"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    member_id: int
    points: int
    kind: EntryKind
    reason: str
    actor_id: int | None
    amount_minor: int | None
    category: str | None
    reverses_id: int | None
    idempotency_key: str
    created_at: datetime
    # Where it was made: purchases and their undos (the undo its purchase's location);
    # None for entries not made at a counter.
    location_id: int | None = None


class CouponState(StrEnum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Coupon:
    id: int
    token: str
    code: str
    member_id: int
    reward_id: int
    title: str
    cost: int
    state: CouponState
    issued_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    closed_by: int | None
    closed_by_name: str | None
    debit_entry_id: int | None
    refund_entry_id: int | None
    redeemed_location_id: int | None = None  # where it was handed over


@dataclass(frozen=True, slots=True)
class Offer:
    id: int
    title: str
    description: str
    kind: str  # 'multiplier' | 'bonus' | 'coupon'
    multiplier: Decimal | None
    bonus_points: int | None
    reward_id: int | None
    starts_at: datetime
    ends_at: datetime
    window: str | None
    audience: str
    announce: bool
    started_at: datetime | None
    ended_at: datetime | None
    created_by: int
    # The locations it is valid in; empty: every location.
    location_ids: tuple[int, ...] = ()

    def is_over(self, now: datetime) -> bool:
        return self.ended_at is not None or now >= self.ends_at


@dataclass(frozen=True, slots=True)
class NewOffer:
    title: str
    description: str
    kind: str
    multiplier: Decimal | None
    bonus_points: int | None
    reward_id: int | None
    starts_at: datetime
    ends_at: datetime
    window: str | None
    audience: str
    announce: bool
    location_ids: tuple[int, ...] = ()  # valid only in these locations; empty: everywhere


@dataclass(frozen=True, slots=True)
class AudienceFacts:
    """What audience rules look at, for one reachable member who accepts promotions."""

    member_id: int
    chat_id: int
    created_at: datetime
    birthday: str | None
    last_purchase_at: datetime | None
    earned_recently: int
    # The member's last purchase at each location where they made one (read only when an
    # audience asks who visited which location).
    last_purchase_by_location: Mapping[int, datetime] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    member_id: int
    chat_id: int
    first_name: str
    kind: str
    params: dict[str, Any]
    service: bool  # about the member's own points: the service switch, not promotions
    visit_at: datetime | None  # still relevant only while the last visit is this one
    attempts: int
    # What the member allows and whether they can be reached, read with the message:
    promotions_ok: bool
    service_ok: bool
    reachable: bool
    last_visit_at: datetime
    # The member's language: their choice in /settings, else their Telegram's (or None);
    # the message is written in it when it is sent.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    created_by: int
    created_at: datetime
    text: str
    photo_file_id: str | None
    audience: str
    offer_id: int | None
    state: str
    total: int
    finished_at: datetime | None
    progress_chat_id: int | None
    progress_message_id: int | None
    resume_at: datetime | None = None  # Telegram paused sending until then (a 429)
    # The owner's text in other languages (a shipped language: its version); a member
    # whose language has none gets ``text``. For an offer's announcement: its description.
    versions: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Recipient:
    broadcast_id: int
    member_id: int
    chat_id: int
    attempts: int
    # Their language when claimed: their /settings choice, else their Telegram's.
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Counts:
    pending: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sent + self.failed + self.blocked
