"""Reporting periods: whole café days, from the first to the last, in the café's time zone."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # inclusive
    tz: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period (exclusive)."""
        after = self.last + timedelta(days=1)
        return datetime.combine(after, time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before (the month before, for a month)."""
        if self.is_month:
            prior = self.first - timedelta(days=1)
            return month(prior.year, prior.month, self.tz)
        return Period(
            self.first - timedelta(days=self.days), self.first - timedelta(days=1), self.tz
        )

    @property
    def is_month(self) -> bool:
        return self.first.day == 1 and self.last == _month_end(self.first)

    def __str__(self) -> str:
        if self.is_month:
            return f"{self.first:%B %Y}"
        return f"{self.first:%d %b %Y} – {self.last:%d %b %Y}"

    @property
    def slug(self) -> str:
        return f"{self.first:%Y-%m}" if self.is_month else f"{self.first}_{self.last}"


def _month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month(year: int, month_number: int, tz: ZoneInfo) -> Period:
    first = date(year, month_number, 1)
    return Period(first, _month_end(first), tz)


def parse_period(words: list[str], tz: ZoneInfo, now: datetime) -> Period:
    """``[]`` (the current month), ``2026-11``, ``2026-11-01 2026-11-30``,
    ``last`` (the previous month). ValueError when it is none of these."""
    local = now.astimezone(tz).date()
    text = " ".join(words).strip().lower()
    if not text:
        return month(local.year, local.month, tz)
    if text == "last":
        return month(local.year, local.month, tz).previous()
    if found := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, number = int(found.group(1)), int(found.group(2))
        if not 1 <= number <= 12:
            raise ValueError("no such month")
        return month(year, number, tz)
    if found := re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})\s*(?:\.\.|–|-|to|\s)\s*(\d{4}-\d{2}-\d{2})", text
    ):
        first, last = date.fromisoformat(found.group(1)), date.fromisoformat(found.group(2))
        if last < first:
            raise ValueError("the period ends before it starts")
        return Period(first, last, tz)
    raise ValueError("a period looks like 2026-11, or 2026-11-01 2026-11-30")
