"""The routing bot/app.py states once: private chats only, and the free-text route."""

from __future__ import annotations

from tests.conftest import BotHarness

GROUP_ID = -100_123


async def test_messages_in_a_group_are_ignored(bot: BotHarness) -> None:
    """Someone adds the bot to a group and types there: nothing answers in the group (the
    same person still gets answers in their own chat)."""
    anna = bot.user(501, "Anna")
    for text in ("/start", "/balance", "42", "hello"):
        message = anna.message(text=text)
        message["chat"] = {"id": GROUP_ID, "type": "group", "title": "Regulars"}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
        update_id = bot.fake.push_update({"message": message})
        await bot.fake.wait_processed(update_id)
    assert bot.fake.sent[GROUP_ID] == []
    assert await bot.services.members.find(anna.id) is None

    (welcome,) = await anna.send("/start")
    assert "Welcome" in welcome.body


async def test_free_text_is_an_amount_then_a_comment_then_a_pointer(bot: BotHarness) -> None:
    """One route for what people type: a barista's amount, a member's comment to the score
    just given, else a pointer to the buttons."""
    barista = await bot.hire(601, "Ben")
    anna = await bot.customer(602, "Anna")

    # A customer's number is no amount: it gets the pointer, and nothing is issued.
    (pointer,) = await anna.send("12")
    assert "buttons" in pointer.body.lower()
    assert (await bot.services.members.find(anna.id)).balance == 0  # type: ignore[union-attr]

    # A barista with an open scan: the text is the amount.
    await bot.scan(barista, anna)
    replies = await barista.send("4.50")
    assert any("Anna" in reply.body and "4.50" in reply.body for reply in replies), replies
    assert (await bot.services.members.find(anna.id)).balance > 0  # type: ignore[union-attr]

    # A barista's words with no open scan and no digit: the pointer, not an amount error.
    (unknown,) = await barista.send("thanks")
    assert unknown.body == pointer.body

    # An unknown command ends on the same route.
    (unknown_command,) = await anna.send("/frobnicate")
    assert unknown_command.body == pointer.body
