"""Benchmarks: print the figures written up in docs/benchmarks.md.

    python bench.py [--members 1000] [--scans 12] [--think 2.2]
    python bench.py --production [--engine sqlite|postgresql|both] [--database-url URL]

Runs the real bot against the test suite's fake Bot API server on 127.0.0.1 (flood limits
on), in a temporary folder. Nothing touches the network.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import psycopg
from sqlalchemy import make_url
from telegram import Update

import bench_production
import bench_replicas
from bench_production import RealTimeClock
from bot.domain import EntryKind
from bot.observability import Metrics, UpdateRecord, finish
from bot.periods import parse_period
from bot.redaction import Redactor, install_logging
from bot.services.membership import Profile
from bot.telegram.concurrency import ChatOrderedProcessor
from sandbox.botapi import TOKEN, FakeTelegram
from storage import Database
from storage import ledger as ledger_store
from storage import members as member_store
from storage.seed import seed_history
from tests.conftest import make_settings, start_bot, stop_bot
from tests.databases import fresh_schema
from tests.helpers import qr_payload, show_card


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def scan_latencies(  # type: ignore[no-untyped-def]
    harness, barista, customers, count: int, think: float, step: float = 0.5, until=None
) -> list[float]:
    """Seconds from the barista's amount message to the confirmation, per purchase.

    ``think`` is the barista's pause between customers: Telegram allows a chat about one
    message a second, and each purchase sends the barista two. Within a purchase, a person
    needs a moment to show the card, point the camera and type (``step``). ``until``
    stops early (when what runs beside the scans has finished).
    """
    latencies = []
    for number in range(count):
        if until is not None and until():
            break
        await asyncio.sleep(think)
        customer = customers[number % len(customers)]
        harness.clock.advance(minutes=3)  # no duplicate prompts
        card = await show_card(customer)
        await asyncio.sleep(step)
        await barista.send(f"/start {qr_payload(card.photo)}")
        await asyncio.sleep(step)
        started = time.perf_counter()
        (confirmation,) = await barista.send(f"{3 + number % 7}.50")
        latencies.append(time.perf_counter() - started)
        assert confirmation.body.startswith("✅"), confirmation.body
    return latencies


async def ledger_throughput(folder: Path, writes: int) -> float:
    db = Database(folder / "ledger-bench.db")
    await db.open()
    now = datetime.now(UTC)
    async with db.transaction() as tx:
        member, _ = await member_store.upsert(
            tx, tg_user_id=1, chat_id=1, first_name="B", username=None, language=None, now=now
        )

    async def write(number: int) -> None:
        async with db.transaction() as tx:
            await ledger_store.append(
                tx,
                member_id=member.id,
                points=1,
                kind=EntryKind.EARN,
                reason="bench",
                idempotency_key=f"bench:{number}",
                now=now,
            )

    started = time.perf_counter()
    await asyncio.gather(*(write(n) for n in range(writes)))
    elapsed = time.perf_counter() - started
    await db.close()
    return writes / elapsed


async def main(members: int, scans: int, think: float) -> None:
    fake = FakeTelegram()
    await fake.start()
    with tempfile.TemporaryDirectory() as folder:
        harness = await start_bot(fake, make_settings(Path(folder), fake.url), RealTimeClock())
        barista = await harness.hire(3001, "Anna")
        customers = [await harness.customer(2001 + n, f"Customer{n}") for n in range(5)]
        for number in range(members):
            person = fake.user(100_000 + number, f"Guest{number}")
            await harness.services.members.join(Profile(person.id, person.chat_id, "Guest"))
            fake.known_chats.add(person.chat_id)
        await harness.owner().send("/start")

        fake.enable_rate_limits(per_second=30)
        quiet = await scan_latencies(harness, barista, customers, scans, think)

        await harness.services.broadcasts.create(
            created_by=harness.owner().id, text="Bench news", photo_file_id=None, audience="all"
        )
        owner = harness.owner()

        def reported() -> bool:
            return any("finished" in m.body and not m.edits for m in owner.messages)

        sent_before = len(fake.send_log)
        started = time.perf_counter()
        harness.app.bot_data.broadcaster.wake()
        await fake.wait_for(lambda: len(fake.send_log) > sent_before + 50, timeout=30)
        busy = await scan_latencies(harness, barista, customers, scans, think)
        busy_while_sending = not reported()
        quiet_from = len(fake.send_log)  # the counter is quiet from here on
        await fake.wait_for(reported, timeout=600, interval=0.1)
        broadcast_seconds = time.perf_counter() - started
        await stop_bot(harness)
        writes_per_second = await ledger_throughput(Path(folder), 2000)
    await fake.stop()

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"scan → confirmation, no broadcast:   p50 {statistics.median(quiet) * 1000:6.1f} ms"
          f"   p95 {percentile(quiet, 0.95) * 1000:6.1f} ms   ({scans} purchases)")  # fmt: skip
    still = "still sending afterwards" if busy_while_sending else "BROADCAST ENDED FIRST"
    print(f"scan → confirmation, broadcasting:   p50 {statistics.median(busy) * 1000:6.1f} ms"
          f"   p95 {percentile(busy, 0.95) * 1000:6.1f} ms   ({scans} purchases)")  # fmt: skip
    print(f"  (the broadcast was {still})")
    rate = (members + 7) / broadcast_seconds
    guests = [at for at, chat, _ in fake.send_log[quiet_from:] if chat >= 100_000]
    steady = (len(guests) - 1) / (guests[-1] - guests[0]) if len(guests) > 1 else 0.0
    print(f"broadcast to {members + 7} members: {broadcast_seconds:6.1f} s = {rate:5.1f} msg/s,"
          f" 429s caused: {fake.rate_limited}")  # fmt: skip
    print(f"  steady rate once the counter is quiet: {steady:5.1f} msg/s"
          f" ({len(guests)} messages, {steady / 30:.0%} of Telegram's 30/s)")  # fmt: skip
    print(f"ledger writes (2000 concurrent, one transaction each): {writes_per_second:5.0f} /s")
    print(f"peak memory (RSS) of this process: {peak_mib:6.1f} MiB")
    for at, chat, in_window, _ in fake.rate_limit_log[:5]:
        print(f"  429 at {at:.2f}: chat {chat}, {in_window} in the second before")


async def timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = await action
    return time.perf_counter() - started, result


async def books(members: int, entries: int) -> None:
    """The owner's numbers on a big café: /report, /stats, /export beside /balance, and
    scans while /stats runs."""
    fake = FakeTelegram()
    await fake.start()
    with tempfile.TemporaryDirectory() as folder:
        settings = make_settings(Path(folder), fake.url, quiet_hours="off")
        db = Database(settings.database_path)
        await db.open()
        seeded_in, _ = await timed(
            seed_history(
                db,
                members=members,
                entries=entries,
                start=datetime(2025, 11, 24, tzinfo=UTC),
                end=datetime.now(UTC) - timedelta(hours=1),
            )
        )
        await db.close()
        print(f"seeded {members:,} members and {entries:,} entries in {seeded_in:.0f} s")
        harness = await start_bot(fake, settings, RealTimeClock())
        owner = harness.owner()
        await owner.send("/start")
        barista = await harness.hire(3001, "Anna")
        customers = [await harness.customer(2001 + n, f"Customer{n}") for n in range(5)]
        month = datetime.now(UTC).strftime("%Y-%m")
        balance = [(await timed(customers[0].send("/balance")))[0] for _ in range(20)]
        report, _ = await timed(owner.send(f"/report {month}", timeout=600))
        period = parse_period([month], settings.tz, datetime.now(UTC))
        stats_only, _ = await timed(harness.services.stats.stats(period))
        stats_chart, _ = await timed(owner.send(f"/stats {month}", timeout=600))
        export, _ = await timed(owner.send(f"/export {month}", timeout=600))
        quiet = await scan_latencies(harness, barista, customers, 10, 0.05, step=0.05)
        during = asyncio.create_task(owner.send(f"/stats {month}", timeout=600))
        busy = await scan_latencies(
            harness, barista, customers, 100, 0.05, step=0.05, until=during.done
        )
        await during
        await stop_bot(harness)
    await fake.stop()
    print(f"/balance: p50 {statistics.median(balance) * 1000:.1f} ms (20 requests)")
    print(f"/report for a month (message and both CSV files): {report:.2f} s")
    print(f"/stats figures only: {stats_only:.2f} s; /stats with the chart: {stats_chart:.2f} s")
    print(f"/export of a month: {export:.2f} s")
    print(f"scan → confirmation: p50 {statistics.median(quiet) * 1000:.1f} ms, max"
          f" {max(quiet) * 1000:.1f} ms quiet; p50 {statistics.median(busy) * 1000:.1f} ms, max"
          f" {max(busy) * 1000:.1f} ms while a /stats ran ({len(busy)} scans)")  # fmt: skip
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS) of this process: {peak_mib:6.1f} MiB")


# -- where a /balance's time goes (--profile) ------------------------------------------------


class Sampler:
    """A sampling profiler from the standard library, pyinstrument's method without its C
    part: every millisecond of wall time SIGALRM records the main thread's stack (the
    handler runs in the main thread between two bytecodes, so no sample is skewed towards
    the moments the GIL changes hands). aiosqlite's thread is not sampled; its work shows
    as the main thread waiting for the GIL where it handed the work over."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.stacks: list[list[str]] = []

    def _sample(self, _signum: int, frame: Any) -> None:
        stack = []
        while frame is not None:
            stack.append(frame.f_code.co_filename)
            frame = frame.f_back
        self.stacks.append(stack)

    def __enter__(self) -> Sampler:
        signal.signal(signal.SIGALRM, self._sample)
        signal.setitimer(signal.ITIMER_REAL, self.interval, self.interval)
        return self

    def __exit__(self, *_: object) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)


