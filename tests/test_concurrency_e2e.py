"""Many chats at once: side by side, each chat in order, every entry exactly once."""

from __future__ import annotations

import asyncio

from sandbox.botapi import FakeUser
from tests.conftest import BotHarness
from tests.helpers import qr_payload, show_card


async def test_twenty_baristas_at_once(bot: BotHarness) -> None:
    baristas = [await bot.hire(3000 + n, f"Barista{n}") for n in range(20)]
    customers = [await bot.customer(2000 + n, f"Guest{n}") for n in range(20)]

    async def serve(barista: FakeUser, customer: FakeUser, amount: str) -> str:
        await bot.scan(barista, customer)
        (confirmation,) = await barista.send(amount)
        return confirmation.body

    confirmations = await asyncio.gather(
        *(serve(b, c, f"{n + 1}") for n, (b, c) in enumerate(zip(baristas, customers, strict=True)))
    )
    for n, body in enumerate(confirmations):
        points = "1 point" if n == 0 else f"{n + 1} points"
        assert body.startswith(f"✅ +{points} for Guest{n}"), body
    entries = await bot.ledger()
    expected = []
    for n in range(20):
        member = await bot.services.members.find(2000 + n)
        assert member is not None
        expected.append((member.id, n + 1))
    assert sorted((e["member_id"], e["points"]) for e in entries) == sorted(expected)
    for n, customer in enumerate(customers):
        points = "1 point" if n == 0 else f"{n + 1} points"
        assert customer.last.body.startswith(f"🧾 +{points} for your purchase")


async def test_one_chats_updates_stay_in_order(bot: BotHarness) -> None:
    anna = await bot.hire(3001, "Anna")
    alice = await bot.customer(2001, "Alice")
    card = await show_card(alice)
    # The scan and the amount arrive together: the amount must wait for the scan.
    scan = bot.fake.push_update({"message": anna.message(
        text=f"/start {qr_payload(card.photo)}",
        entities=[{"type": "bot_command", "offset": 0, "length": 6}],
    )})  # fmt: skip
    amount = bot.fake.push_update({"message": anna.message(text="4.50")})
    await bot.fake.wait_processed(scan)
    await bot.fake.wait_processed(amount)
    bodies = [m.body for m in anna.messages[-2:]]
    assert bodies[0].startswith("👤 Alice") and bodies[1].startswith("✅ +4 points for Alice")


async def test_a_slow_counter_holds_up_no_other(bot: BotHarness) -> None:
    anna = await bot.hire(3001, "Anna")
    ben = await bot.hire(3002, "Ben")
    alice = await bot.customer(2001, "Alice")
    bob = await bot.customer(2002, "Bob")
    await bot.scan(anna, alice)
    released = asyncio.Event()
    bot.fake.slow_chats[anna.chat_id] = released  # Telegram hangs on Anna's replies
    slow = asyncio.create_task(anna.send("4.50", timeout=30))
    await asyncio.sleep(0.05)
    await bot.scan(ben, bob)
    (confirmation,) = await ben.send("3.00")
    assert confirmation.body.startswith("✅ +3 points for Bob")
    assert not slow.done()  # Ben was served while Anna's reply was still hanging
    released.set()
    (anna_confirmation,) = await slow
    assert anna_confirmation.body.startswith("✅ +4 points for Alice")
