"""What the messages queued in the outbox say: rendered when they are sent, in the
recipient's language, from the facts the services stored with them."""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import Outgoing
from bot.settings import Settings
from handlers.texts import Html, t

NPS = "nps"
DATE = "%d %b %Y"


def _day(settings: Settings, moment: str | None, *, last_valid: bool = False) -> str:
    """A stored instant as the café date; ``last_valid``: the day before an end instant."""
    if moment is None:
        return ""
    instant = datetime.fromisoformat(moment) - (timedelta(seconds=1) if last_valid else timedelta())
    return instant.astimezone(settings.tz).strftime(DATE)


def render(
    message: Outgoing, settings: Settings, reader: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text (and buttons) of one outbox message, in its recipient's language."""
    lang, p = reader, message.params

    def say_(key: str, **values: object) -> str:
        return t(lang, key, **values)

    if message.kind == "receipt":
        return str(p["text"]), None  # rendered when the purchase was made
    if message.kind == "expiry_reminder":
        offer = say_("expiry_reminder_reward", reward=p["reward"]) if p.get("reward") else ""
        date = _day(settings, p["expires_at"], last_valid=True)
        return say_("expiry_reminder", points=p["points"], date=date, offer=Html(offer)), None
    if message.kind == "expired":
        return say_("expired_notice", points=p["points"]), None
    if message.kind == "winback":
        parts = [p["text"] or say_("winback_default", cafe=settings.cafe_name)]
        if p.get("bonus"):
            parts.append(say_("winback_bonus", points=p["bonus"]))
        if p.get("reward"):
            until = _day(settings, p["until"])
            parts.append(say_("winback_reward", reward=p["reward"], date=until))
        # The owner's own text is theirs to format (it was checked when saved).
        return "\n".join(parts), None
    if message.kind == "birthday":
        gift = ""
        if p.get("bonus"):
            gift += say_("birthday_treat_bonus", points=p["bonus"])
        if p.get("reward"):
            until = _day(settings, p["until"])
            gift += say_("birthday_treat_reward", reward=p["reward"], date=until)
        return say_("birthday_treat", name=message.first_name, gift=Html(gift)), None
    if message.kind == "referral_joined":
        terms = say_("referral_joined_terms", points=p["points"]) if p.get("points") else ""
        return say_("referral_joined", friend=p["friend"], terms=Html(terms)), None
    if message.kind == "referral_rewarded":
        return say_("referral_rewarded", friend=p["friend"], points=p["points"]), None
    if message.kind == "referral_taken_back":
        return say_("referral_taken_back", friend=p["friend"], points=p["points"]), None
    if message.kind == "referral_capped":
        return say_("referral_capped", friend=p["friend"], limit=p["limit"]), None
    if message.kind == "nps":
        return say_("nps_question", cafe=settings.cafe_name), nps_buttons(p["feedback"])
    raise ValueError(f"unknown outbox message kind {message.kind!r}")


def nps_buttons(feedback_id: int) -> InlineKeyboardMarkup:
    scores = [
        InlineKeyboardButton(str(score), callback_data=f"{NPS}:{feedback_id}:{score}")
        for score in range(11)
    ]
    return InlineKeyboardMarkup([scores[:6], scores[6:]])
