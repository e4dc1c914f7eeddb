"""Offer rules (bot/offers.py): windows, audiences, combining, birthdays, typed dates.

Every rule that reads the clock is tested in UTC and in time zones far from it, so a café
in Auckland (UTC+13 in summer) or Honolulu (UTC-10) gets the same answers in its own time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.domain import AudienceFacts, Offer
from bot.inputs import alternatives, folded
from bot.offers import (
    ENGLISH_DAYS,
    NO_OFFER,
    Audience,
    DateWords,
    combine,
    combine_at,
    day_words,
    in_audience,
    is_open,
    month_words,
    parse_audience,
    parse_birthday,
    parse_local_datetime,
    parse_window,
    valid_at,
    visited_audience,
    window_example,
)
from bot.tiers import parse_tiers

ZONES = [ZoneInfo("UTC"), ZoneInfo("Pacific/Auckland"), ZoneInfo("Pacific/Honolulu")]
TIERS = parse_tiers("Bronze:0:1, Silver:500:1.25, Gold:1500:1.5")


def local(tz: ZoneInfo, *args: int) -> datetime:
    """A moment given in café time, as the aware UTC datetime the code works with."""
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


def offer(**overrides: object) -> Offer:
    values: dict[str, object] = {
        "id": 1,
        "title": "Happy hour",
        "description": "",
        "kind": "multiplier",
        "multiplier": Decimal(2),
        "bonus_points": None,
        "reward_id": None,
        "starts_at": datetime(2026, 11, 1, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 1, tzinfo=UTC),
        "window": None,
        "audience": "all",
        "announce": False,
        "started_at": None,
        "ended_at": None,
        "created_by": 1,
    }
    values.update(overrides)
    return Offer(**values)  # type: ignore[arg-type]


def facts(**overrides: object) -> AudienceFacts:
    values: dict[str, object] = {
        "member_id": 1,
        "chat_id": 1,
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
        "birthday": None,
        "last_purchase_at": None,
        "earned_recently": 0,
    }
    values.update(overrides)
    return AudienceFacts(**values)  # type: ignore[arg-type]


# -- windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days", "start", "end"),
    [
        ("Mon-Fri 15:00-17:00", {0, 1, 2, 3, 4}, time(15), time(17)),
        ("Wed-Fri 9:30-11:45", {2, 3, 4}, time(9, 30), time(11, 45)),
        ("Fri-Mon 10:00-12:00", {4, 5, 6, 0}, time(10), time(12)),  # wraps the week
        ("Sun-Tue 08:05-08:06", {6, 0, 1}, time(8, 5), time(8, 6)),
        ("Sat, Sun 10:00-12:00", {5, 6}, time(10), time(12)),
        ("mon , wed,fri 07:00-08:00", {0, 2, 4}, time(7), time(8)),
        ("weekdays 9:00-11:00", {0, 1, 2, 3, 4}, time(9), time(11)),
        ("Weekends 10:15-12:45", {5, 6}, time(10, 15), time(12, 45)),
        ("daily 06:00-07:00", set(range(7)), time(6), time(7)),
        ("15:00-17:00", set(range(7)), time(15), time(17)),
        ("Tuesday 15:00 – 17:00", {1}, time(15), time(17)),
        ("Sun 23:00-23:59", {6}, time(23), time(23, 59)),
        ("Mon 0:00-0:01", {0}, time(0), time(0, 1)),
    ],
)
def test_windows_people_type(text: str, days: set[int], start: time, end: time) -> None:
    window = parse_window(text)
    assert (set(window.days), window.start, window.end) == (days, start, end)
    assert parse_window(str(window)) == window  # what is stored reads back the same


@pytest.mark.parametrize(
    "text",
    [
        "15:00-15:00",  # ends when it starts
        "17:00-15:00",  # ends before it starts (no overnight windows)
        "Mon-Fri",
        "Mon-Fri 15:00",
        "Funday 15:00-17:00",
        "Mon-Fri 24:00-25:00",
        "Mon-Fri 15:60-16:00",
        "",
    ],
)
def test_windows_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_window(text)


def test_window_str_lists_days_in_week_order() -> None:
    assert str(parse_window("Fri-Mon 10:00-12:05")) == "Mon,Fri,Sat,Sun 10:00-12:05"


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_a_window_opens_and_closes_at_its_exact_minutes_in_cafe_time(tz: ZoneInfo) -> None:
    happy = offer(
        window="Fri-Mon 15:30-17:00",
        starts_at=local(tz, 2026, 11, 1, 0, 0),
        ends_at=local(tz, 2026, 12, 31, 0, 0),
    )
    friday = (2026, 11, 27)  # a Friday
    assert not is_open(happy, local(tz, *friday, 15, 29, 59), tz)
    assert is_open(happy, local(tz, *friday, 15, 30), tz)
    assert is_open(happy, local(tz, *friday, 16, 59, 59), tz)
    assert not is_open(happy, local(tz, *friday, 17, 0), tz)
    assert is_open(happy, local(tz, 2026, 11, 30, 16, 0), tz)  # Monday: the wrap
    assert not is_open(happy, local(tz, 2026, 11, 24, 16, 0), tz)  # Tuesday
    assert not is_open(happy, local(tz, 2026, 11, 26, 16, 0), tz)  # Thursday


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_an_offer_is_open_from_its_start_instant_until_just_before_its_end(tz: ZoneInfo) -> None:
    starts, ends = local(tz, 2026, 11, 20, 9, 0), local(tz, 2026, 11, 22, 18, 0)
    deal = offer(starts_at=starts, ends_at=ends)
    second = timedelta(seconds=1)
    assert not is_open(deal, starts - second, tz)
    assert is_open(deal, starts, tz)
    assert is_open(deal, ends - second, tz)
    assert not is_open(deal, ends, tz)
    ended_early = replace(deal, ended_at=starts + timedelta(hours=1))
    assert not is_open(ended_early, starts + timedelta(hours=2), tz)


# -- audiences -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("all", Audience("all")),
        ("birthday", Audience("birthday")),
        ("tier:Silver", Audience("tier", "Silver")),
        ("lapsed:30", Audience("lapsed", "30")),
        ("lapsed:3650", Audience("lapsed", "3650")),
        ("visited:1:30", Audience("visited", "1:30")),
        ("visited:2,7:3650", Audience("visited", "2,7:3650")),
    ],
)
def test_audiences_parse(text: str, expected: Audience) -> None:
    assert parse_audience(text) == expected
    assert str(parse_audience(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "", "everyone", "tier:", "lapsed:0", "lapsed:3651", "lapsed:²", "lapsed:x", "all:1",
        "visited", "visited:1", "visited::30", "visited:0:30", "visited:1,:30", "visited:1:0",
        "visited:1:3651", "visited:x:30",
    ],
)  # fmt: skip
def test_audiences_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_audience(text)


def test_a_lapsed_audience_starts_at_exactly_n_days() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    lapsed = Audience("lapsed", "30")
    last = now - timedelta(days=30)
    assert in_audience(lapsed, facts(last_purchase_at=last), now, TIERS, ZONES[0])
    just_inside = last + timedelta(seconds=1)
    assert not in_audience(lapsed, facts(last_purchase_at=just_inside), now, TIERS, ZONES[0])
    # Never bought: counted from joining.
    joined = facts(created_at=now - timedelta(days=31))
    assert in_audience(lapsed, joined, now, TIERS, ZONES[0])
    assert not in_audience(lapsed, facts(created_at=now - timedelta(days=29)), now, TIERS, ZONES[0])


def test_a_tier_audience_follows_points_earned_in_the_last_year() -> None:
    now = datetime(2026, 11, 23, tzinfo=UTC)
    silver = Audience("tier", "silver")
    assert in_audience(silver, facts(earned_recently=500), now, TIERS, ZONES[0])
    assert in_audience(silver, facts(earned_recently=1499), now, TIERS, ZONES[0])
    assert not in_audience(silver, facts(earned_recently=499), now, TIERS, ZONES[0])
    assert not in_audience(silver, facts(earned_recently=1500), now, TIERS, ZONES[0])
    assert in_audience(Audience("all"), facts(), now, TIERS, ZONES[0])
    assert not in_audience(Audience("nobody"), facts(), now, TIERS, ZONES[0])


def test_a_visited_audience_is_who_bought_at_one_of_its_locations_lately() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    audience = visited_audience([7, 2, 7], 30)
    assert str(audience) == "visited:2,7:30" and audience.visited == ((2, 7), 30)
    assert parse_audience(str(audience)) == audience
    edge = now - timedelta(days=30)
    for visits, expected in (
        ({2: edge}, True),
        ({7: now}, True),
        ({2: edge - timedelta(seconds=1)}, False),
        ({3: now}, False),
        ({}, False),
        ({3: now, 7: edge - timedelta(days=1), 2: edge + timedelta(days=1)}, True),
    ):
        member = facts(last_purchase_by_location=visits, last_purchase_at=now)
        assert in_audience(audience, member, now, TIERS, ZONES[0]) is expected, visits
    for places, days in (([], 30), ([1], 0), ([1], 3651), ([0], 1)):
        with pytest.raises(ValueError):
            visited_audience(places, days)


def test_an_offer_limited_to_locations_applies_only_there() -> None:
    everywhere = offer(id=1, multiplier=Decimal(2))
    harbour = offer(id=2, kind="bonus", multiplier=None, bonus_points=10, location_ids=(2,))
    both = offer(id=3, kind="bonus", multiplier=None, bonus_points=5, location_ids=(1, 2))
    assert valid_at(everywhere, 1) and valid_at(everywhere, None)
    assert valid_at(harbour, 2) and not valid_at(harbour, 1) and not valid_at(harbour, None)
    at_harbour = combine_at([everywhere, harbour, both], 2)
    assert (at_harbour.multiplier, at_harbour.bonus_points, at_harbour.not_here) == (2, 15, ())
    at_main = combine_at([everywhere, harbour, both], 1)
    assert (at_main.multiplier, at_main.bonus_points) == (2, 5)
    assert [o.id for o in at_main.offers] == [1, 3] and at_main.not_here == (harbour,)
    elsewhere = combine_at([harbour], 3)
    assert elsewhere.offers == () and elsewhere.bonus_points == 0
    assert elsewhere.not_here == (harbour,) and elsewhere.main_offer_id is None
    assert combine_at([], 1) == NO_OFFER


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_the_birthday_month_is_the_cafes_month(tz: ZoneInfo) -> None:
    december = facts(birthday="12-24")
    # The first and last instants of December in café time.
    first, last = local(tz, 2026, 12, 1, 0, 0), local(tz, 2026, 12, 31, 23, 59, 59)
    for moment in (first, last):
        assert in_audience(Audience("birthday"), december, moment, TIERS, tz)
    for moment in (first - timedelta(seconds=1), last + timedelta(seconds=1)):
        assert not in_audience(Audience("birthday"), december, moment, TIERS, tz)
    assert not in_audience(Audience("birthday"), facts(), first, TIERS, tz)


# -- combining offers ------------------------------------------------------------------------


def test_the_best_multiplier_applies_and_bonuses_add_up() -> None:
    double = offer(id=1, multiplier=Decimal(2))
    triple = offer(id=2, multiplier=Decimal(3))
    half = offer(id=3, multiplier=Decimal("0.5"))
    ten = offer(id=4, kind="bonus", multiplier=None, bonus_points=10)
    five = offer(id=5, kind="bonus", multiplier=None, bonus_points=5)
    effect = combine([double, ten, triple, half, five])
    assert effect.multiplier == 3 and effect.bonus_points == 15
    assert [o.id for o in effect.offers] == [2, 4, 5]
    assert effect.main_offer_id == 2


def test_combining_edge_cases() -> None:
    assert combine([]) == NO_OFFER and NO_OFFER.main_offer_id is None
    half = combine([offer(multiplier=Decimal("0.5"))])
    assert half.multiplier == Decimal("0.5")  # a multiplier below one is what it says
    only_bonus = combine([offer(kind="bonus", multiplier=None, bonus_points=7)])
    assert (only_bonus.multiplier, only_bonus.bonus_points) == (1, 7)
    gift = combine([offer(kind="coupon", multiplier=None, reward_id=3)])
    assert gift == NO_OFFER  # a gift offer does not change what a purchase earns


# -- birthdays -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24.12", "12-24"),
        ("24/12", "12-24"),
        ("24-12", "12-24"),
        ("24 12", "12-24"),
        ("1.1", "01-01"),
        ("24 Dec", "12-24"),
        ("24 december", "12-24"),
        ("3 MAR", "03-03"),
        ("29.02", "02-29"),
        ("31.12", "12-31"),
        ("30.04", "04-30"),
        (" 5.6. ", "06-05"),
    ],
)
def test_birthdays_people_type(text: str, expected: str) -> None:
    assert parse_birthday(text) == expected


@pytest.mark.parametrize(
    "text",
    ["31.04", "30.02", "32.01", "0.1", "1.13", "1.0", "24 Foo", "24", "", "①.1", "24.12.1990x"],
)
def test_impossible_birthdays_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_birthday(text)


# -- typed dates -----------------------------------------------------------------------------


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_typed_dates_are_cafe_time(tz: ZoneInfo) -> None:
    now = local(tz, 2026, 11, 23, 22, 30)  # late evening in the café
    assert parse_local_datetime("now", tz, now) == now
    assert parse_local_datetime("tomorrow 9:00", tz, now) == local(tz, 2026, 11, 24, 9, 0)
    assert parse_local_datetime("Today 23:15", tz, now) == local(tz, 2026, 11, 23, 23, 15)
    assert parse_local_datetime("28.11.2026 15:30", tz, now) == local(tz, 2026, 11, 28, 15, 30)
    assert parse_local_datetime("28.11 15:30", tz, now) == local(tz, 2026, 11, 28, 15, 30)
    assert parse_local_datetime("2027-01-02 08:05", tz, now) == local(tz, 2027, 1, 2, 8, 5)
    assert parse_local_datetime("  2026-11-28   15:00 ", tz, now) == local(tz, 2026, 11, 28, 15, 0)
    assert parse_local_datetime("tomorrow 9:00", tz, now).tzinfo == UTC


@pytest.mark.parametrize(
    "text", ["yesterday 9:00", "31.04 10:00", "2026-02-30 10:00", "28.11", "tomorrow 25:00", "soon"]
)
def test_impossible_typed_dates_are_refused(text: str) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_local_datetime(text, ZONES[1], now)


# -- typed words in other languages ----------------------------------------------------------

# The day names a German owner may type (Babel's wide, abbreviated and short), and their
# words for the weekend and "to": what handlers/offer_windows.py builds from the catalogs.
GERMAN = ENGLISH_DAYS | day_words(
    [
        ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"],
        ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."],
    ],
    weekends=["Wochenende"],
    through=["bis"],
)
PORTUGUESE = ENGLISH_DAYS | day_words(
    [
        ["segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira",
         "sábado", "domingo"],
        ["seg.", "ter.", "qua.", "qui.", "sex.", "sáb.", "dom."],
    ]
)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "words", "days"),
    [
        ("Mo-Fr 15:00-17:00", GERMAN, set(range(5))),
        ("Mo.–Fr. 15:00-17:00", GERMAN, set(range(5))),
        ("montag bis FREITAG 15:00-17:00", GERMAN, set(range(5))),
        ("Sa, So 15:00-17:00", GERMAN, {5, 6}),
        ("Wochenende 15:00-17:00", GERMAN, {5, 6}),
        ("Mon-Fri 15:00-17:00", GERMAN, set(range(5))),  # English is understood too
        ("Fr-Mo 15:00-17:00", GERMAN, {4, 5, 6, 0}),
        ("seg.-sex. 15:00-17:00", PORTUGUESE, set(range(5))),
        ("segunda-feira-sexta-feira 15:00-17:00", PORTUGUESE, set(range(5))),
        ("Sabado 15:00-17:00", PORTUGUESE, {5}),  # accents do not matter
    ],
)
def test_windows_typed_in_other_languages(text: str, words: object, days: set[int]) -> None:
    window = parse_window(text, words)  # type: ignore[arg-type]
    assert set(window.days) == days
    assert parse_window(str(window)) == window  # stored in the one form, read back in English


@pytest.mark.parametrize("text", ["Mo-Fr 15:00-17:00", "Montag 15:00-17:00", "bis 15:00-17:00"])
def test_english_alone_does_not_know_german_days(text: str) -> None:
    with pytest.raises(ValueError):
        parse_window(text)
    with pytest.raises(ValueError):
        parse_window("Mo-Di-Mi 15:00-17:00", GERMAN)


def test_window_spans_join_consecutive_days_and_wrap_the_week() -> None:
    assert parse_window("Mon-Fri 10:00-11:00").spans() == [(0, 4)]
    assert parse_window("Fri-Mon 10:00-11:00").spans() == [(4, 0)]
    assert parse_window("Mon,Wed,Thu,Sun 10:00-11:00").spans() == [(2, 3), (6, 0)]
    assert parse_window("10:00-11:00").spans() == [(0, 6)]
    assert parse_window("daily 1:00-2:00").every_day


def test_the_window_example_uses_the_readers_day_names() -> None:
    assert window_example(["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."]) == "Mo-Fr 15:00-17:00"


def test_typed_dates_read_the_readers_words_and_english() -> None:
    tz, now = ZONES[0], datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    german = DateWords(frozenset({"jetzt"}), frozenset({"heute"}), frozenset({"morgen"}))
    words = DateWords() | german
    assert parse_local_datetime("Jetzt", tz, now, words) == now
    assert parse_local_datetime("morgen 9:00", tz, now, words) == local(tz, 2026, 11, 24, 9, 0)
    assert parse_local_datetime("heute 23:15", tz, now, words) == local(tz, 2026, 11, 23, 23, 15)
    assert parse_local_datetime("tomorrow 9:00", tz, now, words) == local(tz, 2026, 11, 24, 9, 0)
    with pytest.raises(ValueError):
        parse_local_datetime("morgen 9:00", tz, now)  # English alone


def test_birthdays_with_month_names_of_another_language() -> None:
    spanish = month_words(
        [["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre"]]
    )  # fmt: skip
    assert parse_birthday("24 diciembre", spanish) == "12-24"
    assert parse_birthday("3 SEPTIEMBRE", spanish) == "09-03"
    with pytest.raises(ValueError):
        parse_birthday("24 diciembre")


def test_typed_words_ignore_case_accents_and_spacing() -> None:
    assert folded("  Mié  ") == "mie" and folded("ÇARŞAMBA") == "carsamba"
    assert alternatives("yes, Y", "sí,  si ,") == frozenset({"yes", "y", "si"})
