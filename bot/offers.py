"""Offer rules: hours windows, audiences and how offers change the earning rule. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain import AudienceFacts, Offer
from bot.inputs import parse_int
from bot.tiers import Tier, tier_for

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_ALIASES = {"weekdays": "Mon-Fri", "weekends": "Sat-Sun", "daily": "Mon-Sun"}
_TIME = r"([01]?\d|2[0-3]):([0-5]\d)"


@dataclass(frozen=True, slots=True)
class Window:
    """Recurring opening hours of an offer in the café's time zone, e.g. Mon-Fri 15:00-17:00."""

    days: frozenset[int]
    start: time
    end: time

    def __str__(self) -> str:
        days = ",".join(DAYS[d] for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time() < self.end


def _day(name: str) -> int:
    """A day as people write it: ``Mon`` or ``Monday``, any case."""
    lowered = name.lower()
    for index, full in enumerate(_DAY_NAMES):
        if lowered in (full, full[:3]):
            return index
    raise ValueError(f"unknown day {name!r}")


def parse_window(text: str) -> Window:
    """``Mon-Fri 15:00-17:00``, ``Sat,Sun 10:00-12:00``, ``weekdays 9:00-11:00``, ``9:00-11:00``."""
    cleaned = text.strip()
    for alias, spelled_out in _DAY_ALIASES.items():
        cleaned = re.sub(alias, spelled_out, cleaned, flags=re.IGNORECASE)
    match = re.fullmatch(rf"(?:([A-Za-z,\- ]+?)\s+)?{_TIME}\s*[-–]\s*{_TIME}", cleaned)
    if not match:
        raise ValueError("window must look like Mon-Fri 15:00-17:00")
    day_text, h1, m1, h2, m2 = match.groups()
    days: set[int] = set() if day_text else set(range(7))
    for part in (day_text or "").replace(" ", "").split(","):
        if "-" in part:
            ends = part.split("-")
            if len(ends) != 2:
                raise ValueError(f"a day range has one dash: {part!r}")
            first, last = _day(ends[0]), _day(ends[1])
            span = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
            days.update(span)
        elif part:
            days.add(_day(part))
    start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
    if end <= start:
        raise ValueError("the window must end after it starts, on the same day")
    return Window(frozenset(days), start, end)


MAX_DAYS = 3650


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str  # 'all' | 'tier' | 'lapsed' | 'birthday' | 'visited'
    value: str = ""  # visited: "<location ids, comma-separated>:<days>", e.g. "1,3:30"

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind

    @property
    def visited(self) -> tuple[tuple[int, ...], int]:
        """A 'visited' audience's locations and days: members with a purchase at one of
        those locations in the last that many days."""
        places, _, days = self.value.partition(":")
        return tuple(int(place) for place in places.split(",")), int(days)


def visited_audience(location_ids: Iterable[int], days: int) -> Audience:
    """Members who made a purchase at one of ``location_ids`` in the last ``days`` days."""
    places = sorted(set(location_ids))
    if not places or not 1 <= days <= MAX_DAYS or places[0] < 1:
        raise ValueError("a visited audience needs locations and 1 to 3650 days")
    return Audience("visited", f"{','.join(map(str, places))}:{days}")


def parse_audience(text: str) -> Audience:
    kind, _, value = text.partition(":")
    if kind in ("all", "birthday") and not value:
        return Audience(kind)
    if kind == "tier" and value:
        return Audience(kind, value)
    if kind == "lapsed" and parse_int(value, low=1, high=MAX_DAYS) is not None:
        return Audience(kind, value)
    if kind == "visited":
        places, _, days = value.partition(":")
        ids = [parse_int(place, low=1) for place in places.split(",")]
        count = parse_int(days, low=1, high=MAX_DAYS)
        if count is not None and ids and all(place is not None for place in ids):
            return visited_audience([place for place in ids if place is not None], count)
    raise ValueError(f"unknown audience {text!r}")


def in_audience(
    audience: Audience, facts: AudienceFacts, now: datetime, tiers: tuple[Tier, ...], tz: ZoneInfo
) -> bool:
    if audience.kind == "all":
        return True
    if audience.kind == "tier":
        return tier_for(facts.earned_recently, tiers).name.lower() == audience.value.lower()
    if audience.kind == "lapsed":
        last_seen = facts.last_purchase_at or facts.created_at
        return now - last_seen >= timedelta(days=int(audience.value))
    if audience.kind == "birthday":
        return facts.birthday is not None and facts.birthday[:2] == f"{now.astimezone(tz):%m}"
    if audience.kind == "visited":
        places, days = audience.visited
        since = now - timedelta(days=days)
        visits = facts.last_purchase_by_location
        return any(place in visits and visits[place] >= since for place in places)
    return False


def valid_at(offer: Offer, location_id: int | None) -> bool:
    """Is the offer valid at this location? One with no locations is valid everywhere."""
    return not offer.location_ids or location_id in offer.location_ids


def is_open(offer: Offer, now: datetime, tz: ZoneInfo) -> bool:
    """Inside the offer's dates (and hours window, if it has one)?"""
    if now < offer.starts_at or offer.is_over(now):
        return False
    return offer.window is None or parse_window(offer.window).contains(now.astimezone(tz))


@dataclass(frozen=True, slots=True)
class OfferEffect:
    """What the offers open for one member change about one purchase."""

    multiplier: Decimal
    bonus_points: int
    offers: tuple[Offer, ...]
    # Offers the member would have had, but not at this location (the barista is told).
    not_here: tuple[Offer, ...] = ()

    @property
    def main_offer_id(self) -> int | None:
        return self.offers[0].id if self.offers else None


NO_OFFER = OfferEffect(Decimal(1), 0, ())


def combine(offers: list[Offer]) -> OfferEffect:
    """The best multiplier applies (they do not stack); flat bonuses add up."""
    multipliers = [o for o in offers if o.kind == "multiplier" and o.multiplier]
    bonuses = [o for o in offers if o.kind == "bonus" and o.bonus_points]
    best = max(multipliers, key=lambda o: o.multiplier or 0, default=None)
    applied = ([best] if best else []) + bonuses
    return OfferEffect(
        multiplier=best.multiplier if best and best.multiplier else Decimal(1),
        bonus_points=sum(o.bonus_points or 0 for o in bonuses),
        offers=tuple(applied),
    )


def combine_at(offers: list[Offer], location_id: int | None) -> OfferEffect:
    """:func:`combine` of the offers valid at ``location_id``; the others are named in
    ``not_here``."""
    effect = combine([offer for offer in offers if valid_at(offer, location_id)])
    elsewhere = tuple(offer for offer in offers if not valid_at(offer, location_id))
    return replace(effect, not_here=elsewhere)


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_birthday(text: str) -> str:
    """``24.12``, ``24/12``, ``24-12`` or ``24 Dec`` (day first) → ``'12-24'``."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*[./\- ]\s*(\d{1,2}|[A-Za-z]{3,})\.?\s*", text)
    if not match:
        raise ValueError("birthday must look like 24.12")
    day, month_text = int(match.group(1)), match.group(2)
    if month_text.isdigit():
        month = int(month_text)
    elif month_text[:3].lower() in _MONTHS:
        month = _MONTHS.index(month_text[:3].lower()) + 1
    else:
        raise ValueError("unknown month")
    try:
        date(2000, month, day)  # a leap year: 29 February is a birthday too
    except ValueError:
        raise ValueError("no such date") from None
    return f"{month:02d}-{day:02d}"


def parse_local_datetime(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """What an owner types for a start or end: ``now``, ``2026-11-28 15:00``, ``28.11 15:00``,
    ``today 15:00`` or ``tomorrow 9:00``, in café time. Returns an aware UTC datetime."""
    cleaned = " ".join(text.lower().split())
    if cleaned == "now":
        return now
    local_now = now.astimezone(tz)
    relative = re.fullmatch(rf"(today|tomorrow) {_TIME}", cleaned)
    absolute = re.fullmatch(
        rf"(?:(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})|(\d{{1,2}})\.(\d{{1,2}})(?:\.(\d{{4}}))?) {_TIME}",
        cleaned,
    )
    try:
        if relative:
            day, hour, minute = relative.groups()
            date = local_now.date() + timedelta(days=1 if day == "tomorrow" else 0)
        elif absolute:
            y1, m1, d1, d2, m2, y2, hour, minute = absolute.groups()
            year = int(y1 or y2 or local_now.year)
            date = datetime(year, int(m1 or m2), int(d1 or d2)).date()
        else:
            raise ValueError("unrecognised date")
        local = datetime.combine(date, time(int(hour), int(minute)), tzinfo=tz)
    except ValueError as exc:
        raise ValueError("date must look like 2026-11-28 15:00") from exc
    return local.astimezone(UTC)
