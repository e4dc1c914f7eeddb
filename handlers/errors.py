"""The last line of defence: log the exception, tell the person without details, and
alert the owners (at most once per kind of error in a while, without details either)."""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot import i18n
from bot.observability import mark_failed
from bot.services.alerts import ALERT_EVERY
from bot.services.errors import DatabaseUnavailable
from handlers.common import Context, main_keyboard, notify_owners, reply, say
from handlers.texts import t

logger = logging.getLogger(__name__)

Doing = tuple[str, dict[str, str]]  # what was being done (a kind) and what names it
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
    await find_reader(update, context)
    if isinstance(context.error, DatabaseUnavailable):
        # The database was away for a moment (a restart, a failover) or gave up on a
        # deadlock: nothing was written, and the same step will work again in a moment.
        logger.warning("Database unavailable while handling an update: %s", context.error)
        await apologise(update, context, "error_try_again")
        return
    logger.error("Unhandled error while processing an update", exc_info=context.error)
    await apologise(update, context, "error")
    await alert_owners(update, context)


async def find_reader(update: object, context: Context) -> None:
    """The error handler has a context of its own, without the sender's reader: find it
    again, so the apology is in their language and a keyboard button is recognised in it
    (their choice; when the database is what failed, their Telegram's language)."""
    if context.reader is not None or not isinstance(update, Update):
        return
    user = update.effective_user
    if user is None:
        return
    languages = context.services.languages
    try:
        context.reader = await languages.reader_of(user.id, user.language_code)
    except Exception:  # the database may be away: nothing here may raise
        context.reader = languages.reader(user.language_code)


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
        now, tz = services.clock.now(), services.settings.tz
        what, names = doing(update, context)
        minutes = int(ALERT_EVERY.total_seconds() // 60)

        def alert(reader: str) -> str:
            """The alert in one owner's language, at their café's time."""
            time = i18n.day_time(reader, now, tz)
            return t(reader, f"error_alert_{what}", kind=kind, time=time, minutes=minutes, **names)

        await notify_owners(context, alert)
    except Exception:
        logger.exception("Could not alert the owners about a %s", kind)


def doing(update: object, context: Context) -> Doing:
    """What the person (or the bot itself) was doing when it failed, in words that name
    no one: the command, the button, or the kind of message; never its text. Each kind
    has its own alert text (``error_alert_<kind>``)."""
    if update is None:
        job = context.job
        if job is not None:
            return "job", {"job": job.name or "?"}
        return "background", {}
    if not isinstance(update, Update):
        return "other", {}
    if update.callback_query is not None:
        prefix = (update.callback_query.data or "").split(":", 1)[0]
        return "button", {"prefix": prefix if BUTTON_PREFIX.fullmatch(prefix) else "?"}
    message = update.message
    if message is None:
        return "other", {}
    if message.photo:
        return "photo", {}
    text = message.text or ""
    # Only the command itself: what follows it may be a card's token or a person's words.
    command = text.split(maxsplit=1)[0].split("@", 1)[0] if text.startswith("/") else ""
    if COMMAND.fullmatch(command):
        return "command", {"command": command}
    labels = {button.text for row in main_keyboard(context).keyboard for button in row}
    if text in labels:
        return "keyboard", {"label": text}
    return "message", {}
