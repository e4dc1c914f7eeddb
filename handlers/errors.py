"""The last line of defence: log the exception, tell the person without details, and
alert the owners (at most once per kind of error in a while, without details either)."""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.observability import mark_failed
from bot.services.alerts import ALERT_EVERY
from bot.services.errors import DatabaseUnavailable
from handlers.common import Context, local_time, main_keyboard, notify_owners, reply, say
from handlers.texts import Html

logger = logging.getLogger(__name__)

ALERT_TIME = "%d %b %H:%M"
COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}")
# Our buttons' data starts with a short lowercase prefix ("rdm:12"); anything else was
# forged or garbled and is not repeated to the owners.
BUTTON_PREFIX = re.compile(r"[a-z_]{1,16}")


async def on_error(update: object, context: Context) -> None:
    """Log any exception a handler raised, apologise to the user and alert the owners."""
    if isinstance(context.error, Forbidden):
        logger.info("A user has blocked the bot: %s", context.error)
        return
    mark_failed(transient=isinstance(context.error, DatabaseUnavailable))
    if isinstance(context.error, DatabaseUnavailable):
        # The database was away for a moment (a restart, a failover) or gave up on a
        # deadlock: nothing was written, and the same step will work again in a moment.
        logger.warning("Database unavailable while handling an update: %s", context.error)
        await apologise(update, context, "error_try_again")
        return
    logger.error("Unhandled error while processing an update", exc_info=context.error)
    await apologise(update, context, "error")
    await alert_owners(update, context)


async def apologise(update: object, context: Context, key: str) -> None:
    """Stop a button's spinner and tell the person, never raising."""
    if isinstance(update, Update) and update.callback_query is not None:
        # Stop the button's spinner; it may have been answered before the error.
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await reply(update, say(context, key))
        except Exception:
            logger.exception("Could not tell the user about the error")


async def alert_owners(update: object, context: Context) -> None:
    """Tell every owner what failed and when, once per kind of error per ALERT_EVERY (the
    limit is kept in the database, so it holds across processes and restarts). Never
    raises: nothing is behind the error handler to catch it."""
    if context.error is None:
        return
    # Only the exception's type name, never its message: a message can carry a token, a
    # card code or a customer's name and words, and a chat is no place for them. The full
    # traceback is in the log line above, where the Redactor masks the secrets.
    kind = type(context.error).__name__
    try:
        # Fails closed: when the database cannot say, nothing is sent (an outage would
        # otherwise send an alert per update). Owners are read from the database anyway.
        if not await context.services.alerts.may_alert(kind):
            return
        services = context.services
        text = say(
            context,
            "error_alert",
            kind=kind,
            time=local_time(context, services.clock.now(), ALERT_TIME),
            doing=Html(doing(update, context)),
            minutes=int(ALERT_EVERY.total_seconds() // 60),
        )
        await notify_owners(context, text)
    except Exception:
        logger.exception("Could not alert the owners about a %s", kind)


def doing(update: object, context: Context) -> str:
    """What the person (or the bot itself) was doing when it failed, in words that name
    no one: the command, the button, or the kind of message; never its text."""
    if update is None:
        job = context.job
        if job is not None:
            return say(context, "error_doing_job", job=job.name or "?")
        return say(context, "error_doing_background")
    if not isinstance(update, Update):
        return say(context, "error_doing_other")
    if update.callback_query is not None:
        prefix = (update.callback_query.data or "").split(":", 1)[0]
        return say(
            context, "error_doing_button", prefix=prefix if BUTTON_PREFIX.fullmatch(prefix) else "?"
        )
    message = update.message
    if message is None:
        return say(context, "error_doing_other")
    if message.photo:
        return say(context, "error_doing_photo")
    text = message.text or ""
    # Only the command itself: what follows it may be a card's token or a person's words.
    command = text.split(maxsplit=1)[0].split("@", 1)[0] if text.startswith("/") else ""
    if COMMAND.fullmatch(command):
        return say(context, "error_doing_command", command=command)
    labels = {button.text for row in main_keyboard(context).keyboard for button in row}
    if text in labels:
        return say(context, "error_doing_keyboard", label=text)
    return say(context, "error_doing_message")
