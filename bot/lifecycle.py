"""The member lifecycle's rules: when points expire, quiet hours, birthday treats. Pure.

All dates a person sees are café dates (``tz``); every instant given or returned is an
aware UTC datetime.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_TIME = r"([01]?\d|2[0-3]):([0-5]\d)"


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def points_expire_at(last_visit: datetime, months: int, tz: ZoneInfo) -> datetime:
    """When a balance lapses: ``months`` after the last visit, at the end of that café day,
    so nobody loses points in the morning of the day the date names."""
    lapse_day = add_months(last_visit.astimezone(tz).date(), months)
    return _start_of(lapse_day + timedelta(days=1), tz)


def expiry_cutoff(moment: datetime, months: int, tz: ZoneInfo) -> datetime:
    """Balances whose last visit is before this instant have lapsed by ``moment``.

    The inverse of :func:`points_expire_at`, for selecting lapsed members in one query:
    ``points_expire_at(v) <= moment`` exactly when ``v < expiry_cutoff(moment)``."""
    yesterday = moment.astimezone(tz).date() - timedelta(days=1)
    last = add_months(yesterday, -months)
    # Clamping makes several days map to one (29, 30, 31 Jan + 1 month → 28 Feb).
    while add_months(last + timedelta(days=1), months) <= yesterday:
        last += timedelta(days=1)
    return _start_of(last + timedelta(days=1), tz)


@dataclass(frozen=True, slots=True)
class QuietHours:
    """When the café sends nobody anything unasked, e.g. 21:00-09:00 (may wrap midnight)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    def contains(self, moment: datetime, tz: ZoneInfo) -> bool:
        if self.start == self.end:
            return False
        now = moment.astimezone(tz).time()
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def ends_after(self, moment: datetime, tz: ZoneInfo) -> datetime:
        """The first instant at or after ``moment`` outside quiet hours."""
        if not self.contains(moment, tz):
            return moment
        local = moment.astimezone(tz)
        end = datetime.combine(local.date(), self.end, tzinfo=tz)
        if end <= local:
            end = datetime.combine(local.date() + timedelta(days=1), self.end, tzinfo=tz)
        return end.astimezone(UTC)


def parse_quiet_hours(text: str) -> QuietHours:
    """``21:00-09:00``; ``off`` (or an empty text) for none."""
    cleaned = text.strip().lower()
    if cleaned in ("", "off", "none"):
        return QuietHours(time(0), time(0))
    found = re.fullmatch(rf"{_TIME}\s*[-–]\s*{_TIME}", cleaned)
    if not found:
        raise ValueError("quiet hours must look like 21:00-09:00, or off")
    h1, m1, h2, m2 = (int(part) for part in found.groups())
    return QuietHours(time(h1, m1), time(h2, m2))


def birthday_in(year: int, birthday: str) -> date:
    """The member's birthday ('MM-DD') in ``year``; 29 February is 28 February otherwise."""
    month, day = (int(part) for part in birthday.split("-"))
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def birthday_window(birthday_date: date, week: bool) -> tuple[date, date]:
    """The café days (first, last) in which the treat is given: the day itself, or the
    Monday-to-Sunday week that holds it."""
    if not week:
        return birthday_date, birthday_date
    monday = birthday_date - timedelta(days=birthday_date.weekday())
    return monday, monday + timedelta(days=6)


def birthdays_due(today: date, week: bool) -> dict[str, date]:
    """The stored birthdays ('MM-DD') whose treat falls on ``today``, with the birthday
    date each stands for (its year names the treat: once per year)."""
    due: dict[str, date] = {}
    for year in (today.year - 1, today.year, today.year + 1):
        for offset in range(-6, 7):
            candidate = today + timedelta(days=offset)
            for stored in {f"{candidate:%m-%d}", "02-29"}:
                try:
                    actual = birthday_in(year, stored)
                except ValueError:
                    continue
                if actual.year != year:
                    continue
                first, last = birthday_window(actual, week)
                if first <= today <= last:
                    due[stored] = actual
    return due


def month_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The first instant of the café's current month."""
    local = now.astimezone(tz)
    return datetime(local.year, local.month, 1, tzinfo=tz).astimezone(UTC)
