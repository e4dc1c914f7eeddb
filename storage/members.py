"""Members: one row per Telegram user who pressed Start."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.domain import AudienceFacts, Member
from storage.engine import Conn, Row, Statement, per_engine, sql, with_list, with_list_per_engine
from storage.timeutil import from_db, from_db_optional, to_db

_COLUMNS = (
    "id, tg_user_id, chat_id, first_name, username, language, balance, created_at, last_visit_at"
)


_INSERT = sql(
    "INSERT INTO members (tg_user_id, chat_id, first_name, username, language, created_at)"
    " VALUES (:tg_user_id, :chat_id, :first_name, :username, :language, :created_at)"
    " ON CONFLICT (tg_user_id) DO NOTHING"
)
_REFRESH = sql(
    "UPDATE members SET chat_id = :chat_id, first_name = :first_name, username = :username,"
    " language = :language, unreachable_at = NULL WHERE tg_user_id = :tg_user_id"
)
_BY_TG_USER = sql(f"SELECT {_COLUMNS} FROM members WHERE tg_user_id = :tg_user_id")
_BY_ID = sql(f"SELECT {_COLUMNS} FROM members WHERE id = :id")
# A read that decides a write: on PostgreSQL the row stays locked until the transaction
# ends; SQLite's BEGIN IMMEDIATE already admits one writer at a time.
_LOCK = per_engine(
    sqlite=f"SELECT {_COLUMNS} FROM members WHERE id = :id",
    postgresql=f"SELECT {_COLUMNS} FROM members WHERE id = :id FOR UPDATE",
)
_COUNT = sql("SELECT COUNT(*) AS n FROM members")
_DROP_CARD_CODES = sql("DELETE FROM card_codes WHERE member_id = :member_id")
_ADD_CARD_CODE = sql(
    "INSERT INTO card_codes (code, member_id, expires_at) VALUES (:code, :member_id, :expires_at)"
)
_TAKE_CARD_CODE = sql("DELETE FROM card_codes WHERE code = :code RETURNING member_id, expires_at")
_FACTS = (
    "SELECT m.id, m.chat_id, m.created_at, m.birthday,"
    " (SELECT MAX(e.created_at) FROM ledger AS e WHERE e.member_id = m.id AND e.kind = 'earn')"
    " AS last_purchase_at,"
    " (SELECT COALESCE(SUM(e.points), 0) FROM ledger AS e WHERE e.member_id = m.id"
    "  AND e.kind = 'earn' AND e.created_at >= :earned_since"
    "  AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id)) AS earned"
    " FROM members AS m WHERE m.unreachable_at IS NULL AND m.forgotten_at IS NULL AND {only}"
    " ORDER BY m.id"
)
_FACTS_OF_MEMBER = sql(_FACTS.format(only="m.id = :member_id"))
_FACTS_OF_PROMOTABLE = sql(_FACTS.format(only="NOT m.promotions_opt_out"))
_PREFERENCES = sql(
    "SELECT promotions_opt_out, service_opt_out, birthday, birthday_set_at FROM members"
    " WHERE id = :id"
)
_SET_SERVICE_OPT_OUT = sql("UPDATE members SET service_opt_out = :opt_out WHERE id = :id")
_SET_PROMOTIONS_OPT_OUT = sql("UPDATE members SET promotions_opt_out = :opt_out WHERE id = :id")
_SET_BIRTHDAY = sql(
    "UPDATE members SET birthday = :birthday, birthday_set_at = :now WHERE id = :id"
)
_SET_UNREACHABLE_AT = sql("UPDATE members SET unreachable_at = :at WHERE chat_id = :chat_id")
# The lifecycle pages: by (last visit, id), each page after the last one's pair.
_LAPSED_BALANCES = sql(
    f"SELECT {_COLUMNS} FROM members WHERE balance > 0 AND last_visit_at < :visited_before"
    " AND (last_visit_at > :after_visit OR (last_visit_at = :after_visit AND id > :after_id))"
    " ORDER BY last_visit_at, id LIMIT :limit"
)
_BALANCES_VISITED_BETWEEN = sql(
    f"SELECT {_COLUMNS} FROM members WHERE balance > 0"
    " AND last_visit_at >= :start AND last_visit_at < :end"
    " AND (last_visit_at > :after_visit OR (last_visit_at = :after_visit AND id > :after_id))"
    " ORDER BY last_visit_at, id LIMIT :limit"
)
_DORMANT_WITHOUT_WINBACK = sql(
    f"SELECT {_COLUMNS} FROM members"
    " WHERE (winback_for IS NULL OR winback_for <> last_visit_at)"
    " AND last_visit_at < :visited_before"
    " AND unreachable_at IS NULL AND forgotten_at IS NULL"
    " ORDER BY last_visit_at LIMIT :limit"
)
_MARK_WINBACK = sql(
    "UPDATE members SET winback_for = last_visit_at WHERE id = :id AND last_visit_at = :visit"
    " AND (winback_for IS NULL OR winback_for <> last_visit_at)"
)
_WITH_BIRTHDAYS = with_list(
    f"SELECT {_COLUMNS}, birthday FROM members WHERE birthday IN :birthdays"
    " AND id > :after_id AND forgotten_at IS NULL ORDER BY id LIMIT :limit",
    "birthdays",
)
# One statement: the first caller's code is kept, a later one gets it back (on
# PostgreSQL a concurrent second caller waits for the first's row lock, then reads its code).
_REFERRAL_CODE = sql(
    "UPDATE members SET referral_code = COALESCE(referral_code, :new_code) WHERE id = :id"
    " RETURNING referral_code"
)
_BY_REFERRAL_CODE = sql(
    f"SELECT {_COLUMNS} FROM members WHERE referral_code = :code AND forgotten_at IS NULL"
)
_FORGET = sql(
    "UPDATE members SET tg_user_id = -id, chat_id = -id, first_name = 'Former member',"
    " username = NULL, language = NULL, birthday = NULL, birthday_set_at = NULL,"
    " referral_code = NULL, promotions_opt_out = TRUE, service_opt_out = TRUE,"
    " forgotten_at = :now WHERE id = :id"
)
_FORGET_RECIPIENT_CHATS = sql(
    "UPDATE broadcast_recipients SET chat_id = 0 WHERE member_id = :member_id"
)


def _member(row: Row) -> Member:
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
    tx: Conn,
    *,
    tg_user_id: int,
    chat_id: int,
    first_name: str,
    username: str | None,
    language: str | None,
    now: datetime,
) -> tuple[Member, bool]:
    """Create the member once; later calls refresh the profile. Returns (member, created)."""
    created = (
        await tx.run(
            _INSERT,
            tg_user_id=tg_user_id,
            chat_id=chat_id,
            first_name=first_name,
            username=username,
            language=language,
            created_at=to_db(now),
        )
        == 1
    )
    if not created:
        await tx.run(
            _REFRESH,
            chat_id=chat_id,
            first_name=first_name,
            username=username,
            language=language,
            tg_user_id=tg_user_id,
        )
    member = await by_tg_user(tx, tg_user_id)
    assert member is not None
    return member, created


async def by_tg_user(conn: Conn, tg_user_id: int) -> Member | None:
    row = await conn.one(_BY_TG_USER, tg_user_id=tg_user_id)
    return _member(row) if row else None


async def by_id(conn: Conn, member_id: int) -> Member | None:
    row = await conn.one(_BY_ID, id=member_id)
    return _member(row) if row else None


async def lock(tx: Conn, member_id: int) -> Member | None:
    """The member, read to decide a write: no other transaction changes the row (its
    balance, last visit, preferences) until this one ends."""
    row = await tx.one(_LOCK, id=member_id)
    return _member(row) if row else None


async def count(conn: Conn) -> int:
    return int(await conn.value(_COUNT) or 0)


async def replace_card_code(tx: Conn, member_id: int, code: str, expires_at: datetime) -> None:
    """Make ``code`` the member's only valid typed code."""
    await tx.run(_DROP_CARD_CODES, member_id=member_id)
    await tx.run(_ADD_CARD_CODE, code=code, member_id=member_id, expires_at=to_db(expires_at))


