"""The application factory: one place that registers every handler, in order."""

from __future__ import annotations

import logging
from typing import Any, TypeAlias

from telegram import Bot, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.clock import Clock
from bot.monitoring import MonitoringServer
from bot.observability import Metrics, observed
from bot.services.container import Services
from bot.services.health import HEARTBEAT_EVERY
from bot.services.roles import Role
from bot.settings import Settings
from bot.telegram.concurrency import ChatOrderedProcessor
from bot.telegram.pacing import SendBudget
from bot.telegram.retry import RetryOnce
from handlers import (
    customer,
    errors,
    jobs,
    lifecycle,
    menus,
    owner,
    promotions,
    reports,
    rewards,
    staff,
    start,
)
from handlers.broadcaster import Broadcaster
from handlers.common import BROADCASTER_KEY, SERVICES_KEY, Callback, button_expired
from handlers.outbox import NPS
from handlers.texts import button_texts

logger = logging.getLogger(__name__)

App: TypeAlias = Application[Any, Any, Any, Any, Any, Any]

# Different chats' updates run side by side (one chat's in order); storage serialises writes.
MAX_CONCURRENT_UPDATES = 32
SETTINGS_KEY = "settings"
CLOCK_KEY = "clock"
BUDGET_KEY = "send_budget"
METRICS_KEY = "metrics"
MONITOR_KEY = "monitor"


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    update_processor: BaseUpdateProcessor | None = None,
) -> App:
    """Build the bot. Nothing is opened here; services start in post_init."""
    clock = clock or Clock()
    metrics = Metrics()
    processor = update_processor or ChatOrderedProcessor(MAX_CONCURRENT_UPDATES)
    if isinstance(processor, ChatOrderedProcessor):
        processor.metrics = metrics
    # Every message the bot sends counts against Telegram's ~30 a second: replies record
    # themselves here, and the broadcaster leaves them room.
    budget = SendBudget(clock)
    application = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .base_url(settings.bot_api_base_url)
        .base_file_url(settings.bot_file_base_url)
        .concurrent_updates(processor)
        # Interactive replies only: a 429 is retried for that one request. Broadcasts have
        # their own Bot and pacing (see on_startup), so they never slow these.
        .rate_limiter(RetryOnce(clock, budget))
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .build()
    )
    application.bot_data[SETTINGS_KEY] = settings
    application.bot_data[CLOCK_KEY] = clock
    application.bot_data[BUDGET_KEY] = budget
    application.bot_data[METRICS_KEY] = metrics
    register_handlers(application)
    return application


