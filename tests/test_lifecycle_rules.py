"""Lifecycle rules (bot/lifecycle.py): expiry dates, quiet hours, birthday windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.lifecycle import (
    add_months,
    birthday_in,
    birthday_window,
    birthdays_due,
    expiry_cutoff,
    month_start,
    parse_quiet_hours,
    points_expire_at,
)

ZONES = [ZoneInfo("UTC"), ZoneInfo("Pacific/Auckland"), ZoneInfo("Pacific/Honolulu")]
MOMENTS = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 5, 10), 12, date(2027, 5, 10)),
        (date(2026, 5, 10), 0, date(2026, 5, 10)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_points_lapse_at_the_end_of_the_cafe_day(tz: ZoneInfo) -> None:
    visit = datetime(2026, 1, 31, 15, 0, tzinfo=tz).astimezone(UTC)
    assert points_expire_at(visit, 6, tz) == datetime(2026, 8, 1, tzinfo=tz).astimezone(UTC)


@settings(max_examples=300, deadline=None)
@given(visit=MOMENTS, now=MOMENTS, months=st.integers(1, 24), zone=st.sampled_from(ZONES))
def test_the_cutoff_selects_exactly_the_lapsed_balances(
    visit: datetime, now: datetime, months: int, zone: ZoneInfo
) -> None:
    lapsed = points_expire_at(visit, months, zone) <= now
    assert lapsed == (visit < expiry_cutoff(now, months, zone))


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        ("21:00-09:00", [time(21), time(23, 59), time(0), time(8, 59)], [time(9), time(20, 59)]),
        ("13:00-14:30", [time(13), time(14, 29)], [time(12, 59), time(14, 30)]),
        ("off", [], [time(0), time(12), time(23, 59)]),
    ],
)
def test_quiet_hours(text: str, inside: list[time], outside: list[time]) -> None:
    quiet = parse_quiet_hours(text)
    tz = ZoneInfo("Pacific/Auckland")
    day = date(2026, 11, 23)
    for moment in inside:
        assert quiet.contains(datetime.combine(day, moment, tzinfo=tz), tz), moment
    for moment in outside:
        assert not quiet.contains(datetime.combine(day, moment, tzinfo=tz), tz), moment


def test_quiet_hours_end_in_cafe_time() -> None:
    tz = ZoneInfo("Pacific/Auckland")
    quiet = parse_quiet_hours("21:00-09:00")
    late = datetime(2026, 11, 23, 22, 30, tzinfo=tz)
    assert quiet.ends_after(late, tz) == datetime(2026, 11, 24, 9, 0, tzinfo=tz)
    early = datetime(2026, 11, 24, 7, 0, tzinfo=tz)
    assert quiet.ends_after(early, tz) == datetime(2026, 11, 24, 9, 0, tzinfo=tz)
    day = datetime(2026, 11, 24, 12, 0, tzinfo=tz)
    assert quiet.ends_after(day, tz) == day
    assert str(quiet) == "21:00-09:00"
    for bad in ("9-5", "21:00", "25:00-09:00"):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad)


def test_29_february_in_other_years() -> None:
    assert birthday_in(2027, "02-29") == date(2027, 2, 28)
    assert birthday_in(2028, "02-29") == date(2028, 2, 29)
    assert birthday_in(2027, "12-24") == date(2027, 12, 24)


def test_birthday_windows() -> None:
    thursday = date(2026, 12, 24)
    assert birthday_window(thursday, week=False) == (thursday, thursday)
    assert birthday_window(thursday, week=True) == (date(2026, 12, 21), date(2026, 12, 27))


def test_birthdays_due_by_week_and_by_day() -> None:
    monday = date(2026, 12, 21)
    due = birthdays_due(monday, week=True)
    assert due["12-24"] == date(2026, 12, 24) and due["12-27"] == date(2026, 12, 27)
    assert "12-28" not in due and "12-20" not in due
    assert birthdays_due(date(2026, 12, 24), week=False) == {"12-24": date(2026, 12, 24)}
    # 29 February members are treated on 28 February in other years, and only then.
    assert birthdays_due(date(2027, 2, 28), week=False) == {
        "02-28": date(2027, 2, 28),
        "02-29": date(2027, 2, 28),
    }
    assert "02-29" not in birthdays_due(date(2027, 3, 1), week=False)
    assert birthdays_due(date(2028, 2, 29), week=False) == {"02-29": date(2028, 2, 29)}
    # A week that crosses the new year: the treat belongs to the birthday's own year.
    new_year = birthdays_due(date(2026, 12, 31), week=True)
    assert new_year["01-03"] == date(2027, 1, 3) and new_year["12-28"] == date(2026, 12, 28)


def test_month_start_is_the_cafes() -> None:
    tz = ZoneInfo("Pacific/Auckland")
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # 1 December, 01:00 in Auckland
    assert month_start(now, tz) == datetime(2026, 12, 1, tzinfo=tz).astimezone(UTC)
    assert month_start(now, ZoneInfo("UTC")) == datetime(2026, 11, 1, tzinfo=UTC)


def test_a_cutoff_a_month_out() -> None:
    tz = ZoneInfo("UTC")
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert expiry_cutoff(now, 6, tz) == datetime(2026, 5, 23, tzinfo=UTC)
    assert expiry_cutoff(now + timedelta(days=14), 6, tz) == datetime(2026, 6, 7, tzinfo=UTC)
