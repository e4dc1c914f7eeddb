"""The production benchmark (``python bench.py --production``): issue 12's four targets.

1. Counter throughput: 20 baristas at once on 100,000 members and 1,000,000 entries,
   against a bare python-telegram-bot echo bot on the same fake Bot API, in the same run.
2. Scale: /balance and a scan at 1,000, 100,000 and 1,000,000 ledger entries.
3. Broadcast: 10,000 members, the fake server enforcing Telegram's flood limits.
4. Memory and start-up of the installed bot process with 1,000,000 entries.

Everything runs on this machine: the fake Bot API on 127.0.0.1, the database seeded
directly. It prints a table and writes it into docs/benchmarks.md between markers.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from sandbox.botapi import TOKEN, FakeTelegram, FakeUser
from storage import Database
from storage.seed import analyze, seed_history, seeded_recipients
from tests.conftest import BotHarness, FakeClock, make_settings, start_bot, stop_bot
from tests.helpers import qr_payload, show_card
from tests.test_process import ROOT, command

DOCS = Path(__file__).parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- production:begin -->", "<!-- production:end -->"
BARISTAS = 20


class RealTimeClock(FakeClock):
    """Real time and real waiting; ``advance`` still steps past the duplicate window."""

    def __init__(self) -> None:
        super().__init__(datetime.now(UTC))
        self._offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, **delta: float) -> None:
        self._offset += timedelta(**delta)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


async def timed(action: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await action
    return time.perf_counter() - started


# -- the echo bot ----------------------------------------------------------------------------


async def echo_bot(
    fake: FakeTelegram, users: list[FakeUser], rounds: int
) -> tuple[float, list[float]]:
    """A bare PTB bot that echoes text: (replies per second, latencies) under the same load."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.effective_chat and update.effective_message and update.effective_message.text:
            await update.effective_chat.send_message(update.effective_message.text)

    app = (
        Application.builder().token(TOKEN).base_url(f"{fake.url}/bot")
        .concurrent_updates(fake.processor()).build()
    )  # fmt: skip
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    await app.start()
    latencies: list[float] = []

    async def user_loop(user: FakeUser) -> None:
        for n in range(rounds):
            latencies.append(await timed(user.send(f"hello {n}")))

    elapsed = await timed(asyncio.gather(*(user_loop(u) for u in users)))
    fake.drain_polls(True)
    await app.updater.stop()
    fake.drain_polls(False)
    await app.stop()
    await app.shutdown()
    return len(latencies) / elapsed, latencies


# -- the loyalty bot -------------------------------------------------------------------------


