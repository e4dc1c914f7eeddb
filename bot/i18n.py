"""Whose language, and how numbers, money and dates read in it: the gettext catalogs in
``bot/locales`` (managed with Babel's ``pybabel``) and Babel's CLDR formatting.

A *reader* is a Babel locale identifier ("es", "ru", "pt_BR", "de_AT", "en_US"): the
language decides the catalog, the territory (when the café's ``LOCALE`` shares the
language) decides how numbers and dates are written. Every function here is pure and
takes the reader explicitly; nothing is kept per process but the parsed catalogs.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Final, Literal

from babel import Locale, UnknownLocaleError
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_time,
    get_day_names,
    get_month_names,
)
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal, format_percent, get_currency_symbol
from babel.support import NullTranslations, Translations

LOCALES_DIR: Final = Path(__file__).resolve().parent / "locales"
DOMAIN: Final = "messages"
ENGLISH: Final = "en"
# The languages the bot ships complete, English first (the catalogs' source language).
SHIPPED: Final[tuple[str, ...]] = ("en", "es", "pt_BR", "tr", "ru", "de")


def _parse(code: str) -> Locale | None:
    """A Telegram language tag ("pt-br", "en", "zh-hans") or a Babel id, or None."""
    text = code.strip().replace("-", "_")
    if not text:
        return None
    try:
        return Locale.parse(text)
    except (UnknownLocaleError, ValueError, TypeError):
        try:
            return Locale.parse(text.split("_")[0])
        except (UnknownLocaleError, ValueError, TypeError):
            return None


def shipped_language(code: str | None) -> str | None:
    """The shipped language a tag asks for: exact ("pt_BR"), else by its language alone
    ("pt-pt" and "pt" → "pt_BR", "de-CH" → "de"); None when we do not speak it."""
    if not code:
        return None
    locale = _parse(code)
    if locale is None:
        return None
    exact = f"{locale.language}_{locale.territory}" if locale.territory else locale.language
    if exact in SHIPPED:
        return exact
    for language in SHIPPED:
        if language.split("_")[0] == locale.language:
            return language
    return None


@functools.cache
def reader(code: str | None, cafe_language: str, cafe_locale: str) -> str:
    """The reader for a person whose language is ``code`` (their own choice, else what
    their Telegram says): the fallback chain is that language (``pt-br`` → ``pt``), the
    café's ``LANGUAGE``, then English. Formats follow the café's ``LOCALE`` where it speaks
    the same language ("de" in a de_AT café reads as de_AT), and the café's own
    ``LANGUAGE`` follows its ``LOCALE``'s country; anyone else reads their language's own
    conventions (a Spanish reader in a US café: "12.345", "4,50 €"), since Telegram tells
    a person's language, not their country."""
    language = shipped_language(code) or shipped_language(cafe_language) or ENGLISH
    base = language.split("_")[0]
    cafe = _parse(cafe_locale)
    if cafe is None:
        return language
    if cafe.language == base:
        return str(cafe)
    if language == shipped_language(cafe_language) and cafe.territory:
        # The café's own language with its LOCALE's country (LANGUAGE=en, LOCALE=de_DE:
        # English written as in Germany, "4,50 €"), where CLDR knows the pair.
        try:
            return str(Locale(base, cafe.territory))
        except UnknownLocaleError:
            pass
    return language


