"""Benchmarks: print the figures written up in docs/benchmarks.md.

    python bench.py [--members 1000] [--scans 12] [--think 2.2]

Runs the real bot against the test suite's fake Bot API server on 127.0.0.1 (flood limits
on), in a temporary folder. Nothing touches the network.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bench_production
from bench_production import RealTimeClock
from bot.domain import EntryKind
from bot.periods import parse_period
from bot.services.membership import Profile
from sandbox.botapi import FakeTelegram
from storage import Database
from storage import ledger as ledger_store
from storage import members as member_store
from storage.seed import seed_history
from tests.conftest import make_settings, start_bot, stop_bot
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
    args = parser.parse_args()
    if args.production:
        bench_production.main()
    elif args.books:
        asyncio.run(books(max(args.members, 100_000), args.entries))
    else:
        asyncio.run(main(args.members, args.scans, args.think))
    sys.exit(0)
