"""Delivers broadcasts from the persistent queue, with its own Bot, pacing and back-off.

Interactive replies never wait behind a broadcast: this worker sends through a Bot of its
own, paced by its own :class:`Pacer` (at most ``BROADCAST_RATE`` messages a second
overall, never two to one chat within a second), and waits out its own 429s. Each
recipient is marked in the database right after Telegram accepts their message, so after
a crash or restart delivery resumes where it stopped; only a message in flight at the very
moment of a crash can be sent twice. All waiting goes through the injectable clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.domain import Broadcast, Counts, Outgoing, Recipient
from bot.services.container import Services
from bot.services.outbox import RECEIPTS, why_not
from bot.telegram.pacing import Pacer, SendBudget
from bot.telegram.retry import retry_seconds
from handlers.outbox import render
from handlers.texts import t

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BACKOFF_SECONDS = (2.0, 8.0)
PROGRESS_EVERY_SECONDS = 3.0
IDLE_POLL_SECONDS = 30.0
OUTBOX_BATCH = 50
OUTBOX_BATCH_DURING_BROADCAST = 10


class Broadcaster:
    """One background task that works through queued broadcasts, oldest first."""

    def __init__(self, bot: Bot, services: Services, budget: SendBudget | None = None) -> None:
        self.bot = bot
        self.services = services
        self.rate = services.settings.broadcast_rate
        self.clock = services.clock
        self._pacer = Pacer(self.clock, self.rate, budget)
        self._retry_at: dict[tuple[int, int], float] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.paused_for = 0.0

    @property
    def lang(self) -> str:
        return self.services.settings.language

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="broadcaster")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Finish the message in flight, then stop; the queue keeps the rest."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=15)
            except TimeoutError:
                self._task.cancel()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                delivered = await self._deliver_outbox()
                broadcast = await self.services.broadcasts.next_sending()
                if broadcast is None and delivered:
                    continue  # more may be queued
                if broadcast is None:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)
                    continue
                await self._deliver(broadcast)
            except Exception:
                logger.exception("Broadcast worker error; retrying shortly")
                await self._sleep(5)

    async def _sleep(self, seconds: float) -> None:
        """Sleep on the clock, but wake up early when asked to stop."""
        self._wake.clear()
        if self._stopping:
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeper, waker):
            task.cancel()

    async def _deliver(self, broadcast: Broadcast) -> None:
        progress = Progress(self, broadcast)
        await progress.update(force=True)
        queue = self.services.broadcasts
        after = 0
        while not self._stopping:
            batch = await queue.pending(broadcast.id, limit=100, after_member=after)
            if not batch:
                if after == 0:
                    break  # nothing pending at all
                after = 0  # go round again for recipients waiting on a retry
                await self._sleep(min(self._seconds_to_next_retry(broadcast.id), 1.0))
                continue
            # Members' own messages (reminders, treats) are not held up by a long broadcast.
            await self._deliver_outbox(OUTBOX_BATCH_DURING_BROADCAST)
            for recipient in batch:
                if self._stopping:
                    return
                after = recipient.member_id
                if self._retry_at.get((broadcast.id, recipient.member_id), 0) > self.now():
                    continue
                await self._send(broadcast, recipient, progress)
                await progress.update()
        if not self._stopping:
            await queue.finish(broadcast.id)
            await progress.finish()
            logger.info("Broadcast %s finished", broadcast.id)

    async def _deliver_outbox(self, limit: int = OUTBOX_BATCH) -> int:
        """Send what the outbox holds (outside quiet hours), paced like a broadcast; how
        many messages were handled."""
        settings = self.services.settings
        quiet = settings.quiet_hours.contains(self.services.clock.now(), settings.tz)
        outbox = self.services.outbox
        handled = 0
        for message in await outbox.pending(limit):
            if self._stopping:
                break
            if quiet and message.kind not in RECEIPTS:
                continue  # it waits for the morning; receipts never wait
            handled += 1
            reason = why_not(message)
            if reason is not None:
                await outbox.skipped(message, reason)
                continue
            if await self._send_outgoing(message) == "429":
                break  # still pending: sent on the next pass
        return handled

    async def _send_outgoing(self, message: Outgoing) -> str:
        """Send one outbox message and record the outcome."""
        outbox = self.services.outbox
        text, markup = render(message, self.services.settings)
        return await self._send_one(
            message.chat_id,
            lambda: self.bot.send_message(
                message.chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
            ),
            about=f"Outbox message {message.id}",
            sent=lambda: outbox.sent(message),
            blocked=lambda error: outbox.blocked(message, error),
            failed=lambda error: outbox.failed(message, str(error)),
        )

    def counted(self, outcome: str) -> None:
        if self.services.metrics is not None:
            self.services.metrics.bulk_messages.labels(outcome).inc()

    def now(self) -> float:
        return self.clock.monotonic()

    def _seconds_to_next_retry(self, broadcast_id: int) -> float:
        waits = [at for (bid, _), at in self._retry_at.items() if bid == broadcast_id]
        return max(0.05, min(waits, default=self.now()) - self.now())

    async def pace(self, chat_id: int) -> None:
        """Wait for this worker's turn: its overall rate and one message per chat a second."""
        await self._pacer.wait(chat_id)

    def sent_to(self, chat_id: int) -> None:
        self._pacer.sent(chat_id)

    async def _send_one(
        self,
        chat_id: int,
        send: Callable[[], Awaitable[object]],
        *,
        about: str,
        sent: Callable[[], Awaitable[object]],
        blocked: Callable[[str], Awaitable[object]],
        failed: Callable[[TelegramError], Awaitable[object]],
        pause: Callable[[float], Awaitable[object]] | None = None,
    ) -> str:
        """Send one bulk message (an outbox message or a broadcast's), paced, and record what
        Telegram answered, counted in the metrics by outcome: ``sent``; ``429``, waited out
        here (``pause``), the message stays pending for the next pass; ``blocked`` (403, the
        member blocked the bot); any other Telegram error, ``failed``. Returns the outcome."""
        await self.pace(chat_id)
        try:
            await send()
        except RetryAfter as error:
            outcome = "429"
            self.counted(outcome)
            seconds = retry_seconds(error)
            logger.warning("%s: Telegram asked to wait %s s", about, seconds)
            await (pause or self._sleep)(seconds)
        except Forbidden as error:
            outcome = "blocked"
            self.counted(outcome)
            await blocked(str(error))
        except TelegramError as error:
            outcome = "failed"
            self.counted(outcome)
            logger.info("%s to chat %s failed (%s)", about, chat_id, error)
            await failed(error)
        else:
            outcome = "sent"
            self.counted(outcome)
            await sent()
        finally:
            self.sent_to(chat_id)
        return outcome

    async def _send(self, broadcast: Broadcast, recipient: Recipient, progress: Progress) -> None:
        """Send one broadcast message and record the outcome."""
        queue = self.services.broadcasts
        key = (broadcast.id, recipient.member_id)

        async def send() -> object:
            if broadcast.photo_file_id:
                return await self.bot.send_photo(
                    recipient.chat_id,
                    broadcast.photo_file_id,
                    caption=broadcast.text or None,
                    parse_mode=ParseMode.HTML,
                )
            return await self.bot.send_message(
                recipient.chat_id, broadcast.text, parse_mode=ParseMode.HTML
            )

        async def sent() -> None:
            self._retry_at.pop(key, None)
            await queue.sent(recipient)

        async def failed(error: TelegramError) -> None:
            attempts = recipient.attempts + 1
            final = attempts >= MAX_ATTEMPTS or isinstance(error, BadRequest)
            await queue.failed(recipient, str(error), final=final)
            if not final:
                delay = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
                self._retry_at[key] = self.now() + delay

        async def pause(seconds: float) -> None:
            self.paused_for = seconds
            await progress.update(force=True)
            await self._sleep(seconds)
            self.paused_for = 0.0

        await self._send_one(
            recipient.chat_id,
            send,
            about=f"Broadcast {broadcast.id}",
            sent=sent,
            blocked=lambda error: queue.blocked(recipient, error),
            failed=failed,
            pause=pause,
        )


