"""Configuration from environment variables and an optional ``.env`` file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.earning import Category, parse_categories
from bot.tiers import Tier, parse_tiers


class Settings(BaseSettings):
    """Everything a café configures. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    bot_token: SecretStr = Field(min_length=1)
    cafe_name: str = "our café"
    owner_ids: Annotated[tuple[int, ...], NoDecode] = ()
    database_path: Path = Path("./data/loyalty.db")
    telegram_api_url: str = "https://api.telegram.org"
    timezone: str = "UTC"
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    currency_exponent: int = Field(default=2, ge=0, le=3)
    language: str = "en"

    card_validity_minutes: int = Field(default=10, ge=0, le=60 * 24 * 365)
    card_secret: SecretStr | None = None

    points_per_unit: Decimal = Field(default=Decimal(1), gt=0)
    point_value: Decimal = Field(default=Decimal("0.05"), ge=0)
    categories: Annotated[tuple[Category, ...], NoDecode] = ()
    tiers: Annotated[tuple[Tier, ...], NoDecode] = parse_tiers(
        "Bronze:0:1, Silver:500:1.25, Gold:1500:1.5"
    )

    max_purchase_amount: Decimal = Field(default=Decimal(200), gt=0)
    max_points_per_purchase: int = Field(default=1000, gt=0)
    max_points_per_staff_day: int = Field(default=10000, gt=0)
    undo_window_minutes: int = Field(default=30, ge=0)

    coupon_validity_days: int = Field(default=30, ge=1, le=3650)
    broadcast_rate: float = Field(default=25, gt=0, le=30)
    rewards_file: Path | None = None

    log_level: str = "INFO"

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(int(part) for part in value.replace(";", ",").split(",") if part.strip())
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

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use e.g. Europe/Berlin)") from exc
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

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

    def is_owner(self, user_id: int) -> bool:
        return user_id in self.owner_ids


def describe_validation_error(error: ValidationError) -> str:
    """One readable line per bad setting, naming the environment variable."""
    lines = []
    for problem in error.errors():
        name = "_".join(str(part) for part in problem["loc"][:1]).upper() or "SETTINGS"
        message = problem["msg"]
        if problem["type"] == "missing":
            message = "is required but not set"
        lines.append(f"{name}: {message}")
    return "; ".join(lines)