def language_of(reader_id: str) -> str:
    """The shipped language a reader reads ("de_AT" → "de", "pt_BR" → "pt_BR")."""
    return shipped_language(reader_id) or ENGLISH


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of a shipped language (English: none, the source texts)."""
    if language == ENGLISH:
        return NullTranslations()
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)


def catalog(reader_id: str) -> NullTranslations:
    return translations(language_of(reader_id))


@functools.cache
def own_name(language: str) -> str:
    """A language by its own name, as a language picker shows it ("Español", "Русский")."""
    locale = Locale.parse(language)
    name = locale.get_display_name(locale) or language
    return name[:1].upper() + name[1:]


def number(reader_id: str, value: int | Decimal) -> str:
    """A number (points, counts) as the reader writes it: "1,000", "1.000", "1 000"."""
    return format_decimal(value, locale=reader_id)


def signed(reader_id: str, value: int) -> str:
    """A change of points with its sign: "+40", "−1.000"."""
    return format_decimal(value, format="+#,##0;-#,##0", locale=reader_id)


def percent(reader_id: str, fraction: Decimal | float) -> str:
    """A share as the reader's locale writes percentages, to a tenth: "95.5%", "95,5 %",
    "%95,5"."""
    return format_percent(fraction, _percent_pattern(reader_id), locale=reader_id)


@functools.cache
def _percent_pattern(reader_id: str) -> str:
    pattern = str(Locale.parse(reader_id).percent_formats[None].pattern)
    return pattern.replace("#,##0", "#,##0.#", 1)


def money(reader_id: str, minor: int, currency: str, exponent: int = 2) -> str:
    """Minor units as the reader writes the café's currency: "€4.50", "4,50 €". A regional
    reader whose country has no symbol for it (es_US and the euro: "EUR4.50") writes it as
    its language does ("4,50 €")."""
    return format_currency(
        Decimal(minor).scaleb(-exponent), currency, locale=_money_locale(reader_id, currency)
    )


@functools.cache
def _money_locale(reader_id: str, currency: str) -> str:
    language = reader_id.split("_")[0]
    if (
        get_currency_symbol(currency, reader_id)
        == currency
        != get_currency_symbol(currency, language)
    ):
        return language
    return reader_id


def day(reader_id: str, moment: date | datetime, tz: tzinfo | None = None) -> str:
    """A date with its month's name in the reader's language: "3 Dec 2026", "3 дек. 2026 г."."""
    if isinstance(moment, datetime) and tz is not None:
        moment = moment.astimezone(tz)
    return format_date(moment, "medium", locale=reader_id)


def day_month(reader_id: str, moment: date | datetime, tz: tzinfo | None = None) -> str:
    """Day and month only ("3 Dec", "3. Dez."), for a birthday or a short list."""
    if isinstance(moment, datetime) and tz is not None:
        moment = moment.astimezone(tz)
    return format_skeleton("MMMd", moment, locale=reader_id)


def month_year(reader_id: str, moment: date | datetime) -> str:
    """A month and year ("Dec 2026", "дек. 2026 г.")."""
    return format_skeleton("yMMM", moment, locale=reader_id)


def clock_time(reader_id: str, moment: datetime | time, tz: tzinfo | None = None) -> str:
    """A time of day as the reader's locale writes it ("14:05", "2:05 PM")."""
    if isinstance(moment, datetime) and tz is not None:
        moment = moment.astimezone(tz)
    return format_time(moment, "short", locale=reader_id)


def day_time(reader_id: str, moment: datetime, tz: tzinfo | None = None) -> str:
    """Day, month and time, for a history line ("Dec 3, 2:05 PM", "3 дек., 14:05"): the
    day and the time joined as the locale joins a date and a time (CLDR has no skeleton
    for both at once, so Babel's format_skeleton cannot write them together)."""
    if tz is not None:
        moment = moment.astimezone(tz)
    joined = str(Locale.parse(reader_id).datetime_formats["short"])
    day_part, time_part = day_month(reader_id, moment), clock_time(reader_id, moment)
    return joined.replace("{1}", day_part).replace("{0}", time_part)


def full_time(reader_id: str, moment: datetime, tz: tzinfo | None = None) -> str:
    """Date and time in full ("3 Dec 2026, 14:05")."""
    return format_datetime(moment, "medium", tzinfo=tz, locale=reader_id)


def weekday_names(
    reader_id: str, width: Literal["abbreviated", "narrow", "short", "wide"] = "abbreviated"
) -> list[str]:
    """Monday first, in the reader's language ("Mon", "lun.", "пн")."""
    names = get_day_names(width, locale=reader_id)
    return [names[index] for index in range(7)]


def month_names(reader_id: str) -> list[list[str]]:
    """The twelve month names, January first, in every form the reader's language has
    (wide and abbreviated, in a date and standing alone: "декабря", "декабрь", "дек.")."""
    return [
        [names[index] for index in range(1, 13)]
        for width in ("wide", "abbreviated")
        for context in ("format", "stand-alone")
        for names in (get_month_names(width, context, locale=reader_id),)
    ]


def listing(
    reader_id: str, items: Sequence[str], style: Literal["standard", "or", "unit"] = "standard"
) -> str:
    """Items joined as the reader's language joins them ("a, b and c", "a, b и c")."""
    return format_list(list(items), style=style, locale=reader_id)
