"""DATABASE_URL at start-up: every failure is one line naming the cause and the fix, and
the password never shows; a good URL is checked, migrated and reported."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import make_url

from storage import Database
from storage.engine import sql
from tests.databases import fresh_schema, server_url
from tests.test_startup import free_port, loyalty_bot, one_line

PASSWORD = "Tr0ub4dor-and-3"


async def test_an_unreachable_server_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://loyalty:{PASSWORD}@127.0.0.1:{free_port()}/loyalty"
    for command in ("check-config", "run", "migrate"):
        code, out, err = await loyalty_bot(tmp_path, command, DATABASE_URL=url)
        line = one_line(code, out, err)
        assert PASSWORD not in out + err
        assert "DATABASE_URL" in line and "cannot use PostgreSQL at 127.0.0.1" in line, line
        assert "check the host, port, user, password" in line.lower(), line


async def test_a_url_that_is_not_postgresql_is_refused_without_echoing_it(
    tmp_path: Path,
) -> None:
    url = f"mysql://loyalty:{PASSWORD}@127.0.0.1/loyalty"
    code, out, err = await loyalty_bot(tmp_path, "check-config", DATABASE_URL=url)
    line = one_line(code, out, err)
    assert PASSWORD not in out + err
    assert "DATABASE_URL" in line and "postgresql://" in line, line


async def test_refused_credentials_and_a_missing_database(tmp_path: Path) -> None:
    server = make_url(server_url())
    wrong_user = server.set(username="nobody_here", password=PASSWORD)
    code, out, err = await loyalty_bot(
        tmp_path, "check-config", DATABASE_URL=wrong_user.render_as_string(hide_password=False)
    )
    line = one_line(code, out, err)
    assert PASSWORD not in out + err and "nobody_here" in line, line
    missing = server.set(database="no_such_database_here")
    code, out, err = await loyalty_bot(
        tmp_path, "check-config", DATABASE_URL=missing.render_as_string(hide_password=False)
    )
    assert "no_such_database_here" in one_line(code, out, err)


async def test_check_config_migrate_and_backup_on_a_good_server(tmp_path: Path) -> None:
    async with fresh_schema(server_url()) as url:
        code, out, err = await loyalty_bot(tmp_path, "check-config", DATABASE_URL=url)
        assert code == 0, err
        assert "empty: the bot will create its tables" in out
        code, out, err = await loyalty_bot(tmp_path, "migrate", DATABASE_URL=url)
        assert code == 0, err
        assert "is at schema version" in out
        code, out, err = await loyalty_bot(tmp_path, "check-config", DATABASE_URL=url)
        assert code == 0 and "schema version" in out, err
        # Backups are the server's own: the command says how instead of pretending.
        code, out, err = await loyalty_bot(tmp_path, "backup", "x.db", DATABASE_URL=url)
        assert "pg_dump" in one_line(code, out, err)


async def test_a_database_from_a_newer_bot_is_refused(tmp_path: Path) -> None:
    async with fresh_schema(server_url()) as url:
        database = Database(url)
        await database.open()
        async with database.transaction() as tx:
            await tx.run(sql("INSERT INTO schema_version (version) VALUES (:v)"), v=999)
        await database.close()
        for command in ("check-config", "run"):
            code, out, err = await loyalty_bot(tmp_path, command, DATABASE_URL=url)
            line = one_line(code, out, err)
            assert "newer version of the bot (schema 999)" in line, line
