"""Configuration from environment variables and an optional ``.env`` file."""

from __future__ import annotations

import logging
import os
import re
import socket
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.earning import Category, parse_categories
from bot.lifecycle import QuietHours, parse_quiet_hours
from bot.money import DEFAULT_LOCALE
from bot.tiers import Tier, parse_tiers

# What @BotFather hands out: the bot's numeric id, a colon, then the secret part.
TOKEN_SHAPE = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{20,}")
MIN_CARD_SECRET_LENGTH = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")
REPLICA_ID_SHAPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@-]{0,99}")


def default_replica_id() -> str:
    """``<hostname>-<pid>``: unique among processes on one machine and across machines."""
    host = re.sub(r"[^A-Za-z0-9._-]", "-", socket.gethostname()).strip("-.") or "bot"
    return f"{host[:80]}-{os.getpid()}"


class Settings(BaseSettings):
    """Everything a café configures. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    bot_token: SecretStr = Field(min_length=1)
    cafe_name: str = "our café"
    owner_ids: Annotated[tuple[int, ...], NoDecode] = ()
    database_path: Path = Path("./data/loyalty.db")
    # PostgreSQL instead of the SQLite file: postgresql://user:password@host:5432/dbname.
    # A secret, since it may carry the password.
    database_url: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    timezone: str = "UTC"
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    currency_exponent: int = Field(default=2, ge=0, le=3)
    language: str = "en"
    locale: str = DEFAULT_LOCALE

    card_validity_minutes: int = Field(default=10, ge=0, le=60 * 24 * 365)
    card_secret: SecretStr | None = None

    points_per_unit: Decimal = Field(default=Decimal(1), gt=0)
    point_value: Decimal = Field(default=Decimal("0.05"), ge=0)
    expected_redemption_rate: Decimal = Field(default=Decimal("0.8"), ge=0, le=1)
    categories: Annotated[tuple[Category, ...], NoDecode] = ()
    tiers: Annotated[tuple[Tier, ...], NoDecode] = parse_tiers(
        "Bronze:0:1, Silver:500:1.25, Gold:1500:1.5"
    )

    # At most a million: amounts are whole minor units that must fit 32 bits on PostgreSQL.
    max_purchase_amount: Decimal = Field(default=Decimal(200), gt=0, le=1_000_000)
    max_points_per_purchase: int = Field(default=1000, gt=0)
    max_points_per_staff_day: int = Field(default=10000, gt=0)
    undo_window_minutes: int = Field(default=30, ge=0)

    coupon_validity_days: int = Field(default=30, ge=1, le=3650)
    # 29 of Telegram's 30 messages a second: 97 %, with room for a reply in the same second.
    broadcast_rate: float = Field(default=29, gt=0, le=30)
    # Broadcasts with Telegram's allow_paid_broadcast: up to 1,000 a second, paid in Stars
    # (0.1 Star a message beyond the free 30 a second). Off: the free 30 a second.
    paid_broadcast: bool = False
    rewards_file: Path | None = None

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    backup_dir: Path | None = None
    backup_keep: int = Field(default=7, ge=1, le=3650)
    # This process among several sharing one database (docs/operations.md, "Several
    # machines"): names its heartbeat, its job leases and its metrics.
    replica_id: str = Field(default_factory=default_replica_id)

    # The member lifecycle. Every feature is off until a café turns it on.
    points_expire_after_months: int = Field(default=0, ge=0, le=120)
    expiry_reminder_days: int = Field(default=14, ge=0, le=365)
    winback_after_days: int = Field(default=0, ge=0, le=3650)
    birthday_bonus_points: int = Field(default=0, ge=0, le=100_000)
    birthday_reward: str | None = None
    birthday_treat_on: Literal["week", "day"] = "week"
    birthday_coupon_days: int = Field(default=14, ge=1, le=365)
    referral_bonus_points: int = Field(default=0, ge=0, le=100_000)
    referral_friend_bonus_points: int = Field(default=0, ge=0, le=100_000)
    referral_min_purchase: Decimal = Field(default=Decimal(0), ge=0)
    referral_max_per_month: int = Field(default=5, ge=0, le=1000)
    nps_every_visits: int = Field(default=0, ge=0, le=1000)
    quiet_hours: Annotated[QuietHours, NoDecode] = parse_quiet_hours("21:00-09:00")

    @field_validator("bot_token")
    @classmethod
    def _token_shaped(cls, value: SecretStr) -> SecretStr:
        # The message never repeats the value: it is a secret even when it is wrong.
        if not TOKEN_SHAPE.fullmatch(value.get_secret_value().strip()):
            raise ValueError(
                "does not look like a bot token (digits, a colon, then letters; "
                "copy it from @BotFather: /mybots → your bot → API Token)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("card_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_CARD_SECRET_LENGTH:
            raise ValueError(
                f"is too short: use at least {MIN_CARD_SECRET_LENGTH} random characters "
                "(e.g. the output of: openssl rand -hex 32), or leave it unset"
            )
        return value

    @field_validator("replica_id")
    @classmethod
    def _replica_id_shape(cls, value: str) -> str:
        value = value.strip()
        if not REPLICA_ID_SHAPE.fullmatch(value):
            raise ValueError(
                "must be 1 to 100 letters, digits and . _ : @ - starting with a letter or a "
                "digit (e.g. web-1), or unset for <hostname>-<pid>"
            )
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram's rule for secret_token; the message never repeats the value.
        if value is None or not value.get_secret_value().strip():
            return None
        if not WEBHOOK_SECRET_SHAPE.fullmatch(value.get_secret_value().strip()):
            raise ValueError(
                "must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(e.g. the output of: openssl rand -hex 32)"
            )
        return SecretStr(value.get_secret_value().strip())

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in list_currencies():
            raise ValueError("is not an ISO 4217 currency code (use e.g. EUR, USD, GBP)")
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        try:
            return str(Locale.parse(value.replace("-", "_")))
        except (UnknownLocaleError, ValueError) as exc:
            raise ValueError("is not a known locale (use e.g. en_US, de_DE, fr_FR)") from exc

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
            if not all(part.isascii() and part.isdigit() for part in parts):
                raise ValueError(
                    "must be numeric Telegram user ids separated by commas; or leave it unset "
                    "and claim the bot with the owner link it logs at start-up"
                )
            return tuple(int(part) for part in parts)
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("categories", mode="before")
    @classmethod
    def _parse_categories(cls, value: object) -> object:
        return parse_categories(value) if isinstance(value, str) else value

    @field_validator("tiers", mode="before")
    @classmethod
    def _parse_tiers(cls, value: object) -> object:
        return parse_tiers(value) if isinstance(value, str) else value

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _parse_quiet_hours(cls, value: object) -> object:
        return parse_quiet_hours(value) if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/Berlin)") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        url = value.get_secret_value().strip()
        if not url.startswith(("postgresql://", "postgres://")):
            # Never echo the value: it may hold a password.
            raise ValueError(
                "must be a PostgreSQL URL: postgresql://user:password@host:5432/dbname"
                " (leave it unset to use the SQLite file at DATABASE_PATH)"
            )
        return SecretStr(url)

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @property
    def database(self) -> Path | str:
        """Where the data lives: the PostgreSQL URL when DATABASE_URL is set, else the
        SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return self.database_path

    @property
    def uses_postgresql(self) -> bool:
        return self.database_url is not None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def bot_api_base_url(self) -> str:
        return f"{self.telegram_api_url}/bot"

    @property
    def bot_file_base_url(self) -> str:
        return f"{self.telegram_api_url}/file/bot"

    @property
    def max_purchase_minor(self) -> int:
        return int(self.max_purchase_amount.scaleb(self.currency_exponent))

    @property
    def referral_min_minor(self) -> int:
        return int(self.referral_min_purchase.scaleb(self.currency_exponent))

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


def describe_validation_error(error: ValidationError) -> str:
    """One readable line per bad setting, naming the environment variable."""
    lines = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"][:1]).upper() or "SETTINGS"
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "missing":
            message = "is required but not set"
        lines.append(f"{name}: {message}")
    return "; ".join(lines)
