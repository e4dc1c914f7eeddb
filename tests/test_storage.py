"""Storage against real databases, on both engines: migrations, transactions, ledger
consistency, and the writes that must stay correct with concurrent writers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot.domain import EntryKind
from storage import Conn, ConstraintViolated, Database, DatabaseError
from storage import alerts as alert_store
from storage import ledger as ledger_store
from storage import members as member_store
from storage import owners as owner_store
from storage import staff as staff_store
from storage.engine import per_engine, sql
from storage.ledger import Overdraft
from storage.migrations import MIGRATIONS

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def target(tmp_path: Path, database_url: str | None) -> Path | str:
    return database_url or tmp_path / "nested" / "loyalty.db"


@pytest_asyncio.fixture
async def db(tmp_path: Path, database_url: str | None) -> AsyncIterator[Database]:
    database = Database(target(tmp_path, database_url))
    await database.open()
    yield database
    await database.close()


async def new_member(db: Database, tg_user_id: int = 42, first_name: str = "Alice") -> int:
    async with db.transaction() as tx:
        member, _ = await member_store.upsert(
            tx,
            tg_user_id=tg_user_id,
            chat_id=tg_user_id,
            first_name=first_name,
            username=None,
            language="en",
            now=NOW,
        )
    return member.id


async def earn(db: Database, member_id: int, points: int, key: str) -> bool:
    async with db.transaction() as tx:
        _, created = await ledger_store.append(
            tx,
            member_id=member_id,
            points=points,
            kind=EntryKind.EARN,
            reason="test",
            idempotency_key=key,
            now=NOW,
            actor_id=7,
        )
    return created


async def earn_in(tx: Conn, member_id: int, points: int, key: str) -> None:
    await ledger_store.append(
        tx,
        member_id=member_id,
        points=points,
        kind=EntryKind.EARN,
        reason="test",
        idempotency_key=key,
        now=NOW,
    )


@pytest.mark.sqlite_only
async def test_migrations_from_an_empty_file(db: Database, tmp_path: Path) -> None:
    assert (tmp_path / "nested" / "loyalty.db").exists()
    assert await db.version() == MIGRATIONS[-1][0]
    assert await db.reader.value(sql("PRAGMA journal_mode")) == "wal"
    assert await db.reader.value(sql("PRAGMA foreign_keys")) == 1


async def test_migrations_rerun_on_an_existing_database_change_nothing(
    tmp_path: Path, database_url: str | None
) -> None:
    first = Database(target(tmp_path, database_url))
    await first.open()
    member_id = await new_member(first)
    await earn(first, member_id, 5, "k1")
    await first.close()

    second = Database(target(tmp_path, database_url))
    await second.open()
    count = await second.reader.value(sql("SELECT COUNT(*) AS n FROM schema_version"))
    assert count == len(MIGRATIONS)
    member = await member_store.by_id(second.reader, member_id)
    assert member is not None and member.balance == 5
    await second.close()


async def test_balance_matches_ledger_under_100_concurrent_inserts(db: Database) -> None:
    member_id = await new_member(db)
    results = await asyncio.gather(*(earn(db, member_id, i + 1, f"k{i}") for i in range(100)))
    assert all(results)
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None
    assert member.balance == sum(range(1, 101)) == await ledger_store.total(db.reader, member_id)


async def test_concurrent_inserts_with_one_key_count_once(db: Database) -> None:
    member_id = await new_member(db)
    results = await asyncio.gather(*(earn(db, member_id, 10, "same-key") for _ in range(20)))
    assert results.count(True) == 1
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None and member.balance == 10


async def test_overdraft_is_refused_and_nothing_is_written(db: Database) -> None:
    member_id = await new_member(db)
    await earn(db, member_id, 5, "k1")
    with pytest.raises(Overdraft):
        await earn(db, member_id, -6, "k2")
    assert await ledger_store.by_key(db.reader, "k2") is None
    assert await ledger_store.total(db.reader, member_id) == 5


async def test_after_an_overdraft_the_transaction_goes_on(db: Database) -> None:
    """The refusal is a check before the insert, not a failed statement: the same
    transaction can still write (PostgreSQL aborts a transaction at its first error)."""
    member_id = await new_member(db)
    async with db.transaction() as tx:
        await earn_in(tx, member_id, 5, "k1")
        with pytest.raises(Overdraft):
            await earn_in(tx, member_id, -6, "k2")
        await earn_in(tx, member_id, -5, "k3")
    assert await ledger_store.total(db.reader, member_id) == 0


async def test_concurrent_debits_never_overdraw(db: Database) -> None:
    member_id = await new_member(db)
    await earn(db, member_id, 50, "k0")

    async def debit(n: int) -> bool:
        try:
            return await earn(db, member_id, -10, f"debit-{n}")
        except Overdraft:
            return False

    results = await asyncio.gather(*(debit(n) for n in range(12)))
    assert results.count(True) == 5
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None
    assert member.balance == 0 == await ledger_store.total(db.reader, member_id)


async def test_a_repeated_debit_is_found_not_refused(db: Database) -> None:
    """A debit already written under its key is returned, even when the balance it left
    could not pay for it again."""
    member_id = await new_member(db)
    await earn(db, member_id, 10, "k0")
    results = await asyncio.gather(*(earn(db, member_id, -10, "spend") for _ in range(8)))
    assert results.count(True) == 1
    assert await ledger_store.total(db.reader, member_id) == 0


async def test_a_second_reversal_of_one_entry_is_refused_by_the_database(db: Database) -> None:
    member_id = await new_member(db)
    await earn(db, member_id, 20, "earlier")
    await earn(db, member_id, 10, "buy")
    original = await ledger_store.by_key(db.reader, "buy")
    assert original is not None

    async def reverse(key: str) -> None:
        async with db.transaction() as tx:
            await ledger_store.append(
                tx,
                member_id=member_id,
                points=-original.points,
                kind=EntryKind.REVERSAL,
                reason="undo",
                idempotency_key=key,
                now=NOW,
                reverses_id=original.id,
            )

    await reverse("reverse:1")
    reversal = await ledger_store.reversal_of(db.reader, original.id)
    assert reversal is not None and reversal.idempotency_key == "reverse:1"
    with pytest.raises(ConstraintViolated):
        await reverse("another-key")
    assert await ledger_store.total(db.reader, member_id) == 20


async def test_numbered_keys_are_found_newest_first(db: Database) -> None:
    member_id = await new_member(db)
    for key in ("redeem:1:1", "redeem:10:1", "redeem:1:2", "redeem:1", "redeem:1;x"):
        await earn(db, member_id, 1, key)
    assert await ledger_store.keys_with_prefix(db.reader, "redeem:1") == [
        "redeem:1:2",
        "redeem:1:1",
    ]
    assert await ledger_store.keys_with_prefix(db.reader, "redeem:2") == []


async def test_a_failing_transaction_rolls_back_everything(db: Database) -> None:
    member_id = await new_member(db)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await earn_in(tx, member_id, 3, "half")
            raise RuntimeError("crash between two writes")
    assert await ledger_store.by_key(db.reader, "half") is None
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None and member.balance == 0


async def test_the_ledger_is_append_only(db: Database) -> None:
    member_id = await new_member(db)
    await earn(db, member_id, 5, "k1")
    for statement in ("UPDATE ledger SET points = 500", "DELETE FROM ledger"):
        with pytest.raises(ConstraintViolated, match="append-only"):
            async with db.transaction() as tx:
                await tx.run(sql(statement))
    assert await ledger_store.total(db.reader, member_id) == 5


async def test_upsert_is_idempotent_and_refreshes_the_profile(db: Database) -> None:
    first = await new_member(db, 42)
    async with db.transaction() as tx:
        member, created = await member_store.upsert(
            tx,
            tg_user_id=42,
            chat_id=42,
            first_name="Alicia",
            username="al",
            language="de",
            now=NOW,
        )
    assert (member.id, created, member.first_name) == (first, False, "Alicia")


async def test_telegram_ids_past_32_bits(db: Database) -> None:
    big = 7_000_000_123
    member_id = await new_member(db, big)
    member = await member_store.by_tg_user(db.reader, big)
    assert member is not None and (member.id, member.chat_id) == (member_id, big)


async def test_preferences_are_booleans_and_forgetting_clears_them(db: Database) -> None:
    member_id = await new_member(db)
    prefs = await member_store.preferences(db.reader, member_id)
    assert (prefs.promotions, prefs.service) == (True, True)
    async with db.transaction() as tx:
        await member_store.set_promotions(tx, member_id, False)
        await member_store.set_birthday(tx, member_id, "03-04", NOW)
    prefs = await member_store.preferences(db.reader, member_id)
    assert (prefs.promotions, prefs.service, prefs.birthday) == (False, True, "03-04")
    assert prefs.birthday_set_at == NOW
    async with db.transaction() as tx:
        await member_store.forget(tx, member_id, NOW)
    prefs = await member_store.preferences(db.reader, member_id)
    assert (prefs.promotions, prefs.service, prefs.birthday) == (False, False, None)
    assert await member_store.by_tg_user(db.reader, 42) is None


async def test_a_locked_member_is_read_after_the_holder_commits(db: Database) -> None:
    member_id = await new_member(db)
    locked = asyncio.Event()

    async def holder() -> None:
        async with db.transaction() as tx:
            assert await member_store.lock(tx, member_id) is not None
            locked.set()
            await asyncio.sleep(0.2)
            await member_store.set_birthday(tx, member_id, "05-06", NOW)

    async def waiter() -> str | None:
        await locked.wait()
        async with db.transaction() as tx:
            await member_store.lock(tx, member_id)
            return (await member_store.preferences(tx, member_id)).birthday

    _, seen = await asyncio.gather(holder(), waiter())
    assert seen == "05-06"
    async with db.transaction() as tx:
        assert await member_store.lock(tx, 999_999) is None


async def test_a_referral_code_is_given_once(db: Database) -> None:
    member_id = await new_member(db)
    async with db.transaction() as tx:
        assert await member_store.referral_code(tx, member_id, "FIRST") == "FIRST"
        assert await member_store.referral_code(tx, member_id, "SECOND") == "FIRST"
    found = await member_store.by_referral_code(db.reader, "FIRST")
    assert found is not None and found.id == member_id


async def test_card_codes_work_once_and_expire(db: Database) -> None:
    member_id = await new_member(db)
    async with db.transaction() as tx:
        await member_store.replace_card_code(tx, member_id, "1234", NOW + timedelta(minutes=5))
        assert await member_store.take_card_code(tx, "1234", NOW) == member_id
        assert await member_store.take_card_code(tx, "1234", NOW) is None
        await member_store.replace_card_code(tx, member_id, "5678", NOW + timedelta(minutes=5))
        assert await member_store.take_card_code(tx, "5678", NOW + timedelta(minutes=6)) is None


async def test_audiences_page_and_count(db: Database) -> None:
    ids = [await new_member(db, 100 + n, f"M{n}") for n in range(5)]
    async with db.transaction() as tx:
        await member_store.set_birthday(tx, ids[0], "11-01", NOW)
        await member_store.set_birthday(tx, ids[1], "11-30", NOW)
        await member_store.set_birthday(tx, ids[2], "12-01", NOW)
        await member_store.set_birthday(tx, ids[3], "01-11", NOW)
        await member_store.set_promotions(tx, ids[4], False)
        await earn_in(tx, ids[1], 30, "tier-1")
        await earn_in(tx, ids[2], 120, "tier-2")

    async def members_of(audience: member_store.AudienceFilter) -> list[int]:
        found: list[int] = []
        while page := await member_store.audience_page(
            db.reader, audience, found[-1] if found else 0, 2
        ):
            found += [member_id for member_id, _ in page]
        assert await member_store.audience_count(db.reader, audience) == len(found)
        return found

    assert await members_of(member_store.audience_filter("all")) == ids[:4]
    assert await members_of(member_store.audience_filter("none")) == []
    november = member_store.audience_filter("birthday", birthday_month=11)
    assert await members_of(november) == ids[:2]
    since = NOW - timedelta(days=1)
    silver = member_store.audience_filter(
        "tier", earned_since=since, earned_from=20, earned_below=100
    )
    assert await members_of(silver) == [ids[1]]
    gold = member_store.audience_filter("tier", earned_since=since, earned_from=100)
    assert await members_of(gold) == [ids[2]]
    nobody_lapsed = member_store.audience_filter("lapsed", visited_before=NOW)
    assert await members_of(nobody_lapsed) == []
    everyone_lapsed = member_store.audience_filter("lapsed", visited_before=NOW + timedelta(1))
    assert await members_of(everyone_lapsed) == ids[:4]

    facts = await member_store.audience_facts(db.reader, since, member_id=ids[2])
    assert [(f.member_id, f.earned_recently, f.last_purchase_at) for f in facts] == [
        (ids[2], 120, NOW)
    ]


async def test_lifecycle_pages_by_last_visit_then_id(db: Database) -> None:
    ids = [await new_member(db, 200 + n) for n in range(5)]
    for n, member_id in enumerate(ids):
        await earn(db, member_id, 10, f"visit-{n}")
    found: list[int] = []
    after = member_store.FIRST_PAGE
    while page := await member_store.lapsed_balances(db.reader, NOW + timedelta(days=1), after, 2):
        found += [member.id for member in page]
        after = (page[-1].last_visit_at, page[-1].id)
    assert found == ids
    between = await member_store.balances_visited_between(
        db.reader, NOW, NOW + timedelta(days=1), member_store.FIRST_PAGE, 10
    )
    assert [member.id for member in between] == ids


async def test_birthdays_by_list(db: Database) -> None:
    ids = [await new_member(db, 300 + n) for n in range(3)]
    async with db.transaction() as tx:
        for member_id, birthday in zip(ids, ("02-28", "02-29", "03-01"), strict=True):
            await member_store.set_birthday(tx, member_id, birthday, NOW)
    found = await member_store.with_birthdays(db.reader, ["02-28", "02-29"], 0, 10)
    assert [(member.id, birthday) for member, birthday in found] == [
        (ids[0], "02-28"),
        (ids[1], "02-29"),
    ]
    assert await member_store.with_birthdays(db.reader, [], 0, 10) == []


async def test_a_winback_is_marked_once_per_dormant_spell(db: Database) -> None:
    member_id = await new_member(db)
    dormant = await member_store.dormant_without_winback(db.reader, NOW + timedelta(1), 10)
    assert [member.id for member in dormant] == [member_id]
    async with db.transaction() as tx:
        assert await member_store.mark_winback(tx, member_id, dormant[0].last_visit_at)
        assert not await member_store.mark_winback(tx, member_id, dormant[0].last_visit_at)
    assert await member_store.dormant_without_winback(db.reader, NOW + timedelta(1), 10) == []


async def test_staff_are_listed_by_name_ignoring_case(db: Database) -> None:
    async with db.transaction() as tx:
        for tg_user_id, name in ((1, "bob"), (2, "Alice"), (3, "Carol"), (4, "alan")):
            await staff_store.add(
                tx, tg_user_id=tg_user_id, chat_id=tg_user_id, first_name=name, added_by=9, now=NOW
            )
        removed = await staff_store.remove(tx, 3, NOW)
        assert removed is not None and removed.first_name == "Carol"
    names = [staff.first_name for staff in await staff_store.list_active(db.reader)]
    assert names == ["alan", "Alice", "bob"]


async def test_an_invite_is_used_once(db: Database) -> None:
    async with db.transaction() as tx:
        await staff_store.create_invite(
            tx, token="t", created_by=9, now=NOW, expires_at=NOW + timedelta(hours=1)
        )

    async def use(user: int) -> bool:
        async with db.transaction() as tx:
            return await staff_store.use_invite(tx, "t", user, NOW)

    assert sorted(await asyncio.gather(*(use(user) for user in range(10, 16)))) == [False] * 5 + [
        True
    ]
    invite = await staff_store.invite(db.reader, "t")
    assert invite is not None and invite.used_by is not None and invite.used_at == NOW


async def test_an_owner_claim_makes_one_owner(db: Database) -> None:
    async with db.transaction() as tx:
        await owner_store.replace_claim(tx, "hash", NOW, NOW + timedelta(hours=1))

    async def claim(user: int, token_hash: str = "hash") -> bool:
        async with db.transaction() as tx:
            return await owner_store.use_claim(tx, token_hash, user, NOW)

    results = await asyncio.gather(*(claim(user) for user in range(20, 28)))
    assert results.count(True) == 1
    owners = await owner_store.all_ids(db.reader)
    assert len(owners) == 1 and await owner_store.is_owner(db.reader, owners[0])
    # A later claim link does nothing while the bot has an owner.
    async with db.transaction() as tx:
        await owner_store.replace_claim(tx, "later", NOW, NOW + timedelta(hours=1))
    assert not await claim(30, "later")
    assert await owner_store.all_ids(db.reader) == owners


async def test_an_expired_claim_is_refused(db: Database) -> None:
    async with db.transaction() as tx:
        await owner_store.replace_claim(tx, "hash", NOW, NOW + timedelta(hours=1))
        assert not await owner_store.use_claim(tx, "hash", 5, NOW + timedelta(hours=2))
    assert await owner_store.all_ids(db.reader) == ()


async def test_one_alert_per_kind_and_window(db: Database) -> None:
    async def claim(now: datetime) -> bool:
        async with db.transaction() as tx:
            return await alert_store.claim(tx, "KeyError", now, now - timedelta(minutes=10))

    assert (await asyncio.gather(*(claim(NOW) for _ in range(5)))).count(True) == 1
    assert not await claim(NOW + timedelta(minutes=5))
    assert await claim(NOW + timedelta(minutes=11))


async def test_a_failing_migration_rolls_back_and_closes(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.migrations

    broken = (
        *MIGRATIONS,
        (MIGRATIONS[-1][0] + 1, ("CREATE TABLE x (a integer)", "NOT SQL AT ALL")),
    )
    monkeypatch.setattr(storage.migrations, "MIGRATIONS", broken)
    database = Database(target(tmp_path, database_url))
    with pytest.raises(DatabaseError):
        await database.open()
    monkeypatch.setattr(storage.migrations, "MIGRATIONS", MIGRATIONS)
    reopened = Database(target(tmp_path, database_url))
    await reopened.open()
    assert await reopened.version() == MIGRATIONS[-1][0]
    tables_named_x = per_engine(
        sqlite="SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'x'",
        postgresql="SELECT COUNT(*) AS n FROM information_schema.tables"
        " WHERE table_schema = current_schema() AND table_name = 'x'",
    )
    assert await reopened.reader.value(tables_named_x) == 0
    await reopened.close()


@pytest.mark.sqlite_only
async def test_a_failed_commit_rolls_back_and_the_writer_stays_usable(db: Database) -> None:
    member_id = await new_member(db)
    # A deferred foreign key is only checked at COMMIT, so COMMIT itself fails.
    with pytest.raises(ConstraintViolated):
        async with db.transaction() as tx:
            await tx.run(sql("PRAGMA defer_foreign_keys = ON"))
            await earn_in(tx, member_id, 5, "kept-out")
            await tx.run(
                sql(
                    "INSERT INTO ledger (member_id, points, kind, reason, idempotency_key,"
                    " created_at) VALUES (999999, 1, 'earn', 'orphan', 'orphan', '2026-11-23')"
                )
            )
    # Nothing of the failed transaction stayed, and the next one commits normally.
    assert await earn(db, member_id, 7, "after")
    rows = await db.reader.all(sql("SELECT idempotency_key, points FROM ledger"))
    assert [(row["idempotency_key"], row["points"]) for row in rows] == [("after", 7)]
    member = await member_store.by_id(db.reader, member_id)
    assert member is not None and member.balance == 7
