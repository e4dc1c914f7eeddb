"""The webhook server the bot runs itself (``loyalty-bot run --webhook``), on aiohttp.

As python-telegram-bot's "customwebhookbot" example: the Application is initialised and
started by hand, and a web server of our own hands it each update. Unlike PTB's own
``run_webhook``, which answers Telegram as soon as an update is queued, this one answers
**after the update has been handled**, so an update whose replica died mid-request is
delivered again by Telegram, to another replica behind the load balancer:

- ``POST <path of WEBHOOK_URL>``: the ``X-Telegram-Bot-Api-Secret-Token`` header is
  compared (in constant time) before the body is read: 403 without it. The body is at
  most :data:`MAX_UPDATE_BYTES` (413). The update is handled in its chat's turn across
  replicas and once per ``update_id`` (bot/telegram/concurrency.py, storage/updates.py),
  then answered 200, also when a handler failed (the error handler told the person;
  a second delivery would repeat it), but 503 when the database was away, so that
  Telegram delivers it again.
- ``GET /healthz``, for the load balancer: 200 while this replica takes updates and its
  database answers, else 503 (starting, stopping, or the database away).
- A graceful stop answers 503 to new updates (Telegram sends them again, to another
  replica) and finishes those in flight, for up to :data:`STOP_GRACE_SECONDS`.

``setWebhook`` is called only when Telegram's ``getWebhookInfo`` shows another URL or
``max_connections``, or when the secret or the update kinds changed since the last call
(a fingerprint kept in the database): replicas starting together call it once between
them (one at a time, under a database lock), and never with ``drop_pending_updates``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import signal
from datetime import timedelta
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

from bot.app import ALLOWED_UPDATES, MAX_CONCURRENT_UPDATES, App
from bot.settings import Settings
from bot.startup import StartupError
from bot.telegram.concurrency import ChatOrderedProcessor, Delivery
from bot.telegram.persistence import SharedConversations
from storage import Engine
from storage import meta as meta_store
from storage.updates import Claim, UpdateLedger

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes; a text is at most 4096 characters.
MAX_UPDATE_BYTES = 256 * 1024
# How many connections Telegram may open to the webhook at once (its default).
MAX_CONNECTIONS = 40
HEALTH_PATH = "/healthz"
STOP_GRACE_SECONDS = 25.0
# The handled update ids are kept a day: Telegram gives up redelivering long before.
KEEP_HANDLED = timedelta(days=1)
PRUNE_JOB = "prune-handled-updates"
PRUNE_EVERY_SECONDS = 3600
WEBHOOK_META = "webhook_fingerprint"
WEBHOOK_LOCK = 1  # storage.updates.UpdateLedger.one_at_a_time: setWebhook


def url_path(url: str) -> str:
    """The path of WEBHOOK_URL, where Telegram's POSTs arrive."""
    return "/" + urlparse(url).path.strip("/")


def fingerprint(url: str, secret: str) -> str:
    """What setWebhook was last told, as a hash (the secret itself is never stored)."""
    told = "\n".join((url, str(MAX_CONNECTIONS), ",".join(ALLOWED_UPDATES), secret))
    return hashlib.sha256(told.encode()).hexdigest()


