"""Coupons: rewards bought with points, redeemed once at the counter.

A coupon leaves ``issued`` only through :func:`close`, a conditional update: of two
transactions closing one coupon at once (two baristas confirming, a customer cancelling
while the expiry job runs), exactly one changes the row and learns so from the row
count; the other changes nothing."""

from __future__ import annotations

from datetime import datetime

from bot.domain import Coupon, CouponState
from storage.engine import Conn, Row, Statement, sql
from storage.timeutil import from_db, from_db_optional, to_db

_COLUMNS = (
    "id, token, code, member_id, reward_id, title, cost, state, issued_at, expires_at,"
    " closed_at, closed_by, closed_by_name, debit_entry_id, refund_entry_id,"
    " redeemed_location_id"
)

_CREATE = sql(
    "INSERT INTO coupons (token, code, member_id, reward_id, title, cost, issued_at,"
    " expires_at, debit_entry_id, offer_id) VALUES (:token, :code, :member_id, :reward_id,"
    " :title, :cost, :issued_at, :expires_at, :debit_entry_id, :offer_id)"
    f" ON CONFLICT (offer_id, member_id) DO NOTHING RETURNING {_COLUMNS}"
)
_BY_ID = sql(f"SELECT {_COLUMNS} FROM coupons WHERE id = :value")
_BY_TOKEN = sql(f"SELECT {_COLUMNS} FROM coupons WHERE token = :value")
_BY_CODE = sql(f"SELECT {_COLUMNS} FROM coupons WHERE code = :value")
_BY_DEBIT_ENTRY = sql(f"SELECT {_COLUMNS} FROM coupons WHERE debit_entry_id = :value")
_OPEN_FOR_MEMBER = sql(
    f"SELECT {_COLUMNS} FROM coupons WHERE member_id = :member_id AND state = 'issued'"
    " ORDER BY expires_at, id"
)
_DUE_FOR_EXPIRY = sql(
    f"SELECT {_COLUMNS} FROM coupons WHERE state = 'issued' AND expires_at <= :now"
    " ORDER BY id LIMIT :limit"
)
_CLOSE = sql(
    "UPDATE coupons SET state = :state, closed_at = :now, closed_by = :by,"
    " closed_by_name = :by_name, refund_entry_id = :refund_entry_id,"
    " redeemed_location_id = :location_id WHERE id = :id AND state = 'issued'"
)
_SET_REFUND = sql(
    "UPDATE coupons SET refund_entry_id = :refund_entry_id"
    " WHERE id = :id AND refund_entry_id IS NULL"
)
_REMEMBER_MESSAGE = sql(
    "INSERT INTO coupon_messages (coupon_id, chat_id, message_id)"
    " VALUES (:coupon_id, :chat_id, :message_id) ON CONFLICT DO NOTHING"
)
_MESSAGES = sql(
    "SELECT chat_id, message_id FROM coupon_messages WHERE coupon_id = :coupon_id"
    " ORDER BY message_id"
)
_CREATE_GIFT = sql(
    "INSERT INTO coupons (token, code, member_id, reward_id, title, cost, issued_at,"
    " expires_at, offer_id) VALUES (:token, :code, :member_id, :reward_id, :title, 0,"
    " :issued_at, :expires_at, :offer_id)"
    " ON CONFLICT (offer_id, member_id) DO NOTHING"
)
_COUNT_OF_OFFER = sql("SELECT COUNT(*) AS n FROM coupons WHERE offer_id = :offer_id")
_ALL_OF_MEMBER = sql(f"SELECT {_COLUMNS} FROM coupons WHERE member_id = :member_id ORDER BY id")


def _coupon(row: Row) -> Coupon:
    return Coupon(
        id=row["id"],
        token=row["token"],
        code=row["code"],
        member_id=row["member_id"],
        reward_id=row["reward_id"],
        title=row["title"],
        cost=row["cost"],
        state=CouponState(row["state"]),
        issued_at=from_db(row["issued_at"]),
        expires_at=from_db(row["expires_at"]),
        closed_at=from_db_optional(row["closed_at"]),
        closed_by=row["closed_by"],
        closed_by_name=row["closed_by_name"],
        debit_entry_id=row["debit_entry_id"],
        refund_entry_id=row["refund_entry_id"],
        redeemed_location_id=row["redeemed_location_id"],
    )


