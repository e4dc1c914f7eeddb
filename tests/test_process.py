"""The installed ``loyalty-bot run`` process: starts, serves, stops cleanly, hides the token."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.services.health import heartbeat_problem
from sandbox.botapi import TOKEN, FakeTelegram
from storage.db import describe_url
from tests.databases import database_env

ROOT = str(Path(__file__).resolve().parent.parent)


def command() -> list[str]:
    installed = shutil.which("loyalty-bot", path=str(Path(sys.executable).parent))
    return [installed] if installed else [sys.executable, "-m", "bot"]


def bot_env(fake: FakeTelegram, tmp_path: Path, database_url: str | None = None) -> dict[str, str]:
    """The process's settings: the SQLite file in tmp_path, or PostgreSQL at database_url."""
    env = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "OWNER_IDS": "1",
        "TELEGRAM_API_URL": fake.url,
        "LOG_LEVEL": "DEBUG",
        "PYTHONPATH": ROOT,
    }
    return database_env(env, tmp_path / "db" / "loyalty.db", database_url)


async def test_run_serves_updates_and_exits_cleanly_on_sigterm(
    fake: FakeTelegram, tmp_path: Path, database_url: str | None
) -> None:
    env = bot_env(fake, tmp_path, database_url)
    sqlite_file = tmp_path / "db" / "loyalty.db"
    database = database_url if database_url is not None else sqlite_file
    process = await asyncio.create_subprocess_exec(
        *command(),
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake.wait_for(lambda: any(m == "getUpdates" for m, _ in fake.calls), timeout=30)
        alice = fake.user(2001, "Alice")
        fake.push_update({"message": alice.message(text="hello")})
        await fake.wait_for(lambda: bool(fake.sent[alice.chat_id]), timeout=15)
        assert "Use the buttons below" in alice.last.body
        # The Docker HEALTHCHECK: healthy while the running bot's heartbeat is fresh.
        await fake.wait_for(lambda: heartbeat_problem(database, datetime.now(UTC)) is None, 15)
        health = await asyncio.create_subprocess_exec(
            *command(), "health", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        healthy, unhealthy = await asyncio.wait_for(health.communicate(), timeout=30)
        assert health.returncode == 0, unhealthy
        first, replica, *jobs = healthy.decode().splitlines()
        assert first == "Healthy: 1 replica alive"
        assert replica.startswith("replica ") and ": alive, seen " in replica
        assert all(job.startswith("job ") for job in jobs)
    finally:
        fake.drain_polls(True)
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    log = output.decode()
    assert process.returncode == 0, log
    assert "Bot @CafeTestBot is ready" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log
    # The data is where DATABASE_URL (else DATABASE_PATH) says, and nowhere else.
    assert sqlite_file.exists() is (database_url is None)


async def test_a_broken_rewards_file_stops_startup_with_one_line(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    rewards = tmp_path / "rewards.toml"
    rewards.write_text('[[rewards]]\ntitle = "Espresso"\n')
    env = {**bot_env(fake, tmp_path), "REWARDS_FILE": str(rewards), "LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        *command(), "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode != 0
    last_line = stderr.decode().strip().splitlines()[-1]
    assert last_line == (
        f"Configuration error: REWARDS_FILE: {rewards}: every [[rewards]] entry needs 'cost'"
    )


async def test_health_fails_with_one_line_when_no_bot_runs(
    fake: FakeTelegram, tmp_path: Path, database_url: str | None
) -> None:
    process = await asyncio.create_subprocess_exec(
        *command(), "health", cwd=tmp_path, env=bot_env(fake, tmp_path, database_url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    where = tmp_path / "db" / "loyalty.db" if database_url is None else describe_url(database_url)
    assert stderr.decode() == f"Unhealthy: no heartbeat in {where} yet: is the bot running?\n"


def test_the_command_loads_the_fake_bot_api_only_for_the_demo() -> None:
    """``loyalty-bot run`` never imports the sandbox: only ``demo`` does, when it starts."""
    check = (
        "import sys, bot.cli; print(sorted(m for m in sys.modules if m.split('.')[0] == 'sandbox'))"
    )
    env = {**os.environ, "PYTHONPATH": ROOT}
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, "[]\n"), result.stderr
