"""Joining, member cards, balance and history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.domain import LedgerEntry, Member
from bot.money import points_worth
from bot.offers import ENGLISH_MONTHS, parse_birthday
from bot.services.errors import CardExpired, CardInvalid, ServiceError
from bot.settings import Settings
from bot.tokens import TokenError, TokenExpired, make_card_token, read_card_token, short_code
from storage import Conn, Database, retry_transient
from storage import ledger as ledger_store
from storage import members as member_store
from storage.members import Preferences

# A typed code stands in for a failed scan, so it lives at least this long even on
# static cards (validity 0), where the QR itself never expires.
MIN_CODE_VALIDITY = timedelta(minutes=10)
STATIC_CODE_VALIDITY = timedelta(hours=24)
BIRTHDAY_CHANGE_EVERY = timedelta(days=365)


class BirthdayLocked(ServiceError):
    """The birthday was set less than a year ago."""

    def __init__(self, current: Preferences, unlocks: datetime) -> None:
        super().__init__("birthday locked")
        self.current = current
        self.unlocks = unlocks


@dataclass(frozen=True, slots=True)
class Profile:
    """Who is talking to the bot, as Telegram describes them."""

    tg_user_id: int
    chat_id: int
    first_name: str
    username: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Card:
    member: Member
    payload: str
    code: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class BalanceView:
    member: Member
    points: int
    worth_minor: int


async def upsert_profile(tx: Conn, profile: Profile, now: datetime) -> tuple[Member, bool]:
    """The member for this Telegram profile, created on first sight (inside the caller's
    transaction); returns (member, newly_created)."""
    return await member_store.upsert(
        tx,
        tg_user_id=profile.tg_user_id,
        chat_id=profile.chat_id,
        first_name=profile.first_name or "friend",
        username=profile.username,
        language=profile.language,
        now=now,
    )


class MembershipService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, signing_key: bytes) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._key = signing_key

    @retry_transient
    async def join(self, profile: Profile) -> tuple[Member, bool]:
        """Create the membership on first Start; returns (member, newly_created)."""
        async with self._db.transaction() as tx:
            return await upsert_profile(tx, profile, self._clock.now())

    async def find(self, tg_user_id: int) -> Member | None:
        return await member_store.by_tg_user(self._db.reader, tg_user_id)

    async def get(self, member_id: int) -> Member | None:
        return await member_store.by_id(self._db.reader, member_id)

    async def issue_card(self, member: Member) -> Card:
        """A fresh signed card link plus a typed fallback code (replacing the previous code)."""
        now = self._clock.now()
        minutes = self._settings.card_validity_minutes
        expires_at = now + timedelta(minutes=minutes) if minutes else None
        code_expires = (
            max(expires_at, now + MIN_CODE_VALIDITY) if expires_at else now + STATIC_CODE_VALIDITY
        )
        code = short_code()
        async with self._db.transaction() as tx:
            await member_store.replace_card_code(tx, member.id, code, code_expires)
            fresh = await member_store.by_id(tx, member.id)
        assert fresh is not None
        payload = make_card_token(member.id, expires_at, self._key)
        return Card(member=fresh, payload=payload, code=code, expires_at=expires_at)

    async def resolve_card(self, payload: str) -> Member:
        """The member a scanned card link belongs to."""
        try:
            member_id = read_card_token(payload, self._key, self._clock.now())
        except TokenExpired as exc:
            raise CardExpired from exc
        except TokenError as exc:
            raise CardInvalid from exc
        member = await self.get(member_id)
        if member is None:
            raise CardInvalid
        return member

    async def resolve_code(self, code: str) -> Member:
        """The member a typed card code belongs to; the code is used up."""
        async with self._db.transaction() as tx:
            member_id = await member_store.take_card_code(tx, code, self._clock.now())
            member = await member_store.by_id(tx, member_id) if member_id else None
        if member is None:
            raise CardInvalid
        return member

    def balance(self, member: Member) -> BalanceView:
        """The balance of a member just read (the handler's own lookup, this update)."""
        worth = points_worth(
            member.balance, self._settings.point_value, self._settings.currency_exponent
        )
        return BalanceView(member=member, points=member.balance, worth_minor=worth)

    async def history(self, member: Member, limit: int = 10) -> list[LedgerEntry]:
        return await ledger_store.recent(self._db.reader, member.id, limit)

    async def preferences(self, member: Member) -> Preferences:
        return await member_store.preferences(self._db.reader, member.id)

    async def set_promotions(self, member: Member, allowed: bool) -> Preferences:
        async with self._db.transaction() as tx:
            await member_store.set_promotions(tx, member.id, allowed)
        return await self.preferences(member)

    async def set_service(self, member: Member, *, service: bool) -> Preferences:
        async with self._db.transaction() as tx:
            await member_store.set_service(tx, member.id, service)
        return await self.preferences(member)

    async def set_birthday(
        self, member: Member, text: str, months: Mapping[str, int] = ENGLISH_MONTHS
    ) -> Preferences:
        """Store a birthday typed as 24.12, 24/12 or 24 Dec (day first, the month in any
        word of ``months``); ValueError if not.

        A birthday, once set, can change once a year at most, so nobody collects the treat
        twice by moving it (BirthdayLocked says until when)."""
        birthday = parse_birthday(text, months)
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await member_store.lock(tx, member.id)  # the current birthday decides the write
            current = await member_store.preferences(tx, member.id)
            if current.birthday == birthday:
                return current
            if current.birthday is not None and current.birthday_set_at is not None:
                unlocks = current.birthday_set_at + BIRTHDAY_CHANGE_EVERY
                if now < unlocks:
                    raise BirthdayLocked(current, unlocks)
            await member_store.set_birthday(tx, member.id, birthday, now)
        return await self.preferences(member)

    async def set_reachable(self, chat_id: int, reachable: bool) -> None:
        async with self._db.transaction() as tx:
            await member_store.set_reachable(tx, chat_id, reachable, self._clock.now())
