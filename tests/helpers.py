"""Small helpers shared by the end-to-end tests."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import parse_qs, urlparse

from bot.qr import decode
from sandbox.botapi import BOT_USERNAME, FakeTelegram, FakeUser, SentMessage
from storage import Conn
from storage import locations as location_store
from storage import members as member_store
from storage import staff as staff_store


async def seed_people(
    tx: Conn,
    fake: FakeTelegram,
    *,
    members: Iterable[int],
    baristas: Iterable[int],
    now: datetime,
) -> None:
    """Members and baristas (at the café's one location) written straight into the
    database, each known to the fake Bot API, for tests and benchmarks that start the
    bot on a café with people in it."""
    for user in members:
        await member_store.upsert(
            tx, tg_user_id=user, chat_id=user, first_name=f"M{user}", username=None,
            language="en", now=now,
        )  # fmt: skip
        fake.known_chats.add(user)
    for barista in baristas:
        await staff_store.add(
            tx, tg_user_id=barista, chat_id=barista, first_name=f"B{barista}", added_by=1,
            now=now,
        )  # fmt: skip
        await location_store.place(
            tx, staff_id=barista, location_id=1, role="barista", added_by=1, now=now
        )  # the café's one location, made by migration 15
        fake.known_chats.add(barista)


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
