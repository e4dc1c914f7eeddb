"""The ``loyalty-bot`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot import __version__
from bot.app import ALLOWED_UPDATES, build_application
from bot.services.catalog import CatalogFileError
from bot.settings import Settings, describe_validation_error


class RedactingFormatter(logging.Formatter):
    """Masks secrets in every formatted line, tracebacks included (PTB logs API URLs)."""

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        super().__init__(fmt)
        self._secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure_logging(level: str, secrets: Sequence[str] = ()) -> None:
    logging.basicConfig(level=level.upper())
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def load_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SystemExit(f"Configuration error: {describe_validation_error(exc)}") from None


def secrets_of(settings: Settings) -> list[str]:
    token = settings.bot_token.get_secret_value()
    found = [token, token.partition(":")[2]]
    if settings.card_secret is not None:
        found.append(settings.card_secret.get_secret_value())
    return found


def run() -> int:
    settings = load_settings()
    configure_logging(settings.log_level, secrets_of(settings))
    application = build_application(settings)
    # run_polling handles Ctrl-C and SIGTERM and then runs post_stop and post_shutdown.
    try:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except CatalogFileError as exc:
        raise SystemExit(f"Configuration error: REWARDS_FILE: {exc}") from None
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="loyalty-bot", description="Café loyalty Telegram bot")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot (long polling)")
    commands.add_parser("check-config", help="validate the settings and exit")
    args = parser.parse_args(argv)
    if args.command == "check-config":
        settings = load_settings()
        sys.stdout.write(f"Settings OK: database {settings.database_path}\n")
        return 0
    return run()
