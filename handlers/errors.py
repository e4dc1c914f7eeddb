"""The last line of defence: log the exception, tell the person without details."""

from __future__ import annotations

import contextlib
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.observability import mark_failed
from handlers.common import Context, reply, say

logger = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log any exception a handler raised and apologise to the user."""
    if isinstance(context.error, Forbidden):
        logger.info("A user has blocked the bot: %s", context.error)
        return
    mark_failed()
    logger.error("Unhandled error while processing an update", exc_info=context.error)
    if isinstance(update, Update) and update.callback_query is not None:
        # Stop the button's spinner; it may have been answered before the error.
        with contextlib.suppress(TelegramError):
            await update.callback_query.answer()
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await reply(update, say(context, "error"))
        except Exception:
            logger.exception("Could not tell the user about the error")
