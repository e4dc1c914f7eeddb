"""The first owner claims the bot with the one-time link from the start-up log."""

from __future__ import annotations

import logging
import re

import pytest

from sandbox.botapi import BOT_USERNAME
from tests.conftest import BotFactory, stop_bot

CLAIM_LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=(o[A-Za-z0-9_-]+)")


def claim_payloads(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        found.group(1)
        for record in caplog.records
        if record.levelno == logging.WARNING
        for found in [CLAIM_LINK.search(record.getMessage())]
        if found
    ]


async def test_the_first_to_open_the_claim_link_becomes_the_owner(
    bot_factory: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await bot_factory(owner_ids=())
    (payload,) = claim_payloads(caplog)
    assert len(payload) <= 64

    olga = bot.user(4001, "Olga")
    (welcome,) = await olga.send(f"/start {payload}")
    assert "Olga, you are now the owner of Bean There" in welcome.body
    assert "staff" in bot.fake.menu_for(olga.chat_id)  # the owner menu
    (overview,) = await olga.send("/staff")
    assert "Invite" in overview.buttons[-1].text
    assert await bot.rows("SELECT tg_user_id FROM owners") == [{"tg_user_id": 4001}]

    # Single use: a second person gets nothing, and stays a customer.
    mallory = bot.user(4002, "Mallory")
    (refused,) = await mallory.send(f"/start {payload}")
    assert "expired or was used already" in refused.body
    (denied,) = await mallory.send("/staff")
    assert "not available for your account" in denied.body

    # A restart with an owner in the database logs no new link.
    await stop_bot(bot)
    caplog.clear()
    await bot_factory(owner_ids=())
    assert claim_payloads(caplog) == []


async def test_a_claim_link_expires_and_a_restart_replaces_it(
    bot_factory: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await bot_factory(owner_ids=())
    (first,) = claim_payloads(caplog)
    bot.clock.advance(hours=24, seconds=1)
    (late,) = await bot.user(4001, "Olga").send(f"/start {first}")
    assert "expired or was used already" in late.body

    await stop_bot(bot)
    caplog.clear()
    again = await bot_factory(owner_ids=())
    (second,) = claim_payloads(caplog)
    assert second != first
    (refused,) = await again.user(4001, "Olga").send(f"/start {first}")
    assert "expired or was used already" in refused.body
    (welcome,) = await again.user(4001, "Olga").send(f"/start {second}")
    assert "you are now the owner" in welcome.body


async def test_owner_ids_win_and_no_claim_link_is_made(
    bot_factory: BotFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    bot = await bot_factory()  # OWNER_IDS set
    assert claim_payloads(caplog) == []
    forged = "o" + "A" * 22
    (refused,) = await bot.user(4001, "Olga").send(f"/start {forged}")
    assert "expired or was used already" in refused.body
    assert await bot.value("SELECT COUNT(*) FROM owners") == 0
