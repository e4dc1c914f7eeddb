"""The ``loyalty-bot`` command.

Every failure before the bot is up ends as one line on stderr naming the cause and the
fix, with a non-zero exit code and no traceback (``--debug`` adds one, redacted). Each
line, like every log record, passes through the one :class:`Redactor`.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from dotenv import dotenv_values
from pydantic import ValidationError

from bot import __version__, i18n
from bot.app import ALLOWED_UPDATES, build_application
from bot.clock import Clock
from bot.periods import Period, parse_period
from bot.redaction import Redactor, install_logging
from bot.services.exports import ExportService
from bot.services.health import health_now, heartbeat_problem
from bot.services.reports import CHAIN_WIDE, ReportService
from bot.settings import Settings, describe_validation_error
from bot.startup import (
    StartupError,
    check_database,
    check_local,
    explain,
    fetch_bot_username,
)
from bot.telegram import webhook as webhook_server
from handlers.report_text import plain, render
from storage import Database, StorageError
from storage import locations as location_store
from storage.backup import backup, verify
from storage.db import describe_url, is_postgresql
from storage.port import port

logger = logging.getLogger(__name__)

SECRET_VARIABLES = ("BOT_TOKEN", "CARD_SECRET", "DATABASE_URL")
DEMO_PORT = 8080


class ConfigurationError(StartupError):
    """A setting is missing or malformed; nothing was contacted."""


def raw_secrets() -> list[str | None]:
    """The secrets as given, before validation: a malformed token is still a secret."""
    from_file = dotenv_values(".env") if Path(".env").is_file() else {}
    return [
        value for name in SECRET_VARIABLES for value in (os.environ.get(name), from_file.get(name))
    ]


def secrets_of(settings: Settings) -> list[str | None]:
    return [
        secret.get_secret_value() if secret else None
        for secret in (settings.bot_token, settings.card_secret, settings.database_url)
    ]


def load_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from None


def check_offline(settings: Settings) -> None:
    try:
        check_local(settings, i18n.SHIPPED)
    except StartupError as exc:
        raise ConfigurationError(str(exc)) from None


WEBHOOK_SECRET_NEEDED = (
    "WEBHOOK_SECRET: required with --webhook on PostgreSQL, where several replicas may "
    "share the webhook: set the same random value on every replica, e.g. the output of: "
    "openssl rand -hex 32"
)


def check_webhook(settings: Settings) -> None:
    """What --webhook needs beyond polling, before anything is contacted."""
    if not settings.webhook_url:
        raise ConfigurationError(
            "WEBHOOK_URL: required with --webhook: the public https address Telegram posts "
            "updates to, e.g. https://cafe.example.com/telegram"
        )
    # Replicas each making a secret of their own would each tell Telegram theirs, and
    # all but the last would refuse every update. A SQLite database has one process.
    if settings.uses_postgresql and settings.webhook_secret is None:
        raise ConfigurationError(WEBHOOK_SECRET_NEEDED)


def run(settings: Settings, redactor: Redactor, *, webhook: bool = False) -> int:
    check_offline(settings)
    if webhook:
        check_webhook(settings)
    # One loop for the check and the bot: PTB's run_polling uses the current one.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(check_database(settings))
    loop.run_until_complete(fetch_bot_username(settings))
    application = build_application(settings)
    # Both handle Ctrl-C and SIGTERM, then run post_stop and post_shutdown.
    if not webhook:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
        return 0
    secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret
        else secrets.token_urlsafe(32)  # a new one each start; setWebhook tells Telegram
    )
    redactor.add(secret)
    # The bot's own server: it answers Telegram once an update is handled, and requests
    # without the secret in X-Telegram-Bot-Api-Secret-Token get 403 before their body
    # is read (bot/telegram/webhook.py).
    webhook_server.run(application, settings, secret)
    return 0


def check_config(settings: Settings, *, online: bool) -> int:
    check_offline(settings)
    out = sys.stdout
    out.write(f"Settings OK: {asyncio.run(check_database(settings))}")
    out.write(f", rewards file {settings.rewards_file}\n" if settings.rewards_file else "\n")
    if online:
        username = asyncio.run(fetch_bot_username(settings))
        out.write(f"Bot API OK: this is @{username} at {settings.telegram_api_url}\n")
    return 0


def health(settings: Settings) -> int:
    """Exit 0 while a replica's heartbeat is fresh and every job's lease is held (the
    Docker HEALTHCHECK); each replica and job is a line on stdout either way."""
    report = health_now(settings.database, datetime.now(UTC))
    details = "".join(f"{line}\n" for line in report.lines())
    if report.problem is not None:
        sys.stdout.write(details)
        sys.stdout.flush()
        raise StartupError(report.problem)
    alive = len(report.alive)
    sys.stdout.write(f"Healthy: {alive} replica{'s' if alive != 1 else ''} alive\n{details}")
    return 0


def cli_period(args: argparse.Namespace, settings: Settings) -> Period:
    words = [args.month] if args.month else [args.start, args.end] if args.start else []
    if (args.start and not args.end) or (args.end and not args.start):
        raise ConfigurationError(
            "--from and --to go together, e.g. --from 2026-11-01 --to 2026-11-30"
        )
    try:
        return parse_period([w for w in words if w], settings.tz, datetime.now(UTC))
    except ValueError as exc:
        raise ConfigurationError(f"period: {exc}") from None


async def open_books(settings: Settings) -> tuple[Database, ReportService, ExportService]:
    check_offline(settings)
    db = Database(settings.database)
    await db.open()
    return db, ReportService(db, Clock(), settings), ExportService(db, settings)


async def cli_location(db: Database, text: str | None) -> int | None:
    """--location: a location's name (any case) or id, or ``chain-wide`` (what was done at
    no location); None without it (the whole café)."""
    if text is None:
        return None
    if text.strip().lower() == "chain-wide":
        return CHAIN_WIDE
    locations = await location_store.all_locations(db.reader)
    for location in locations:
        if text.strip().lower() in (location.name.lower(), str(location.id)):
            return location.id
    names = ", ".join(location.name for location in locations)
    raise ConfigurationError(
        f"--location: no location {text!r} (there are: {names}; or chain-wide)"
    )


async def report_command(args: argparse.Namespace, settings: Settings) -> int:
    period = cli_period(args, settings)
    db, reports, _ = await open_books(settings)
    try:
        report = await reports.report(period, await cli_location(db, args.location))
    finally:
        await db.close()
    sys.stdout.write(render(report, plain(settings)) + "\n")
    return 0


def output_folder(text: str) -> Path:
    out = Path(text)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(f"--out: cannot create {out} ({exc.strerror})") from None
    return out


async def export_command(args: argparse.Namespace, settings: Settings, out: Path) -> int:
    period = cli_period(args, settings)
    db, reports, exports = await open_books(settings)
    try:
        part = await cli_location(db, args.location)
        ledger = out / exports.ledger_name(period, part)
        roll = out / exports.roll_forward_name(period, part)
        count = await exports.write_ledger(period, ledger, part)
        await exports.write_roll_forward(await reports.report(period, part), roll)
    finally:
        await db.close()
    sys.stdout.write(f"Wrote {ledger} ({count} entries) and {roll}\n")
    return 0


PG_DUMP_ADVICE = (
    "DATABASE_URL is PostgreSQL, whose own tools do this safely while the bot runs: "
    'pg_dump --format=custom --file=loyalty.dump "$DATABASE_URL" to back up, '
    'pg_restore --clean --dbname="$DATABASE_URL" loyalty.dump to restore '
    "(docs/operations.md, Backups on PostgreSQL)"
)


async def migrate_command(settings: Settings) -> int:
    """Bring the database's schema to this version and stop (before starting replicas)."""
    check_offline(settings)
    await check_database(settings)
    db = Database(settings.database)
    await db.open()
    try:
        version = await db.version()
    finally:
        await db.close()
    sys.stdout.write(f"Database {db.describe()} is at schema version {version}\n")
    return 0