async def create(
    tx: Conn,
    *,
    token: str,
    code: str,
    member_id: int,
    reward_id: int,
    title: str,
    cost: int,
    debit_entry_id: int | None,
    now: datetime,
    expires_at: datetime,
    offer_id: int | None = None,
) -> Coupon | None:
    """Insert a coupon; None when this offer already gave this member one."""
    row = await tx.one(
        _CREATE,
        token=token,
        code=code,
        member_id=member_id,
        reward_id=reward_id,
        title=title,
        cost=cost,
        issued_at=to_db(now),
        expires_at=to_db(expires_at),
        debit_entry_id=debit_entry_id,
        offer_id=offer_id,
    )
    return _coupon(row) if row else None


async def _one(conn: Conn, statement: Statement, value: object) -> Coupon | None:
    row = await conn.one(statement, value=value)
    return _coupon(row) if row else None


async def get(conn: Conn, coupon_id: int) -> Coupon | None:
    return await _one(conn, _BY_ID, coupon_id)


async def by_token(conn: Conn, token: str) -> Coupon | None:
    return await _one(conn, _BY_TOKEN, token)


async def by_code(conn: Conn, code: str) -> Coupon | None:
    return await _one(conn, _BY_CODE, code)


async def by_debit_entry(conn: Conn, entry_id: int) -> Coupon | None:
    return await _one(conn, _BY_DEBIT_ENTRY, entry_id)


async def open_for_member(conn: Conn, member_id: int) -> list[Coupon]:
    return [_coupon(row) for row in await conn.all(_OPEN_FOR_MEMBER, member_id=member_id)]


async def due_for_expiry(conn: Conn, now: datetime, limit: int) -> list[Coupon]:
    rows = await conn.all(_DUE_FOR_EXPIRY, now=to_db(now), limit=limit)
    return [_coupon(row) for row in rows]


async def close(
    tx: Conn,
    coupon_id: int,
    state: CouponState,
    now: datetime,
    *,
    by: int | None = None,
    by_name: str | None = None,
    refund_entry_id: int | None = None,
    location_id: int | None = None,
) -> bool:
    """Move an issued coupon to a final state; False if it was no longer issued (another
    transaction closed it first, and nothing was changed). ``location_id``: where a
    redeemed coupon was handed over."""
    changed = await tx.run(
        _CLOSE,
        state=state.value,
        now=to_db(now),
        by=by,
        by_name=by_name,
        refund_entry_id=refund_entry_id,
        location_id=location_id,
        id=coupon_id,
    )
    return changed == 1


async def set_refund(tx: Conn, coupon_id: int, refund_entry_id: int) -> None:
    """The ledger entry that gave a closed coupon's points back."""
    await tx.run(_SET_REFUND, refund_entry_id=refund_entry_id, id=coupon_id)


async def remember_message(tx: Conn, coupon_id: int, chat_id: int, message_id: int) -> None:
    """A message that shows the coupon's QR, to be edited when the coupon closes."""
    await tx.run(_REMEMBER_MESSAGE, coupon_id=coupon_id, chat_id=chat_id, message_id=message_id)


async def messages(conn: Conn, coupon_id: int) -> list[tuple[int, int]]:
    rows = await conn.all(_MESSAGES, coupon_id=coupon_id)
    return [(int(row["chat_id"]), int(row["message_id"])) for row in rows]


async def create_gifts(
    tx: Conn,
    gifts: list[tuple[str, str, int]],
    *,
    reward_id: int,
    title: str,
    offer_id: int,
    now: datetime,
    expires_at: datetime,
) -> int:
    """Free coupons of one offer, (token, code, member id) each, in one batch; a member
    the offer already gave one is skipped. Returns how many were created.

    Counted as the offer's coupons after the batch less those before it
    (``total_changes()`` is SQLite's alone): the caller's transaction has just taken the
    offer's start gate, so no other transaction adds coupons of this offer meanwhile."""
    before = int(await tx.value(_COUNT_OF_OFFER, offer_id=offer_id) or 0)
    issued_at, until = to_db(now), to_db(expires_at)
    await tx.run_many(
        _CREATE_GIFT,
        [
            {
                "token": token,
                "code": code,
                "member_id": member_id,
                "reward_id": reward_id,
                "title": title,
                "issued_at": issued_at,
                "expires_at": until,
                "offer_id": offer_id,
            }
            for token, code, member_id in gifts
        ],
    )
    after = int(await tx.value(_COUNT_OF_OFFER, offer_id=offer_id) or 0)
    return after - before


async def all_of_member(conn: Conn, member_id: int) -> list[Coupon]:
    return [_coupon(row) for row in await conn.all(_ALL_OF_MEMBER, member_id=member_id)]
