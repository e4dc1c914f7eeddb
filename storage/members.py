"""Members: one row per Telegram user who pressed Start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain import AudienceFacts, Member
from storage.timeutil import from_db, from_db_optional, to_db

_COLUMNS = (
    "id, tg_user_id, chat_id, first_name, username, language, balance, created_at, last_visit_at"
)


def _member(row: aiosqlite.Row) -> Member:
    return Member(
        id=row["id"],
        tg_user_id=row["tg_user_id"],
        chat_id=row["chat_id"],
        first_name=row["first_name"],
        username=row["username"],
        language=row["language"],
        balance=row["balance"],
        created_at=from_db(row["created_at"]),
        last_visit_at=from_db(row["last_visit_at"]),
    )


async def upsert(
    tx: aiosqlite.Connection,
    *,
    tg_user_id: int,
    chat_id: int,
    first_name: str,
    username: str | None,
    language: str | None,
    now: datetime,
) -> tuple[Member, bool]:
    """Create the member once; later calls refresh the profile. Returns (member, created)."""
    cur = await tx.execute(
        "INSERT INTO members (tg_user_id, chat_id, first_name, username, language, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tg_user_id) DO NOTHING",
        (tg_user_id, chat_id, first_name, username, language, to_db(now)),
    )
    created = cur.rowcount == 1
    if not created:
        await tx.execute(
            "UPDATE members SET chat_id = ?, first_name = ?, username = ?, language = ?,"
            " unreachable_at = NULL WHERE tg_user_id = ?",
            (chat_id, first_name, username, language, tg_user_id),
        )
    member = await by_tg_user(tx, tg_user_id)
    assert member is not None
    return member, created


async def by_tg_user(conn: aiosqlite.Connection, tg_user_id: int) -> Member | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM members WHERE tg_user_id = ?", (tg_user_id,)
    ) as cur:
        row = await cur.fetchone()
    return _member(row) if row else None


async def by_id(conn: aiosqlite.Connection, member_id: int) -> Member | None:
    async with conn.execute(f"SELECT {_COLUMNS} FROM members WHERE id = ?", (member_id,)) as cur:
        row = await cur.fetchone()
    return _member(row) if row else None


async def count(conn: aiosqlite.Connection) -> int:
    async with conn.execute("SELECT COUNT(*) FROM members") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def replace_card_code(
    tx: aiosqlite.Connection, member_id: int, code: str, expires_at: datetime
) -> None:
    """Make ``code`` the member's only valid typed code."""
    await tx.execute("DELETE FROM card_codes WHERE member_id = ?", (member_id,))
    await tx.execute(
        "INSERT INTO card_codes (code, member_id, expires_at) VALUES (?, ?, ?)",
        (code, member_id, to_db(expires_at)),
    )


async def take_card_code(tx: aiosqlite.Connection, code: str, now: datetime) -> int | None:
    """Consume a typed card code; returns the member id if it was valid and unexpired."""
    async with tx.execute(
        "DELETE FROM card_codes WHERE code = ? RETURNING member_id, expires_at", (code,)
    ) as cur:
        row = await cur.fetchone()
    if row is None or from_db(row["expires_at"]) <= now:
        return None
    return int(row["member_id"])


