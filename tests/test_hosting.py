"""Hosting for real: webhook mode with its secret, /healthz and /metrics, one JSON log line
per update (ids only), all from the installed `loyalty-bot run` process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import aiohttp

from sandbox.botapi import TOKEN, FakeTelegram
from tests.databases import database_env
from tests.test_process import ROOT, command
from tests.test_startup import free_port


async def test_webhook_mode_with_health_metrics_and_json_logs(
    fake: FakeTelegram, tmp_path: Path, database_url: str | None
) -> None:
    hook_port, metrics_port = free_port(), free_port()
    settings = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "OWNER_IDS": "1",
        "TELEGRAM_API_URL": fake.url,
        "PYTHONPATH": ROOT,
        "WEBHOOK_URL": f"http://127.0.0.1:{hook_port}/telegram",
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(hook_port),
        "METRICS_PORT": str(metrics_port),
        # Required on PostgreSQL (replicas share it); generated at each start on SQLite.
        **({"WEBHOOK_SECRET": "hosting-test-secret_0123456789abcdef"} if database_url else {}),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    env = database_env(settings, tmp_path / "db" / "loyalty.db", database_url)
    process = await asyncio.create_subprocess_exec(
        *command(), "run", "--webhook", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    alice = fake.user(2001, "Alice")
    try:
        await fake.wait_for(lambda: fake.webhook is not None, timeout=30)
        assert fake.webhook is not None
        assert fake.webhook["url"] == f"http://127.0.0.1:{hook_port}/telegram"
        secret = fake.webhook["secret_token"]
        assert len(secret) >= 32
        fake.known_chats.add(alice.chat_id)
        update = {"update_id": 1, "message": alice.message(text="hello")}
        hook = f"http://127.0.0.1:{hook_port}/telegram"
        async with aiohttp.ClientSession() as http:
            for wrong in ({}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}):
                async with http.post(hook, json=update, headers=wrong) as refused:
                    assert refused.status == 403
            await asyncio.sleep(0.2)
            assert not fake.sent[alice.chat_id]  # nothing was handled
            headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
            async with http.post(hook, json=update, headers=headers) as accepted:
                assert accepted.status == 200
            await fake.wait_for(lambda: bool(fake.sent[alice.chat_id]), timeout=15)
            assert "Use the buttons below" in alice.last.body

            base = f"http://127.0.0.1:{metrics_port}"
            async with http.get(f"{base}/healthz") as health:
                assert health.status == 200
                facts = await health.json()
            assert facts["status"] == "ok" and facts["database"] == "ok"
            assert facts["broadcast_queue"] == 0 and facts["outbox_queue"] == 0
            assert facts["last_update_seconds_ago"] is not None
            async with http.get(f"{base}/metrics") as metrics:
                text = await metrics.text()
            assert 'loyalty_updates_total{kind="text",outcome="ok",replica="' in text
            assert "loyalty_handler_seconds_bucket" in text
            assert "loyalty_db_write_lock_wait_seconds_count" in text
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    log = output.decode()
    assert process.returncode == 0, log
    for secret_text in (TOKEN, TOKEN.split(":")[1], secret):
        assert secret_text not in log
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    (handled,) = [line for line in lines if line.get("logger") == "bot.updates"]
    assert handled["update_id"] == 1 and handled["kind"] == "text"
    assert handled["handler"] == "unknown_text" and handled["outcome"] == "ok"
    assert "Alice" not in json.dumps(handled) and "hello" not in json.dumps(handled)
