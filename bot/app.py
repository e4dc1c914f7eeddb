"""The application factory: one place that registers every handler, in order."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import (
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseHandler,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ConversationHandler,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.clock import Clock
from bot.monitoring import MonitoringServer
from bot.observability import Metrics, handled_by, observed
from bot.services.conversations import ConversationService
from bot.services.health import HEARTBEAT_EVERY
from bot.services.leases import LEASE_KEEP_EVERY
from bot.services.roles import Role
from bot.settings import Settings
from bot.telegram.concurrency import ChatOrderedProcessor
from bot.telegram.pacing import SendBudget
from bot.telegram.persistence import DatabasePersistence
from bot.telegram.retry import RetryOnce
from handlers import (
    account,
    broadcasts,
    catalog,
    coupons,
    errors,
    feedback,
    help,
    issuing,
    jobs,
    locations,
    menus,
    offers,
    preferences,
    privacy,
    referrals,
    reports,
    staff,
    start,
    stats,
    undo,
    winback,
)
from handlers.broadcaster import Broadcaster
from handlers.common import Context, button_expired
from handlers.context import CONTEXT_TYPES, App, ServicesNotOpen, UserData

logger = logging.getLogger(__name__)

__all__ = ["ALLOWED_UPDATES", "App", "build_application"]

# Different chats' updates run side by side (one chat's in order); storage serialises writes.
MAX_CONCURRENT_UPDATES = 32
# Every text the bot sends is HTML; said once here instead of at every send.
DEFAULTS = Defaults(parse_mode=ParseMode.HTML)


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    update_processor: BaseUpdateProcessor | None = None,
) -> App:
    """Build the bot. Nothing is opened here; services start in post_init."""
    clock = clock or Clock()
    metrics = Metrics(settings.replica_id)
    processor = update_processor or ChatOrderedProcessor(MAX_CONCURRENT_UPDATES)
    if isinstance(processor, ChatOrderedProcessor):
        processor.metrics = metrics
    # Every message the bot sends counts against Telegram's ~30 a second: replies record
    # themselves here, and the broadcaster leaves them room.
    budget = SendBudget(clock)

    async def conversation_store() -> ConversationService:
        # PTB reads the stored conversations inside initialize(), before post_init.
        return (await application.bot_data.open_services()).conversations

    application: App = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_file_base_url)
        .context_types(CONTEXT_TYPES)
        .defaults(DEFAULTS)
        .persistence(DatabasePersistence(conversation_store, UserData))
        .concurrent_updates(processor)
        # Interactive replies only: a 429 is retried for that one request. Broadcasts have
        # their own Bot and pacing (see on_startup), so they never slow these.
        .rate_limiter(RetryOnce(clock, budget))
        # A getUpdates torn down mid-flight (at a stop) can hold its connection a moment
        # longer: the poller keeps a second one, so the last getUpdates of a graceful stop
        # (marking fetched updates read) never times out waiting for the pool.
        .get_updates_connection_pool_size(2)
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .build()
    )
    shared = application.bot_data
    shared.settings, shared.clock, shared.budget, shared.metrics = settings, clock, budget, metrics
    register_handlers(application)
    schedule_jobs(application)
    return application


async def private_chats_only(update: Update, context: Context) -> None:
    """The bot talks to people one to one: messages and buttons from groups stop here,
    so no handler below needs its own private-chat filter."""
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE and update.my_chat_member is None:
        raise ApplicationHandlerStop


async def find_reader(update: Update, context: Context) -> None:
    """Whose language this update's replies are in: the sender's choice, else their
    Telegram app's (one read, before any handler)."""
    user = update.effective_user
    if user is not None:
        languages = context.services.languages
        context.reader = await languages.reader_of_sender(user.id, user.language_code)


async def free_text(update: Update, context: Context) -> None:
    """What a person types that no command or keyboard button took, in this order: a
    barista's amount for the open scan, a member's comment to the score just given, else a
    pointer to the buttons (unknown commands, stickers and files end here too)."""
    if await issuing.take_amount(update, context):
        handled_by("take_amount")
        return
    if await feedback.take_comment(update, context):
        handled_by("take_comment")
        return
    handled_by("unknown_text")
    await help.unknown_text(update, context)


FEATURES = (
    start,
    account,
    help,
    catalog,
    coupons,
    issuing,
    undo,
    staff,
    locations,
    offers,
    broadcasts,
    preferences,
    feedback,
    referrals,
    winback,
    privacy,
    reports,
    stats,
)


def register_handlers(application: App) -> None:
    """Every handler, in the order Telegram updates are matched against them."""
    application.add_handler(TypeHandler(Update, private_chats_only), group=-2)
    # Then, for every update a person sent: whose language its replies are in.
    application.add_handler(TypeHandler(Update, find_reader), group=-1)
    # First: while an owner is in a conversation, their text belongs to it, not to the
    # free-text route at the end.
    application.add_handler(offers.offer_conversation())
    application.add_handler(broadcasts.broadcast_conversation())
    # Each feature's commands, buttons (by callback-data prefix) and keyboard buttons; no
    # two of them match the same update, so their order does not matter.
    for feature in FEATURES:
        application.add_handlers(feature.handlers())
    # After every button handler: a press nothing else takes (a finished conversation's
    # buttons, old or forged data) is still answered, so no button is left spinning.
    application.add_handler(CallbackQueryHandler(button_expired))
    # Last: everything else a person sends.
    application.add_handler(MessageHandler(~filters.StatusUpdate.ALL, free_text))
    application.add_error_handler(errors.on_error)
    name_handlers(application)