def say_progress(line: str) -> None:
    sys.stdout.write(f"  {line}\n")
    sys.stdout.flush()


async def move_command(settings: Settings, url: str) -> int:
    """Copy the café's SQLite database into an empty PostgreSQL database."""
    if settings.uses_postgresql:
        raise ConfigurationError(
            "move-to copies the SQLite file at DATABASE_PATH, but DATABASE_URL is set: "
            "unset it for the move, then set it to the new database"
        )
    if not is_postgresql(url):
        raise ConfigurationError("move-to: give the target as postgresql://user:password@host/db")
    check_offline(settings)
    source = settings.database_path
    if not source.exists():
        raise ConfigurationError(f"DATABASE_PATH: {source} does not exist")
    if heartbeat_problem(source, datetime.now(UTC)) is None:
        raise ConfigurationError("the bot is running on this database: stop it first")
    try:
        moved = await port(source, url, progress=say_progress)
    except StorageError as exc:
        raise ConfigurationError(f"move-to: {exc}") from None
    width = max(len(t.table) for t in moved.tables)
    sys.stdout.write(f"{'table':<{width}}  {'SQLite':>10}  {'PostgreSQL':>10}\n")
    for table in moved.tables:
        mark = "" if table.source_rows == table.target_rows else "  MISMATCH"
        sys.stdout.write(
            f"{table.table:<{width}}  {table.source_rows:>10}  {table.target_rows:>10}{mark}\n"
        )
    balances = "equal" if moved.balances_match else "DIFFERENT"
    sys.stdout.write(f"Balances: {balances} to the SQLite file's, and each its ledger's sum\n")
    if not moved.ok:
        return 1
    sys.stdout.write(
        f"Moved to {describe_url(url)}. Set DATABASE_URL to it and start the bot; keep "
        f"{source} as a backup.\n"
    )
    return 0


