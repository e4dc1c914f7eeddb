"""Offer rules: hours windows, audiences and how offers change the earning rule. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain import AudienceFacts, Offer
from bot.inputs import folded, parse_int
from bot.tiers import Tier, tier_for

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # how a window is stored
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME = r"([01]?\d|2[0-3]):([0-5]\d)"
_DASHES = str.maketrans({"–": "-", "—": "-", "‒": "-", "−": "-"})
_EVERY_DAY = frozenset(range(7))


@dataclass(frozen=True, slots=True)
class DayWords:
    """The words a person may type for the days of an offer's hours, folded
    (:func:`bot.inputs.folded`, without dots): each day's names, words for several days
    ("weekends") and words that join a range ("Mon to Fri")."""

    days: Mapping[str, int]  # "mon", "monday", "lun", "montag" → 0 (Monday) … 6
    groups: Mapping[str, frozenset[int]] = field(default_factory=dict)
    through: frozenset[str] = frozenset()

    def __or__(self, other: DayWords) -> DayWords:
        """Both languages' words; where a word means something in each, ``other`` decides."""
        return DayWords(
            {**self.days, **other.days},
            {**self.groups, **other.groups},
            self.through | other.through,
        )


def day_words(
    names: Iterable[Sequence[str]],
    weekdays: Iterable[str] = (),
    weekends: Iterable[str] = (),
    every_day: Iterable[str] = (),
    through: Iterable[str] = (),
) -> DayWords:
    """Day words from lists of the seven day names, Monday first (wide, abbreviated…), and
    the words for Monday to Friday, the weekend, every day and "to"."""

    def bare(word: str) -> str:
        return " ".join(folded(word).replace(".", " ").split())

    days = {bare(name): index for listed in names for index, name in enumerate(listed)}
    groups = {bare(word): frozenset(range(5)) for word in weekdays}
    groups |= {bare(word): frozenset({5, 6}) for word in weekends}
    groups |= {bare(word): _EVERY_DAY for word in every_day}
    return DayWords(
        {word: index for word, index in days.items() if word},
        {word: group for word, group in groups.items() if word},
        frozenset(bare(word) for word in through if bare(word)),
    )


ENGLISH_DAYS = day_words(
    [_DAY_NAMES, [name[:3] for name in _DAY_NAMES]],
    weekdays=["weekdays"],
    weekends=["weekends", "weekend"],
    every_day=["daily", "every day"],
    through=["to", "through"],
)


@dataclass(frozen=True, slots=True)
class Window:
    """Recurring opening hours of an offer in the café's time zone, e.g. Mon-Fri 15:00-17:00."""

    days: frozenset[int]
    start: time
    end: time

    def __str__(self) -> str:
        """The stored form, the same in every language: ``Mon,Tue 15:00-17:00``."""
        days = ",".join(DAYS[d] for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, local: datetime) -> bool:
        return local.weekday() in self.days and self.start <= local.time() < self.end

    @property
    def every_day(self) -> bool:
        return self.days == _EVERY_DAY

    def spans(self) -> list[tuple[int, int]]:
        """The days as runs of consecutive days, (first, last), in week order; a run over
        the weekend into Monday is one ("Fri-Mon" is (4, 0))."""
        runs: list[list[int]] = []
        for day in sorted(self.days):
            if runs and runs[-1][1] == day - 1:
                runs[-1][1] = day
            else:
                runs.append([day, day])
        if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == 6:
            first = runs.pop(0)
            runs[-1][1] = first[1]
        return [(first, last) for first, last in runs]


