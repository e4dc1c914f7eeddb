"""The sandbox's rendering: Telegram's HTML into node trees, keyboards, edits, deep links."""

from __future__ import annotations

import aiohttp
import pytest

from sandbox.botapi import TOKEN, ApiError, FakeTelegram, SentMessage
from sandbox.view import autolink, bot_message, text_nodes, typed_message


def test_html_becomes_a_tree_of_known_tags() -> None:
    nodes = text_nodes(
        "<b>Anna</b> · <i>Bronze</i>\n<u>u</u><s>s</s><code>YLR</code>"
        '<a href="https://example.com/x">site</a><tg-spoiler>secret</tg-spoiler>'
        '<span class="tg-spoiler">also</span><pre>a  b</pre><blockquote>q</blockquote>',
        "HTML",
    )
    assert nodes == [
        {"tag": "b", "children": ["Anna"]},
        " · ",
        {"tag": "i", "children": ["Bronze"]},
        "\n",
        {"tag": "u", "children": ["u"]},
        {"tag": "s", "children": ["s"]},
        {"tag": "code", "children": ["YLR"]},
        {"tag": "a", "href": "https://example.com/x", "children": ["site"]},
        {"tag": "spoiler", "children": ["secret"]},
        {"tag": "spoiler", "children": ["also"]},
        {"tag": "pre", "children": ["a  b"]},
        {"tag": "blockquote", "children": ["q"]},
    ]


def test_synonyms_nesting_and_entities() -> None:
    assert text_nodes("<strong>A <em>b</em></strong> &lt;3 &amp; €", "HTML") == [
        {"tag": "b", "children": ["A ", {"tag": "i", "children": ["b"]}]},
        " <3 & €",
    ]


def test_markup_is_text_without_a_parse_mode() -> None:
    assert text_nodes("<b>not bold</b>", None) == ["<b>not bold</b>"]


def test_html_telegram_rejects_is_rejected() -> None:
    with pytest.raises(ApiError, match="unsupported start tag 'div'"):
        text_nodes("<div>x</div>", "HTML")
    with pytest.raises(ApiError, match="unclosed tag"):
        text_nodes("<b>x", "HTML")


def test_urls_and_commands_become_links_as_in_telegram() -> None:
    assert autolink("Join: https://t.me/CafeDemoBot?start=r123. Then /balance, not 1/2.") == [
        "Join: ",
        {"tag": "a", "href": "https://t.me/CafeDemoBot?start=r123", "children": [
            "https://t.me/CafeDemoBot?start=r123"
        ]},
        ". Then ",
        {"tag": "command", "children": ["/balance"]},
        ", not 1/2.",
    ]  # fmt: skip


def test_nothing_is_linked_inside_code_or_links() -> None:
    nodes = text_nodes("<code>/undo https://x.io</code> <a href='https://y.io'>/help</a>", "HTML")
    assert nodes == [
        {"tag": "code", "children": ["/undo https://x.io"]},
        " ",
        {"tag": "a", "href": "https://y.io", "children": ["/help"]},
    ]


def test_inline_and_reply_keyboards() -> None:
    message = SentMessage(
        chat_id=1,
        message_id=7,
        method="sendMessage",
        text="Pick",
        reply_markup={
            "inline_keyboard": [
                [{"text": "Redeem Espresso", "callback_data": "rd:1"}],
                [
                    {"text": "Site", "url": "https://example.com"},
                    {"text": "B", "callback_data": "b"},
                ],
            ]
        },
    )
    view = bot_message(message)
    assert view["buttons"] == [
        [{"text": "Redeem Espresso", "callback_data": "rd:1"}],
        [{"text": "Site", "url": "https://example.com"}, {"text": "B", "callback_data": "b"}],
    ]
    assert "keyboard" not in view
    reply = SentMessage(
        chat_id=1,
        message_id=8,
        method="sendMessage",
        text="Hi",
        reply_markup={"keyboard": [[{"text": "💳 My card"}, "Balance"]], "resize_keyboard": True},
    )
    assert bot_message(reply)["keyboard"] == [["💳 My card", "Balance"]]
    removed = SentMessage(
        chat_id=1, message_id=9, method="sendMessage", text="Bye",
        reply_markup={"remove_keyboard": True},
    )  # fmt: skip
    assert bot_message(removed)["keyboard"] == []


def test_photos_and_documents_link_to_their_files() -> None:
    photo = SentMessage(
        chat_id=1, message_id=3, method="sendPhoto", caption="<b>Card</b>", parse_mode="HTML",
        photo=b"png", photo_file_id="FILE000004",
    )  # fmt: skip
    view = bot_message(photo, scannable=True)
    assert (view["photo"], view["scannable"]) == ("/files/FILE000004", True)
    assert view["nodes"] == [{"tag": "b", "children": ["Card"]}]
    document = SentMessage(
        chat_id=1, message_id=4, method="sendDocument", document=b"a,b",
        document_file_id="FILE000005", document_name="ledger 2026-11.csv",
    )  # fmt: skip
    assert bot_message(document)["document"] == {
        "name": "ledger 2026-11.csv",
        "url": "/files/FILE000005?name=ledger%202026-11.csv",
    }


def test_typed_start_links_show_as_telegram_shows_them() -> None:
    typed = typed_message({"message_id": 5, "text": "/start cABCDEF"})
    assert (typed["from"], typed["nodes"]) == ("user", [{"tag": "command", "children": ["/start"]}])
    sent_photo = typed_message({"message_id": 6, "photo": [{"file_id": "FILE000009"}]})
    assert sent_photo["photo"] == "/files/FILE000009"


async def test_edits_are_shown_in_place_and_announced() -> None:
    fake = FakeTelegram()
    heard: list[tuple[str, int, int]] = []

    def hear(event: str, data: dict[str, object]) -> None:
        message = data.get("message")
        if isinstance(message, SentMessage):
            heard.append((event, message.message_id, message.edits))

    fake.listeners.append(hear)
    await fake.start()
    try:
        fake.known_chats.add(42)
        async with aiohttp.ClientSession() as http:
            api = f"{fake.url}/bot{TOKEN}"
            sent = await (await http.post(f"{api}/sendMessage", json={
                "chat_id": 42, "text": "<b>Scan</b> open",
                "parse_mode": "HTML",
                "reply_markup": {"inline_keyboard": [[{"text": "Cancel", "callback_data": "x"}]]},
            })).json()  # fmt: skip
            message_id = sent["result"]["message_id"]
            await http.post(f"{api}/editMessageText", json={
                "chat_id": 42, "message_id": message_id, "text": "Scan <i>closed</i>",
                "parse_mode": "HTML",
            })  # fmt: skip
        (message,) = fake.sent[42]
        view = bot_message(message)
        assert view["id"] == message_id
        assert view["nodes"] == ["Scan ", {"tag": "i", "children": ["closed"]}]
        assert (view["edited"], view["buttons"]) == (True, [])
        assert heard == [("sent", message_id, 0), ("sent", message_id, 1)]
    finally:
        await fake.stop()