async def take_card_code(tx: Conn, code: str, now: datetime) -> int | None:
    """Consume a typed card code; returns the member id if it was valid and unexpired."""
    row = await tx.one(_TAKE_CARD_CODE, code=code)
    if row is None or from_db(row["expires_at"]) <= now:
        return None
    return int(row["member_id"])


async def audience_facts(
    conn: Conn, earned_since: datetime, member_id: int | None = None
) -> list[AudienceFacts]:
    """Facts for every member who may receive promotions (or just ``member_id``)."""
    if member_id is None:
        rows = await conn.all(_FACTS_OF_PROMOTABLE, earned_since=to_db(earned_since))
    else:
        rows = await conn.all(
            _FACTS_OF_MEMBER, earned_since=to_db(earned_since), member_id=member_id
        )
    return [
        AudienceFacts(
            member_id=row["id"],
            chat_id=row["chat_id"],
            created_at=from_db(row["created_at"]),
            birthday=row["birthday"],
            last_purchase_at=from_db_optional(row["last_purchase_at"]),
            earned_recently=int(row["earned"]),
        )
        for row in rows
    ]


_LAST_PURCHASE_BY_LOCATION = sql(
    "SELECT location_id, MAX(created_at) AS last_at FROM ledger WHERE member_id = :member_id"
    " AND kind = 'earn' AND location_id IS NOT NULL GROUP BY location_id"
)


