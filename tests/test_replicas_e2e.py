"""Two real bot processes (`loyalty-bot run --webhook`) on one PostgreSQL database, behind
a round-robin proxy standing in for the load balancer, with Telegram's flood limits on.
Twenty baristas issue points and customers redeem while a broadcast goes to 1,000
members; in the middle one replica is killed (SIGKILL) and started again. Afterwards:

- every purchase a barista saw confirmed is in the ledger exactly once, and no purchase
  was written twice;
- every balance equals the sum of its member's ledger; no coupon was redeemed twice;
- every broadcast recipient got the message, and only a message in flight at the kill
  can have gone twice (Telegram's sendMessage has no idempotency key: a message sent
  the instant before a SIGKILL, whose sending was not yet recorded, is sent again);
- the jobs ran on the replicas (each job's lease is held by a live replica, both
  replicas' heartbeats are fresh), and at most the odd 429 where a burst at one
  replica's counter met a second the other's broadcast had filled (retried, not lost).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest_asyncio

from bot.tokens import make_card_token
from sandbox.botapi import TOKEN, FakeTelegram, FakeUser
from storage import Database
from storage import broadcasts as broadcast_store
from storage import rewards as reward_store
from storage.engine import sql
from tests.databases import fresh_schema, server_url
from tests.helpers import seed_people
from tests.test_crash import redeem
from tests.test_process import ROOT, command
from tests.test_startup import free_port
from tests.test_webhook_e2e import RoundRobin

CARD_SECRET = "replicas-test-card-secret-0123456789abcdef"
WEBHOOK_SECRET = "replicas-test-webhook-secret_0123456789"
BARISTAS = tuple(range(3001, 3021))
CUSTOMERS = tuple(range(2001, 2021))
AUDIENCE = 1000
NEWS = "News from both replicas"
ROUNDS = 4


async def seed(url: str, fake: FakeTelegram) -> dict[int, int]:
    """Customers, baristas at the café's one location, a reward, and a broadcast to
    AUDIENCE members waiting to be sent. Returns each customer's member id."""
    db = Database(url)
    await db.open()
    now = datetime.now(UTC)
    async with db.transaction() as tx:
        members = (*CUSTOMERS, *(5000 + n for n in range(AUDIENCE)))
        await seed_people(tx, fake, members=members, baristas=BARISTAS, now=now)
        await reward_store.add(tx, "Espresso", 3, now)
    members = {
        int(r["tg_user_id"]): int(r["id"])
        for r in await db.reader.all(sql("SELECT id, tg_user_id FROM members ORDER BY id"))
    }
    audience = [(members[5000 + n], 5000 + n) for n in range(AUDIENCE)]
    async with db.transaction() as tx:
        await broadcast_store.create(
            tx, created_by=1, text=NEWS, photo_file_id=None, audience="all",
            recipients=audience, now=now,
        )  # fmt: skip
    await db.close()
    return {customer: members[customer] for customer in CUSTOMERS}


