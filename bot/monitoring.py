"""/healthz and /metrics over HTTP, for the operator (METRICS_PORT; off by default).

Served by aiohttp on a local address, in polling and webhook mode alike. /healthz is
JSON: the database answers, when the last update was handled, how many broadcast and
outbox messages wait, this replica's id, every replica's heartbeat and who holds each
job's lease; status 503 when the database does not answer, no replica is alive or a
job's lease is overdue (bot/services/health.py).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.observability import Metrics
from bot.services.container import Services

logger = logging.getLogger(__name__)


class MonitoringServer:
    def __init__(self, services: Services, metrics: Metrics, host: str, port: int) -> None:
        self._services = services
        self._metrics = metrics
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = port

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server: Any = site._server  # the port actually bound, when 0 asked for any
        if server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        logger.info(
            "Health and metrics on http://%s:%s/healthz and /metrics", self._host, self.port
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def healthz(self, request: web.Request) -> web.Response:
        services = self._services
        try:
            await services.health.ping()
            queued = await services.broadcasts.queue_length()
            outbox = await services.outbox.count_pending()
            report = await services.health.report()
            database = "ok"
        except Exception as exc:  # any failure means: not healthy
            logger.warning("Health check: the database does not answer (%s)", type(exc).__name__)
            return web.json_response({"status": "error", "database": "unreachable"}, status=503)
        last = self._metrics.last_update_at
        problem = report.problem
        return web.json_response(
            {
                "status": "ok" if problem is None else "error",
                **({"problem": problem} if problem else {}),
                "database": database,
                "last_update_seconds_ago": round(time.time() - last, 1) if last else None,
                "broadcast_queue": queued,
                "outbox_queue": outbox,
                "replica": services.replica_id,
                **report.as_json(),
            },
            status=200 if problem is None else 503,
        )

    async def metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self._metrics.exposed)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