class WebhookServer:
    """Receives the updates Telegram posts; see the module's docstring."""

    def __init__(self, application: App, *, url: str, secret: str, listen: str, port: int) -> None:
        processor = application.update_processor
        if not isinstance(processor, ChatOrderedProcessor):
            raise TypeError("the webhook server needs the bot's ChatOrderedProcessor")
        self.application = application
        self._processor = processor
        self._url = url
        self._secret = secret.encode()
        self._fingerprint = fingerprint(url, secret)
        self._listen = listen
        self.port = port
        self._runner: web.AppRunner | None = None
        self._ledger: UpdateLedger | None = None
        self._conversations: SharedConversations | None = None
        self._accepting = False
        self._in_flight: set[asyncio.Task[Delivery]] = set()

    @classmethod
    def for_settings(cls, application: App, settings: Settings, secret: str) -> WebhookServer:
        """The server WEBHOOK_URL, WEBHOOK_LISTEN and WEBHOOK_PORT describe."""
        if settings.webhook_url is None:
            raise ValueError("WEBHOOK_URL is not set")
        return cls(
            application,
            url=settings.webhook_url,
            secret=secret,
            listen=settings.webhook_listen,
            port=settings.webhook_port,
        )

    @property
    def ledger(self) -> UpdateLedger:
        if self._ledger is None:
            raise RuntimeError("the webhook server is not started")
        return self._ledger

    async def start(self) -> None:
        """Listen (updates get 503 until :meth:`accept`), and schedule the pruning."""
        services = self.application.bot_data.services
        self._ledger = UpdateLedger(services.db, MAX_CONCURRENT_UPDATES)
        # Other replicas may move a person's conversation on: only on PostgreSQL.
        self._conversations = SharedConversations(
            self.application, shared=services.db.engine is Engine.POSTGRESQL
        )
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post(url_path(self._url), self.receive)
        app.router.add_get(HEALTH_PATH, self.health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._listen, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise StartupError(
                f"WEBHOOK_PORT: cannot listen on {self._listen}:{self.port} ({exc.strerror}):"
                " stop what uses it, or set another WEBHOOK_PORT (and WEBHOOK_LISTEN)"
            ) from None
        server: Any = site._server  # the port actually bound, when 0 asked for any
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        job_queue = self.application.job_queue
        assert job_queue is not None
        job_queue.run_repeating(
            self.prune_handled, interval=PRUNE_EVERY_SECONDS, first=60, name=PRUNE_JOB
        )
        logger.info("Webhook server on %s:%s%s", self._listen, self.port, url_path(self._url))

    def accept(self) -> None:
        """Take updates (and tell the load balancer so): the bot is started."""
        self._accepting = True

    async def register(self) -> bool:
        """setWebhook, unless Telegram has this webhook already; True when it was called.
        One replica at a time, so replicas starting together call it once."""
        bot = self.application.bot
        db = self.application.bot_data.services.db
        async with self.ledger.one_at_a_time(WEBHOOK_LOCK):
            info = await bot.get_webhook_info()
            told = await meta_store.read(db.reader, WEBHOOK_META)
            if (
                info.url == self._url
                and info.max_connections == MAX_CONNECTIONS
                and told == self._fingerprint
            ):
                logger.info("Webhook already set at Telegram; not set again")
                return False
            await bot.set_webhook(
                self._url,
                max_connections=MAX_CONNECTIONS,
                allowed_updates=ALLOWED_UPDATES,
                secret_token=self._secret.decode(),
            )
            async with db.transaction() as tx:
                await meta_store.put(tx, WEBHOOK_META, self._fingerprint)
        logger.info("Webhook set at Telegram")
        return True

    async def stop(self) -> None:
        """Refuse new updates, finish those in flight, then close."""
        self._accepting = False
        if self._in_flight:
            logger.info("Finishing %s updates in flight", len(self._in_flight))
            _, late = await asyncio.wait(self._in_flight, timeout=STOP_GRACE_SECONDS)
            for task in late:  # not answered: Telegram delivers them again
                task.cancel()
            if late:
                await asyncio.wait(late)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._ledger is not None:
            await self._ledger.close()

    async def receive(self, request: web.Request) -> web.Response:
        """One update from Telegram: see the module's docstring."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403)
        if not self._accepting:
            return web.Response(status=503)
        if (request.content_length or 0) > MAX_UPDATE_BYTES:
            return web.Response(status=413)
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400)
        # A task of its own: a client that hangs up mid-request never cancels an update
        # half-way, and a stop can wait for it.
        task = asyncio.ensure_future(self._deliver(update))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        outcome = await asyncio.shield(task)
        return web.Response(status=503 if outcome is Delivery.UNAVAILABLE else 200)

    async def _deliver(self, update: Update) -> Delivery:
        conversations = self._conversations
        assert conversations is not None

        async def process(claim: Claim) -> None:
            conversations.adopt(update, claim)
            await self.application.process_update(update)
            await conversations.save()  # before the update counts as handled

        clock = self.application.bot_data.clock
        return await self._processor.deliver(
            update, process, self.ledger, clock.now(), conversations.lookup(update)
        )

    async def health(self, request: web.Request) -> web.Response:
        """For the load balancer: is this replica taking updates?"""
        if not self._accepting:
            return web.json_response({"status": "unavailable"}, status=503)
        try:
            await self.application.bot_data.services.health.ping()
        except Exception as exc:  # any failure means: send the updates elsewhere
            logger.warning("Health check: the database does not answer (%s)", type(exc).__name__)
            return web.json_response({"status": "error", "database": "unreachable"}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    async def prune_handled(self, context: object = None) -> None:
        """Forget the handled update ids older than a day (every replica may: the same
        rows go whoever deletes them)."""
        now = self.application.bot_data.clock.now()
        removed = await self.ledger.prune(now - KEEP_HANDLED)
        if removed:
            logger.info("Forgot %s handled update ids older than a day", removed)


async def serve(
    server: WebhookServer, stopped: asyncio.Event, ready: asyncio.Event | None = None
) -> None:
    """Start the bot with its webhook server, run until ``stopped`` is set, then stop
    gracefully, in the order PTB's run_webhook uses (post_init, post_stop and
    post_shutdown included). ``ready`` is set once updates are taken."""
    application = server.application
    try:
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        await server.start()
        try:
            await application.start()
            server.accept()
            await server.register()
            if ready is not None:
                ready.set()
            await stopped.wait()
        finally:
            await server.stop()
            if application.running:
                await application.stop()
                if application.post_stop is not None:
                    await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


def run(application: App, settings: Settings, secret: str) -> None:
    """Serve until SIGINT or SIGTERM, on the current event loop (then closed)."""
    server = WebhookServer.for_settings(application, settings, secret)
    loop = asyncio.get_event_loop()
    stopped = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for number in signals:
        loop.add_signal_handler(number, stopped.set)
    try:
        loop.run_until_complete(serve(server, stopped))
    finally:
        for number in signals:
            loop.remove_signal_handler(number)
        loop.close()
