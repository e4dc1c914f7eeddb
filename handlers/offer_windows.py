"""An offer's hours and dates in the owner's own words: the day names and date words they
may type (their language's and English), and the hours shown back in the reader's."""

from __future__ import annotations

import functools
from datetime import time
from typing import Literal

from babel import Locale
from babel.dates import format_interval

from bot import i18n
from bot.inputs import alternatives
from bot.offers import (
    ENGLISH_DATES,
    ENGLISH_DAYS,
    DateWords,
    DayWords,
    day_words,
    parse_window,
    window_example,
)
from handlers.common import Context, lang
from handlers.texts import t

_WIDTHS: tuple[Literal["wide", "abbreviated", "short"], ...] = ("wide", "abbreviated", "short")


def _words(reader: str, key: str) -> frozenset[str]:
    """What the catalog text ``key`` lists in the reader's language and in English."""
    return alternatives(t(reader, key), t(i18n.ENGLISH, key))


@functools.cache
def typed_days(reader: str) -> DayWords:
    """The day words a reader may type in an offer's hours: every name their language
    has for a day (Babel's wide, abbreviated and short), their words for weekdays, the
    weekend, every day and "to", and all of that in English."""
    return ENGLISH_DAYS | day_words(
        [i18n.weekday_names(reader, width) for width in _WIDTHS],
        weekdays=_words(reader, "word_weekdays"),
        weekends=_words(reader, "word_weekend"),
        every_day=_words(reader, "word_every_day"),
        through=_words(reader, "word_through"),
    )


@functools.cache
def typed_dates(reader: str) -> DateWords:
    """The words a reader may type for a start or an end ("now", "tomorrow 9:00")."""
    return ENGLISH_DATES | DateWords(
        _words(reader, "word_now"), _words(reader, "word_today"), _words(reader, "word_tomorrow")
    )


def day_words_of(context: Context) -> DayWords:
    return typed_days(lang(context))


def date_words_of(context: Context) -> DateWords:
    return typed_dates(lang(context))


def example(context: Context) -> str:
    """How this reader types Monday to Friday afternoons ("Mo-Fr 15:00-17:00")."""
    return window_example(i18n.weekday_names(lang(context)))


def hours_range(reader: str, start: time, end: time) -> str:
    """From one time of day to another as the reader writes it ("15:00–17:00",
    "3:00 – 5:00 PM")."""
    clock = Locale.parse(reader).time_formats["short"].pattern
    return format_interval(start, end, "hm" if "h" in clock else "Hm", locale=reader)


def hours_line(context: Context, stored: str) -> str:
    """An offer's hours (stored as ``Mon,Tue 15:00-17:00``) on a line of their own, with
    the reader's day names: "🕒 Mon–Fri and Sun, 15:00–17:00"."""
    reader = lang(context)
    window = parse_window(stored)
    hours = hours_range(reader, window.start, window.end)
    if window.every_day:
        return t(reader, "offer_hours_daily", hours=hours)
    names = i18n.weekday_names(reader)
    spans: list[str] = []
    for first, last in window.spans():
        if first == last:
            spans.append(names[first])
        elif (last - first) % 7 == 1:  # two days: a list, not a range
            spans.extend((names[first], names[last]))
        else:
            spans.append(t(reader, "offer_days_span", first=names[first], last=names[last]))
    return t(reader, "offer_hours", days=i18n.listing(reader, spans), hours=hours)
