"""Feedback: the score buttons under "how was it?", the comment that may follow, and the
owners' alert on a low score."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    Update,
)
from telegram.ext import BaseHandler

from bot import i18n
from bot.domain import Member
from bot.services.feedback import Answered, FeedbackUnknown
from handlers.common import (
    Context,
    button_args,
    edit_text,
    member_only,
    notify_owners,
    on_button,
    reply,
    say,
)
from handlers.outbox import NPS, nps_buttons
from handlers.texts import t

logger = logging.getLogger(__name__)


@member_only
async def nps_pressed(update: Update, context: Context, member: Member) -> None:
    """A score: recorded (a second tap changes it); the question asks for a comment."""
    parsed = await button_args(update, context, 2, numeric=(0, 1))
    if parsed is None:
        return
    try:
        answered = await context.services.feedback.answer(
            member, parsed.number(0), parsed.number(1)
        )
    except FeedbackUnknown:
        await reply(update, say(context, "button_expired"))
        return
    score = answered.feedback.score
    await edit_text(
        update,
        say(context, "nps_thanks", score=score),
        reply_markup=nps_buttons(answered.feedback.id),
    )
    if answered.low and (answered.previous is None or answered.previous > 6):
        await alert_low_score(context, member, answered)


async def alert_low_score(context: Context, member: Member, answered: Answered) -> None:
    """Tell the owners, each in their own language, about a low score."""
    feedback, tz = answered.feedback, context.services.settings.tz

    def alert(reader: str) -> str:
        return t(
            reader,
            "nps_low_alert_with_comment" if feedback.comment else "nps_low_alert",
            name=member.first_name,
            id=str(member.id),
            score=feedback.score,
            date=i18n.day(reader, feedback.asked_at, tz),
            comment=feedback.comment or "",
        )

    await notify_owners(context, alert)


async def take_comment(update: Update, context: Context) -> bool:
    """A member's message just after a score is its comment; True when it was taken as one."""
    message, user = update.effective_message, update.effective_user
    if message is None or not message.text or user is None:
        return False
    member = await context.services.members.find(user.id)
    if member is None:
        return False
    answered = await context.services.feedback.take_comment(member, message.text)
    if answered is None:
        return False
    await reply(update, say(context, "nps_comment_thanks"))
    if answered.low:
        await alert_low_score(context, member, answered)
    return True


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The score buttons (the question itself is sent from the outbox)."""
    return [
        on_button(NPS, nps_pressed),
    ]
