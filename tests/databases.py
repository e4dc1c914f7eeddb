"""Where the tests find their databases: SQLite files in tmp_path, and PostgreSQL where
``TEST_DATABASE_URL`` names a server (each test then gets a fresh schema of its own).

Without ``TEST_DATABASE_URL`` the PostgreSQL tests are skipped with a reason, except
under CI (``CI=true``), where a missing server fails them: CI never skips an engine."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from storage import Database
from storage.postgresql import conninfo

ENGINES = ("sqlite", "postgresql")
HOW_TO_ENABLE = (
    "PostgreSQL tests need a server: set TEST_DATABASE_URL, e.g. "
    "postgresql://postgres@127.0.0.1:5432/test (.ci/run starts one)"
)


def server_url() -> str:
    """The PostgreSQL server the tests may use, or skip (fail under CI) without one."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail("CI runs the PostgreSQL tests: TEST_DATABASE_URL is not set")
    pytest.skip(HOW_TO_ENABLE)


@asynccontextmanager
async def fresh_schema(url: str) -> AsyncIterator[str]:
    """A new, empty schema on the server, dropped afterwards. Yields a ``postgresql://``
    URL whose connections use only that schema."""
    name = f"test_{secrets.token_hex(6)}"
    admin = await psycopg.AsyncConnection.connect(conninfo(url), autocommit=True)
    try:
        await admin.execute(f'CREATE SCHEMA "{name}"')
        parsed = make_url(url)
        query = dict(parsed.query)
        query["options"] = f"-csearch_path={name}"
        scoped = parsed.set(query=query).render_as_string(hide_password=False)
        yield scoped
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await admin.close()


def database_env(env: Mapping[str, str], path: Path, url: str | None) -> dict[str, str]:
    """``env`` for a bot process that uses the test's database: the SQLite file at
    ``path``, or PostgreSQL at ``url`` (a DATABASE_URL inherited from the shell never
    turns a SQLite run into a PostgreSQL one)."""
    result = {key: value for key, value in env.items() if key != "DATABASE_URL"}
    result["DATABASE_PATH"] = str(path)
    if url is not None:
        result["DATABASE_URL"] = url
    return result


@asynccontextmanager
async def opened(path: Path, url: str | None) -> AsyncIterator[Database]:
    """The test's database, opened as the bot opens it (a process has written it)."""
    database = Database(url if url is not None else path)
    await database.open()
    try:
        yield database
    finally:
        await database.close()
