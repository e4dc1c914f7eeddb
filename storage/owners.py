"""Owners who claimed the bot with its one-time owner link, and those links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.engine import Conn, sql
from storage.timeutil import from_db, to_db

_ALL_IDS = sql("SELECT tg_user_id FROM owners ORDER BY added_at, tg_user_id")
_IS_OWNER = sql("SELECT 1 AS found FROM owners WHERE tg_user_id = :tg_user_id")
_DROP_UNUSED_CLAIMS = sql("DELETE FROM owner_claims WHERE used_by IS NULL")
_ADD_CLAIM = sql(
    "INSERT INTO owner_claims (token_hash, nonce, created_at, expires_at)"
    " VALUES (:token_hash, :nonce, :created_at, :expires_at)"
)
# An unused claim that can no longer be used or shown (expired, or made before its link
# could be derived again) makes room for a new one.
_DROP_DEAD_CLAIMS = sql(
    "DELETE FROM owner_claims WHERE used_by IS NULL AND (expires_at <= :now OR nonce IS NULL)"
)
# At most one unused claim (the unique index owner_claims_open): of replicas starting at
# once, the first insert wins and the others' do nothing, then all read the same claim.
_ADD_CLAIM_IF_NONE = sql(
    "INSERT INTO owner_claims (token_hash, nonce, created_at, expires_at)"
    " VALUES (:token_hash, :nonce, :created_at, :expires_at) ON CONFLICT DO NOTHING"
)
_OPEN_CLAIM = sql("SELECT token_hash, nonce, expires_at FROM owner_claims WHERE used_by IS NULL")
# The claim is spent by one conditional UPDATE, whose row count says who won: of two
# openers at once, the second waits for the first's row lock (PostgreSQL) or its
# transaction (SQLite), then finds the claim used and changes nothing.
_SPEND_CLAIM = sql(
    "UPDATE owner_claims SET used_by = :tg_user_id, used_at = :now"
    " WHERE token_hash = :token_hash AND used_by IS NULL AND expires_at > :now"
    " AND NOT EXISTS (SELECT 1 FROM owners)"
)
_ADD_OWNER = sql(
    "INSERT INTO owners (tg_user_id, added_at, added_by) VALUES (:tg_user_id, :now, 'claim link')"
)


async def all_ids(conn: Conn) -> tuple[int, ...]:
    return tuple(int(row["tg_user_id"]) for row in await conn.all(_ALL_IDS))


async def is_owner(conn: Conn, tg_user_id: int) -> bool:
    return await conn.one(_IS_OWNER, tg_user_id=tg_user_id) is not None


@dataclass(frozen=True, slots=True)
class OpenClaim:
    token_hash: str
    nonce: str | None
    expires_at: datetime


async def replace_claim(
    tx: Conn, token_hash: str, now: datetime, expires_at: datetime, nonce: str | None = None
) -> None:
    """A fresh claim link; any earlier unused one stops working."""
    await tx.run(_DROP_UNUSED_CLAIMS)
    await tx.run(
        _ADD_CLAIM,
        token_hash=token_hash,
        nonce=nonce,
        created_at=to_db(now),
        expires_at=to_db(expires_at),
    )


async def open_claim(
    tx: Conn, token_hash: str, nonce: str, now: datetime, expires_at: datetime
) -> OpenClaim:
    """The unused, unexpired claim: the one there is, else this new one."""
    await tx.run(_DROP_DEAD_CLAIMS, now=to_db(now))
    await tx.run(
        _ADD_CLAIM_IF_NONE,
        token_hash=token_hash,
        nonce=nonce,
        created_at=to_db(now),
        expires_at=to_db(expires_at),
    )
    row = await tx.one(_OPEN_CLAIM)
    assert row is not None, "a claim was just written or found"
    return OpenClaim(row["token_hash"], row["nonce"], from_db(row["expires_at"]))


async def use_claim(tx: Conn, token_hash: str, tg_user_id: int, now: datetime) -> bool:
    """Spend the claim (once, before it expires, while nobody owns the bot yet)."""
    spent = await tx.run(_SPEND_CLAIM, tg_user_id=tg_user_id, now=to_db(now), token_hash=token_hash)
    if spent != 1:
        return False
    await tx.run(_ADD_OWNER, tg_user_id=tg_user_id, now=to_db(now))
    return True
