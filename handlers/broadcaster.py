"""Delivers broadcasts and the outbox from the database, with its own Bot, pacing and
back-off.

Interactive replies never wait behind a broadcast: this worker sends through a Bot of its
own, paced by its own :class:`Pacer` (at most ``BROADCAST_RATE`` messages a second
overall, never two to one chat within a second, leaving room for the replies recorded in
the :class:`SendBudget`), and waits out its own 429s. All waiting goes through the
injectable clock.

Several replicas may share the database: one at a time sends (the one holding the
``sending`` lease, see bot/services/sending.py); the others stand by and tell it their
reply counts. The sender *claims* a batch of recipients (or outbox messages) before
sending them and records each outcome right after Telegram answers, so each message is
sent once, by whoever claimed it; the claim of a sender that died runs out and the rest
is sent by the next. Only a message in flight at the very moment a sender dies can be
sent twice. Back-off (a 429's pause, a failed message's next try) and the owner's
progress message are in the database too, so the next sender carries on with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.domain import Broadcast, Counts, Outgoing, Recipient
from bot.services.container import Services
from bot.services.outbox import why_not
from bot.services.sending import SENDER_LEASE_TTL, SendingService
from bot.telegram.pacing import PAID_RATE, BudgetSharing, Pacer, SendBudget
from bot.telegram.retry import retry_seconds
from handlers.broadcast_letter import Letter, letter_for, owner_reader
from handlers.outbox import render
from handlers.texts import t

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BACKOFF_SECONDS = (2.0, 8.0)
PROGRESS_EVERY_SECONDS = 3.0
# Real time between looks for work (or for the lease, standing by): a broadcast queued on
# another replica, which cannot wake this one, starts within this.
IDLE_POLL_SECONDS = 5.0
OUTBOX_BATCH = 50
OUTBOX_BATCH_DURING_BROADCAST = 10
# A claim lasts this long; a sender stops sending a claimed batch this close to its end,
# so a message is never sent after its claim could have passed to another sender.
CLAIM = timedelta(minutes=2)
CLAIM_MARGIN = timedelta(seconds=30)
BATCH_SECONDS = 2.0  # a broadcast claims about this many seconds of sending at once
RENEW_EVERY_SECONDS = 5.0  # the sender renews its lease (SENDER_LEASE_TTL: 20 s)
LEASE_MARGIN_SECONDS = 5.0  # and sends nothing once it has less than this left


class Broadcaster:
    """One background task per replica: the sender works through the outbox and queued
    broadcasts, oldest first; a standby waits for the lease and reports its replies."""

    def __init__(self, bot: Bot, services: Services, budget: SendBudget | None = None) -> None:
        self.bot = bot
        self.services = services
        settings = services.settings
        self.paid = settings.paid_broadcast
        # A broadcast's own pace (for its time left): a paid one goes at Telegram's 1,000.
        self.rate = PAID_RATE if self.paid else settings.broadcast_rate
        self.clock = services.clock
        self.budget = budget
        self._pacer = Pacer(self.clock, settings.broadcast_rate, budget)
        self.sending = SendingService(services.db, self.clock, settings.replica_id)
        self._leading = False
        self._renew_at = 0.0
        self._lease_until = 0.0  # on the monotonic clock
        self._tidy_at = 0.0
        self._sharing = (
            None
            if budget is None
            else BudgetSharing(
                budget,
                self.clock,
                write=self.sending.record_replies,
                read=self.sending.others_replies,
                is_sender=lambda: self._leading,
            )
        )
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.paused_for = 0.0

    @property
    def me(self) -> str:
        return self.sending.me

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="broadcaster")
        if self._sharing is not None:
            self._flusher = asyncio.create_task(self._sharing.run(), name="reply-counts")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Finish the message in flight, give back the claims and the lease, then stop;
        the queue keeps the rest."""
        self._stopping = True
        self._wake.set()
        if self._sharing is not None:
            self._sharing.stop()
        for task in (self._task, self._flusher):
            if task is not None:
                try:
                    await asyncio.wait_for(task, timeout=15)
                except TimeoutError:
                    task.cancel()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                if not await self._lead():
                    await self._idle()
                    continue
                delivered = await self._deliver_outbox()
                broadcast = await self.services.broadcasts.next_sending()
                if broadcast is None and delivered:
                    continue  # more may be queued
                if broadcast is None:
                    await self._idle()
                    continue
                await self._deliver(broadcast)
            except Exception:
                logger.exception("Broadcast worker error; retrying shortly")
                await self._sleep(5)
        if self._leading:
            with contextlib.suppress(Exception):  # else the lease runs out by itself
                await self.sending.step_down()

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)

    async def _lead(self) -> bool:
        """Whether this replica is the sender: it takes the lease when free and renews it
        every few seconds while it sends."""
        now = self.now()
        if self._leading and now < self._renew_at:
            return True
        leading = await self.sending.lead()
        if leading:
            self._lease_until = now + SENDER_LEASE_TTL.total_seconds()
            if now >= self._tidy_at:  # the replicas' old reply counts, hourly
                self._tidy_at = now + 3600
                await self.sending.forget_old_counts()
        if leading != self._leading:
            logger.info(
                "This replica (%s) %s",
                self.me,
                "sends bulk messages now"
                if leading
                else "stands by: another replica sends bulk messages",
            )
        self._leading, self._renew_at = leading, now + RENEW_EVERY_SECONDS
        return leading

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

    async def _wait_out(self, seconds: float) -> None:
        """Wait ``seconds`` on the clock (a 429's pause), keeping the lease meanwhile."""
        end = self.now() + seconds
        while not self._stopping and (left := end - self.now()) > 0:
            await self._sleep(min(left, RENEW_EVERY_SECONDS))
            await self._lead()

    def _claim_until(self) -> datetime:
        return self.clock.now() + CLAIM

    def _may_send(self, until: datetime) -> bool:
        """Whether a claimed message may still go out: the claim (until ``until``) and the
        lease hold for a while yet. A sender stalled past either stops, since another
        may take the lease or the claim over."""
        return (
            not self._stopping
            and self.clock.now() < until - CLAIM_MARGIN
            and self.now() < self._lease_until - LEASE_MARGIN_SECONDS
        )

    @contextlib.asynccontextmanager
    async def _giving_back(self, release: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
        """Release a claimed batch's unsent rest when done with it. Not when cancelled:
        then the process is going down, and its claims run out by themselves."""
        try:
            yield
        except asyncio.CancelledError:
            raise
        except BaseException:
            with contextlib.suppress(Exception):
                await release()
            raise
        await release()

    async def _deliver(self, broadcast: Broadcast) -> None:
        progress = Progress(
            self, broadcast, await owner_reader(self.services, broadcast.created_by)
        )
        letter = await letter_for(self.services, broadcast)
        queue = self.services.broadcasts
        if broadcast.resume_at is not None:  # paused by Telegram before this sender came
            left = (broadcast.resume_at - self.clock.now()).total_seconds()
            if left > 0:
                await self._pause(broadcast, left, progress)
        if broadcast.progress_message_id is None:
            await progress.update(force=True)
        # else a sender before this one made it: edited once the figures move on (the
        # same text again would be refused as not modified).
        size = max(OUTBOX_BATCH_DURING_BROADCAST, math.ceil(self.rate * BATCH_SECONDS))
        while not self._stopping:
            if not await self._lead():
                return  # another replica sends from here on
            until = self._claim_until()
            batch = await queue.claim(broadcast.id, self.me, size, until)
            if not batch:
                wait = await queue.seconds_to_next_due(broadcast.id)
                if wait is None:
                    break  # nothing pending at all
                # Recipients waiting for a retry, or claimed by a sender that died.
                await self._sleep(min(max(wait, 0.05), RENEW_EVERY_SECONDS))
                continue
            async with self._giving_back(functools.partial(queue.release, self.me, batch)):
                # Members' own messages (reminders, treats) are not held up by a broadcast.
                await self._deliver_outbox(OUTBOX_BATCH_DURING_BROADCAST)
                for recipient in batch:
                    if not self._may_send(until):
                        break
                    if await self._send(letter, recipient, progress) == "429":
                        break  # the rest goes back to the queue, sent after the pause
                    await progress.update()
        if not self._stopping and await queue.finish(broadcast.id):
            await progress.finish()
            logger.info("Broadcast %s finished", broadcast.id)

    async def _deliver_outbox(self, limit: int = OUTBOX_BATCH) -> int:
        """Send what the outbox holds (outside quiet hours only receipts), paced like a
        broadcast; how many messages were handled."""
        settings = self.services.settings
        quiet = settings.quiet_hours.contains(self.clock.now(), settings.tz)
        outbox = self.services.outbox
        until = self._claim_until()
        batch = await outbox.claim(self.me, limit, until, quiet=quiet)
        handled = 0
        async with self._giving_back(lambda: outbox.release(self.me, batch)):
            for message in batch:
                if not self._may_send(until):
                    break
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
        reader = self.services.languages.reader(message.language)
        text, markup = render(message, self.services.settings, reader)
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

    async def pace(self, chat_id: int, *, paid: bool = False) -> None:
        """Wait for this worker's turn: its overall rate and one message per chat a second
        (``paid``: in the paid broadcast's own lane)."""
        await self._pacer.wait(chat_id, paid=paid)

    def sent_to(self, chat_id: int) -> None:
        self._pacer.sent(chat_id)

    # -- one message -----------------------------------------------------------------------

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
        paid: bool = False,
    ) -> str:
        """Send one bulk message (an outbox message or a broadcast's), paced, and record what
        Telegram answered, counted in the metrics by outcome: ``sent``; ``429``, waited out
        here (``pause``), the message stays pending for the next pass; ``blocked`` (403, the
        member blocked the bot); any other Telegram error, ``failed``. Returns the outcome."""
        await self.pace(chat_id, paid=paid)
        try:
            await send()
        except RetryAfter as error:
            outcome = "429"
            self.counted(outcome)
            seconds = retry_seconds(error)
            logger.warning("%s: Telegram asked to wait %s s", about, seconds)
            await (pause or self._wait_out)(seconds)
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

    async def _pause(self, broadcast: Broadcast, seconds: float, progress: Progress) -> None:
        """Telegram paused sending: wait it out, with the pause in the database (a sender
        taking over waits out the rest) and in the owner's progress message."""
        queue = self.services.broadcasts
        self.paused_for = seconds
        await queue.pause(broadcast.id, seconds)
        await progress.update(force=True)
        await self._wait_out(seconds)
        if not self._stopping:
            await queue.pause(broadcast.id, None)
        self.paused_for = 0.0

    async def _send(self, letter: Letter, recipient: Recipient, progress: Progress) -> str:
        """Send one broadcast message, in the recipient's language, and record the outcome."""
        broadcast = letter.broadcast
        queue = self.services.broadcasts
        paid = True if self.paid else None  # PAID_BROADCAST: Telegram's paid lane
        reader = self.services.languages.reader(recipient.language)
        text, markup = letter.text(reader), letter.markup(reader)

        async def send() -> object:
            if broadcast.photo_file_id:
                return await self.bot.send_photo(
                    recipient.chat_id,
                    broadcast.photo_file_id,
                    caption=text or None,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                    allow_paid_broadcast=paid,
                )
            return await self.bot.send_message(
                recipient.chat_id,
                text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                allow_paid_broadcast=paid,
            )

        async def failed(error: TelegramError) -> None:
            attempts = recipient.attempts + 1
            final = attempts >= MAX_ATTEMPTS or isinstance(error, BadRequest)
            delay = BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1]
            retry_in = None if final else timedelta(seconds=delay)
            await queue.failed(recipient, str(error), retry_in=retry_in)

        return await self._send_one(
            recipient.chat_id,
            send,
            about=f"Broadcast {broadcast.id}",
            sent=lambda: queue.sent(recipient),
            blocked=lambda error: queue.blocked(recipient, error),
            failed=failed,
            pause=lambda seconds: self._pause(broadcast, seconds, progress),
            paid=self.paid,
        )


class Progress:
    """The owner's live progress message, edited every few seconds, and the final report,
    in the language of the owner who sent the broadcast (``reader``)."""

    def __init__(self, worker: Broadcaster, broadcast: Broadcast, reader: str) -> None:
        self._worker = worker
        self._broadcast = broadcast
        self._reader = reader
        self._chat_id = broadcast.progress_chat_id or broadcast.created_by or None
        self._message_id = broadcast.progress_message_id
        self._last = 0.0
        self._last_text = ""

    async def _text(self) -> tuple[str, Counts]:
        counts = await self._worker.services.broadcasts.counts(self._broadcast.id)
        eta = max(1, round(counts.pending / self._worker.rate)) if counts.pending else 0
        paused = round(self._worker.paused_for)
        text = t(
            self._reader,
            "broadcast_progress_paused" if paused else "broadcast_progress",
            id=str(self._broadcast.id),
            sent=counts.sent,
            pending=counts.pending,
            failed=counts.failed,
            blocked=counts.blocked,
            eta=eta,
            seconds=paused,
        )
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
            self._reader,
            "broadcast_done",
            id=str(self._broadcast.id),
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
