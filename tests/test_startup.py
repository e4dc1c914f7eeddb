"""Start-up failures: each is one line naming the cause and the fix, and never the token."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from sandbox.botapi import BOT_USERNAME, TOKEN, FakeTelegram
from tests.test_process import ROOT, command

SECRET_PART = TOKEN.split(":")[1]
CARD_SECRET = "c" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def loyalty_bot(tmp_path: Path, *args: str, **env: str) -> tuple[int, str, str]:
    """Run the installed command; (exit code, stdout, stderr)."""
    clean = {
        k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "OWNER_IDS", "CARD_SECRET"}
    }
    values = {
        "BOT_TOKEN": TOKEN,
        "OWNER_IDS": "1",
        "DATABASE_PATH": str(tmp_path / "data" / "loyalty.db"),
        "PYTHONPATH": ROOT,
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        *command(),
        *(args or ("run",)),
        cwd=tmp_path,
        env={**clean, **values},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def one_line(code: int, stdout: str, stderr: str) -> str:
    """The failure is one line, exit code non-zero, no traceback and no token."""
    assert code != 0, stderr
    for secret in (TOKEN, SECRET_PART, CARD_SECRET):
        assert secret not in stdout + stderr
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest_asyncio.fixture
async def echo_404() -> AsyncIterator[str]:
    """A web server that is not the Bot API: 404 with the requested path (and token) in HTML."""

    async def not_found(request: web.Request) -> web.Response:
        return web.Response(status=404, text=f"<h1>Not Found</h1><p>{request.path}</p>")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", not_found)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def test_unreachable_bot_api(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    line = one_line(*await loyalty_bot(tmp_path, TELEGRAM_API_URL=url))
    assert line.startswith(f"Cannot start: Cannot reach the Bot API at {url} (")
    assert "check the network connection and TELEGRAM_API_URL" in line


async def test_token_rejected_by_telegram(tmp_path: Path) -> None:
    fake = FakeTelegram(token="999:another-token-entirely-abcdef")
    await fake.start()
    try:
        line = one_line(*await loyalty_bot(tmp_path, TELEGRAM_API_URL=fake.url))
    finally:
        await fake.stop()
    assert line.startswith("Cannot start: BOT_TOKEN was rejected by Telegram (401 Unauthorized)")
    assert "@BotFather" in line


async def test_a_wrong_api_url_is_not_called_a_rejected_token(
    tmp_path: Path, echo_404: str
) -> None:
    line = one_line(*await loyalty_bot(tmp_path, TELEGRAM_API_URL=echo_404))
    assert line == (
        f"Cannot start: TELEGRAM_API_URL: {echo_404} answered HTTP 404 but is not a Telegram "
        "Bot API server: check the address (the default is https://api.telegram.org)"
    )


async def test_debug_shows_a_traceback_without_the_token(tmp_path: Path, echo_404: str) -> None:
    code, stdout, stderr = await loyalty_bot(
        tmp_path, "--debug", "run", TELEGRAM_API_URL=echo_404, LOG_LEVEL="DEBUG"
    )
    assert code != 0
    assert "Traceback" in stderr and "StartupError" in stderr
    assert TOKEN not in stdout + stderr and SECRET_PART not in stdout + stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"BOT_TOKEN": "not-a-token"}, "Configuration error: BOT_TOKEN: does not look like"),
        ({"LOG_LEVEL": "LOUD"}, "Configuration error: LOG_LEVEL: must be one of DEBUG, INFO"),
        ({"LANGUAGE": "xx"}, "Configuration error: LANGUAGE: no texts for 'xx'; use one of en"),
        ({"TIMEZONE": "Mars/Olympus"}, "Configuration error: TIMEZONE: unknown time zone"),
        ({"CURRENCY": "XYZ"}, "Configuration error: CURRENCY: is not an ISO 4217 currency"),
        ({"LOCALE": "zz_ZZ"}, "Configuration error: LOCALE: is not a known locale"),
        ({"CARD_SECRET": "short"}, "Configuration error: CARD_SECRET: is too short"),
        ({"OWNER_IDS": "me"}, "Configuration error: OWNER_IDS: must be numeric Telegram"),
        ({"REWARDS_FILE": "missing.toml"}, "Configuration error: REWARDS_FILE: missing.toml:"),
    ],
)
async def test_bad_settings_are_reported_before_the_network(
    tmp_path: Path, env: dict[str, str], expected: str
) -> None:
    # The API address is unreachable: each of these must be found before it is tried.
    unreachable = f"http://127.0.0.1:{free_port()}"
    line = one_line(*await loyalty_bot(tmp_path, TELEGRAM_API_URL=unreachable, **env))
    assert line.startswith(expected), line


async def test_a_database_folder_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be")
    path = tmp_path / "blocker" / "data" / "loyalty.db"
    unreachable = f"http://127.0.0.1:{free_port()}"
    line = one_line(
        *await loyalty_bot(tmp_path, DATABASE_PATH=str(path), TELEGRAM_API_URL=unreachable)
    )
    assert line == (
        f"Configuration error: DATABASE_PATH: cannot create the folder {path.parent}: "
        f"{tmp_path / 'blocker'} is a file. Point DATABASE_PATH at a writable folder "
        "(the default is ./data/loyalty.db)"
    )


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("shopping list: milk, beans\n" * 100)
    line = one_line(*await loyalty_bot(tmp_path, DATABASE_PATH=str(path)))
    assert line.startswith(f"Configuration error: DATABASE_PATH: {path} is not a SQLite database (")
    assert path.read_text().startswith("shopping list")  # untouched


async def test_check_config_offline_and_online(tmp_path: Path, fake: FakeTelegram) -> None:
    code, stdout, stderr = await loyalty_bot(
        tmp_path, "check-config", TELEGRAM_API_URL=f"http://127.0.0.1:{free_port()}"
    )
    assert (code, stderr) == (0, "")
    assert stdout == f"Settings OK: database {tmp_path / 'data' / 'loyalty.db'}\n"
    assert not (tmp_path / "data").exists()  # checking changes nothing

    code, stdout, stderr = await loyalty_bot(
        tmp_path, "check-config", "--online", TELEGRAM_API_URL=fake.url, CARD_SECRET=CARD_SECRET
    )
    assert (code, stderr) == (0, "")
    assert stdout.splitlines()[-1] == f"Bot API OK: this is @{BOT_USERNAME} at {fake.url}"
    assert [method for method, _ in fake.calls] == ["getMe"]


async def test_check_config_online_reports_the_real_cause(tmp_path: Path, echo_404: str) -> None:
    line = one_line(
        *await loyalty_bot(tmp_path, "check-config", "--online", TELEGRAM_API_URL=echo_404)
    )
    assert line.startswith(f"Cannot start: TELEGRAM_API_URL: {echo_404} answered HTTP 404")