async def balances(users: list[FakeUser], rounds: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def user_loop(user: FakeUser) -> None:
        for _ in range(rounds):
            latencies.append(await timed(user.send("/balance")))

    elapsed = await timed(asyncio.gather(*(user_loop(u) for u in users)))
    return len(latencies) / elapsed, latencies


async def scans(
    bot: BotHarness,
    baristas: list[FakeUser],
    customers: list[FakeUser],
    rounds: int,
    pause: float = 0.0,
) -> tuple[float, list[float]]:
    """Every barista serves ``rounds`` customers at once: (scans per second, latencies of
    amount → confirmation)."""
    latencies: list[float] = []
    bot.clock.advance(minutes=3)  # a new round of customers: past the duplicate window

    async def counter(index: int, barista: FakeUser) -> None:
        for n in range(rounds):
            customer = customers[(index + n * len(baristas)) % len(customers)]
            card = await show_card(customer)
            await asyncio.sleep(pause)  # a person points the camera…
            await barista.send(f"/start {qr_payload(card.photo)}")
            await asyncio.sleep(pause)  # …and types the amount
            started = time.perf_counter()
            (confirmation,) = await barista.send(f"{2 + index}.{n:02d}")
            latencies.append(time.perf_counter() - started)
            assert confirmation.body.startswith("✅"), confirmation.body
            await asyncio.sleep(pause)

    elapsed = await timed(asyncio.gather(*(counter(i, b) for i, b in enumerate(baristas))))
    return len(latencies) / elapsed, latencies


async def staffed(bot: BotHarness, first: int) -> tuple[list[FakeUser], list[FakeUser]]:
    baristas = [await bot.hire(first + n, f"Barista{n}") for n in range(BARISTAS)]
    customers = [await bot.customer(first + 100 + n, f"Customer{n}") for n in range(BARISTAS * 2)]
    return baristas, customers


async def grow(path: Path, members: int, entries: int, first_user_id: int) -> float:
    db = Database(path)
    await db.open()
    started = time.perf_counter()
    await seed_history(
        db, members=members, entries=entries, first_user_id=first_user_id,
        start=datetime.now(UTC) - timedelta(days=360), end=datetime.now(UTC) - timedelta(hours=1),
    )  # fmt: skip
    await analyze(db)
    await db.close()
    return time.perf_counter() - started


async def process_figures(fake: FakeTelegram, database: Path, folder: Path) -> tuple[float, float]:
    """(seconds to ready, peak RSS in MiB) of the installed bot on this database."""
    env = {
        **os.environ, "BOT_TOKEN": TOKEN, "OWNER_IDS": "1", "TELEGRAM_API_URL": fake.url,
        "DATABASE_PATH": str(database), "PYTHONPATH": ROOT, "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    polls = sum(1 for method, _ in fake.calls if method == "getUpdates")
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        *command(), "run", cwd=folder, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await fake.wait_for(
        lambda: sum(1 for method, _ in fake.calls if method == "getUpdates") > polls, 120
    )
    ready = time.perf_counter() - started
    user = fake.user(900_001, "Probe")
    for _ in range(50):  # some work, so the figure is not just the empty start
        await asyncio.sleep(0)
        fake.push_update({"message": user.message(text="/balance", entities=[
            {"type": "bot_command", "offset": 0, "length": 8}])})  # fmt: skip
    await asyncio.sleep(3)
    status = await asyncio.to_thread(Path(f"/proc/{process.pid}/status").read_text)
    peak_kib = int(
        next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))
    )
    fake.drain_polls(True)
    process.terminate()
    await process.wait()
    fake.drain_polls(False)
    return ready, peak_kib / 1024


