"""Whose language, and how numbers, money and dates read in it (bot/i18n.py), and how a
text picks its plural form (handlers/texts.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import i18n
from bot.offers import parse_birthday
from handlers.preferences import typed_months
from handlers.texts import EN, PLURALS, t


@pytest.mark.parametrize(
    ("code", "cafe_language", "cafe_locale", "expected"),
    [
        ("es", "en", "en_US", "es"),  # Spanish as Spanish writes it, in a US café too
        ("pt-br", "en", "en_US", "pt_BR"),
        ("pt", "en", "en_US", "pt_BR"),  # the fallback chain: pt-pt → pt → our Portuguese
        ("pt-PT", "de", "de_DE", "pt_BR"),
        ("ru-RU", "en", "en_US", "ru"),
        ("de", "en", "de_AT", "de_AT"),  # the café's country writes German its way
        ("en", "de", "de_DE", "en"),
        ("en", "en", "de_DE", "en_DE"),  # the café's language with its LOCALE: "4,50 €"
        ("es", "en", "de_DE", "es"),
        ("ja", "es", "es_ES", "es_ES"),  # a language we do not ship: the café's
        (None, "tr", "tr_TR", "tr_TR"),
        ("", "xx", "en_US", "en_US"),  # nothing usable at all: English
        ("zh-hans", "en", "en_US", "en_US"),
    ],
)
def test_the_reader_follows_the_fallback_chain(
    code: str | None, cafe_language: str, cafe_locale: str, expected: str
) -> None:
    assert i18n.reader(code, cafe_language, cafe_locale) == expected


def test_every_shipped_language_has_a_catalog_and_its_own_name() -> None:
    assert [i18n.own_name(language) for language in i18n.SHIPPED] == [
        "English", "Español", "Português (Brasil)", "Türkçe", "Русский", "Deutsch",
    ]  # fmt: skip
    for language in i18n.SHIPPED[1:]:
        assert t(language, "btn_card") != EN["btn_card"], language


def test_numbers_money_and_dates_come_from_cldr() -> None:
    assert [i18n.number(r, 12345) for r in ("en", "de", "es", "ru", "pt_BR", "tr")] == [
        "12,345", "12.345", "12.345", "12\xa0345", "12.345", "12.345",
    ]  # fmt: skip
    assert i18n.money("de", 450, "EUR") == "4,50\xa0€"
    assert i18n.money("en_US", 450, "EUR") == "€4.50"
    # A regional reader without a symbol for the currency writes it as its language does.
    assert i18n.money("es_US", 450, "EUR") == "4,50\xa0€"
    assert i18n.money("es_US", 450, "USD") == "$4.50"
    day = date(2026, 12, 3)
    assert i18n.day("es", day) == "3 dic 2026"
    assert i18n.day("ru", day) == "3 дек. 2026\u202fг."
    assert i18n.day_month("de", day) == "3. Dez."
    moment = datetime(2026, 12, 3, 13, 5, tzinfo=UTC)
    assert i18n.clock_time("de", moment, ZoneInfo("Europe/Berlin")) == "14:05"
    assert i18n.clock_time("en_US", moment, ZoneInfo("Europe/Berlin")) == "2:05\u202fPM"
    assert i18n.weekday_names("es")[:2] == ["lun", "mar"]
    assert i18n.listing("ru", ["A", "B", "C"]) == "A, B и C"
    assert i18n.listing("en", ["A", "B", "C"]) == "A, B, and C"


@pytest.mark.parametrize(
    ("points", "word"), [(1, "балл"), (2, "балла"), (5, "баллов"), (11, "баллов"), (21, "балл")]
)
def test_russian_plurals_agree_with_the_number(points: int, word: str) -> None:
    text = t("ru", "welcome_back", name="Иван", points=points)
    assert f"<b>{points}</b> {word}" in text or f"{points} {word}" in text, text


def test_a_plural_text_is_chosen_by_its_count_and_every_value_escaped() -> None:
    assert "welcome_back" in PLURALS
    assert t("en", "welcome_back", name="<A>", points=1).endswith("<b>1</b> point.")
    assert t("en", "welcome_back", name="A", points=1000).endswith("<b>1,000</b> points.")
    assert "&lt;A&gt;" in t("en", "welcome_back", name="<A>", points=2)
    # An identifier is passed as text and keeps its bare digits.
    assert "1,234" not in t("en", "welcome_back", name="A", points="1234")


@pytest.mark.parametrize(
    ("reader", "typed", "stored"),
    [("ru", "24 декабря", "12-24"), ("de", "3. März", "03-03"), ("tr", "9 Ekim", "10-09"),
     ("pt_BR", "2 fev", "02-02"), ("ru", "24 Dec", "12-24"), ("es", "29.02", "02-29")],
)  # fmt: skip
def test_a_birthday_may_name_its_month_in_the_readers_language(
    reader: str, typed: str, stored: str
) -> None:
    assert parse_birthday(typed, typed_months(reader)) == stored
