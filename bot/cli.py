"""The ``loyalty-bot`` command."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot import __version__
from bot.app import ALLOWED_UPDATES, build_application
from bot.settings import Settings, describe_validation_error


def configure_logging(level: str) -> None:
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=level.upper()
    )
    # httpx logs every request URL at INFO, and Bot API URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def load_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SystemExit(f"Configuration error: {describe_validation_error(exc)}") from None


def run() -> int:
    settings = load_settings()
    configure_logging(settings.log_level)
    application = build_application(settings)
    # run_polling handles Ctrl-C and SIGTERM and then runs post_shutdown.
    application.run_polling(allowed_updates=ALLOWED_UPDATES)
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