async def audience_facts(
    conn: aiosqlite.Connection, earned_since: datetime, member_id: int | None = None
) -> list[AudienceFacts]:
    """Facts for every member who may receive promotions (or just ``member_id``)."""
    only = "AND m.id = ?" if member_id is not None else "AND m.promotions_opt_out = 0"
    params: tuple[object, ...] = (to_db(earned_since),)
    if member_id is not None:
        params += (member_id,)
    async with conn.execute(
        "SELECT m.id, m.chat_id, m.created_at, m.birthday,"
        " (SELECT MAX(e.created_at) FROM ledger AS e WHERE e.member_id = m.id AND e.kind = 'earn')"
        " AS last_purchase_at,"
        " (SELECT COALESCE(SUM(e.points), 0) FROM ledger AS e WHERE e.member_id = m.id"
        "  AND e.kind = 'earn' AND e.created_at >= ?1"
        "  AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id)) AS earned"
        " FROM members AS m WHERE m.unreachable_at IS NULL AND m.forgotten_at IS NULL"
        f" {only.replace('?', '?2')}"
        " ORDER BY m.id",
        params,
    ) as cur:
        rows = await cur.fetchall()
    return [
        AudienceFacts(
            member_id=row["id"],
            chat_id=row["chat_id"],
            created_at=from_db(row["created_at"]),
            birthday=row["birthday"],
            last_purchase_at=from_db(row["last_purchase_at"]) if row["last_purchase_at"] else None,
            earned_recently=row["earned"],
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class Preferences:
    promotions: bool
    birthday: str | None
    service: bool = True
    birthday_set_at: datetime | None = None


async def preferences(conn: aiosqlite.Connection, member_id: int) -> Preferences:
    async with conn.execute(
        "SELECT promotions_opt_out, service_opt_out, birthday, birthday_set_at FROM members"
        " WHERE id = ?",
        (member_id,),
    ) as cur:
        row = await cur.fetchone()
    assert row is not None
    return Preferences(
        promotions=not row["promotions_opt_out"],
        birthday=row["birthday"],
        service=not row["service_opt_out"],
        birthday_set_at=from_db_optional(row["birthday_set_at"]),
    )


async def set_service(tx: aiosqlite.Connection, member_id: int, allowed: bool) -> None:
    await tx.execute(
        "UPDATE members SET service_opt_out = ? WHERE id = ?", (int(not allowed), member_id)
    )


async def set_promotions(tx: aiosqlite.Connection, member_id: int, allowed: bool) -> None:
    await tx.execute(
        "UPDATE members SET promotions_opt_out = ? WHERE id = ?", (int(not allowed), member_id)
    )


async def set_birthday(
    tx: aiosqlite.Connection, member_id: int, birthday: str | None, now: datetime
) -> None:
    await tx.execute(
        "UPDATE members SET birthday = ?, birthday_set_at = ? WHERE id = ?",
        (birthday, to_db(now), member_id),
    )


async def set_reachable(
    tx: aiosqlite.Connection, chat_id: int, reachable: bool, now: datetime
) -> None:
    """403 from Telegram marks a member unreachable; unblocking the bot clears it."""
    await tx.execute(
        "UPDATE members SET unreachable_at = ? WHERE chat_id = ?",
        (None if reachable else to_db(now), chat_id),
    )


# -- the lifecycle jobs: each selects one page of members, by index ---------------------------


async def lapsed_balances(
    conn: aiosqlite.Connection, visited_before: datetime, after: tuple[str, int], limit: int
) -> list[Member]:
    """Members with points whose last visit is before ``visited_before`` (paged by
    (last visit, id) after ``after``)."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM members WHERE balance > 0 AND last_visit_at < ?"
        " AND (last_visit_at > ? OR (last_visit_at = ? AND id > ?))"
        " ORDER BY last_visit_at, id LIMIT ?",
        (to_db(visited_before), after[0], after[0], after[1], limit),
    ) as cur:
        return [_member(row) for row in await cur.fetchall()]


async def balances_visited_between(
    conn: aiosqlite.Connection, start: datetime, end: datetime, after: tuple[str, int], limit: int
) -> list[Member]:
    """Members with points whose last visit is in [start, end), paged like above."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM members WHERE balance > 0"
        " AND last_visit_at >= ? AND last_visit_at < ?"
        " AND (last_visit_at > ? OR (last_visit_at = ? AND id > ?))"
        " ORDER BY last_visit_at, id LIMIT ?",
        (to_db(start), to_db(end), after[0], after[0], after[1], limit),
    ) as cur:
        return [_member(row) for row in await cur.fetchall()]


async def dormant_without_winback(
    conn: aiosqlite.Connection, visited_before: datetime, limit: int
) -> list[Member]:
    """Reachable members who last visited before ``visited_before`` and have had no
    win-back message for this dormant spell yet."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM members"
        " WHERE (winback_for IS NULL OR winback_for <> last_visit_at) AND last_visit_at < ?"
        " AND unreachable_at IS NULL AND forgotten_at IS NULL"
        " ORDER BY last_visit_at LIMIT ?",
        (to_db(visited_before), limit),
    ) as cur:
        return [_member(row) for row in await cur.fetchall()]


async def mark_winback(tx: aiosqlite.Connection, member_id: int, visit: datetime) -> bool:
    """Record the win-back for the dormant spell that began at ``visit``; False if done."""
    cur = await tx.execute(
        "UPDATE members SET winback_for = last_visit_at WHERE id = ? AND last_visit_at = ?"
        " AND (winback_for IS NULL OR winback_for <> last_visit_at)",
        (member_id, to_db(visit)),
    )
    return cur.rowcount == 1


async def with_birthdays(
    conn: aiosqlite.Connection, birthdays: list[str], after_id: int, limit: int
) -> list[tuple[Member, str]]:
    """Members whose stored birthday ('MM-DD') is one of ``birthdays``."""
    if not birthdays:
        return []
    marks = ", ".join("?" for _ in birthdays)
    async with conn.execute(
        f"SELECT {_COLUMNS}, birthday FROM members WHERE birthday IN ({marks}) AND id > ?"
        " AND forgotten_at IS NULL ORDER BY id LIMIT ?",
        (*birthdays, after_id, limit),
    ) as cur:
        return [(_member(row), str(row["birthday"])) for row in await cur.fetchall()]


async def referral_code(tx: aiosqlite.Connection, member_id: int, new_code: str) -> str:
    """The member's referral code, given ``new_code`` the first time."""
    await tx.execute(
        "UPDATE members SET referral_code = ? WHERE id = ? AND referral_code IS NULL",
        (new_code, member_id),
    )
    async with tx.execute("SELECT referral_code FROM members WHERE id = ?", (member_id,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    return str(row[0])


async def by_referral_code(conn: aiosqlite.Connection, code: str) -> Member | None:
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM members WHERE referral_code = ? AND forgotten_at IS NULL",
        (code,),
    ) as cur:
        row = await cur.fetchone()
    return _member(row) if row else None


async def forget(tx: aiosqlite.Connection, member_id: int, now: datetime) -> None:
    """Remove what identifies a person; the row (and its ledger) stays, anonymous. The
    Telegram ids become the negative member id, so the person can join again as new."""
    await tx.execute(
        "UPDATE members SET tg_user_id = -id, chat_id = -id, first_name = 'Former member',"
        " username = NULL, language = NULL, birthday = NULL, birthday_set_at = NULL,"
        " referral_code = NULL, promotions_opt_out = 1, service_opt_out = 1,"
        " forgotten_at = ? WHERE id = ?",
        (to_db(now), member_id),
    )
    await tx.execute("DELETE FROM card_codes WHERE member_id = ?", (member_id,))
    await tx.execute(
        "UPDATE broadcast_recipients SET chat_id = 0 WHERE member_id = ?", (member_id,)
    )


# -- audiences: who a broadcast or offer reaches, selected in SQL a page at a time -----------

_REACHABLE = "m.unreachable_at IS NULL AND m.forgotten_at IS NULL AND m.promotions_opt_out = 0"
_EARNED = (
    "(SELECT COALESCE(SUM(e.points), 0) FROM ledger AS e WHERE e.member_id = m.id"
    " AND e.kind = 'earn' AND e.created_at >= ?"
    " AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id))"
)


@dataclass(frozen=True, slots=True)
class AudienceFilter:
    """An audience as SQL: its condition on members ``m`` and the parameters it takes."""

    where: str
    params: tuple[object, ...]


def audience_filter(
    kind: str,
    *,
    visited_before: datetime | None = None,
    birthday_month: int | None = None,
    earned_since: datetime | None = None,
    earned_from: int = 0,
    earned_below: int | None = None,
) -> AudienceFilter:
    """Reachable members who accept promotions, narrowed to one audience kind ("none":
    nobody, e.g. a tier that no longer exists)."""
    if kind == "none":
        return AudienceFilter("1 = 0", ())
    if kind == "lapsed" and visited_before is not None:
        return AudienceFilter(f"{_REACHABLE} AND m.last_visit_at < ?", (to_db(visited_before),))
    if kind == "birthday" and birthday_month is not None:
        month = f"{birthday_month:02d}"
        return AudienceFilter(
            f"{_REACHABLE} AND m.birthday >= ? AND m.birthday < ?", (f"{month}-", f"{month}.")
        )
    if kind == "tier" and earned_since is not None:
        since = to_db(earned_since)
        where = f"{_REACHABLE} AND {_EARNED} >= ?"
        params: tuple[object, ...] = (since, earned_from)
        if earned_below is not None:
            where += f" AND {_EARNED} < ?"
            params += (since, earned_below)
        return AudienceFilter(where, params)
    return AudienceFilter(_REACHABLE, ())


async def audience_page(
    conn: aiosqlite.Connection, audience: AudienceFilter, after_id: int, limit: int
) -> list[tuple[int, int]]:
    """(member id, chat id) of the next ``limit`` members of the audience after
    ``after_id``: a range on the primary key, never the whole table at once."""
    async with conn.execute(
        f"SELECT m.id, m.chat_id FROM members AS m WHERE m.id > ? AND {audience.where}"
        " ORDER BY m.id LIMIT ?",
        (after_id, *audience.params, limit),
    ) as cur:
        return [(int(row[0]), int(row[1])) for row in await cur.fetchall()]


async def audience_count(conn: aiosqlite.Connection, audience: AudienceFilter) -> int:
    async with conn.execute(
        f"SELECT COUNT(*) FROM members AS m WHERE {audience.where}", audience.params
    ) as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0
