"""Small key/value facts the bot keeps about itself (e.g. the generated signing key)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiosqlite


async def get_or_set(tx: aiosqlite.Connection, key: str, default: str) -> str:
    """Return the stored value for ``key``, storing ``default`` first if there is none."""
    await tx.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT DO NOTHING", (key, default)
    )
    async with tx.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
        row = await cur.fetchone()
    assert row is not None
    return str(row["value"])


async def put(tx: aiosqlite.Connection, key: str, value: str) -> None:
    await tx.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def read_now(path: Path, key: str) -> str | None:
    """One value, read synchronously and read-only (for the health check command, which
    runs beside the bot and must not take its write lock)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])


async def read(conn: aiosqlite.Connection, key: str) -> str | None:
    async with conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
        row = await cur.fetchone()
    return None if row is None else str(row[0])