class Progress:
    """The owner's live progress message, edited every few seconds, and the final report."""

    def __init__(self, worker: Broadcaster, broadcast: Broadcast) -> None:
        self._worker = worker
        self._broadcast = broadcast
        self._chat_id = broadcast.progress_chat_id or broadcast.created_by or None
        self._message_id = broadcast.progress_message_id
        self._last = 0.0
        self._last_text = ""

    async def _text(self) -> tuple[str, Counts]:
        counts = await self._worker.services.broadcasts.counts(self._broadcast.id)
        eta = max(1, round(counts.pending / self._worker.rate)) if counts.pending else 0
        text = t(
            self._worker.lang,
            "broadcast_progress",
            id=self._broadcast.id,
            sent=counts.sent,
            pending=counts.pending,
            failed=counts.failed,
            blocked=counts.blocked,
            eta=f"{eta} s",
        )
        if self._worker.paused_for:
            paused = round(self._worker.paused_for)
            text += t(self._worker.lang, "broadcast_paused", seconds=paused)
        return text, counts

    async def update(self, *, force: bool = False) -> None:
        if self._chat_id is None:
            return
        now = self._worker.now()
        if not force and now - self._last < PROGRESS_EVERY_SECONDS:
            return
        self._last = now
        text, _ = await self._text()
        await self._show(text)

    async def _show(self, text: str) -> None:
        if self._chat_id is None or text == self._last_text:
            return
        bot = self._worker.bot
        try:
            if self._message_id is None:
                await self._worker.pace(self._chat_id)
                message = await bot.send_message(self._chat_id, text, parse_mode=ParseMode.HTML)
                self._worker.sent_to(self._chat_id)
                self._message_id = message.message_id
                await self._worker.services.broadcasts.remember_progress_message(
                    self._broadcast.id, self._chat_id, message.message_id
                )
            else:
                await bot.edit_message_text(
                    text, self._chat_id, self._message_id, parse_mode=ParseMode.HTML
                )
            self._last_text = text
        except BadRequest as error:
            if "not modified" in str(error).lower():
                self._last_text = text  # it already says this (after a restart, say)
            else:
                logger.info("Could not update broadcast progress: %s", error)
        except TelegramError as error:
            logger.info("Could not update broadcast progress: %s", error)

    async def finish(self) -> None:
        if self._chat_id is None:
            return
        _, counts = await self._text()
        report = t(
            self._worker.lang,
            "broadcast_done",
            id=self._broadcast.id,
            sent=counts.sent,
            failed=counts.failed,
            blocked=counts.blocked,
        )
        await self._show(report)
        # A separate message as well, so the owner gets a notification when it is done.
        await self._worker.pace(self._chat_id)
        with contextlib.suppress(TelegramError):
            await self._worker.bot.send_message(self._chat_id, report, parse_mode=ParseMode.HTML)
        self._worker.sent_to(self._chat_id)