def register_handlers(application: App) -> None:
    """Every handler, in the order Telegram updates are matched against them."""
    private = filters.ChatType.PRIVATE
    # First: while an owner is in a conversation, their text belongs to it, not to the
    # amount handler at the end.
    for conversation in promotions.conversations():
        application.add_handler(conversation)
    application.add_handler(CommandHandler("start", start.start, filters=private))
    application.add_handler(CommandHandler("card", customer.card, filters=private))
    application.add_handler(CommandHandler("balance", customer.balance, filters=private))
    application.add_handler(CommandHandler("history", customer.history, filters=private))
    application.add_handler(CommandHandler("help", customer.help_command, filters=private))
    application.add_handler(CommandHandler("rewards", rewards.rewards_command, filters=private))
    application.add_handler(CommandHandler("coupons", rewards.coupons_command, filters=private))
    application.add_handler(CommandHandler("redeem", rewards.redeem_command, filters=private))
    application.add_handler(CommandHandler("catalog", rewards.catalog_command, filters=private))
    application.add_handler(CommandHandler("scan", staff.scan_command, filters=private))
    application.add_handler(CommandHandler("undo", staff.undo_command, filters=private))
    application.add_handler(CommandHandler("staff", owner.staff_command, filters=private))
    application.add_handler(CommandHandler("offers", promotions.offers_command, filters=private))
    application.add_handler(
        CommandHandler("broadcasts", promotions.broadcasts_command, filters=private)
    )
    application.add_handler(
        CommandHandler("settings", promotions.settings_command, filters=private)
    )
    application.add_handler(
        CommandHandler("birthday", promotions.birthday_command, filters=private)
    )
    application.add_handler(CommandHandler("invite", lifecycle.invite_command, filters=private))
    application.add_handler(CommandHandler("mydata", lifecycle.mydata_command, filters=private))
    application.add_handler(CommandHandler("forget", lifecycle.forget_command, filters=private))
    application.add_handler(CommandHandler("winback", lifecycle.winback_command, filters=private))
    application.add_handler(
        CommandHandler("referrals", lifecycle.referrals_command, filters=private)
    )
    application.add_handler(CommandHandler("report", reports.report_command, filters=private))
    application.add_handler(CommandHandler("export", reports.export_command, filters=private))
    application.add_handler(CommandHandler("stats", reports.stats_command, filters=private))
    application.add_handler(CommandHandler("audit", reports.audit_command, filters=private))
    application.add_handler(
        CommandHandler("redemptionrate", reports.redemption_rate_command, filters=private)
    )
    application.add_handler(
        ChatMemberHandler(promotions.bot_membership_changed, ChatMemberHandler.MY_CHAT_MEMBER)
    )

    # Buttons: callback data is "<prefix>" or "<prefix>:<args>", one handler per prefix.
    buttons: tuple[tuple[str, Callback], ...] = (
        (staff.CATEGORY, staff.category_pressed),
        (staff.AGAIN, staff.issue_again_pressed),
        (staff.CANCEL, staff.cancel_pressed),
        (staff.UNDO, staff.undo_pressed),
        (owner.INVITE, owner.invite_pressed),
        (owner.REMOVE, owner.remove_pressed),
        (rewards.REDEEM, rewards.redeem_pressed),
        (rewards.SHOW, rewards.show_pressed),
        (rewards.CANCEL_ASK, rewards.cancel_asked),
        (rewards.CANCEL_YES, rewards.cancel_confirmed),
        (rewards.CANCEL_KEEP, rewards.cancel_kept),
        (rewards.CONFIRM, rewards.confirm_pressed),
        (promotions.END_OFFER, promotions.end_offer_pressed),
        (promotions.PROMOTIONS, promotions.promotions_pressed),
        (NPS, lifecycle.nps_pressed),
        (lifecycle.FORGET, lifecycle.forget_pressed),
    )
    for prefix, callback in buttons:
        application.add_handler(CallbackQueryHandler(callback, pattern=rf"^{prefix}(:|$)"))
    # After every button handler: a press nothing else takes (a finished conversation's
    # buttons, old or forged data) is still answered, so no button is left spinning.
    application.add_handler(CallbackQueryHandler(button_expired))

    def button(key: str) -> filters.BaseFilter:
        return private & filters.Text(button_texts(key))

    application.add_handler(MessageHandler(button("btn_card"), customer.card))
    application.add_handler(MessageHandler(button("btn_balance"), customer.balance))
    application.add_handler(MessageHandler(button("btn_history"), customer.history))
    application.add_handler(MessageHandler(button("btn_help"), customer.help_command))
    application.add_handler(MessageHandler(button("btn_rewards"), rewards.rewards_command))
    application.add_handler(MessageHandler(button("btn_coupons"), rewards.coupons_command))
    application.add_handler(MessageHandler(button("btn_offers"), promotions.offers_command))
    application.add_handler(MessageHandler(button("btn_settings"), promotions.settings_command))

    application.add_handler(MessageHandler(private & filters.PHOTO, start.qr_photo))
    # Last: free text is an amount from staff; anything else gets a pointer to the buttons.
    # Commands we do not know fall through to the same reply.
    application.add_handler(MessageHandler(private & filters.TEXT, staff.amount_message))
    # Stickers, voice notes, files…: a pointer to the buttons rather than silence.
    application.add_handler(
        MessageHandler(private & ~filters.StatusUpdate.ALL, customer.unknown_text)
    )
    application.add_error_handler(errors.on_error)
    name_handlers(application)

    job_queue = application.job_queue
    assert job_queue is not None, "install python-telegram-bot[job-queue]"
    job_queue.run_repeating(
        jobs.expire_coupons,
        interval=jobs.EXPIRE_COUPONS_EVERY_SECONDS,
        first=10,
        name=jobs.EXPIRE_COUPONS_JOB,
    )
    job_queue.run_repeating(
        jobs.start_offers,
        interval=jobs.START_OFFERS_EVERY_SECONDS,
        first=5,
        name=jobs.START_OFFERS_JOB,
    )
    # Within a minute of start-up, to catch up on what fell due while the bot was down.
    job_queue.run_repeating(
        jobs.lifecycle,
        interval=jobs.LIFECYCLE_EVERY_SECONDS,
        first=jobs.LIFECYCLE_FIRST_SECONDS,
        name=jobs.LIFECYCLE_JOB,
    )
    job_queue.run_repeating(
        jobs.daily_backup,
        interval=jobs.BACKUP_EVERY_SECONDS,
        first=jobs.LIFECYCLE_FIRST_SECONDS * 2,
        name=jobs.BACKUP_JOB,
    )
    job_queue.run_repeating(
        jobs.heartbeat,
        interval=HEARTBEAT_EVERY,
        first=1,
        name=jobs.HEARTBEAT_JOB,
    )


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
    """Open storage and services, then install the command menus."""
    settings: Settings = application.bot_data[SETTINGS_KEY]
    services = await Services.open(
        settings, application.bot_data[CLOCK_KEY], application.bot_data[METRICS_KEY]
    )
    application.bot_data[SERVICES_KEY] = services
    # Bulk sending gets a Bot of its own: its own connections, no rate limiter shared
    # with the replies people at the counter are waiting for.
    bulk_bot = Bot(
        settings.bot_token.get_secret_value(),
        base_url=settings.bot_api_base_url,
        base_file_url=settings.bot_file_base_url,
        request=HTTPXRequest(connection_pool_size=2),
    )
    await bulk_bot.initialize()
    broadcaster = Broadcaster(bulk_bot, services, application.bot_data[BUDGET_KEY])
    application.bot_data[BROADCASTER_KEY] = broadcaster
    broadcaster.start()  # resumes any broadcast a restart interrupted
    await menus.install_default_menu(application.bot, settings.language)
    for owner_id in await services.roles.owner_ids():
        await menus.install_menu(application.bot, owner_id, Role.OWNER, settings.language)
    claim = await services.roles.new_owner_claim()
    if claim is not None:
        # WARNING, so it shows at every LOG_LEVEL but ERROR: without it nobody can manage the bot.
        logger.warning(
            "No owner yet. Open https://t.me/%s?start=%s within 24 hours to become the owner "
            "(single use; a restart makes a new link), or set OWNER_IDS.",
            application.bot.username,
            claim,
        )
    metrics = application.bot_data[METRICS_KEY]
    if settings.metrics_port:
        monitor = MonitoringServer(services, metrics, settings.metrics_host, settings.metrics_port)
        await monitor.start()
        application.bot_data[MONITOR_KEY] = monitor
    logger.info("Bot @%s is ready", application.bot.username)


async def on_stop(application: App) -> None:
    """Stop the broadcast worker while the bot can still send; the queue keeps the rest."""
    broadcaster: Broadcaster | None = application.bot_data.pop(BROADCASTER_KEY, None)
    if broadcaster is not None:
        await broadcaster.stop()
        await broadcaster.bot.shutdown()


async def on_shutdown(application: App) -> None:
    """Close storage cleanly."""
    monitor: MonitoringServer | None = application.bot_data.pop(MONITOR_KEY, None)
    if monitor is not None:
        await monitor.stop()
    services: Services | None = application.bot_data.pop(SERVICES_KEY, None)
    if services is not None:
        await services.close()


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]
