"""Everything ``run`` needs, checked before the bot starts, each failure one line.

Local settings (database path, rewards file, language) are checked first, so a bad
``DATABASE_PATH`` is reported even offline; then a PostgreSQL ``DATABASE_URL`` is tried
once, and one ``getMe`` tells an unreachable server, a wrong ``TELEGRAM_API_URL`` and a
rejected token apart by what actually answered.
"""

from __future__ import annotations

from collections.abc import Collection

import httpx
from telegram.error import InvalidToken, NetworkError, TimedOut

from bot import i18n
from bot.services.catalog import CatalogFileError, read_rewards_file
from bot.settings import Settings
from storage import StorageError, TransientError
from storage.db import check_database_file, describe_url, probe_postgresql

ONLINE_TIMEOUT_SECONDS = 15.0
DEFAULT_API_URL = "https://api.telegram.org"


class StartupError(Exception):
    """A reason the bot cannot start, in one line: the cause and the fix."""


def check_local(settings: Settings, languages: Collection[str]) -> None:
    """The checks that need no network, in the order a person would fix them."""
    if i18n.shipped_language(settings.language) not in languages:
        raise StartupError(
            f"LANGUAGE: no texts for {settings.language!r}; use one of {', '.join(languages)}"
        )
    if not settings.uses_postgresql:
        try:
            check_database_file(settings.database_path)
        except StorageError as exc:
            raise StartupError(
                f"DATABASE_PATH: {exc}. Point DATABASE_PATH at a writable folder "
                "(the default is ./data/loyalty.db)"
            ) from None
    if settings.rewards_file is not None:
        try:
            read_rewards_file(settings.rewards_file)
        except CatalogFileError as exc:
            raise StartupError(f"REWARDS_FILE: {exc}") from None


async def check_database(settings: Settings) -> str:
    """Reach the PostgreSQL server of DATABASE_URL (the SQLite file is checked offline).
    Returns what was found, for check-config."""
    if settings.database_url is None:
        return f"database {settings.database_path}"
    try:
        version = await probe_postgresql(settings.database_url.get_secret_value())
    except StorageError as exc:
        raise StartupError(
            f"DATABASE_URL: {exc}. Check the host, port, user, password and database name "
            "(postgresql://user:password@host:5432/dbname), and that the server is running"
        ) from None
    state = f"schema version {version}" if version else "empty: the bot will create its tables"
    return f"database {describe_url(settings.database_url.get_secret_value())} ({state})"


async def fetch_bot_username(settings: Settings) -> str:
    """Ask the Bot API who we are; explain exactly what went wrong if it will not say."""
    api = settings.telegram_api_url
    url = f"{settings.bot_api_base_url}{settings.bot_token.get_secret_value()}/getMe"
    try:
        async with httpx.AsyncClient(timeout=ONLINE_TIMEOUT_SECONDS) as client:
            response = await client.get(url)
    except httpx.TimeoutException:
        raise StartupError(
            f"The Bot API at {api} did not answer within {ONLINE_TIMEOUT_SECONDS:g} s: "
            "check the network connection, firewall or proxy, and TELEGRAM_API_URL"
        ) from None
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise StartupError(
            f"Cannot reach the Bot API at {api} ({reason}): "
            "check the network connection and TELEGRAM_API_URL"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or "ok" not in body:
        raise StartupError(
            f"TELEGRAM_API_URL: {api} answered HTTP {response.status_code} but is not a "
            f"Telegram Bot API server: check the address (the default is {DEFAULT_API_URL})"
        )
    if body["ok"]:
        return str(body["result"]["username"])
    code = body.get("error_code", response.status_code)
    if code == 401:
        raise StartupError(
            "BOT_TOKEN was rejected by Telegram (401 Unauthorized): it is wrong or was "
            "revoked; copy the current token from @BotFather (/mybots → your bot → API Token)"
        )
    if code == 404:
        raise StartupError(
            f"TELEGRAM_API_URL: {api} answered 404 Not Found to getMe, so it is not the "
            f"Bot API's address (the default is {DEFAULT_API_URL})"
        )
    raise StartupError(
        f"The Bot API at {api} refused getMe ({code}: {body.get('description', '')}); "
        "try again later"
    )


def explain(error: BaseException, settings: Settings | None) -> str:
    """One line for a failure that got past the checks (the network dropped meanwhile…)."""
    api = settings.telegram_api_url if settings else "the Bot API"
    if isinstance(error, StartupError):
        return str(error)
    if isinstance(error, InvalidToken):
        return (
            "BOT_TOKEN was rejected by the Bot API: copy the current token from @BotFather "
            "(/mybots → your bot → API Token) and check TELEGRAM_API_URL"
        )
    if isinstance(error, TimedOut):
        return f"The Bot API at {api} did not answer in time: check the network connection"
    if isinstance(error, NetworkError):
        return f"Cannot reach the Bot API at {api} ({error.message}): check the network"
    if isinstance(error, CatalogFileError):
        return f"REWARDS_FILE: {error}"
    if isinstance(error, StorageError | OSError | TransientError):
        setting = "DATABASE_URL" if settings and settings.uses_postgresql else "DATABASE_PATH"
        return f"{setting}: {error}"
    return f"Start-up failed: {type(error).__name__}: {error} (run with --debug for details)"
