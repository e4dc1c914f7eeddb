"""What a 429 from Telegram does to a request, kept apart for the two kinds of sender.

Interactive replies (a barista at the counter) go through :class:`RetryOnce`: a 429 on
one request is waited out for that request alone, briefly, and never pauses another
chat's reply. Bulk sending (broadcasts) uses its own Bot, pacing and back-off
(``handlers.broadcaster``), so its 429s cannot touch the counter at all.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.clock import Clock
from bot.telegram.pacing import SendBudget

logger = logging.getLogger(__name__)

# A person waits this long at most for a reply Telegram asked us to hold back.
MAX_INTERACTIVE_WAIT_SECONDS = 5.0

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


def retry_seconds(error: RetryAfter) -> float:
    """``retry_after`` is an int or a timedelta depending on PTB's settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB warns that the int form is deprecated
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class RetryOnce(BaseRateLimiter[None]):
    """No throttling; a request answered 429 is retried once after ``retry_after`` when
    that is short, else the error goes to the handler. Nothing else waits."""

    def __init__(self, clock: Clock, budget: SendBudget) -> None:
        self._clock = clock
        self._budget = budget

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> JSONResult:
        if endpoint.startswith("send"):
            self._budget.record(interactive=True)  # so broadcasts leave room; never waits
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as error:
            seconds = retry_seconds(error)
            if seconds > MAX_INTERACTIVE_WAIT_SECONDS:
                raise
            logger.warning(
                "Telegram asked to wait %s s before %s; retrying once", seconds, endpoint
            )
            await self._clock.sleep(seconds)
            return await callback(*args, **kwargs)