async def last_purchase_by_location(conn: Conn, member_id: int) -> dict[int, datetime]:
    """The member's last purchase at each location where they made one."""
    rows = await conn.all(_LAST_PURCHASE_BY_LOCATION, member_id=member_id)
    return {int(row["location_id"]): from_db(row["last_at"]) for row in rows}


@dataclass(frozen=True, slots=True)
class Preferences:
    promotions: bool
    birthday: str | None
    service: bool = True
    birthday_set_at: datetime | None = None


async def preferences(conn: Conn, member_id: int) -> Preferences:
    row = await conn.one(_PREFERENCES, id=member_id)
    assert row is not None
    return Preferences(
        promotions=not bool(row["promotions_opt_out"]),
        birthday=row["birthday"],
        service=not bool(row["service_opt_out"]),
        birthday_set_at=from_db_optional(row["birthday_set_at"]),
    )


async def set_service(tx: Conn, member_id: int, allowed: bool) -> None:
    await tx.run(_SET_SERVICE_OPT_OUT, opt_out=not allowed, id=member_id)


async def set_promotions(tx: Conn, member_id: int, allowed: bool) -> None:
    await tx.run(_SET_PROMOTIONS_OPT_OUT, opt_out=not allowed, id=member_id)


async def set_birthday(tx: Conn, member_id: int, birthday: str | None, now: datetime) -> None:
    await tx.run(_SET_BIRTHDAY, birthday=birthday, now=to_db(now), id=member_id)


async def set_reachable(tx: Conn, chat_id: int, reachable: bool, now: datetime) -> None:
    """403 from Telegram marks a member unreachable; unblocking the bot clears it."""
    await tx.run(_SET_UNREACHABLE_AT, at=None if reachable else to_db(now), chat_id=chat_id)


# -- the lifecycle jobs: each selects one page of members, by index ---------------------------

# Where the paged reads below start: before anyone's last visit (a time, never text).
FIRST_PAGE: tuple[datetime, int] = (datetime.min.replace(tzinfo=UTC), 0)