def schedule_jobs(application: App) -> None:
    """The bot's repeating work (see handlers/jobs.py). Every replica schedules it all;
    each shared job runs on the one replica holding its lease (``leased``), while the
    heartbeat and the lease renewal run on every replica."""
    job_queue = application.job_queue
    assert job_queue is not None, "install python-telegram-bot[job-queue]"
    leased = jobs.Leased()
    job_queue.run_repeating(
        leased.wrap(jobs.EXPIRE_COUPONS_JOB, jobs.expire_coupons),
        interval=jobs.EXPIRE_COUPONS_EVERY_SECONDS,
        first=10,
        name=jobs.EXPIRE_COUPONS_JOB,
    )
    job_queue.run_repeating(
        leased.wrap(jobs.START_OFFERS_JOB, jobs.start_offers),
        interval=jobs.START_OFFERS_EVERY_SECONDS,
        first=5,
        name=jobs.START_OFFERS_JOB,
    )
    # Within a minute of start-up, to catch up on what fell due while the bot was down.
    job_queue.run_repeating(
        leased.wrap(jobs.LIFECYCLE_JOB, jobs.lifecycle),
        interval=jobs.LIFECYCLE_EVERY_SECONDS,
        first=jobs.LIFECYCLE_FIRST_SECONDS,
        name=jobs.LIFECYCLE_JOB,
    )
    job_queue.run_repeating(
        leased.wrap(jobs.BACKUP_JOB, jobs.daily_backup),
        interval=jobs.BACKUP_EVERY_SECONDS,
        first=jobs.LIFECYCLE_FIRST_SECONDS * 2,
        name=jobs.BACKUP_JOB,
    )
    job_queue.run_repeating(
        leased.wrap(jobs.PRUNE_REPLICAS_JOB, jobs.prune_replicas),
        interval=jobs.PRUNE_REPLICAS_EVERY_SECONDS,
        first=jobs.PRUNE_REPLICAS_EVERY_SECONDS,
        name=jobs.PRUNE_REPLICAS_JOB,
    )
    job_queue.run_repeating(
        jobs.heartbeat,
        interval=HEARTBEAT_EVERY,
        first=HEARTBEAT_EVERY,  # the first beat is written at start-up
        name=jobs.HEARTBEAT_JOB,
    )
    job_queue.run_repeating(leased.keep, interval=LEASE_KEEP_EVERY, first=1, name=jobs.LEASES_JOB)


def name_handlers(application: App) -> None:
    """Wrap every handler's callback so each update's log line names what handled it."""

    def wrap(handler: BaseHandler[Any, Any, Any]) -> None:
        if isinstance(handler, ConversationHandler):
            for inner in handler.entry_points + handler.fallbacks:
                wrap(inner)
            for state in handler.states.values():
                for inner in state:
                    wrap(inner)
        else:
            handler.callback = observed(handler.callback)

    for group in application.handlers.values():
        for handler in group:
            wrap(handler)


async def on_startup(application: App) -> None:
    """Open storage and services, start the bulk sender, then install the command menus."""
    shared = application.bot_data
    services = await shared.open_services()
    settings = services.settings
    # Bulk sending gets a Bot of its own: its own connections, no rate limiter shared
    # with the replies people at the counter are waiting for.
    bulk_bot = Bot(
        settings.bot_token.get_secret_value(),
        base_url=settings.bot_api_base_url,
        base_file_url=settings.bot_file_base_url,
        request=HTTPXRequest(connection_pool_size=2),
    )
    await bulk_bot.initialize()
    assert shared.budget is not None
    shared.broadcaster = Broadcaster(bulk_bot, services, shared.budget)
    shared.broadcaster.start()  # resumes any broadcast a restart interrupted
    await menus.install_default_menu(application.bot, services.languages)
    for owner_id in await services.roles.owner_ids():
        await menus.install_menu(application.bot, owner_id, Role.OWNER, services.languages)
    # This replica is alive from now on (the heartbeat job keeps it so).
    await services.replicas.beat()
    claim = await services.roles.owner_claim()
    if claim is not None:
        # WARNING, so it shows at every LOG_LEVEL but ERROR: without it nobody can manage the
        # bot. Every replica, and every restart, logs the same link until it is used.
        logger.warning(
            "No owner yet. Open https://t.me/%s?start=%s within 24 hours to become the owner "
            "(single use; the same link until it is used or expires), or set OWNER_IDS.",
            application.bot.username,
            claim,
        )
    if settings.metrics_port and shared.metrics is not None:
        shared.monitor = MonitoringServer(
            services, shared.metrics, settings.metrics_host, settings.metrics_port
        )
        await shared.monitor.start()
    logger.info("Bot @%s is ready", application.bot.username)


async def on_stop(application: App) -> None:
    """Stop the broadcast worker while the bot can still send; the queue keeps the rest."""
    broadcaster, application.bot_data.broadcaster = application.bot_data.broadcaster, None
    if broadcaster is not None:
        await broadcaster.stop()
        await broadcaster.bot.shutdown()


async def on_shutdown(application: App) -> None:
    """Hand this replica's job leases on and remove its heartbeat, then close storage
    cleanly (PTB has written the conversations by now)."""
    monitor, application.bot_data.monitor = application.bot_data.monitor, None
    if monitor is not None:
        await monitor.stop()
    await leave(application)
    await application.bot_data.close_services()


async def leave(application: App) -> None:
    """A replica that stops cleanly lets another take its jobs at once; a failure here
    only delays that until the leases expire."""
    try:
        services = application.bot_data.services
    except ServicesNotOpen:
        return  # it never started
    try:
        await services.leases.release()
        await services.replicas.leave()
    except Exception as exc:  # the database may be what stopped the bot
        logger.warning("Could not hand the job leases on (%s): they expire by themselves", exc)


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
