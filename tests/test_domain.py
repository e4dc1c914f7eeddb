"""Pure functions: money parsing, signed tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bot.money import AmountError, AmountProblem, format_money, parse_amount, points_worth
from bot.tokens import (
    LinkKind,
    TokenError,
    TokenExpired,
    link_kind,
    make_card_token,
    random_token,
    read_card_token,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KEY = b"k" * 32


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("4.50", 450),
        ("4,50", 450),
        ("€4.50", 450),
        ("4.50 €", 450),
        ("EUR 4.50", 450),
        ("4.50eur", 450),
        ("12", 1200),
        (" 0.5 ", 50),
        ("1,234.56", 123456),
        ("1,000", 100000),
        ("10000,5", 1000050),
        ("1,00", 100),
        ("0,05", 5),
    ],
)
def test_parse_amount_accepts_what_baristas_type(text: str, minor: int) -> None:
    assert parse_amount(text) == minor


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("4,50", 450),
        ("4.50", 450),
        ("4,50 €", 450),
        ("1.000", 100000),
        ("1.234,56", 123456),
        ("1.5", 150),
        ("12", 1200),
    ],
)
def test_parse_amount_in_a_comma_decimal_locale(text: str, minor: int) -> None:
    assert parse_amount(text, locale="de_DE") == minor


@pytest.mark.parametrize(
    ("text", "locale", "readings"),
    [
        # A thousands separator must never silently divide an amount by 1,000.
        ("1,000", "de_DE", ("1.000", "1000")),
        ("1.000", "en_US", ("1.000", "1000")),
        ("4.500", "en_US", ("4.500", "4500")),
        ("1,000", "fr_FR", ("1.000", "1000")),
        ("1.234,5", "en_US", ("1.2345", "1234.5")),
        ("1,234.5", "de_DE", ("1.2345", "1234.5")),
    ],
)
def test_ambiguous_amounts_are_refused_with_both_readings(
    text: str, locale: str, readings: tuple[str, ...]
) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, locale=locale, max_minor=10_000_000)
    assert caught.value.problem is AmountProblem.AMBIGUOUS
    assert caught.value.readings == tuple(Decimal(r) for r in readings)


def test_an_amount_exactly_at_the_maximum_is_accepted() -> None:
    assert parse_amount("200", max_minor=20_000) == 20_000
    assert parse_amount("200.00", max_minor=20_000) == 20_000
    with pytest.raises(AmountError) as caught:
        parse_amount("200.01", max_minor=20_000)
    assert caught.value.problem is AmountProblem.TOO_LARGE


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("abc", AmountProblem.NOT_A_NUMBER),
        ("abc4", AmountProblem.NOT_A_NUMBER),
        ("USD 4", AmountProblem.NOT_A_NUMBER),
        ("", AmountProblem.NOT_A_NUMBER),
        ("4.5.0", AmountProblem.NOT_A_NUMBER),
        ("1e3", AmountProblem.NOT_A_NUMBER),
        ("nan", AmountProblem.NOT_A_NUMBER),
        ("0", AmountProblem.NOT_POSITIVE),
        ("-3", AmountProblem.NOT_POSITIVE),
        ("4.555", AmountProblem.TOO_MANY_DECIMALS),
        ("①", AmountProblem.NOT_A_NUMBER),
        ("²", AmountProblem.NOT_A_NUMBER),
        ("٤", AmountProblem.NOT_A_NUMBER),
        ("4 50 1", AmountProblem.TOO_LARGE),
        ("100000", AmountProblem.TOO_LARGE),
    ],
)
def test_parse_amount_rejects_bad_input(text: str, problem: AmountProblem) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, max_minor=50_000)
    assert caught.value.problem is problem


def test_parse_amount_respects_the_currency_exponent() -> None:
    assert parse_amount("500", exponent=0) == 500
    with pytest.raises(AmountError):
        parse_amount("5.5", exponent=0)


def test_format_money() -> None:
    assert format_money(450, "EUR") == "€4.50"
    assert format_money(450, "CHF") == "CHF4.50"
    assert format_money(500, "JPY", 0) == "¥500"
    assert format_money(123450, "EUR", locale="de_DE") == "1.234,50\xa0€"
    assert format_money(-450, "EUR") == "-€4.50"


def test_points_worth_rounds_down() -> None:
    assert points_worth(7, Decimal("0.05")) == 35
    assert points_worth(1, Decimal("0.005")) == 0


def test_card_token_round_trip_and_limits() -> None:
    token = make_card_token(12345, NOW + timedelta(minutes=10), KEY)
    assert len(token) <= 64 and link_kind(token) is LinkKind.CARD
    assert read_card_token(token, KEY, NOW) == 12345


def test_card_token_rejects_forgery_other_keys_and_expiry() -> None:
    token = make_card_token(1, NOW + timedelta(minutes=10), KEY)
    with pytest.raises(TokenError):
        read_card_token(token, b"other key", NOW)
    with pytest.raises(TokenError):
        read_card_token(token[:-2], KEY, NOW)
    with pytest.raises(TokenError):
        read_card_token("c" + token[1:], KEY, NOW)
    with pytest.raises(TokenExpired):
        read_card_token(token, KEY, NOW + timedelta(minutes=10))


def test_static_card_token_has_no_expiry() -> None:
    token = make_card_token(1, None, KEY)
    assert read_card_token(token, KEY, NOW + timedelta(days=3650)) == 1


def test_random_tokens_are_valid_deep_link_payloads() -> None:
    token = random_token(LinkKind.COUPON)
    assert link_kind(token) is LinkKind.COUPON
    assert token != random_token(LinkKind.COUPON)


@pytest.mark.parametrize("payload", ["", "x" * 65, "m+abc", "m abc", "mé", "?abc"])
def test_link_kind_rejects_malformed_payloads(payload: str) -> None:
    assert link_kind(payload) is None


def test_card_token_rejects_non_canonical_spellings() -> None:
    token = make_card_token(1, None, KEY)
    # The last base64 character also carries padding bits that lenient decoders ignore.
    for replacement in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_":
        variant = token[:-1] + replacement
        if variant != token:
            with pytest.raises(TokenError):
                read_card_token(variant, KEY, NOW)


def test_earning_rule_floors_the_product_of_all_factors() -> None:
    from bot.earning import points_for_purchase

    assert points_for_purchase(450, exponent=2, points_per_unit=Decimal(1)) == 4
    assert points_for_purchase(1240, exponent=2, points_per_unit=Decimal(1),
                               category_multiplier=Decimal(2)) == 24  # fmt: skip
    assert (
        points_for_purchase(
            1000,
            exponent=2,
            points_per_unit=Decimal("1.5"),
            category_multiplier=Decimal(2),
            tier_multiplier=Decimal("1.25"),
            offer_multiplier=Decimal(2),
        )
        == 75
    )
    # 0.1 + 0.2 style float errors cannot creep in: 3 × 0.1 points per unit stays 0.3.
    assert points_for_purchase(300, exponent=2, points_per_unit=Decimal("0.1")) == 0
    assert points_for_purchase(999, exponent=2, points_per_unit=Decimal(1)) == 9
    assert points_for_purchase(500, exponent=0, points_per_unit=Decimal("0.01")) == 5


def test_categories_parse_in_order_with_default_multiplier() -> None:
    from bot.earning import parse_categories

    parsed = parse_categories("coffee:1, food, beans:×2")
    assert [(c.name, c.multiplier) for c in parsed] == [
        ("coffee", Decimal(1)), ("food", Decimal(1)), ("beans", Decimal(2))
    ]  # fmt: skip
    assert parse_categories("") == ()
    for bad in ("coffee:x", "coffee,coffee", ":2", "a:-1"):
        with pytest.raises(ValueError):
            parse_categories(bad)


def test_tiers_by_points_earned() -> None:
    from bot.tiers import next_tier, parse_tiers, tier_for

    tiers = parse_tiers("Gold:1500:1.5, Bronze:0:1, Silver:500:1.25")
    assert [t.name for t in tiers] == ["Bronze", "Silver", "Gold"]
    assert tier_for(0, tiers).name == "Bronze"
    assert tier_for(499, tiers).name == "Bronze"
    assert tier_for(500, tiers).name == "Silver"
    assert tier_for(10_000, tiers).name == "Gold"
    assert next_tier(499, tiers).name == "Silver"  # type: ignore[union-attr]
    assert next_tier(1500, tiers) is None
    for bad in ("Silver:500:1.25", "Bronze:0", "Bronze:0:1,Silver:0:2", "Bronze:x:1"):
        with pytest.raises(ValueError):
            parse_tiers(bad)


def test_a_payload_of_exactly_64_characters_is_a_link_and_65_is_not() -> None:
    assert link_kind("m" + "A" * 63) is LinkKind.CARD
    assert link_kind("c" + "_" * 63) is LinkKind.COUPON
    assert link_kind("m" + "A" * 64) is None


@pytest.mark.parametrize(
    ("text", "value"), [("2", 2), ("x2", 2), ("×1.5", Decimal("1.5")), ("0.5", Decimal("0.5"))]
)
def test_multipliers_as_people_write_them(text: str, value: Decimal) -> None:
    from bot.earning import parse_multiplier

    assert parse_multiplier(text) == value


@pytest.mark.parametrize("text", ["-1", "x", "NaN", "Infinity", ""])
def test_multipliers_refused(text: str) -> None:
    from bot.earning import parse_multiplier

    with pytest.raises(ValueError):
        parse_multiplier(text)


def test_a_half_multiplier_halves_and_floors() -> None:
    from bot.earning import points_for_purchase

    assert points_for_purchase(1000, exponent=2, points_per_unit=Decimal(1),
                               offer_multiplier=Decimal("0.5")) == 5  # fmt: skip
    assert points_for_purchase(1100, exponent=2, points_per_unit=Decimal(1),
                               tier_multiplier=Decimal("0.5")) == 5  # fmt: skip


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("7", 7), ("#12", 12), (" 42 ", 42), (str(2**63 - 1), 2**63 - 1)],
)
def test_parse_int_takes_ascii_whole_numbers(text: str, value: int) -> None:
    from bot.inputs import parse_int

    assert parse_int(text) == value


@pytest.mark.parametrize(
    "text", ["", "-1", "①", "²", "٤", "1.5", "1e3", "9" * 30, str(2**63), "##1", "1 2", "+1"]
)
def test_parse_int_refuses_anything_else(text: str) -> None:
    from bot.inputs import parse_int

    assert parse_int(text) is None


def test_parse_int_range() -> None:
    from bot.inputs import parse_int

    assert parse_int("1", low=1, high=10) == 1
    assert parse_int("10", low=1, high=10) == 10
    assert parse_int("0", low=1, high=10) is None
    assert parse_int("11", low=1, high=10) is None
