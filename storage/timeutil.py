"""Timestamps: aware UTC datetimes in the code; ISO-8601 text in UTC on SQLite, and
``timestamptz`` on PostgreSQL (which reads the same text as a parameter and returns a
datetime)."""

from __future__ import annotations

from datetime import UTC, datetime


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to storage; use timezone-aware UTC")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db(value: str | datetime) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.astimezone(UTC)


def from_db_optional(value: str | datetime | None) -> datetime | None:
    return None if value is None else from_db(value)
