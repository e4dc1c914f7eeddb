"""Scheduled work, each job idempotent: expiring coupons, starting offers, the member
lifecycle (points expiry and reminders, win-back, birthday treats), the daily backup,
forgetting replicas long gone, and each replica's heartbeat. bot/app.py schedules them.

Every replica schedules every job. :class:`Leased` wraps each shared job as it is
scheduled, so a tick runs only on the replica holding that job's lease (see
bot/services/leases.py); the heartbeat and the lease renewal itself run on every replica.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from bot.domain import Offer
from handlers.common import Context, member_reader, notify
from handlers.coupons import retire_coupon_messages
from handlers.texts import t

logger = logging.getLogger(__name__)

EXPIRE_COUPONS_JOB = "expire-coupons"
EXPIRE_COUPONS_EVERY_SECONDS = 600
START_OFFERS_JOB = "start-offers"
START_OFFERS_EVERY_SECONDS = 60
HEARTBEAT_JOB = "heartbeat"
LEASES_JOB = "leases"
PRUNE_REPLICAS_JOB = "prune-replicas"
PRUNE_REPLICAS_EVERY_SECONDS = 3600
LIFECYCLE_JOB = "lifecycle"
BACKUP_JOB = "backup"
BACKUP_EVERY_SECONDS = 3600  # checks hourly; writes one backup a café day


async def daily_backup(context: Context) -> None:
    """The day's backup into BACKUP_DIR, if it is set and today's is not there yet."""
    await context.services.backups.daily()


LIFECYCLE_EVERY_SECONDS = 15 * 60
LIFECYCLE_FIRST_SECONDS = 30


async def lifecycle(context: Context) -> None:
    """Points expiry and its reminders, win-back, birthday treats: each idempotent, so a
    run after a restart catches up on what fell due and repeats nothing."""
    services = context.services.lifecycle
    reminded = await services.remind_expiring()
    expired = await services.expire_lapsed()
    won_back = await services.win_back_dormant()
    treated = await services.birthday_treats()
    if reminded or expired or won_back or treated:
        logger.info(
            "Lifecycle: %s reminders, %s expiries, %s win-backs, %s birthday treats queued",
            reminded,
            expired,
            won_back,
            treated,
        )
        context.broadcaster.wake()


Job = Callable[[Context], Coroutine[Any, Any, None]]


class Leased:
    """The shared jobs, each run by one replica at a time: ``wrap`` makes a job's tick
    take (or renew) its lease first and skip while another live replica holds it;
    ``keep`` (a job on every replica) renews the leases held and takes over those a dead
    replica left, so a job's lease outlives the gaps between its ticks."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def wrap(self, name: str, job: Job) -> Job:
        self.names.append(name)

        @functools.wraps(job)
        async def tick(context: Context) -> None:
            if await context.services.leases.take(name):
                await job(context)
            else:
                logger.debug("Job %s skipped: another replica holds its lease", name)

        return tick

    async def keep(self, context: Context) -> None:
        await context.services.leases.keep(self.names)


async def heartbeat(context: Context) -> None:
    """Record that this replica is alive, for ``loyalty-bot health`` (the Docker
    HEALTHCHECK) and /healthz."""
    await context.services.replicas.beat()


async def prune_replicas(context: Context) -> None:
    """Forget replicas not seen for a day (killed ones; a clean stop removes its own)."""
    forgotten = await context.services.replicas.forget_gone()
    if forgotten:
        logger.info("Forgot %s replicas not seen for a day", forgotten)


async def expire_coupons(context: Context) -> None:
    """Expire unused coupons past their date, refund them, and tell each customer."""
    expired = await context.services.coupons.expire_due()
    for view in expired:
        reader = await member_reader(context, view.member)
        await notify(
            context,
            view.member.chat_id,
            t(
                reader,
                "coupon_expired_notice",
                title=view.coupon.title,
                cost=view.coupon.cost,
                balance=view.member.balance,
            ),
        )
        await retire_coupon_messages(context, view)
    if expired:
        logger.info("Expired and refunded %s coupons", len(expired))


async def start_offers(context: Context) -> None:
    """Offers whose start has come: hand out gift coupons, queue their announcements."""
    services = context.services

    def announcement(offer: Offer) -> str:
        """The broadcast's record: the owner's own words. Each member's message is written
        when it is sent, in their language (handlers/broadcast_letter.py)."""
        return "\n".join(part for part in (offer.title, offer.description) if part)

    started = await services.offers.start_due(announcement)
    if any(offer.broadcast_id for offer in started):
        context.broadcaster.wake()
