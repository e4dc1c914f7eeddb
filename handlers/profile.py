"""Who sent an update, in the terms the services use."""

from __future__ import annotations

from telegram import Update

from bot.services.membership import Profile


def profile_of(update: Update) -> Profile | None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return None
    return Profile(
        tg_user_id=user.id,
        chat_id=chat.id,
        first_name=user.first_name,
        username=user.username,
        language=user.language_code,
    )