async def lapsed_balances(
    conn: Conn, visited_before: datetime, after: tuple[datetime, int], limit: int
) -> list[Member]:
    """Members with points whose last visit is before ``visited_before`` (paged by
    (last visit, id) after ``after``; the first page after :data:`FIRST_PAGE`)."""
    rows = await conn.all(
        _LAPSED_BALANCES,
        visited_before=to_db(visited_before),
        after_visit=to_db(after[0]),
        after_id=after[1],
        limit=limit,
    )
    return [_member(row) for row in rows]


async def balances_visited_between(
    conn: Conn, start: datetime, end: datetime, after: tuple[datetime, int], limit: int
) -> list[Member]:
    """Members with points whose last visit is in [start, end), paged like above."""
    rows = await conn.all(
        _BALANCES_VISITED_BETWEEN,
        start=to_db(start),
        end=to_db(end),
        after_visit=to_db(after[0]),
        after_id=after[1],
        limit=limit,
    )
    return [_member(row) for row in rows]


async def dormant_without_winback(conn: Conn, visited_before: datetime, limit: int) -> list[Member]:
    """Reachable members who last visited before ``visited_before`` and have had no
    win-back message for this dormant spell yet."""
    rows = await conn.all(
        _DORMANT_WITHOUT_WINBACK, visited_before=to_db(visited_before), limit=limit
    )
    return [_member(row) for row in rows]


async def mark_winback(tx: Conn, member_id: int, visit: datetime) -> bool:
    """Record the win-back for the dormant spell that began at ``visit``; False if done."""
    return await tx.run(_MARK_WINBACK, id=member_id, visit=to_db(visit)) == 1


async def with_birthdays(
    conn: Conn, birthdays: list[str], after_id: int, limit: int
) -> list[tuple[Member, str]]:
    """Members whose stored birthday ('MM-DD') is one of ``birthdays``."""
    if not birthdays:
        return []
    rows = await conn.all(
        _WITH_BIRTHDAYS, birthdays=list(birthdays), after_id=after_id, limit=limit
    )
    return [(_member(row), str(row["birthday"])) for row in rows]


async def referral_code(tx: Conn, member_id: int, new_code: str) -> str:
    """The member's referral code, given ``new_code`` the first time."""
    code = await tx.value(_REFERRAL_CODE, new_code=new_code, id=member_id)
    assert code is not None
    return str(code)


async def by_referral_code(conn: Conn, code: str) -> Member | None:
    row = await conn.one(_BY_REFERRAL_CODE, code=code)
    return _member(row) if row else None


async def forget(tx: Conn, member_id: int, now: datetime) -> None:
    """Remove what identifies a person; the row (and its ledger) stays, anonymous. The
    Telegram ids become the negative member id, so the person can join again as new."""
    await tx.run(_FORGET, now=to_db(now), id=member_id)
    await tx.run(_DROP_CARD_CODES, member_id=member_id)
    await tx.run(_FORGET_RECIPIENT_CHATS, member_id=member_id)


# -- audiences: who a broadcast or offer reaches, selected in SQL a page at a time -----------

_REACHABLE = "m.unreachable_at IS NULL AND m.forgotten_at IS NULL AND NOT m.promotions_opt_out"
_EARNED = (
    "(SELECT COALESCE(SUM(e.points), 0) FROM ledger AS e WHERE e.member_id = m.id"
    " AND e.kind = 'earn' AND e.created_at >= :earned_since"
    " AND NOT EXISTS (SELECT 1 FROM ledger AS r WHERE r.reverses_id = e.id))"
)
# Each audience kind's condition on members ``m``; its parameters are named in it.
_AUDIENCE_WHERE = {
    "none": "1 = 0",
    "all": _REACHABLE,
    "lapsed": f"{_REACHABLE} AND m.last_visit_at < :visited_before",
    # Equality with each of the month's days ('MM-DD'): no range over text, whose order
    # depends on the collation.
    "birthday": f"{_REACHABLE} AND m.birthday IN :birthdays",
    "tier": f"{_REACHABLE} AND {_EARNED} >= :earned_from",
    "tier_below": f"{_REACHABLE} AND {_EARNED} >= :earned_from AND {_EARNED} < :earned_below",
    # Who bought at one of the locations lately: a semi-join on the members who have a
    # purchase there since then, found through ledger_location (location, time).
    "visited": f"{_REACHABLE} AND m.id IN (SELECT e.member_id FROM ledger AS e"
    " WHERE e.location_id IN :locations AND e.created_at >= {since} AND e.kind = 'earn')",
}
# How each engine reads the moment ``visited_since`` in a statement with a list.
_SINCE = {
    "sqlite": ":visited_since",
    "postgresql": "CAST(:visited_since AS TIMESTAMP WITH TIME ZONE)",
}
# The parameters that take a list (``IN :name``).
_LISTS = ("birthdays", "locations")


