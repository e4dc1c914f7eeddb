"""Small key/value facts the bot keeps about itself (e.g. the generated signing key)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from storage import postgresql
from storage.engine import Conn, sql

_INSERT_IF_MISSING = sql(
    "INSERT INTO meta (key, value) VALUES (:key, :value) ON CONFLICT (key) DO NOTHING"
)
_VALUE = sql("SELECT value FROM meta WHERE key = :key")
_PUT = sql(
    "INSERT INTO meta (key, value) VALUES (:key, :value)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


async def get_or_set(tx: Conn, key: str, default: str) -> str:
    """Return the stored value for ``key``, storing ``default`` first if there is none."""
    await tx.run(_INSERT_IF_MISSING, key=key, value=default)
    value = await tx.value(_VALUE, key=key)
    assert value is not None
    return str(value)


async def put(tx: Conn, key: str, value: str) -> None:
    await tx.run(_PUT, key=key, value=value)


def read_now(database: Path | str, key: str) -> str | None:
    """One value, read synchronously and read-only (for the health check command, which
    runs beside the bot and must not take its write lock): from the SQLite file, or from
    the PostgreSQL database a URL names. None when it cannot be read."""
    if isinstance(database, str):
        return _read_postgresql(database, key)
    try:
        conn = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


def _read_postgresql(url: str, key: str) -> str | None:
    rows = postgresql.read_now(url, "SELECT value FROM meta WHERE key = %(key)s", {"key": key})
    return None if not rows else str(rows[0][0])


async def read(conn: Conn, key: str) -> str | None:
    value = await conn.value(_VALUE, key=key)
    return None if value is None else str(value)
