"""Moving a café from its SQLite file to PostgreSQL with ``loyalty-bot move-to``: every
row with its id, balances equal to their ledger sums, and the signing key, so a card
shown before the move still scans after it."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from sandbox.botapi import TOKEN, FakeTelegram
from storage.port import TABLES
from tests.conftest import FakeClock, make_settings, start_bot, stop_bot
from tests.databases import fresh_schema, server_url
from tests.helpers import qr_payload, show_card
from tests.test_process import ROOT, command


async def move(sqlite_path: Path, url: str, cwd: Path) -> tuple[int, str, str]:
    """Run ``loyalty-bot move-to`` as an operator would."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "BOT_TOKEN": TOKEN,
        "DATABASE_PATH": str(sqlite_path),
        "PYTHONPATH": ROOT,
        "LOG_LEVEL": "WARNING",
    }
    process = await asyncio.create_subprocess_exec(
        *command(), "move-to", url,
        env=env, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_a_cafe_moves_to_postgresql_and_carries_on(
    fake: FakeTelegram, clock: FakeClock, tmp_path: Path
) -> None:
    url = server_url()
    sqlite_bot = await start_bot(fake, make_settings(tmp_path, fake.url), clock)
    owner = sqlite_bot.owner()
    await owner.send("/start")
    await owner.send("/catalog add 5 Espresso")
    barista = await sqlite_bot.hire(3001, "Ben")
    harbour = await sqlite_bot.services.locations.add(owner.id, "Harbour")  # a second shop
    anna = await sqlite_bot.customer(2001, "Anna")
    bob = await sqlite_bot.customer(2002, "Bob")
    for customer, amount in ((anna, "12.50"), (bob, "3.20"), (anna, "7")):
        card = await show_card(customer)
        await barista.send(f"/start {qr_payload(card.photo)}")
        await barista.send(amount)
    (listing,) = await anna.send("/rewards")
    (coupon,) = await anna.press(listing, "Redeem Espresso")
    card_before = await show_card(bob)  # shown before the move, scanned after it
    balances = {m: (await sqlite_bot.services.members.find(m)).balance for m in (2001, 2002)}  # type: ignore[union-attr]
    sqlite_path = sqlite_bot.services.settings.database_path
    await stop_bot(sqlite_bot)

    async with fresh_schema(url) as target:
        code, out, err = await move(sqlite_path, target, tmp_path)
        assert code == 0, out + err
        for table in TABLES:
            assert table in out
        assert "MISMATCH" not in out
        assert "Balances: equal" in out
        assert "Traceback" not in err

        # The same café on PostgreSQL: same members, balances, staff, coupon and key.
        pg_bot = await start_bot(fake, make_settings(tmp_path, fake.url, target), clock)
        try:
            for member_id, balance in balances.items():
                member = await pg_bot.services.members.find(member_id)
                assert member is not None and member.balance == balance
            (shown,) = await barista.send(f"/start {qr_payload(card_before.photo)}")
            assert "Bob" in shown.body, shown.body
            replies = await barista.send("2.00")
            assert any("Bob" in r.body and "2.00" in r.body for r in replies)
            (handed,) = await barista.send(f"/start {qr_payload(coupon.photo)}")
            assert "Espresso" in handed.body and "Anna" in handed.body, handed.body
            # The shops and who works where came along; new shops follow the old ids.
            shops = await pg_bot.rows("SELECT id, name FROM locations ORDER BY id")
            assert [(s["id"], s["name"]) for s in shops] == [(1, "Main"), (harbour.id, "Harbour")]
            places = await pg_bot.rows("SELECT staff_id, location_id FROM staff_locations")
            assert places == [{"staff_id": 3001, "location_id": 1}]
            assert (await pg_bot.services.locations.add(owner.id, "Pier")).id == harbour.id + 1
            entries = await pg_bot.rows("SELECT id FROM ledger ORDER BY id")
            ids = [row["id"] for row in entries]
            assert ids == sorted(set(ids)) and ids[-1] == len(ids)  # new ids follow the old
            sums = await pg_bot.rows(
                "SELECT m.balance, COALESCE(SUM(l.points), 0) AS total FROM members m"
                " LEFT JOIN ledger l ON l.member_id = m.id GROUP BY m.id, m.balance"
            )
            assert all(int(row["balance"]) == int(row["total"]) for row in sums)
        finally:
            await stop_bot(pg_bot)

        # A second move into the same, now used, database is refused in one line.
        code, out, err = await move(sqlite_path, target, tmp_path)
        assert code == 1
        assert "not empty" in err and "Traceback" not in err
        assert err.count("\n") == 1


async def test_move_to_refuses_what_is_not_postgresql(tmp_path: Path) -> None:
    sqlite_path = tmp_path / "loyalty.db"
    sqlite_path.write_bytes(b"")
    code, _, err = await move(sqlite_path, "mysql://x@localhost/db", tmp_path)
    assert code == 1
    assert "postgresql://" in err and err.count("\n") == 1
