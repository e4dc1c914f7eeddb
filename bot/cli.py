"""The ``loyalty-bot`` command.

Every failure before the bot is up ends as one line on stderr naming the cause and the
fix, with a non-zero exit code and no traceback (``--debug`` adds one, redacted). Each
line, like every log record, passes through the one :class:`Redactor`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from dotenv import dotenv_values
from pydantic import ValidationError

from bot import __version__
from bot.app import ALLOWED_UPDATES, build_application
from bot.redaction import Redactor, install_logging
from bot.services.health import heartbeat_problem
from bot.settings import Settings, describe_validation_error
from bot.startup import StartupError, check_local, explain, fetch_bot_username
from handlers.texts import MESSAGES

logger = logging.getLogger(__name__)

SECRET_VARIABLES = ("BOT_TOKEN", "CARD_SECRET")


class ConfigurationError(StartupError):
    """A setting is missing or malformed; nothing was contacted."""


def raw_secrets() -> list[str | None]:
    """The secrets as given, before validation: a malformed token is still a secret."""
    from_file = dotenv_values(".env") if Path(".env").is_file() else {}
    return [
        value for name in SECRET_VARIABLES for value in (os.environ.get(name), from_file.get(name))
    ]


def secrets_of(settings: Settings) -> list[str | None]:
    card = settings.card_secret
    return [settings.bot_token.get_secret_value(), card.get_secret_value() if card else None]


def load_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from None


def check_offline(settings: Settings) -> None:
    try:
        check_local(settings, MESSAGES.keys())
    except StartupError as exc:
        raise ConfigurationError(str(exc)) from None


def run(settings: Settings) -> int:
    check_offline(settings)
    # One loop for the check and the bot: PTB's run_polling uses the current one.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(fetch_bot_username(settings))
    application = build_application(settings)
    # run_polling handles Ctrl-C and SIGTERM and then runs post_stop and post_shutdown.
    application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


def check_config(settings: Settings, *, online: bool) -> int:
    check_offline(settings)
    out = sys.stdout
    out.write(f"Settings OK: database {settings.database_path}")
    out.write(f", rewards file {settings.rewards_file}\n" if settings.rewards_file else "\n")
    if online:
        username = asyncio.run(fetch_bot_username(settings))
        out.write(f"Bot API OK: this is @{username} at {settings.telegram_api_url}\n")
    return 0


def health(settings: Settings) -> int:
    """Exit 0 while the running bot's heartbeat is fresh (the Docker HEALTHCHECK)."""
    problem = heartbeat_problem(settings.database_path, datetime.now(UTC))
    if problem is not None:
        raise StartupError(problem)
    sys.stdout.write("Healthy\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    # "loyalty-bot --debug run" and "loyalty-bot run --debug" both work; separate names, as
    # argparse lets a subcommand's default overwrite the main parser's value.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", dest="debug_here", action="store_true", help="show a traceback on failure"
    )
    parser = argparse.ArgumentParser(prog="loyalty-bot", description="Café loyalty Telegram bot")
    parser.add_argument("--debug", action="store_true", help="show a traceback on failure")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the bot (long polling)", parents=[common])
    check = commands.add_parser(
        "check-config", help="check every setting run needs, then exit", parents=[common]
    )
    check.add_argument(
        "--online", action="store_true", help="also ask Telegram (getMe) who the bot is"
    )
    commands.add_parser(
        "health", help="exit 0 while the running bot is alive (for HEALTHCHECK)", parents=[common]
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    redactor = Redactor(raw_secrets())
    install_logging(logging.WARNING, redactor)
    settings: Settings | None = None
    try:
        settings = load_settings()
        redactor.add(*secrets_of(settings))
        install_logging(settings.log_level, redactor)
        if args.command == "check-config":
            return check_config(settings, online=args.online)
        if args.command == "health":
            return health(settings)
        return run(settings)
    except Exception as exc:
        if args.debug or args.debug_here:
            logger.error("Start-up failed", exc_info=exc)
        if isinstance(exc, ConfigurationError):
            prefix = "Configuration error"
        else:
            prefix = "Unhealthy" if args.command == "health" else "Cannot start"
        sys.stderr.write(redactor(f"{prefix}: {explain(exc, settings)}") + "\n")
        return 1