HTTP_CLIENT = ("httpx/", "httpcore/", "h11/", "anyio/", "sniffio/", "telegram/request/")
FAKE_SERVER = ("aiohttp/", "yarl/", "multidict/", "sandbox/", "bench")
# Each sample goes to the first of these its innermost frames match; the standard library
# (json, re, asyncio's locks…) counts for whoever called it.
CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("logging (the update's log line)", ("/logging/", "bot/redaction.py")),
    ("metrics (prometheus_client)", ("prometheus_client/",)),
    ("per-chat ordering (ChatOrderedProcessor)", ("bot/telegram/concurrency.py",)),
    ("database: SQLAlchemy (and greenlet; PostgreSQL)", ("sqlalchemy/", "greenlet")),
    ("database: driver (aiosqlite, psycopg)", ("aiosqlite/", "psycopg", "sqlite3/")),
    ("database: storage/ (Conn, rows to objects)", ("/storage/",)),
    ("PTB handler lookup", ("telegram/ext/_handlers/", "telegram/ext/filters")),
    ("Bot API client (httpx, httpcore, h11, anyio)", HTTP_CLIENT),
    ("PTB: updates, objects, JSON, Application", ("telegram/",)),
    ("handlers, services, texts, Babel", ("/handlers/", "/bot/", "babel/", "pydantic")),
    ("fake Bot API server and this harness", FAKE_SERVER),
    ("event loop (asyncio, waiting)", ("asyncio/", "selectors.py")),
]


