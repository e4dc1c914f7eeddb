"""``python bench.py --replicas N``: the bot as N processes on one PostgreSQL database.

This process is Telegram and the café: it runs the fake Bot API, a round-robin proxy
standing in for the load balancer, and twenty baristas. The replicas are real
``loyalty-bot run --webhook`` processes, so each has its own interpreter and core.

1. Counter throughput: twenty baristas scan a card and type an amount, each as soon as
   the last purchase was confirmed, for ``--seconds`` with one replica, then the same
   with N (the same load, the same database, one run): scans a second and the p99 of
   amount → confirmation.
2. A broadcast to 10,000 members with N replicas and Telegram's flood limits on: its
   steady rate, the 429s the bot caused, and duplicates.

It prints the figures and writes them into docs/benchmarks.md between markers.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.tokens import make_card_token
from sandbox.botapi import TOKEN, FakeTelegram, FakeUser
from storage import Database
from storage import broadcasts as broadcast_store
from storage.engine import sql
from tests.databases import fresh_schema
from tests.helpers import seed_people
from tests.test_process import ROOT
from tests.test_replicas_e2e import CARD_SECRET, WEBHOOK_SECRET, Replica
from tests.test_webhook_e2e import RoundRobin

DOCS = Path(__file__).parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- replicas:begin -->", "<!-- replicas:end -->"
BARISTAS = tuple(range(3001, 3021))
CUSTOMERS = tuple(range(2001, 2101))
AUDIENCE = 10_000
FIRST_AUDIENCE = 100_000
NEWS = "Ten thousand, from the replicas"


@dataclass
class Load:
    scans: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds spent, by whom

    def per_scan(self, who: str) -> float:
        """Milliseconds of CPU a scan cost ``who``."""
        return self.cpu.get(who, 0.0) / self.scans * 1000 if self.scans else 0.0

    @property
    def rate(self) -> float:
        return self.scans / self.seconds if self.seconds else 0.0

    def p(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else 0


@dataclass
class Figures:
    replicas: int
    seconds: float
    one: Load = field(default_factory=Load)
    many: Load = field(default_factory=Load)
    sent: int = 0
    steady: float = 0.0
    broadcast_seconds: float = 0.0
    caused: int = 0
    duplicates: int = 0


async def seed(url: str, fake: FakeTelegram) -> dict[int, int]:
    """Baristas at the one location, customers, and the broadcast's audience."""
    db = Database(url)
    await db.open()
    now = datetime.now(UTC)
    try:
        async with db.transaction() as tx:
            members = (*CUSTOMERS, *range(FIRST_AUDIENCE, FIRST_AUDIENCE + AUDIENCE))
            await seed_people(tx, fake, members=members, baristas=BARISTAS, now=now)
        rows = await db.reader.all(sql("SELECT id, tg_user_id FROM members ORDER BY id"))
        return {int(r["tg_user_id"]): int(r["id"]) for r in rows}
    finally:
        await db.close()


def _process_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_now(replicas: list[Replica]) -> dict[str, float]:
    """CPU seconds used so far by this process (the fake, the proxy, the baristas), the
    replicas, and the PostgreSQL server's processes (Linux's /proc)."""
    mine = os.times()
    postgres = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    postgres += _process_cpu(int(entry.name))
            except OSError:
                continue
    return {
        "load": mine.user + mine.system,
        "replicas": sum(_process_cpu(r.process.pid) for r in replicas if r.process),
        "postgresql": postgres,
    }


