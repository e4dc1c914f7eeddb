"""What the running bot tells its operator: one log line per update, Prometheus metrics,
and the facts /healthz reports. Ids only, never names, texts or tokens.
"""

from __future__ import annotations

import contextvars
import functools
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

logger = logging.getLogger("bot.updates")

R = TypeVar("R")


class ReplicaLabelled(Collector):
    """Another registry's metrics with one more label on every sample, ``replica``: the
    replicas behind one load balancer are told apart even where they are scraped (or
    aggregated) as one target."""

    def __init__(self, registry: CollectorRegistry, replica: str) -> None:
        self._registry = registry
        self._replica = replica

    def collect(self) -> Iterable[Metric]:
        for metric in self._registry.collect():
            labelled = Metric(metric.name, metric.documentation, metric.type, metric.unit)
            labelled.samples = [
                sample._replace(labels={**sample.labels, "replica": self._replica})
                for sample in metric.samples
            ]
            yield labelled


class Metrics:
    """The bot's metrics, in a registry of its own (no process-wide state). ``exposed``
    is what /metrics serves: the same, each sample labelled with the replica id."""

    def __init__(self, replica: str = "") -> None:
        self.last_update_at = 0.0  # seconds since the epoch; 0: no update yet
        self.registry = CollectorRegistry()
        self.exposed = CollectorRegistry(auto_describe=False)
        self.exposed.register(ReplicaLabelled(self.registry, replica))
        r = self.registry
        self.updates = Counter(
            "loyalty_updates_total", "Updates handled, by kind and outcome", ["kind", "outcome"],
            registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "loyalty_handler_seconds", "Time to handle an update, by handler", ["handler"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=r,
        )  # fmt: skip
        self.ledger_entries = Counter(
            "loyalty_ledger_entries_total", "Ledger entries written, by kind", ["kind"], registry=r
        )
        self.scans = Counter("loyalty_scans_total", "Member cards scanned", registry=r)
        self.redemptions = Counter(
            "loyalty_redemptions_total", "Coupons handed over at the counter", registry=r
        )
        self.bulk_messages = Counter(
            "loyalty_bulk_messages_total",
            "Broadcast and outbox messages, by outcome (sent, failed, blocked, 429)",
            ["outcome"],
            registry=r,
        )
        self.write_lock_wait = Histogram(
            "loyalty_db_write_lock_wait_seconds", "Time spent waiting for the database write lock",
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5), registry=r,
        )  # fmt: skip
        self.last_update = Gauge(
            "loyalty_last_update_timestamp_seconds", "When the last update was handled",
            registry=r,
        )  # fmt: skip


@dataclass
class UpdateRecord:
    """What one update's handling turned out to be, filled in as it runs."""

    update_id: int | None
    kind: str
    handler: str = "none"
    outcome: str = "ok"
    started: float = field(default_factory=time.perf_counter)
    # It failed because the database was away: worth delivering again (webhook mode).
    transient: bool = False


CURRENT: contextvars.ContextVar[UpdateRecord | None] = contextvars.ContextVar(
    "current_update", default=None
)


def observed(
    callback: Callable[..., Coroutine[Any, Any, R]],
) -> Callable[..., Coroutine[Any, Any, R]]:
    """Wrap a handler callback so the update's log line names it."""

    @functools.wraps(callback)
    async def named(*args: Any, **kwargs: Any) -> R:
        record = CURRENT.get()
        if record is not None:
            record.handler = getattr(callback, "__qualname__", repr(callback))
        return await callback(*args, **kwargs)

    return named


def handled_by(name: str) -> None:
    """Name what handled the update, where one callback routes to several (free text)."""
    record = CURRENT.get()
    if record is not None:
        record.handler = name


def mark_failed(*, transient: bool = False) -> None:
    """The update's handling failed; ``transient``: only because the database was away."""
    record = CURRENT.get()
    if record is not None:
        record.outcome = "error"
        record.transient = transient


def finish(record: UpdateRecord, metrics: Metrics | None) -> None:
    """The update's one log line, and its metrics."""
    seconds = time.perf_counter() - record.started
    logger.info(
        "update %s %s handled by %s in %.1f ms: %s",
        record.update_id,
        record.kind,
        record.handler,
        seconds * 1000,
        record.outcome,
        extra={
            "update_id": record.update_id,
            "kind": record.kind,
            "handler": record.handler,
            "duration_ms": round(seconds * 1000, 1),
            "outcome": record.outcome,
        },
    )
    if metrics is not None:
        metrics.updates.labels(record.kind, record.outcome).inc()
        metrics.latency.labels(record.handler).observe(seconds)
        metrics.last_update.set_to_current_time()
        metrics.last_update_at = time.time()
