"""Settings: defaults, parsing, and a clean one-line failure at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe_validation_error
from sandbox.botapi import TOKEN

ROOT = Path(__file__).resolve().parent.parent


def test_owner_ids_are_comma_separated() -> None:
    settings = Settings(_env_file=None, bot_token=TOKEN, owner_ids="1, 2,3")  # type: ignore[call-arg]
    assert settings.owner_ids == (1, 2, 3)


def test_defaults() -> None:
    settings = Settings(_env_file=None, bot_token=TOKEN)  # type: ignore[call-arg]
    assert settings.database_path == Path("./data/loyalty.db")
    assert settings.bot_api_base_url == "https://api.telegram.org/bot"
    assert settings.bot_file_base_url == "https://api.telegram.org/file/bot"
    assert settings.card_validity_minutes == 10


def test_api_url_is_the_server_root() -> None:
    settings = Settings(_env_file=None, bot_token=TOKEN, telegram_api_url="http://127.0.0.1:8081/")  # type: ignore[call-arg]
    assert settings.bot_api_base_url == "http://127.0.0.1:8081/bot"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"owner_ids": "1,two"}, "OWNER_IDS"),
        ({"timezone": "Mars/Olympus"}, "TIMEZONE"),
        ({"telegram_api_url": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"currency": "euro"}, "CURRENCY"),
    ],
)
def test_malformed_settings_name_the_variable(overrides: dict[str, str], variable: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, bot_token=TOKEN, **overrides)  # type: ignore[arg-type]
    assert describe_validation_error(caught.value).startswith(f"{variable}: ")


def run_cli(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "OWNER_IDS"}}
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_token_stops_startup_with_one_clear_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, {"PYTHONPATH": str(ROOT)})
    assert result.returncode != 0
    assert result.stderr.strip() == "Configuration error: BOT_TOKEN: is required but not set"


def test_malformed_setting_stops_startup_with_one_clear_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, {"PYTHONPATH": str(ROOT), "BOT_TOKEN": TOKEN, "OWNER_IDS": "12,abc"})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Configuration error: OWNER_IDS:")
    assert "Traceback" not in result.stderr


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text(
        "BOT_TOKEN=42:from-file-abcdefghijklmnopqrstuvwxyz\nOWNER_IDS=7\n"
    )
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.delenv("OWNER_IDS", raising=False)
    monkeypatch.chdir(tmp_path)
    settings = Settings()  # type: ignore[call-arg]
    assert settings.bot_token.get_secret_value() == "42:from-file-abcdefghijklmnopqrstuvwxyz"
    assert settings.owner_ids == (7,)
    assert "from-file" not in repr(settings)


def test_every_setting_is_in_the_readme_table_and_the_env_example() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        variable = name.upper()
        assert f"| `{variable}` |" in readme, variable
        assert f"{variable}=" in example, variable
