"""Crash safety: the installed bot is killed (SIGKILL) at random moments while baristas
scan, customers redeem and a broadcast goes out, and restarted each time. Afterwards:

- every entry a barista saw confirmed is in the ledger, exactly once;
- no purchase was written twice (each has its own amount);
- every member's balance equals the sum of their ledger, and the database is intact;
- no coupon was redeemed twice (one debit per coupon, one coupon per debit);
- each broadcast recipient got the message at most once, plus at most the one in flight
  at each kill.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.tokens import make_card_token
from sandbox.botapi import TOKEN, FakeTelegram, FakeUser
from storage import Database
from storage import broadcasts as broadcast_store
from storage import rewards as reward_store
from storage.backup import verify
from storage.engine import sql
from tests.databases import database_env, opened
from tests.helpers import seed_people
from tests.test_process import ROOT, command

KILLS = int(os.environ.get("CRASH_KILLS", "10"))  # CI: 10; the benchmark can ask for more
CARD_SECRET = "crash-test-card-secret-0123456789abcdef"
BARISTAS = (3001, 3002)
CUSTOMERS = tuple(range(2001, 2007))
AUDIENCE = 40


async def seed(path: Path, url: str | None, fake: FakeTelegram) -> None:
    db = Database(url if url is not None else path)
    await db.open()
    now = datetime.now(UTC)
    async with db.transaction() as tx:
        members = (*CUSTOMERS, *(5000 + n for n in range(AUDIENCE)))
        await seed_people(tx, fake, members=members, baristas=BARISTAS, now=now)
        await reward_store.add(tx, "Espresso", 3, now)
    audience = [
        (int(r["id"]), int(r["chat_id"]))
        for r in await db.reader.all(
            sql("SELECT id, chat_id FROM members WHERE tg_user_id >= 5000 ORDER BY id")
        )
    ]
    async with db.transaction() as tx:
        await broadcast_store.create(
            tx, created_by=1, text="Crash-proof news", photo_file_id=None, audience="all",
            recipients=audience, now=now,
        )  # fmt: skip
    await db.close()


async def start(fake: FakeTelegram, env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    polls = sum(1 for method, _ in fake.calls if method == "getUpdates")
    process = await asyncio.create_subprocess_exec(
        *command(), "run", cwd=cwd, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await fake.wait_for(
        lambda: sum(1 for method, _ in fake.calls if method == "getUpdates") > polls, timeout=30
    )
    return process


def card(member_id: int) -> str:
    return make_card_token(
        member_id, datetime.now(UTC) + timedelta(minutes=10), CARD_SECRET.encode()
    )


async def act(fake: FakeUser, rng: random.Random, purchase: int, member_id: int) -> None:
    """One burst at a counter: scan a card, type a unique amount."""
    fake.fake.push_update({"message": fake.message(
        text=f"/start {card(member_id)}",
        entities=[{"type": "bot_command", "offset": 0, "length": 6}],
    )})  # fmt: skip
    await asyncio.sleep(rng.uniform(0, 0.05))
    fake.fake.push_update({"message": fake.message(text=f"{3 + purchase}.{purchase % 100:02d}")})


async def redeem(customer: FakeUser) -> None:
    """Press Redeem on the newest rewards message the customer has, if any."""
    listing = next(
        (m for m in reversed(customer.messages) if any(
            (b.callback_data or "").startswith("rdm:") for b in m.buttons)), None,
    )  # fmt: skip
    if listing is None:
        customer.fake.push_update(
            {
                "message": customer.message(
                    text="/rewards", entities=[{"type": "bot_command", "offset": 0, "length": 8}]
                )
            }
        )
        return
    data = next(
        b.callback_data for b in listing.buttons if (b.callback_data or "").startswith("rdm:")
    )
    customer.fake.push_update({"callback_query": customer.callback(listing, data or "")})


async def test_killed_at_random_the_books_stay_right(
    fake: FakeTelegram, tmp_path: Path, database_url: str | None
) -> None:
    database = tmp_path / "db" / "loyalty.db"
    await seed(database, database_url, fake)
    env = database_env({
        **os.environ, "BOT_TOKEN": TOKEN, "OWNER_IDS": "1", "TELEGRAM_API_URL": fake.url,
        "PYTHONPATH": ROOT, "CARD_SECRET": CARD_SECRET,
        "LOG_LEVEL": "WARNING", "QUIET_HOURS": "off", "BROADCAST_RATE": "20",
        # Each start is the same replica restarted: it takes back at once what its killed
        # previous life held (the sending lease, its claims), as a container keeps its name.
        "REPLICA_ID": "crash-test",
    }, database, database_url)  # fmt: skip
    rng = random.Random(7)
    baristas = [fake.user(b, f"B{b}") for b in BARISTAS]
    customers = [fake.user(c, f"M{c}") for c in CUSTOMERS]
    member_ids = {c: n + 1 for n, c in enumerate(CUSTOMERS)}  # seeded first, in order
    purchase = 0
    for _ in range(KILLS):
        process = await start(fake, env, tmp_path)
        for _ in range(rng.randint(2, 5)):
            barista, customer = rng.choice(baristas), rng.choice(customers)
            await act(barista, rng, purchase, member_ids[customer.id])
            purchase += 1
            if rng.random() < 0.5:
                await redeem(rng.choice(customers))
            await asyncio.sleep(rng.uniform(0.0, 0.15))
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        await process.wait()
    # A last, clean run catches up on everything still pending, then stops.
    process = await start(fake, env, tmp_path)
    await asyncio.sleep(1.0)
    await fake.wait_for(lambda: not fake.updates, timeout=30)
    async with opened(database, database_url) as check:
        for _ in range(300):
            left = await check.reader.value(
                sql("SELECT COUNT(*) FROM broadcast_recipients WHERE state = 'pending'")
            )
            if not left:
                break
            await asyncio.sleep(0.1)
    fake.drain_polls(True)
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), timeout=30)
    assert process.returncode == 0

    if database_url is None:
        verdict = verify(database)
        assert verdict.ok, verdict  # SQLite's integrity check, and balances equal ledgers
    async with opened(database, database_url) as db:
        reader = db.reader
        mismatched = await reader.value(
            sql(
                "SELECT COUNT(*) FROM members AS m WHERE m.balance < 0 OR m.balance <>"
                " (SELECT COALESCE(SUM(points), 0) FROM ledger AS l WHERE l.member_id = m.id)"
            )
        )
        assert mismatched == 0  # every balance equals the sum of its ledger
        entries = {
            row["id"]: (row["id"], row["member_id"], row["kind"], row["amount_minor"])
            for row in await reader.all(sql("SELECT id, member_id, kind, amount_minor FROM ledger"))
        }
        debits = [
            row["debit_entry_id"]
            for row in await reader.all(sql("SELECT debit_entry_id FROM coupons"))
        ]
        redeemed = await reader.value(sql("SELECT COUNT(*) FROM ledger WHERE kind = 'redeem'"))
    confirmed = [
        int(found.group(1))
        for barista in baristas
        for message in barista.messages
        for found in [re.search(r"· #(\d+)$", message.body)]
        if found and message.body.startswith("✅")
    ]
    assert confirmed, "no purchase was confirmed: the test did not test anything"
    assert len(confirmed) == len(set(confirmed))
    assert all(entries[entry][2] == "earn" for entry in confirmed)
    purchases = Counter(
        (member, amount) for _, member, kind, amount in entries.values() if kind == "earn"
    )
    assert all(n == 1 for n in purchases.values()), purchases.most_common(3)
    assert len(debits) == len(set(debits))
    assert redeemed == len(debits)  # every debit has its coupon, every coupon one debit
    deliveries = Counter(
        chat for chat, messages in fake.sent.items() for m in messages
        if chat >= 5000 and "Crash-proof news" in m.body
    )  # fmt: skip
    assert len(deliveries) == AUDIENCE  # everyone got it…
    assert sum(n - 1 for n in deliveries.values()) <= KILLS + 1  # …and repeats only in flight
