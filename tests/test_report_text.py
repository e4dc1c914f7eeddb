"""The accounting report's one renderer: the chat's /report and ``loyalty-bot report``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from fractions import Fraction
from functools import partial
from zoneinfo import ZoneInfo

from bot.accounting import MICRO, Deferral, RollForward, apportion, to_minor
from bot.periods import Period
from bot.periods import month as month_period
from bot.services.reports import CHAIN_WIDE, AccountingReport
from bot.settings import Settings
from handlers.report_text import localized, plain, render
from handlers.texts import t
from sandbox.botapi import TOKEN

ISSUED = {"purchase": 12, "offer_bonus": 0, "birthday": 50, "referral": 100, "winback": 0}


def report(*, balances_now: int | None = 1_234_736) -> AccountingReport:
    return AccountingReport(
        period=Period(date(2026, 11, 1), date(2026, 11, 29), ZoneInfo("Europe/Berlin")),
        roll=RollForward(
            opening=1_234_567,
            issued={**ISSUED, "manual": 7},
            reversed=-3,
            redeemed=-40,
            refunded=2,
            closing=1_234_695,
        ),
        deferral=Deferral(
            deferred_in_period=1234,
            recognised_in_period=-5,
            deferred_to_date=99,
            recognised_to_date=1,
            contract_liability=123_456_789,
        ),
        rate_at_end=955_000,
        observed_rate=Fraction(2, 3),
        liability_face=4500,
        liability_expected=-7,
        bonus_issued=157,
        bonus_cost=3,
        balances_now=balances_now,
    )


def settings(locale: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, bot_token=TOKEN, locale=locale, currency="EUR", currency_exponent=2
    )


def test_the_command_line_prints_aligned_plain_columns() -> None:
    assert render(report(), plain(settings("en_US"))).split("\n") == [
        "Points and revenue: 01 Nov 2026 – 29 Nov 2026",
        "",
        "Points roll-forward",
        "  opening balance                      1234567",
        "  issued: purchase                         +12",
        "  issued: offer bonus                       +0",
        "  issued: birthday                         +50",
        "  issued: referral                        +100",
        "  issued: winback                           +0",
        "  issued: manual                            +7",
        "  reversed (undo)                           -3",
        "  redeemed                                 -40",
        "  refunded                                  +2",
        "  expired                                   +0",
        "  closing balance                      1234695",
        "",
        "Liability: €45.00 at face value, -€0.07 at the expected redemption rate of 95.5%",
        "",
        "Revenue (IFRS 15)",
        "  deferred in the period                €12.34",
        "  recognised in the period              -€0.05",
        "  contract liability at the end   €1,234,567.89",
        "  bonus points given without a sale: 157, marketing cost €0.03",
    ]


def test_the_chat_reads_the_same_report_in_the_readers_texts_and_locale() -> None:
    english = partial(t, "en")
    assert render(report(), localized(settings("de_DE"), "en", english)).split("\n") == [
        "📒 <b>Points and revenue — Nov 1\u2009–\u200929, 2026</b>",
        "",
        "<b>Points roll-forward</b>",
        "Opening balance: <b>1,234,567</b>",
        "Issued for purchases: <b>+12</b>",
        "Issued by offers: <b>0</b>",
        "Birthday treats: <b>+50</b>",
        "Referral bonuses: <b>+100</b>",
        "Win-back bonuses: <b>0</b>",
        "Manual bonuses: <b>+7</b>",
        "Undone purchases: <b>-3</b>",
        "Redeemed for coupons: <b>-40</b>",
        "Refunded (coupons cancelled or expired): <b>+2</b>",
        "Expired: <b>0</b>",
        "= Closing balance: <b>1,234,695</b>",
        "⚠️ The members' balances add up to 1,234,736: please report this.",
        "",
        "<b>Liability</b>: 1,234,695 points = €45.00 at face value, <b>-€0.07</b> at the"
        " expected redemption rate of 95.5%.",
        "Expected redemption rate: 95.5%; observed so far: 66.7%.",
        "",
        "<b>Revenue (IFRS 15 / ASC 606)</b>",
        "Deferred in the period: <b>€12.34</b>",
        "Recognised in the period: <b>-€0.05</b>",
        "Contract liability at the end: <b>€1,234,567.89</b>",
        "Bonus points given without a sale: 157, a marketing cost of €0.03 at expected"
        " redemption value.",
        "",
        "The roll-forward and the ledger follow as CSV files.",
    ]
    reconciled = render(report(balances_now=1_234_695), localized(settings("en_US"), "en", english))
    assert "✅ Equals the members' balances now (1,234,695)." in reconciled.split("\n")


def test_a_german_reader_gets_german_numbers_money_and_months_in_an_english_cafe() -> None:
    german = render(report(), localized(settings("en_US"), "de_DE", partial(t, "de_DE")))
    lines = german.split("\n")
    assert lines[0].endswith("1.–29. Nov. 2026</b>")
    figures = ("<b>1.234.567</b>", "<b>1.234.695</b>", "45,00\xa0€", "<b>-0,07\xa0€</b>",
               "<b>1.234.567,89\xa0€</b>", "95,5\xa0%", "66,7\xa0%", "<b>+100</b>")  # fmt: skip
    for figure in figures:
        assert figure in german, figure
    assert "€" not in german.replace("\xa0€", "")  # the euro sign after the amount only
    month = replace(report(), period=month_period(2026, 11, ZoneInfo("Europe/Berlin")))
    russian = render(month, localized(settings("en_US"), "ru", partial(t, "ru")))
    assert "ноябрь 2026\u202fг." in russian.split("\n")[0]
    assert "1\xa0234\xa0567" in russian


def test_a_chains_report_has_a_line_per_location_and_a_part_its_own_title() -> None:
    whole = report()
    main = replace(whole, location_id=1, location="Main", balances_now=None)
    chain_wide = replace(whole, location_id=CHAIN_WIDE, balances_now=None)
    lines = render(replace(whole, parts=(main, chain_wide)), plain(settings("en_US"))).split("\n")
    assert lines[-4:] == [
        "",
        "By location (these add up to the figures above)",
        "  Main: closing 1234695 (+128 in the period), deferred €12.34, recognised -€0.05,"
        " contract liability €1,234,567.89",
        "  chain-wide: closing 1234695 (+128 in the period), deferred €12.34, recognised"
        " -€0.05, contract liability €1,234,567.89",
    ]
    at_main = render(main, plain(settings("en_US"))).split("\n")
    assert at_main[:2] == [
        "Points and revenue at Main: 01 Nov 2026 – 29 Nov 2026",
        "  Only this location's purchases and their undos: redemptions, refunds, expiry and"
        " bonuses are chain-wide.",
    ]
    chat = render(chain_wide, localized(settings("en_US"), "en", partial(t, "en")))
    assert chat.startswith(
        "📒 <b>Points and revenue — chain-wide — Nov 1\u2009–\u200929, 2026</b>\n"
    )
    parts = render(replace(whole, parts=(main, chain_wide)), localized(settings("en_US"), "en",
                   partial(t, "en"))).split("\n")  # fmt: skip
    assert parts[-5:-2] == [
        "<b>By location</b> (these add up to the figures above)",
        "Main: closing <b>1,234,695</b> (+128); deferred €12.34, recognised -€0.05, contract"
        " liability €1,234,567.89",
        "🌐 Chain-wide: closing <b>1,234,695</b> (+128); deferred €12.34, recognised -€0.05,"
        " contract liability €1,234,567.89",
    ]
    assert "members' balances" not in chat


def test_apportioned_parts_add_up_to_the_rounded_whole() -> None:
    half = Fraction(MICRO, 2)  # half a cent each: rounded alone, each would be a cent
    assert apportion([half, half, half], to_minor) == [1, 0, 1]
    assert sum(apportion([half, half, half], to_minor)) == to_minor(3 * half) == 2
    assert apportion([Fraction(-MICRO, 2), half], to_minor) == [-1, 1]
    assert apportion([], to_minor) == []
