"""Small key/value facts the bot keeps about itself (e.g. the generated signing key)."""

from __future__ import annotations

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
