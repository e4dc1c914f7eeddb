"""Bot API faults during a scan: nothing written twice, nothing lost, and the customer's
receipt arrives later instead of never."""

from __future__ import annotations

import asyncio

from tests.conftest import BotHarness

BARISTA_ID = 3001


async def outbox_empty(bot: BotHarness) -> bool:
    return await bot.services.outbox.count_pending() == 0


async def deliver(bot: BotHarness) -> None:
    for _ in range(400):
        bot.app.bot_data.broadcaster.wake()
        if await outbox_empty(bot):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the outbox kept messages")


async def test_a_receipt_that_fails_is_delivered_later(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    bot.fake.expected_error_codes.update({500, 502, 504})
    receipts_before = [m for m in alice.messages if m.body.startswith("🧾")]

    # Telegram answers 502, then 504, to Alice's receipt: the barista is still confirmed.
    await bot.scan(anna, alice)
    bot.fake.inject_error(alice.chat_id, 502, "Bad Gateway")
    (confirmation,) = await anna.send("4.50")
    assert confirmation.body.startswith("✅ +4 points for Alice")
    assert await bot.services.outbox.count_pending() == 1
    bot.fake.inject_error(alice.chat_id, 504, "Gateway Timeout")
    await asyncio.sleep(0.1)
    bot.clock.advance(seconds=6)  # past the first back-off
    await deliver(bot)
    receipts = [m for m in alice.messages if m.body.startswith("🧾")]
    assert len(receipts) - len(receipts_before) == 1  # exactly one, late

    # A dropped connection on Bob's receipt: Telegram may or may not have it; it is
    # queued and sent, and the entry exists once.
    await bot.scan(anna, bob)
    bot.fake.inject_drop(bob.chat_id)
    (confirmation,) = await anna.send("3.00")
    assert confirmation.body.startswith("✅ +3 points for Bob")
    await deliver(bot)
    assert sum(m.body.startswith("🧾 +3 points") for m in bob.messages) == 1
    assert [e["points"] for e in await bot.ledger()] == [4, 3]


async def test_a_failed_confirmation_is_not_issued_twice(bot: BotHarness) -> None:
    anna = await bot.hire(BARISTA_ID, "Anna")
    alice = await bot.customer(2001, "Alice")
    bot.fake.expected_error_codes.update({500, 502})
    await bot.scan(anna, alice)
    # The barista's confirmation fails: the entry is written, the barista cannot see it.
    bot.fake.inject_error(anna.chat_id, 502, "Bad Gateway", times=2)
    await anna.send("4.50")
    # So the barista scans again and types the amount again: the duplicate check asks
    # before anything is written.
    await bot.scan(anna, alice)
    (again,) = await anna.send("4.50")
    assert again.body.startswith("⚠️ Looks like a duplicate: Alice got 4 points for €4.50")
    assert [e["points"] for e in await bot.ledger()] == [4]
    assert sum(m.body.startswith("🧾") for m in alice.messages) == 1
