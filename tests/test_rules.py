"""Edges of the pure rules that mutation testing found unchecked (docs/mutation-testing.md)."""

from __future__ import annotations

import base64
import struct
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot import tokens
from bot.earning import parse_categories, parse_multiplier
from bot.money import (
    AmountError,
    AmountProblem,
    example_amount,
    format_reading,
    parse_amount,
)
from bot.offers import parse_audience, parse_birthday, parse_local_datetime, parse_window
from bot.tiers import parse_tiers, tier_for
from bot.tokens import (
    LinkKind,
    TokenError,
    TokenExpired,
    make_card_token,
    normalise_code,
    random_token,
    read_card_token,
    short_code,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEY = b"k" * 32


# -- money -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exponent", "locale", "example"),
    [(2, "en_US", "4.50"), (2, "de_DE", "4,50"), (0, "ja_JP", "450"), (3, "en_US", "0.450")],
)
def test_the_example_amount_is_written_as_the_cafe_types(
    exponent: int, locale: str, example: str
) -> None:
    assert example_amount(exponent, locale) == example


def test_example_amount_defaults() -> None:
    assert example_amount() == "4.50"


def test_readings_keep_every_decimal() -> None:
    assert format_reading(Decimal("1.2345"), "EUR", "en_US") == "€1.2345"
    assert format_reading(Decimal("1000"), "EUR", "de_DE") == "1.000,00\xa0€"


@pytest.mark.parametrize(
    ("text", "currency", "locale", "minor"),
    [
        ("US$4.50", "USD", "en_CA", 450),  # the symbol as the café's locale writes it
        ("4,50 €", "EUR", "fr_FR", 450),
        ("eur4.50", "EUR", "en_US", 450),
        ("+4.50", "EUR", "en_US", 450),
        ("CHF 4.50", "CHF", "de_CH", 450),
    ],
)
def test_currency_marks_of_the_cafe_are_dropped(
    text: str, currency: str, locale: str, minor: int
) -> None:
    assert parse_amount(text, currency=currency, locale=locale) == minor


@pytest.mark.parametrize("text", ["$4.50", "£4.50", "€€4", "4.50+", "4-50"])
def test_other_currencies_and_stray_signs_are_not_amounts(text: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, currency="EUR")
    assert caught.value.problem is AmountProblem.NOT_A_NUMBER
    assert str(caught.value) == "not_a_number"


def test_a_comma_decimal_cafe_reads_the_other_convention_too() -> None:
    assert parse_amount("4.5", locale="fr_FR") == 450
    assert parse_amount("1,5", locale="en_GB") == 150


# -- tokens ----------------------------------------------------------------------------------


def test_the_signature_covers_the_member_and_the_expiry() -> None:
    genuine = make_card_token(1, NOW + timedelta(minutes=10), KEY)
    raw = base64.urlsafe_b64decode(genuine[1:] + "=" * (-len(genuine[1:]) % 4))
    mac = raw[8:]
    for member_id, expiry in [(2, int((NOW + timedelta(minutes=10)).timestamp())),
                              (1, int((NOW + timedelta(days=9)).timestamp()))]:  # fmt: skip
        body = struct.pack(">II", member_id, expiry)
        forged = "m" + base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode()
        with pytest.raises(TokenError, match="bad signature"):
            read_card_token(forged, KEY, NOW)


def test_token_errors_say_what_is_wrong() -> None:
    token = make_card_token(1, NOW + timedelta(minutes=10), KEY)
    with pytest.raises(TokenError, match=r"^not a card$"):
        read_card_token("c" + token[1:], KEY, NOW)
    with pytest.raises(TokenError, match=r"^wrong length$"):
        read_card_token("m" + tokens._b64encode(b"\x00" * 19), KEY, NOW)
    with pytest.raises(TokenError, match=r"^bad signature$"):
        read_card_token(token, b"other key", NOW)
    with pytest.raises(TokenExpired, match=r"^card expired$"):
        read_card_token(token, KEY, NOW + timedelta(minutes=10))
    with pytest.raises(TokenError, match=r"^not base64$"):
        read_card_token("m" + "A" * 5, KEY, NOW)
    with pytest.raises(TokenError, match=r"^not canonical base64$"):
        tokens._b64decode("AB")  # the padding bits of "B" are not zero


@pytest.mark.parametrize("raw", [bytes([0, 0, 0x17]), bytes([0xFF] * 4), b"", b"\x00"])
def test_base64_round_trip_without_padding(raw: bytes) -> None:
    text = tokens._b64encode(raw)
    assert "=" not in text
    assert text == base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert tokens._b64decode(text) == raw


def test_random_tokens_default_to_16_bytes() -> None:
    token = random_token(LinkKind.COUPON)
    assert len(token) == 1 + 22
    assert len(tokens._b64decode(token[1:])) == 16


def test_short_codes_avoid_look_alikes() -> None:
    codes = [short_code() for _ in range(200)]
    assert all(len(code) == 6 for code in codes)
    assert set("".join(codes)) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    assert len(set(codes)) > 190
    assert len(short_code(8)) == 8


def test_typed_codes_are_normalised() -> None:
    assert normalise_code(" ab-cd 12 ") == "ABCD12"
    assert normalise_code("k7p2qx") == "K7P2QX"