async def production() -> str:
    fake = FakeTelegram()
    await fake.start()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as folder:
        settings = make_settings(
            Path(folder), fake.url, quiet_hours="off", max_points_per_staff_day=10**9
        )
        database = settings.database_path

        # 2. Scale, growing one database: 1,000 → 100,000 → 1,000,000 entries.
        scale: dict[int, tuple[list[float], list[float]]] = {}
        first_user = 10_000_000
        for total, (members, entries) in (
            (1_000, (1_000, 1_000)), (100_000, (99_000, 99_000)), (1_000_000, (1_000, 900_000))
        ):  # fmt: skip
            seeded = await grow(database, members, entries, first_user)
            first_user += members
            print(f"seeded to {total:,} entries (+{seeded:.0f} s)", file=sys.stderr)
            bot = await start_bot(fake, settings, RealTimeClock())
            await bot.owner().send("/start")
            baristas, customers = await staffed(bot, 3000 + total % 997 * 1000)
            _, balance = await balances(customers[:5], 40)
            _, scanned = await scans(bot, baristas[:1], customers, 40)
            scale[total] = (balance, scanned)
            if total == 1_000_000:
                # 1. Counter throughput at a million entries, then the echo bot.
                balance_rate, _ = await balances(customers[:BARISTAS], 10)
                scan_rate, scan_latency = await scans(bot, baristas, customers, 5)
            await stop_bot(bot)
        echo_rate, echo_latency = await echo_bot(fake, customers[:BARISTAS], 10)

        # 4. Memory and start-up of the installed process on a million entries.
        ready, rss = await process_figures(fake, database, Path(folder))

        # 3. A broadcast to 10,000 members under Telegram's limits, scans meanwhile.
        audience = [first_user - 1_000 - 99_000 + n for n in range(10_000)]
        fake.known_chats.update(audience)
        bot = await start_bot(fake, settings, RealTimeClock())
        owner = bot.owner()
        await owner.send("/start")
        baristas, customers = await staffed(bot, 700_000)
        fake.enable_rate_limits(per_second=30)
        _, quiet_scans = await scans(bot, baristas[:4], customers, 6, pause=1.1)
        sent_before = len(fake.send_log)
        rate_limited_before = fake.rate_limited
        started = time.perf_counter()
        recipients = await seeded_recipients(bot.services.db, audience[0], len(audience))
        async with bot.services.db.transaction() as tx:
            await bot.services.broadcasts.create_in(
                tx, created_by=owner.id, text="Ten thousand", photo_file_id=None,
                audience="all", recipients=recipients, now=datetime.now(UTC),
            )  # fmt: skip
        bot.app.bot_data.broadcaster.wake()
        await asyncio.sleep(5)
        _, busy_scans = await scans(bot, baristas[:4], customers, 6, pause=1.1)
        await fake.wait_for(
            lambda: any("finished" in m.body and not m.edits for m in owner.messages),
            timeout=3600, interval=0.5,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        members = set(audience)
        times = [at for at, chat, _ in fake.send_log[sent_before:] if chat in members]
        sent = len(times)
        steady = (sent - 1) / (times[-1] - times[0]) if sent > 1 else 0.0
        deliveries = Counter(
            chat for chat in audience for m in fake.sent[chat] if "Ten thousand" in m.body
        )
        duplicates = sum(n - 1 for n in deliveries.values())
        refused = fake.rate_limit_log[rate_limited_before:]
        caused = sum(1 for _, chat, _, _ in refused if chat in members)
        counter_429 = len(refused) - caused
        await stop_bot(bot)
    await fake.stop()

    def ms(values: list[float], share: float) -> str:
        return f"{p(values, share):.1f} ms"

    small, large = scale[1_000], scale[1_000_000]
    rows += [
        ("/balance replies per second (20 users)", f"{balance_rate:.0f}/s, echo bot {echo_rate:.0f}/s",
         f"≥ 0.9× echo: {balance_rate / echo_rate:.2f}×", "met" if balance_rate >= 0.9 * echo_rate else "missed"),
        ("Scans (20 baristas at once, 1,000,000 entries)", f"{scan_rate:.1f}/s; p50 {ms(scan_latency, .5)}, p99 {ms(scan_latency, .99)}",
         f"p99 ≤ 3× echo p99 ({ms(echo_latency, .99)}): {p(scan_latency, .99) / p(echo_latency, .99):.2f}×",
         "met" if p(scan_latency, .99) <= 3 * p(echo_latency, .99) else "missed"),
    ]  # fmt: skip
    for total, (balance, scanned) in scale.items():
        rows.append((f"At {total:,} entries", f"/balance p50 {ms(balance, .5)}, p99 {ms(balance, .99)}; scan p50 {ms(scanned, .5)}, p99 {ms(scanned, .99)}", "", ""))  # fmt: skip
    growth_balance = p(large[0], 0.99) / p(small[0], 0.99)
    growth_scan = p(large[1], 0.99) / p(small[1], 0.99)
    rows += [
        ("p99 growth, 1,000 → 1,000,000 entries", f"/balance {growth_balance:.2f}×, scan {growth_scan:.2f}×",
         "< 1.5×", "met" if max(growth_balance, growth_scan) < 1.5 else "missed"),
        ("Broadcast to 10,000 members", f"{sent:,} sent in {seconds:.0f} s; steady {steady:.2f} messages/s ({steady / 30:.1%} of 30/s)",
         "≥ 95 %", "met" if steady >= 28.5 else "missed"),
        ("429s caused by the broadcast, duplicates", f"{caused}, {duplicates} (the counter's own: {counter_429})",
         "0, 0", "met" if not caused and not duplicates else "missed"),
        ("Scan p99 during the broadcast", f"{ms(busy_scans, .99)} (without: {ms(quiet_scans, .99)})",
         "≤ 1.5× without", "met" if p(busy_scans, .99) <= 1.5 * p(quiet_scans, .99) else "missed"),
        ("Installed bot on 1,000,000 entries", f"ready in {ready:.1f} s; peak RSS {rss:.0f} MiB",
         "RSS < 150 MB", "met" if rss < 150 else "missed"),
    ]  # fmt: skip
    table = ["| What | Measured | Target | |", "| --- | --- | --- | --- |"]
    table += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(table)


def write_docs(table: str) -> None:
    text = DOCS.read_text()
    stamp = f"Measured {datetime.now(UTC):%Y-%m-%d} with `python bench.py --production`."
    block = f"{BEGIN}\n{stamp}\n\n{table}\n{END}"
    if BEGIN in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text += f"\n## Production targets\n\n{block}\n"
    DOCS.write_text(text)


def main() -> None:
    table = asyncio.run(production())
    print(table)
    write_docs(table)