def _day_tokens(text: str, words: DayWords) -> list[int | frozenset[int] | str]:
    """The day part of a window as days, groups of days and "-" (a range's joint).

    Names are matched longest first, so "segunda-feira" is one day, not a range."""
    known: dict[str, int | frozenset[int] | str] = {
        **dict.fromkeys(words.through, "-"),
        **words.groups,
        **words.days,
    }
    names = sorted(known, key=len, reverse=True)
    tokens: list[int | frozenset[int] | str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace() or char == ",":
            position += 1
            continue
        if char == "-":
            tokens.append("-")
            position += 1
            continue
        for name in names:
            end = position + len(name)
            if text.startswith(name, position) and (end == len(text) or not text[end].isalpha()):
                tokens.append(known[name])
                position = end
                break
        else:
            raise ValueError(f"unknown day {text[position:].split()[0]!r}")
    return tokens


def _days(text: str, words: DayWords) -> set[int]:
    tokens = _day_tokens(text, words)
    days: set[int] = set()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if isinstance(token, frozenset):
            days |= token
            index += 1
            continue
        if isinstance(token, str):
            raise ValueError("a day range joins two days")
        joined = index + 2 < len(tokens) and tokens[index + 1] == "-"
        if not joined:
            days.add(token)
            index += 1
            continue
        last = tokens[index + 2]
        if not isinstance(last, int) or (index + 3 < len(tokens) and tokens[index + 3] == "-"):
            raise ValueError("a day range has one dash and a day at each end")
        first = token
        days.update(
            range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        )
        index += 3
    return days


def parse_window(text: str, words: DayWords = ENGLISH_DAYS) -> Window:
    """``Mon-Fri 15:00-17:00``, ``Sat,Sun 10:00-12:00``, ``weekdays 9:00-11:00``,
    ``9:00-11:00`` (every day); the days in any language ``words`` knows (English always
    reads the stored form back)."""
    cleaned = folded(text).translate(_DASHES).replace(".", " ")
    match = re.fullmatch(rf"(?:(.*?)\s*)?{_TIME}\s*-\s*{_TIME}", cleaned)
    if not match:
        raise ValueError("window must look like Mon-Fri 15:00-17:00")
    day_text, h1, m1, h2, m2 = match.groups()
    days = _days(day_text, words) if day_text and day_text.strip() else set(_EVERY_DAY)
    if not days:
        raise ValueError("window must look like Mon-Fri 15:00-17:00")
    start, end = time(int(h1), int(m1)), time(int(h2), int(m2))
    if end <= start:
        raise ValueError("the window must end after it starts, on the same day")
    return Window(frozenset(days), start, end)


def window_example(day_names: Sequence[str]) -> str:
    """How to type Monday to Friday afternoons with these day names (Monday first)."""
    monday, friday = (name.rstrip(".") for name in (day_names[0], day_names[4]))
    return f"{monday}-{friday} 15:00-17:00"


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


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip


def month_words(names: Iterable[Sequence[str]]) -> dict[str, int]:
    """Month words from lists of the twelve month names, January first (wide, abbreviated,
    each language's forms): folded, without dots, to the month's number."""
    return {
        folded(name).rstrip("."): index + 1
        for listed in names
        for index, name in enumerate(listed)
        if folded(name).rstrip(".")
    }


ENGLISH_MONTHS = month_words([_MONTHS, [name[:3] for name in _MONTHS]])


def parse_birthday(text: str, months: Mapping[str, int] = ENGLISH_MONTHS) -> str:
    """``24.12``, ``24/12``, ``24-12`` or ``24 Dec`` (day first, the month in any language
    ``months`` knows) → ``'12-24'``."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*[./\- ]\s*(\d{1,2}|[^\W\d_]{3,})\.?\s*", text)
    if not match:
        raise ValueError("birthday must look like 24.12")
    day, month_text = int(match.group(1)), match.group(2)
    if month_text.isdigit():
        month = int(month_text)
    elif folded(month_text).rstrip(".") in months:
        month = months[folded(month_text).rstrip(".")]
    elif folded(month_text)[:3] in months:
        month = months[folded(month_text)[:3]]
    else:
        raise ValueError("unknown month")
    try:
        date(2000, month, day)  # a leap year: 29 February is a birthday too
    except ValueError:
        raise ValueError("no such date") from None
    return f"{month:02d}-{day:02d}"


@dataclass(frozen=True, slots=True)
class DateWords:
    """The words a person may type for a start or an end, folded: "now", and the day
    before a time ("today 15:00", "tomorrow 9:00")."""

    now: frozenset[str] = frozenset({"now"})
    today: frozenset[str] = frozenset({"today"})
    tomorrow: frozenset[str] = frozenset({"tomorrow"})

    def __or__(self, other: DateWords) -> DateWords:
        return DateWords(
            self.now | other.now, self.today | other.today, self.tomorrow | other.tomorrow
        )


ENGLISH_DATES = DateWords()


def parse_local_datetime(
    text: str, tz: ZoneInfo, now: datetime, words: DateWords = ENGLISH_DATES
) -> datetime:
    """What an owner types for a start or end: ``now``, ``2026-11-28 15:00``, ``28.11 15:00``,
    ``today 15:00`` or ``tomorrow 9:00`` (those words in any language ``words`` knows), in
    café time. Returns an aware UTC datetime."""
    cleaned = folded(text)
    if cleaned in words.now:
        return now
    local_now = now.astimezone(tz)
    relative = re.fullmatch(rf"(.+?) {_TIME}", cleaned)
    absolute = re.fullmatch(
        rf"(?:(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})|(\d{{1,2}})\.(\d{{1,2}})(?:\.(\d{{4}}))?) {_TIME}",
        cleaned,
    )
    try:
        if absolute:
            y1, m1, d1, d2, m2, y2, hour, minute = absolute.groups()
            year = int(y1 or y2 or local_now.year)
            date = datetime(year, int(m1 or m2), int(d1 or d2)).date()
        elif relative and relative.group(1) in words.today | words.tomorrow:
            day, hour, minute = relative.groups()
            later = 1 if day in words.tomorrow and day not in words.today else 0
            date = local_now.date() + timedelta(days=later)
        else:
            raise ValueError("unrecognised date")
        local = datetime.combine(date, time(int(hour), int(minute)), tzinfo=tz)
    except ValueError as exc:
        raise ValueError("date must look like 2026-11-28 15:00") from exc
    return local.astimezone(UTC)