class Replica:
    """One `loyalty-bot run --webhook` process; started again on the same port."""

    def __init__(self, name: str, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.env = {**env, "REPLICA_ID": name, "WEBHOOK_PORT": str(self.port)}
        self.cwd = cwd
        self.log = cwd / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self.hook = f"http://127.0.0.1:{self.port}/telegram"

    async def start(self) -> None:
        # The log goes to a file: a pipe nobody reads would stop the process once full.
        with self.log.open("a") as log:
            self.process = await asyncio.create_subprocess_exec(
                *command(), "run", "--webhook", cwd=self.cwd, env=self.env,
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            for _ in range(600):
                if self.process.returncode is not None:
                    raise AssertionError(f"the replica exited: {self.log.read_text()[-2000:]}")
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as answer:
                        if answer.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the replica did not become healthy in 30 s")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), timeout=60)


def card(member_id: int) -> str:
    return make_card_token(
        member_id, datetime.now(UTC) + timedelta(minutes=10), CARD_SECRET.encode()
    )


def purchase(barista: FakeUser, member_id: int, number: int) -> None:
    """A scan and a unique amount, as the barista's phone sends them."""
    barista.fake.push_update({"message": barista.message(
        text=f"/start {card(member_id)}",
        entities=[{"type": "bot_command", "offset": 0, "length": 6}],
    )})  # fmt: skip
    barista.fake.push_update({"message": barista.message(text=f"{3 + number}.{number % 100:02d}")})


async def settled(fake: FakeTelegram, url: str) -> None:
    """Until every update is delivered and the broadcast has no recipient left."""
    db = Database(url)
    await db.open()
    try:
        for _ in range(1800):
            left = await db.reader.value(
                sql("SELECT COUNT(*) AS n FROM broadcast_recipients WHERE state = 'pending'")
            )
            if not left and not fake.updates:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"not settled: {left} recipients, {len(fake.updates)} updates left")
    finally:
        await db.close()


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API on real time: the replicas are processes with real clocks, and
    Telegram's flood limits are judged on the time they send by."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


async def test_two_replicas_one_killed_midway_lose_and_repeat_nothing(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    async with fresh_schema(server_url()) as url:
        member_ids = await seed(url, fake)
        fake.enable_rate_limits()
        proxy = RoundRobin()
        await proxy.start()
        env = {
            **os.environ, "BOT_TOKEN": TOKEN, "OWNER_IDS": "1", "TELEGRAM_API_URL": fake.url,
            "PYTHONPATH": ROOT, "CARD_SECRET": CARD_SECRET, "LOG_LEVEL": "WARNING",
            "QUIET_HOURS": "off", "DATABASE_URL": url, "WEBHOOK_URL": proxy.url,
            "WEBHOOK_SECRET": WEBHOOK_SECRET, "WEBHOOK_LISTEN": "127.0.0.1",
        }  # fmt: skip
        env.pop("DATABASE_PATH", None)
        replicas = [Replica(f"web-{n}", env, tmp_path) for n in (1, 2)]
        try:
            for replica in replicas:
                await replica.start()
                proxy.targets.append(replica.hook)
            rng = random.Random(21)
            baristas = [fake.user(b, f"B{b}") for b in BARISTAS]
            customers = [fake.user(c, f"M{c}") for c in CUSTOMERS]
            number = 0
            for round_ in range(ROUNDS):
                for barista in baristas:
                    purchase(barista, member_ids[rng.choice(CUSTOMERS)], number)
                    number += 1
                    if rng.random() < 0.2:
                        await redeem(rng.choice(customers))
                    # Twenty counters, each serving a customer every 4 s: about 15 messages
                    # a second between confirmations and receipts, the rest of Telegram's
                    # 30 left to the broadcast.
                    await asyncio.sleep(0.2)
                if round_ == ROUNDS // 2 - 1:
                    replicas[0].kill()  # mid-request, mid-broadcast, holding leases
                    await replicas[0].process.wait()  # type: ignore[union-attr]
                    await asyncio.sleep(1.0)
                    await replicas[0].start()
            await settled(fake, url)
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                for replica in replicas:  # both alive and answering before they stop
                    async with http.get(f"http://127.0.0.1:{replica.port}/healthz") as answer:
                        assert answer.status == 200
            db = Database(url)
            await db.open()
            try:
                heartbeats = {
                    row["id"]
                    for row in await db.reader.all(sql("SELECT id FROM replicas ORDER BY id"))
                }
                leases = {
                    row["name"]: row["holder"]
                    for row in await db.reader.all(sql("SELECT name, holder FROM leases"))
                }
            finally:
                await db.close()
        finally:
            codes = [await replica.stop() for replica in replicas if replica.process]
            await proxy.stop()
        assert codes == [0, 0]
        assert {"web-1", "web-2"} <= heartbeats
        assert leases and all(holder.split(":")[0] in heartbeats for holder in leases.values())

        db = Database(url)
        await db.open()
        try:
            reader = db.reader
            mismatched = await reader.value(
                sql(
                    "SELECT COUNT(*) AS n FROM members AS m WHERE m.balance < 0 OR m.balance <>"
                    " (SELECT COALESCE(SUM(points), 0) FROM ledger AS l"
                    " WHERE l.member_id = m.id)"
                )
            )
            entries = {
                row["id"]: (row["member_id"], row["kind"], row["amount_minor"])
                for row in await reader.all(
                    sql("SELECT id, member_id, kind, amount_minor FROM ledger")
                )
            }
            debits = [
                row["debit_entry_id"]
                for row in await reader.all(sql("SELECT debit_entry_id FROM coupons"))
            ]
            redeemed = await reader.value(
                sql("SELECT COUNT(*) AS n FROM ledger WHERE kind = 'redeem'")
            )
        finally:
            await db.close()

    assert mismatched == 0  # every balance equals the sum of its ledger
    confirmed = [
        int(found.group(1))
        for barista in baristas
        for message in barista.messages
        for found in [re.search(r"· #(\d+)$", message.body)]
        if found and message.body.startswith("✅")
    ]
    assert len(confirmed) > number // 2, "most purchases were confirmed"
    assert len(confirmed) == len(set(confirmed))
    assert all(entries[entry][1] == "earn" for entry in confirmed)
    purchases = Counter(
        (member, amount) for member, kind, amount in entries.values() if kind == "earn"
    )
    assert all(n == 1 for n in purchases.values()), purchases.most_common(3)
    assert len(debits) == len(set(debits))
    assert redeemed == len(debits)
    deliveries = Counter(
        chat for chat, messages in fake.sent.items() for m in messages
        if chat >= 5000 and NEWS in m.body
    )  # fmt: skip
    assert len(deliveries) == AUDIENCE  # everyone got it…
    assert sum(n - 1 for n in deliveries.values()) <= 2  # …and only the kill's in flight twice
    # Two replicas share Telegram's limits. The sender learns of the other replica's
    # replies a second late, so a burst at the counter can meet a second the broadcast
    # had nearly filled, as one process meets after a quiet spell (docs/benchmarks.md):
    # a message refused then is sent again after Telegram's retry_after, nothing is
    # lost, and it stays rare: a handful in this whole run at most (up to 3 on a quiet
    # machine; 6 once, in CI with the whole suite running beside it).
    assert fake.rate_limited <= 8, fake.rate_limit_log