async def counter(
    baristas: list[FakeUser], members: dict[int, int], seconds: float, first_amount: int
) -> Load:
    """Every barista serves customers back to back until ``seconds`` have passed."""
    load = Load()
    deadline = time.perf_counter() + seconds

    async def serve(index: int, barista: FakeUser) -> None:
        number = first_amount
        while time.perf_counter() < deadline:
            customer = CUSTOMERS[(index + number * len(BARISTAS)) % len(CUSTOMERS)]
            token = make_card_token(
                members[customer], datetime.now(UTC) + timedelta(minutes=10), CARD_SECRET.encode()
            )
            await barista.send(f"/start {token}", timeout=60)
            # A different amount each time (never "looks like a duplicate?"), under €200.
            cents = 100 + index + len(BARISTAS) * number
            started = time.perf_counter()
            (confirmation, *_) = await barista.send(f"{cents // 100}.{cents % 100:02d}", 60)
            load.latencies.append(time.perf_counter() - started)
            assert confirmation.body.startswith("✅"), confirmation.body
            load.scans += 1
            number += 1

    started = time.perf_counter()
    await asyncio.gather(*(serve(i, b) for i, b in enumerate(baristas)))
    load.seconds = time.perf_counter() - started
    return load


async def broadcast(
    url: str, fake: FakeTelegram, members: dict[int, int], figures: Figures
) -> None:
    """10,000 recipients under Telegram's limits; until none is pending."""
    fake.enable_rate_limits(per_second=30)
    sent_before, refused_before = len(fake.send_log), len(fake.rate_limit_log)
    audience = list(range(FIRST_AUDIENCE, FIRST_AUDIENCE + AUDIENCE))
    db = Database(url)
    await db.open()
    try:
        started = time.perf_counter()
        async with db.transaction() as tx:
            await broadcast_store.create(
                tx, created_by=1, text=NEWS, photo_file_id=None, audience="all",
                recipients=[(members[chat], chat) for chat in audience], now=datetime.now(UTC),
            )  # fmt: skip
        pending = sql("SELECT COUNT(*) AS n FROM broadcast_recipients WHERE state = 'pending'")
        for _ in range(7200):  # up to an hour
            if not await db.reader.value(pending):
                break
            await asyncio.sleep(0.5)
        figures.broadcast_seconds = time.perf_counter() - started
    finally:
        await db.close()
    reached = set(audience)
    times = [at for at, chat, _ in fake.send_log[sent_before:] if chat in reached]
    figures.sent = len(times)
    figures.steady = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    deliveries = Counter(chat for chat in audience for m in fake.sent[chat] if NEWS in m.body)
    figures.duplicates = sum(n - 1 for n in deliveries.values())
    figures.caused = len(fake.rate_limit_log) - refused_before


async def measure(replicas: int, server: str, seconds: float) -> Figures:
    figures = Figures(replicas, seconds)
    fake = FakeTelegram()
    fake.processed_when_answered = True
    await fake.start()
    proxy = RoundRobin()
    await proxy.start()
    try:
        async with fresh_schema(server) as url:
            members = await seed(url, fake)
            env = {
                **os.environ, "BOT_TOKEN": TOKEN, "OWNER_IDS": "1", "TELEGRAM_API_URL": fake.url,
                "PYTHONPATH": ROOT, "CARD_SECRET": CARD_SECRET, "LOG_LEVEL": "WARNING",
                "QUIET_HOURS": "off", "DATABASE_URL": url, "WEBHOOK_URL": proxy.url,
                "WEBHOOK_SECRET": WEBHOOK_SECRET, "WEBHOOK_LISTEN": "127.0.0.1",
                "MAX_POINTS_PER_STAFF_DAY": "100000000",  # a benchmark's baristas are busy
            }  # fmt: skip
            env.pop("DATABASE_PATH", None)
            with tempfile.TemporaryDirectory(prefix="bench-replicas-") as folder:
                running: list[Replica] = []
                try:
                    await phases(figures, fake, proxy, members, env, Path(folder), running, url)
                finally:
                    for replica in running:  # stopped before their schema is dropped
                        if replica.process and replica.process.returncode is None:
                            replica.kill()
                            await replica.process.wait()
    finally:
        await proxy.stop()
        await fake.stop()
    return figures