def categorise(stacks: list[list[str]]) -> dict[str, int]:
    counts = dict.fromkeys([name for name, _ in CATEGORIES] + ["other"], 0)
    for stack in stacks:
        name = next(
            (name for filename in stack for name, parts in CATEGORIES
             if any(part in filename for part in parts)),
            "other",
        )  # fmt: skip
        counts[name] += 1
    return counts


def cpu_each(action: Any, count: int = 20_000) -> float:
    """µs of CPU per call of ``action`` (best of five rounds)."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(count):
            action()
        best = min(best, (time.process_time() - started) / count * 1e6)
    return best


async def cpu_each_async(action: Any, count: int = 2_000) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        for _ in range(count):
            await action()
        best = min(best, (time.process_time() - started) / count * 1e6)
    return best


async def profile(engine: str, server: str, rounds: int = 50) -> None:
    """/balance from 20 users at once against the echo bot, sampled: where each reply's
    time goes, then what each per-update step costs on its own."""
    fake = FakeTelegram()
    await fake.start()
    with tempfile.TemporaryDirectory() as folder:
        async with fresh_schema(server) if engine == "postgresql" else nullcontext(None) as url:
            settings = make_settings(Path(folder), fake.url, url, quiet_hours="off")
            harness = await start_bot(fake, settings, RealTimeClock())
            await harness.owner().send("/start")
            customers = [await harness.customer(5_000 + n, f"Guest{n}") for n in range(20)]
            await bench_production.balances(customers, 3)  # warm: pools, caches, statements
            statements: list[str] = []
            stop = harness.services.db.on_statement(lambda text, _: statements.append(text))
            await customers[0].send("/balance")
            stop()
            cpu = time.process_time()
            with Sampler() as bot_samples:
                rate, _ = await bench_production.balances(customers, rounds)
            bot_cpu = (time.process_time() - cpu) / (rounds * len(customers)) * 1e3
            steps = await step_costs(harness, customers[0], url)
            await stop_bot(harness)
            cpu = time.process_time()
            echo_samples = Sampler()
            echo_rate, _ = await bench_production.echo_bot(fake, customers, rounds, echo_samples)
            echo_cpu = (time.process_time() - cpu) / (rounds * len(customers)) * 1e3
    await fake.stop()
    replies = rounds * len(customers)
    print(f"/balance on {engine}, 20 users: {rate:.0f}/s ({1000 / rate:.2f} ms a reply, CPU"
          f" {bot_cpu:.2f} ms); echo bot {echo_rate:.0f}/s ({1000 / echo_rate:.2f} ms, CPU"
          f" {echo_cpu:.2f} ms); {rate / echo_rate:.2f}×")  # fmt: skip
    print(f"{len(statements)} statements a /balance: " + "; ".join(s[:60] for s in statements))
    bot_parts, echo_parts = categorise(bot_samples.stacks), categorise(echo_samples.stacks)
    bot_ms = len(bot_samples.stacks) * bot_samples.interval * 1e6 / replies
    echo_ms = len(echo_samples.stacks) * echo_samples.interval * 1e6 / replies
    print(f"\nmain thread, µs a reply (sampled)           {'bot':>8} {'echo':>8} {'extra':>8}")
    for name in bot_parts:
        mine = bot_parts[name] / max(len(bot_samples.stacks), 1) * bot_ms
        theirs = echo_parts[name] / max(len(echo_samples.stacks), 1) * echo_ms
        if mine or theirs:
            print(f"  {name:<46} {mine:8.0f} {theirs:8.0f} {mine - theirs:+8.0f}")
    print(f"  {'all':<46} {bot_ms:8.0f} {echo_ms:8.0f} {bot_ms - echo_ms:+8.0f}")
    print("\neach step alone, µs of CPU (best of five)")
    for name, value in steps.items():
        print(f"  {value:8.1f}  {name}")


async def step_costs(harness: Any, customer: Any, url: str | None) -> dict[str, float]:
    """The per-update steps one at a time, on the running bot."""
    app = harness.app
    data = {"update_id": 1, "message": customer.message(
        text="/balance", entities=[{"type": "bot_command", "offset": 0, "length": 8}])}  # fmt: skip
    update = Update.de_json(data, app.bot)

    def lookup() -> None:
        for handlers in [group.copy() for group in app.handlers.values()]:
            for handler in handlers:
                if handler.check_update(update) not in (None, False):
                    break

    record = UpdateRecord(1, "command", "balance")
    steps: dict[str, float] = {}
    count = sum(len(group) for group in app.handlers.values())
    steps[f"find /balance's handler among {count} (PTB's loop)"] = cpu_each(lookup)
    steps["parse the update (Update.de_json)"] = cpu_each(
        lambda: Update.de_json(data, app.bot), 2_000
    )
    steps.update(log_and_metrics_costs(record))
    processor = ChatOrderedProcessor(32)

    async def nothing() -> None:
        return None

    steps["per-chat ordering around an update (turn, slot, record)"] = await cpu_each_async(
        lambda: processor.do_process_update(update, nothing()), 20_000
    ) - await cpu_each_async(nothing, 20_000)
    db = harness.services.db
    user = customer.id
    steps["a read through storage (pooled reader): the member"] = await cpu_each_async(
        lambda: member_store.by_tg_user(db.reader, user)
    )
    steps["the same SELECT on a bare driver connection"] = await bare_read(db, url, user)
    return steps


def log_and_metrics_costs(record: UpdateRecord) -> dict[str, float]:
    """The update's log line (as the in-process benchmarks run it, and as the installed bot
    writes it) and its metrics."""
    steps: dict[str, float] = {}
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    root.setLevel(logging.WARNING)
    quiet = cpu_each(lambda: finish(record, None))
    steps["log line, logging not set up (in-process benchmarks)"] = quiet
    metrics = Metrics()
    steps["metrics: count, latency, last update"] = (
        cpu_each(lambda: finish(record, metrics)) - quiet
    )
    with Path(os.devnull).open("w") as sink:
        for json_lines in (False, True):
            install_logging(logging.INFO, Redactor([TOKEN]), json_lines=json_lines)
            root.handlers[0].setStream(sink)  # type: ignore[attr-defined]
            kind = "JSON" if json_lines else "text"
            steps[f"log line at INFO, {kind}, redacted (the installed bot)"] = cpu_each(
                lambda: finish(record, None)
            )
    root.handlers[:] = handlers
    root.setLevel(level)
    return steps


MEMBER = (  # storage/members.py's read of a member by Telegram id, in the driver's own style
    "SELECT id, tg_user_id, chat_id, first_name, username, language, balance, created_at,"
    " last_visit_at FROM members WHERE tg_user_id = "
)


async def bare_read(db: Database, url: str | None, user: int) -> float:
    if url is None:
        assert db.path is not None
        async with aiosqlite.connect(db.path) as connection:

            async def read() -> None:
                async with connection.execute(MEMBER + "?", (user,)) as cursor:
                    await cursor.fetchall()

            return await cpu_each_async(read)
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as server:

        async def read_pg() -> None:
            async with server.cursor() as cursor:
                await cursor.execute(MEMBER + "%s", (user,))
                await cursor.fetchall()

        return await cpu_each_async(read_pg)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--scans", type=int, default=12)
    parser.add_argument("--think", type=float, default=2.2, help="seconds between customers")
    parser.add_argument(
        "--books", action="store_true", help="the owner's numbers on 1,000,000 entries instead"
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--production",
        action="store_true",
        help="issue 12's targets: throughput vs an echo bot, scale, 10,000-member broadcast",
    )
    parser.add_argument(
        "--engine",
        choices=("sqlite", "postgresql", "both"),
        default="sqlite",
        help="--production on this engine (both: SQLite, then PostgreSQL)",
    )
    parser.add_argument(
        "--database-url",
        default=bench_production.SERVER,
        help="the PostgreSQL server for --engine postgresql: a fresh schema is made on it "
        "for the run and dropped afterwards",
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=0,
        help="N bot processes behind a round-robin proxy on PostgreSQL (--database-url):"
        " scans a second with 1 and N, and a 10,000-member broadcast with N",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="where a /balance's time goes, against the echo bot (--engine sqlite|postgresql)",
    )
    args = parser.parse_args()
    if args.replicas:
        bench_replicas.main(args.replicas, args.database_url)
    elif args.profile:
        for engine in ("sqlite", "postgresql") if args.engine == "both" else (args.engine,):
            asyncio.run(profile(engine, args.database_url))
    elif args.production:
        bench_production.main(args.engine, args.database_url)
    elif args.books:
        asyncio.run(books(max(args.members, 100_000), args.entries))
    else:
        asyncio.run(main(args.members, args.scans, args.think))
    sys.exit(0)