def backup_command(settings: Settings, target: Path) -> int:
    if settings.uses_postgresql:
        raise ConfigurationError(PG_DUMP_ADVICE)
    check_offline(settings)
    if not settings.database_path.exists():
        raise ConfigurationError(f"DATABASE_PATH: {settings.database_path} does not exist yet")
    backup(settings.database_path, target)
    verdict = verify(target)
    sys.stdout.write(
        f"Backed up {settings.database_path} to {target}: {verdict.members} members,"
        f" {verdict.entries} ledger entries, integrity {verdict.integrity}\n"
    )
    return 0 if verdict.ok else 1


def restore_command(settings: Settings, source: Path) -> int:
    """Put a backup in place of the database, keeping the current one beside it."""
    if settings.uses_postgresql:
        raise ConfigurationError(PG_DUMP_ADVICE)
    if heartbeat_problem(settings.database_path, datetime.now(UTC)) is None:
        raise ConfigurationError("the bot is running on this database: stop it first")
    try:
        verdict = verify(source)
    except StorageError as exc:
        raise ConfigurationError(f"restore: {exc}") from None
    if not verdict.ok:
        raise ConfigurationError(
            f"restore: {source} is damaged (integrity {verdict.integrity},"
            f" balances {'match' if verdict.balances_match else 'do not match'}): not restored"
        )
    target = settings.database_path
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        current = target.with_name(target.name + suffix)
        if current.exists():
            current.replace(current.with_name(f"{current.name}.before-restore-{stamp}"))
    backup(source, target)
    sys.stdout.write(
        f"Restored {source} to {target}: {verdict.members} members, {verdict.entries} ledger"
        f" entries. The previous database is kept as {target.name}.before-restore-{stamp}\n"
    )
    return 0


