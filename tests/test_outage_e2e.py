"""PostgreSQL goes away for a few seconds while baristas scan: each gets a short "try
again", nothing is half-written, and the bot recovers by itself when the server is back.

The bot reaches the server through a small TCP relay on 127.0.0.1 that this test opens
and cuts (every connection dropped, new ones refused), as a server restart or a network
failure would: the shared test server itself is never stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from sqlalchemy import make_url

from sandbox.botapi import FakeTelegram
from tests.conftest import FakeClock, make_settings, start_bot, stop_bot
from tests.databases import fresh_schema, server_url
from tests.helpers import qr_payload, show_card

TRY_AGAIN = "our records are out of reach for a moment"


class Relay:
    """Forwards 127.0.0.1:<port> to the PostgreSQL server, until cut."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """The server is gone: refuse new connections and drop every open one."""
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for pipe in list(self._pipes):
            pipe.cancel()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, upstream_writer}
        pipes = [
            asyncio.create_task(self._pipe(reader, upstream_writer)),
            asyncio.create_task(self._pipe(upstream_reader, writer)),
        ]
        self._pipes.update(pipes)
        await asyncio.gather(*pipes, return_exceptions=True)
        self._pipes.difference_update(pipes)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                sink.transport.abort()


@pytest_asyncio.fixture
async def relayed() -> AsyncIterator[tuple[Relay, str]]:
    """A fresh PostgreSQL schema, and a URL that reaches it through the relay."""
    async with fresh_schema(server_url()) as url:
        parsed = make_url(url)
        relay = Relay(parsed.host or "127.0.0.1", parsed.port or 5432)
        await relay.start()
        through = parsed.set(host="127.0.0.1", port=relay.port)
        yield relay, through.render_as_string(hide_password=False)
        with contextlib.suppress(AssertionError):
            await relay.cut()


async def test_a_database_outage_asks_to_try_again_and_heals_itself(
    fake: FakeTelegram, clock: FakeClock, tmp_path: Path, relayed: tuple[Relay, str]
) -> None:
    relay, url = relayed
    bot = await start_bot(fake, make_settings(tmp_path, fake.url, url), clock)
    try:
        barista = await bot.hire(3001, "Ben")
        anna = await bot.customer(2001, "Anna")
        card = await show_card(anna)
        (shown,) = await barista.send(f"/start {qr_payload(card.photo)}")
        assert "Anna" in shown.body

        await relay.cut()
        # The amount for the open scan, then a fresh scan: both are told to try again,
        # in a short sentence and without a trace of the error.
        for attempt in ("4.50", f"/start {qr_payload(card.photo)}"):
            replies = await barista.send(attempt, timeout=30)
            assert [r.body for r in replies if TRY_AGAIN in r.body], [r.body for r in replies]
            assert not any("Traceback" in r.body or "psycopg" in r.body for r in replies)
        assert not any(TRY_AGAIN in m.body for m in anna.messages)  # no receipt, no noise

        await relay.start()  # the server is back on the same address
        replies = await barista.send("4.50", timeout=30)
        assert any("Anna" in r.body and "4.50" in r.body for r in replies), [
            r.body for r in replies
        ]
        # Exactly one purchase was written: the one made after the outage.
        earned = await bot.rows("SELECT points, amount_minor FROM ledger WHERE kind = 'earn'")
        assert earned == [{"points": 4, "amount_minor": 450}]
        member = await bot.services.members.find(2001)
        assert member is not None and member.balance == 4
        assert "4.50" in anna.last.body  # the receipt
    finally:
        await stop_bot(bot)
