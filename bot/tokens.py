"""Deep-link payloads: signed, expiring member-card tokens and random one-time tokens.

A Telegram deep-link payload may hold at most 64 characters of ``[A-Za-z0-9_-]``. The
first character says what the link is for; the rest is URL-safe base64 without padding.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
from datetime import UTC, datetime
from enum import StrEnum

MAX_PAYLOAD_LENGTH = 64
_MAC_BYTES = 12
_CARD_BODY = struct.Struct(">II")  # member id, expiry (unix seconds, 0 = never)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class LinkKind(StrEnum):
    CARD = "m"
    COUPON = "c"
    STAFF_INVITE = "i"
    REFERRAL = "r"
    OWNER_CLAIM = "o"


class TokenError(ValueError):
    """The payload is malformed or its signature does not match."""


class TokenExpired(TokenError):
    """The payload was genuine but its validity has passed."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict decoding: only the canonical spelling of the bytes is accepted, so no two
    different payloads (differing in ignored padding bits) stand for the same token."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise TokenError("not base64") from exc
    if _b64encode(raw) != text:
        raise TokenError("not canonical base64")
    return raw


def _mac(key: bytes, kind: LinkKind, body: bytes) -> bytes:
    return hmac.new(key, kind.value.encode() + body, hashlib.sha256).digest()[:_MAC_BYTES]


def make_card_token(member_id: int, expires_at: datetime | None, key: bytes) -> str:
    """Sign a member card. ``expires_at=None`` makes a static (printable) card."""
    expiry = 0 if expires_at is None else int(expires_at.timestamp())
    body = _CARD_BODY.pack(member_id, expiry)
    return LinkKind.CARD.value + _b64encode(body + _mac(key, LinkKind.CARD, body))


def read_card_token(payload: str, key: bytes, now: datetime) -> int:
    """Return the member id in a card token, or raise TokenError / TokenExpired."""
    if not payload.startswith(LinkKind.CARD.value):
        raise TokenError("not a card")
    raw = _b64decode(payload[1:])
    if len(raw) != _CARD_BODY.size + _MAC_BYTES:
        raise TokenError("wrong length")
    body, mac = raw[: _CARD_BODY.size], raw[_CARD_BODY.size :]
    if not hmac.compare_digest(mac, _mac(key, LinkKind.CARD, body)):
        raise TokenError("bad signature")
    member_id, expiry = _CARD_BODY.unpack(body)
    if expiry and datetime.fromtimestamp(expiry, UTC) <= now:
        raise TokenExpired("card expired")
    return int(member_id)


def random_token(kind: LinkKind, nbytes: int = 16) -> str:
    """An unguessable one-time payload such as a coupon or staff invite."""
    return kind.value + _b64encode(secrets.token_bytes(nbytes))


def short_code(length: int = 6) -> str:
    """A code people can read aloud and type: no 0/O or 1/I look-alikes."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def link_kind(payload: str) -> LinkKind | None:
    """Which feature a deep-link payload belongs to, if it is well-formed at all."""
    if not payload or len(payload) > MAX_PAYLOAD_LENGTH:
        return None
    if not all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in payload):
        return None
    try:
        return LinkKind(payload[0])
    except ValueError:
        return None