def demo_command(args: argparse.Namespace) -> int:
    """The real bot, a demo café and a local Telegram, in the browser."""
    # Imported here only: the other commands (``run`` above all) never load the fake Bot API.
    from sandbox.demo import Demo, NotADemoDatabase, demo_settings, serve

    from_file = dotenv_values(".env") if Path(".env").is_file() else {}
    ignored = [
        name
        for name in ("BOT_TOKEN", "TELEGRAM_API_URL")
        if os.environ.get(name) or from_file.get(name)
    ]
    if ignored:
        sys.stdout.write(
            f"Ignoring {' and '.join(ignored)} from the environment or .env: the demo runs its"
            " own local Telegram and never contacts the real one.\n"
        )
    database = Path(args.db) if args.db else None
    if database is not None and not database.parent.is_dir():
        raise ConfigurationError(f"--db: the folder {database.parent} does not exist")
    try:  # other settings (LOCALE, TIMEZONE…) do apply: check them before starting
        demo_settings(f"http://{args.host}:{args.port}", database or Path("demo.db"))
    except ValidationError as exc:
        raise ConfigurationError(describe_validation_error(exc)) from None

    def announce(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    try:
        asyncio.run(serve(Demo(db_path=database, host=args.host, port=args.port), announce))
    except KeyboardInterrupt:  # Ctrl-C before the demo's own handler was in place
        return 0
    except NotADemoDatabase as exc:
        raise ConfigurationError(str(exc)) from None
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            raise ConfigurationError(
                f"--port: {args.host}:{args.port} is taken or not allowed: stop what uses it,"
                f" or pick another port, e.g. --port {args.port + 1}"
            ) from None
        raise
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
    demo = commands.add_parser(
        "demo",
        help="try the bot in the browser: a demo café with a local Telegram, no token needed",
        parents=[common],
    )
    demo.add_argument("--port", type=int, default=DEMO_PORT, help="default: %(default)s")
    demo.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    demo.add_argument("--db", help="keep the demo database in this file (default: a temp folder)")
    running = commands.add_parser("run", help="start the bot (long polling)", parents=[common])
    running.add_argument(
        "--webhook", action="store_true", help="receive updates by webhook (WEBHOOK_URL …)"
    )
    check = commands.add_parser(
        "check-config", help="check every setting run needs, then exit", parents=[common]
    )
    check.add_argument(
        "--online", action="store_true", help="also ask Telegram (getMe) who the bot is"
    )
    commands.add_parser(
        "health", help="exit 0 while the running bot is alive (for HEALTHCHECK)", parents=[common]
    )
    moving = commands.add_parser(
        "move-to",
        help="copy this café's SQLite database into an empty PostgreSQL database",
        parents=[common],
    )
    moving.add_argument("url", help="postgresql://user:password@host:5432/dbname")
    commands.add_parser(
        "migrate",
        help="bring the database's schema to this version, then exit (before starting replicas)",
        parents=[common],
    )
    saving = commands.add_parser(
        "backup", help="copy the database (safe while the bot runs)", parents=[common]
    )
    saving.add_argument("path", help="the backup file to write")
    restoring = commands.add_parser(
        "restore", help="put a backup in place of the database (bot stopped)", parents=[common]
    )
    restoring.add_argument("path", help="the backup file to restore")
    for name, help_text in (
        ("report", "print the points roll-forward, liability and revenue for a period"),
        ("export", "write the ledger and the roll-forward of a period as CSV files"),
    ):
        books = commands.add_parser(name, help=help_text, parents=[common])
        books.add_argument("--month", help="YYYY-MM (default: this month)")
        books.add_argument("--from", dest="start", help="first day, YYYY-MM-DD")
        books.add_argument("--to", dest="end", help="last day, YYYY-MM-DD")
        books.add_argument(
            "--location",
            help="one location of a chain (its name or id), or chain-wide (default: all)",
        )
        if name == "export":
            books.add_argument("--out", default=".", help="folder for the CSV files")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    redactor = Redactor(raw_secrets())
    install_logging(logging.WARNING, redactor)
    settings: Settings | None = None
    try:
        if args.command == "demo":  # its own settings: never a token from the environment
            return demo_command(args)
        settings = load_settings()
        redactor.add(*secrets_of(settings))
        redactor.add(
            settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        )
        install_logging(settings.log_level, redactor, json_lines=settings.log_format == "json")
        if args.command == "check-config":
            return check_config(settings, online=args.online)
        if args.command == "health":
            return health(settings)
        if args.command == "move-to":
            redactor.add(args.url)
            return asyncio.run(move_command(settings, args.url))
        if args.command == "migrate":
            return asyncio.run(migrate_command(settings))
        if args.command == "backup":
            return backup_command(settings, Path(args.path))
        if args.command == "restore":
            return restore_command(settings, Path(args.path))
        if args.command == "report":
            return asyncio.run(report_command(args, settings))
        if args.command == "export":
            return asyncio.run(export_command(args, settings, output_folder(args.out)))
        return run(settings, redactor, webhook=args.webhook)
    except Exception as exc:
        if args.debug or args.debug_here:
            logger.error("Start-up failed", exc_info=exc)
        if isinstance(exc, ConfigurationError):
            prefix = "Configuration error"
        else:
            prefix = "Unhealthy" if args.command == "health" else "Cannot start"
        sys.stderr.write(redactor(f"{prefix}: {explain(exc, settings)}") + "\n")
        return 1