async def phases(
    figures: Figures,
    fake: FakeTelegram,
    proxy: RoundRobin,
    members: dict[int, int],
    env: dict[str, str],
    folder: Path,
    running: list[Replica],
    url: str,
) -> None:
    baristas = [fake.user(b, f"B{b}") for b in BARISTAS]
    seconds = figures.seconds
    for n in range(figures.replicas):
        replica = Replica(f"bench-{n + 1}", env, folder)
        await replica.start()
        running.append(replica)
        proxy.targets.append(replica.hook)
        if n == 0:
            await counter(baristas, members, 3, 0)  # warm: pools, statements
            before = cpu_now(running)
            figures.one = one = await counter(baristas, members, seconds, 50)
            one.cpu = {k: v - before[k] for k, v in cpu_now(running).items()}
            print(f"1 replica: {one.rate:.1f} scans/s, p99 {one.p(0.99):.0f} ms")
    await counter(baristas, members, 3, 250)
    before = cpu_now(running)
    figures.many = many = await counter(baristas, members, seconds, 300)
    many.cpu = {k: v - before[k] for k, v in cpu_now(running).items()}
    print(f"{figures.replicas} replicas: {many.rate:.1f} scans/s, p99 {many.p(0.99):.0f} ms")
    await broadcast(url, fake, members, figures)
    print(f"broadcast: {figures.steady:.2f}/s, {figures.caused} × 429, {figures.duplicates} twice")
    for replica in running:
        assert await replica.stop() == 0


def table(f: Figures) -> str:
    scaling = f.many.rate / f.one.rate if f.one.rate else 0.0

    def verdict(met: bool) -> str:
        return "met" if met else "**missed**"

    rows = [
        ("| What | Figure | Target |"),
        ("| --- | --- | --- |"),
        f"| Scans a second, 20 baristas, 1 replica | {f.one.rate:.1f}/s;"
        f" p50 {f.one.p(0.5):.0f} ms, p99 {f.one.p(0.99):.0f} ms | — |",
        f"| The same with {f.replicas} replicas | {f.many.rate:.1f}/s = {scaling:.2f}× one;"
        f" p50 {f.many.p(0.5):.0f} ms, p99 {f.many.p(0.99):.0f} ms | ≥ 1.5× one: "
        + verdict(scaling >= 1.5)
        + " |",
        f"| Broadcast to 10,000 members, {f.replicas} replicas | {f.sent:,} sent in"
        f" {f.broadcast_seconds:.0f} s; steady {f.steady:.2f}/s ({f.steady / 30:.1%}) |"
        " ≥ 95 % of 30/s: " + verdict(f.steady >= 28.5) + " |",
        f"| 429s caused, duplicates | {f.caused}, {f.duplicates} | 0, 0: "
        + verdict(not f.caused and not f.duplicates)
        + " |",
        *(
            f"| CPU a scan, {label} | the baristas, proxy and fake Bot API"
            f" {load.per_scan('load'):.1f} ms; the replicas {load.per_scan('replicas'):.1f} ms;"
            f" PostgreSQL {load.per_scan('postgresql'):.1f} ms;"
            f" all {sum(load.cpu.values()) / load.seconds:.2f} cores busy | — |"
            for label, load in (("1 replica", f.one), (f"{f.replicas} replicas", f.many))
        ),
    ]
    stamp = (
        f"Measured {datetime.now(UTC):%Y-%m-%d} with `python bench.py --replicas {f.replicas}`"
        f" on {os.cpu_count()} cores: the fake Bot API, the proxy and the baristas in one"
        " process, each replica in its own, PostgreSQL on the same machine."
    )
    return stamp + "\n\n" + "\n".join(rows)


def main(replicas: int, server: str, seconds: float = 30.0) -> None:
    figures = asyncio.run(measure(replicas, server, seconds))
    block = f"{BEGIN}\n{table(figures)}\n{END}"
    text = DOCS.read_text()
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text += f"\n## Several replicas\n\n{block}\n"
    DOCS.write_text(text)
    print(block)