# -- offers ----------------------------------------------------------------------------------


def test_day_ranges_have_one_dash_and_real_day_names() -> None:
    assert set(parse_window("Mon-Mon 10:00-11:00").days) == {0}
    assert set(parse_window("monday-Wednesday 10:00-11:00").days) == {0, 1, 2}
    for text in ("Mon-Wed-Fri 10:00-11:00", "Mo-Fr 10:00-11:00", "Monx 10:00-11:00"):
        with pytest.raises(ValueError):
            parse_window(text)


def test_window_errors_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"^window must look like Mon-Fri 15:00-17:00$"):
        parse_window("afternoons")
    with pytest.raises(ValueError, match=r"^the window must end after it starts, on the same day$"):
        parse_window("15:00-15:00")


def test_lapsed_audience_bounds() -> None:
    assert parse_audience("lapsed:1").value == "1"
    with pytest.raises(ValueError, match="unknown audience 'lapsed:0'"):
        parse_audience("lapsed:0")


def test_birthday_errors_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"^birthday must look like 24.12$"):
        parse_birthday("soon")
    with pytest.raises(ValueError, match=r"^unknown month$"):
        parse_birthday("24 Foo")
    with pytest.raises(ValueError, match=r"^no such date$"):
        parse_birthday("31.04")


@pytest.mark.parametrize(
    "text", ["31.01", "29.02", "31.03", "30.04", "31.05", "30.06", "31.07", "31.08",
             "30.09", "31.10", "30.11", "31.12"],
)  # fmt: skip
def test_the_last_day_of_every_month_is_a_birthday(text: str) -> None:
    parse_birthday(text)


@pytest.mark.parametrize(
    "text", ["30.02", "32.01", "32.03", "31.04", "32.05", "31.06", "32.07", "32.08", "31.09",
             "32.10", "31.11", "32.12"],
)  # fmt: skip
def test_the_day_after_the_last_is_not(text: str) -> None:
    with pytest.raises(ValueError):
        parse_birthday(text)


def test_typed_dates_do_not_depend_on_the_servers_time_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "Pacific/Auckland")
    time.tzset()
    try:
        moment = parse_local_datetime("tomorrow 9:00", ZoneInfo("Europe/Berlin"), NOW)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert moment.utcoffset() == timedelta(0)
    assert moment == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


# -- earning and tiers -----------------------------------------------------------------------


def test_multiplier_spellings_and_zero() -> None:
    assert parse_multiplier("X2") == 2
    assert parse_multiplier("0") == 0
    with pytest.raises(ValueError, match="'-1' must be zero or more"):
        parse_multiplier("-1")
    with pytest.raises(ValueError, match="'x' is not a number"):
        parse_multiplier("x")


def test_category_errors_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"^category name '' must be 1-24 letters"):
        parse_categories(":2")
    with pytest.raises(ValueError, match=r"^category names must be unique$"):
        parse_categories("coffee, Coffee")


def test_tier_definitions() -> None:
    tiers = parse_tiers("Bronze:0:1, Silver:500:1.25")
    assert tiers[1].multiplier == Decimal("1.25")
    assert tier_for(0, tiers) is tiers[0]
    assert tier_for(0, parse_tiers("Only:0:1")).name == "Only"
    for bad, message in [
        ("Bronze:0:1:2", "must look like Name:threshold:multiplier"),
        (":0:1", "must look like Name:threshold:multiplier"),
        ("Bronze:#0:1", "must be a whole number"),
        ("Bronze:0:1, Silver:²:2", "must be a whole number"),
        ("Silver:5:1", "the first tier must start at 0 points"),
        ("Bronze:0:1, Silver:0:2", "tier thresholds must differ"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_tiers(bad)


def test_an_offer_counts_only_for_its_own_kind() -> None:
    from bot.offers import combine
    from tests.test_offers import offer

    odd_bonus = offer(kind="bonus", multiplier=Decimal(5), bonus_points=3)
    odd_multiplier = offer(id=2, kind="multiplier", multiplier=Decimal(2), bonus_points=7)
    effect = combine([odd_bonus, odd_multiplier])
    assert (effect.multiplier, effect.bonus_points) == (Decimal(2), 3)


def test_more_error_messages_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"^unknown day 'funday'$"):
        parse_window("Funday 10:00-11:00")
    with pytest.raises(ValueError, match=r"^a day range has one dash and a day at each end$"):
        parse_window("Mon-Wed-Fri 10:00-11:00")
    with pytest.raises(ValueError, match=r"^date must look like 2026-11-28 15:00$"):
        parse_local_datetime("soon", ZoneInfo("UTC"), NOW)
    with pytest.raises(ValueError, match=r"^the first tier must start at 0 points$"):
        parse_tiers("Silver:5:1")
    with pytest.raises(ValueError, match=r"^tier thresholds must differ$"):
        parse_tiers("Bronze:0:1, Silver:0:2")


def test_points_are_worth_their_value_rounded_down() -> None:
    from bot.money import points_worth

    assert points_worth(1, Decimal("0.009")) == 0
    assert points_worth(3, Decimal("0.0099")) == 2
