"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

from bot.qr import decode
from sandbox.botapi import BOT_USERNAME, FakeUser, SentMessage


def link_payload(url_text: str) -> str:
    url = urlparse(url_text)
    assert (url.scheme, url.netloc, url.path) == ("https", "t.me", f"/{BOT_USERNAME}"), url_text
    (payload,) = parse_qs(url.query)["start"]
    return payload


def qr_payload(photo: bytes | None) -> str:
    """Decode a QR photo the way a phone camera would, into its start payload."""
    assert photo, "no photo"
    texts = decode(photo)
    assert len(texts) == 1, texts
    return link_payload(texts[0])


def card_code(card: SentMessage) -> str:
    found = re.search(r"<code>([A-Z0-9]{6})</code>", card.raw)
    assert found, card.raw
    return found.group(1)


def first_link(message: SentMessage) -> str:
    found = re.search(r"https://t\.me/\S+", message.body)
    assert found, message.body
    return found.group(0)


async def show_card(customer: FakeUser) -> SentMessage:
    (card,) = await customer.send("/card")
    return card