def _audience_statements(where: str) -> tuple[Statement, Statement]:
    page = (
        f"SELECT m.id, m.chat_id FROM members AS m WHERE m.id > :after_id AND {where}"
        " ORDER BY m.id LIMIT :limit"
    )
    count = f"SELECT COUNT(*) AS n FROM members AS m WHERE {where}"
    if "{since}" in where:
        return tuple(  # type: ignore[return-value]
            with_list_per_engine(
                sqlite=statement.format(since=_SINCE["sqlite"]),
                postgresql=statement.format(since=_SINCE["postgresql"]),
                name="locations",
            )
            for statement in (page, count)
        )
    for name in _LISTS:
        if f":{name}" in where:
            return with_list(page, name), with_list(count, name)
    return sql(page), sql(count)


_AUDIENCES = {kind: _audience_statements(where) for kind, where in _AUDIENCE_WHERE.items()}


@dataclass(frozen=True, slots=True)
class AudienceFilter:
    """An audience as SQL: the statements that page through and count its members, and
    the parameters they take."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def page(self) -> Statement:
        return _AUDIENCES[self.kind][0]

    @property
    def count(self) -> Statement:
        return _AUDIENCES[self.kind][1]


def audience_filter(
    kind: str,
    *,
    visited_before: datetime | None = None,
    birthday_month: int | None = None,
    earned_since: datetime | None = None,
    earned_from: int = 0,
    earned_below: int | None = None,
    locations: list[int] | None = None,
    visited_since: datetime | None = None,
) -> AudienceFilter:
    """Reachable members who accept promotions, narrowed to one audience kind ("none":
    nobody, e.g. a tier that no longer exists)."""
    if kind == "none":
        return AudienceFilter("none")
    if kind == "visited" and locations and visited_since is not None:
        return AudienceFilter(
            "visited", {"locations": list(locations), "visited_since": to_db(visited_since)}
        )
    if kind == "lapsed" and visited_before is not None:
        return AudienceFilter("lapsed", {"visited_before": to_db(visited_before)})
    if kind == "birthday" and birthday_month is not None:
        days = [f"{birthday_month:02d}-{day:02d}" for day in range(1, 32)]
        return AudienceFilter("birthday", {"birthdays": days})
    if kind == "tier" and earned_since is not None:
        params: dict[str, Any] = {"earned_since": to_db(earned_since), "earned_from": earned_from}
        if earned_below is None:
            return AudienceFilter("tier", params)
        return AudienceFilter("tier_below", {**params, "earned_below": earned_below})
    return AudienceFilter("all")


async def audience_page(
    conn: Conn, audience: AudienceFilter, after_id: int, limit: int
) -> list[tuple[int, int]]:
    """(member id, chat id) of the next ``limit`` members of the audience after
    ``after_id``: a range on the primary key, never the whole table at once."""
    rows = await conn.all(audience.page, after_id=after_id, limit=limit, **audience.params)
    return [(int(row["id"]), int(row["chat_id"])) for row in rows]


async def audience_count(conn: Conn, audience: AudienceFilter) -> int:
    return int(await conn.value(audience.count, **audience.params) or 0)
