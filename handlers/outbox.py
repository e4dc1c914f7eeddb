"""What the messages queued in the outbox say: rendered when they are sent, in the
recipient's language, from the facts the services stored with them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n
from bot.domain import Outgoing
from bot.settings import Settings
from handlers.texts import t

NPS = "nps"


def _day(settings: Settings, reader: str, moment: str, *, last_valid: bool = False) -> str:
    """A stored instant as the café's date, as the reader writes dates; ``last_valid``:
    the day before an end instant."""
    instant = datetime.fromisoformat(moment) - (timedelta(seconds=1) if last_valid else timedelta())
    return i18n.day(reader, instant, settings.tz)


def purchase_details(
    settings: Settings, reader: str, amount_minor: int, category: str | None
) -> str:
    """A purchase as the reader writes its amount, with the café's category after it:
    "€4.50 (Coffee)". Data only, no words of ours."""
    amount = i18n.money(reader, amount_minor, settings.currency, settings.currency_exponent)
    return f"{amount} ({category})" if category else amount


def receipt_text(facts: Mapping[str, Any], settings: Settings, reader: str) -> str:
    """A customer's receipt in their language, from the facts of the purchase: the same
    text whether it is sent at the counter or retried later from the outbox. Rows queued
    before receipts were stored as facts hold their text, sent as it was written."""
    if "text" in facts:
        return str(facts["text"])
    location = facts.get("location")
    lines = [
        t(
            reader,
            "receipt_at" if location else "receipt",
            points=int(facts["points"]),
            details=purchase_details(
                settings, reader, int(facts["amount_minor"]), facts.get("category")
            ),
            cafe=str(facts["cafe"]),
            staff=str(facts["staff"]),
            balance=int(facts["balance"]),
            location=location or "",
        )
    ]
    offers = [str(title) for title in facts.get("offers") or ()]
    if offers:
        lines.append(
            t(reader, "receipt_offers", count=len(offers), titles=i18n.listing(reader, offers))
        )
    if facts.get("referral"):
        lines.append(t(reader, "referral_receipt"))
    return "\n".join(lines)


def render(
    message: Outgoing, settings: Settings, reader: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text (and buttons) of one outbox message, in its recipient's language."""
    p = message.params

    def say_(key: str, **values: object) -> str:
        return t(reader, key, **values)

    if message.kind == "receipt":
        return receipt_text(p, settings, reader), None
    if message.kind == "expiry_reminder":
        date = _day(settings, reader, p["expires_at"], last_valid=True)
        if p.get("reward"):
            return say_(
                "expiry_reminder_reward", points=p["points"], date=date, reward=p["reward"]
            ), None
        return say_("expiry_reminder", points=p["points"], date=date), None
    if message.kind == "expired":
        return say_("expired_notice", points=p["points"]), None
    if message.kind == "winback":
        # Whole lines, each a sentence: the owner's own text (theirs to format; it was
        # checked when saved), then what the bot adds to it.
        lines = [p["text"] or say_("winback_default", cafe=settings.cafe_name)]
        if p.get("bonus"):
            lines.append(say_("winback_bonus", points=p["bonus"]))
        if p.get("reward"):
            until = _day(settings, reader, p["until"])
            lines.append(say_("winback_reward", reward=p["reward"], date=until))
        return "\n".join(lines), None
    if message.kind == "birthday":
        return birthday_text(message, settings, reader), None
    if message.kind == "referral_joined":
        if p.get("points"):
            return say_("referral_joined_bonus", friend=p["friend"], points=p["points"]), None
        return say_("referral_joined", friend=p["friend"]), None
    if message.kind == "referral_rewarded":
        return say_("referral_rewarded", friend=p["friend"], points=p["points"]), None
    if message.kind == "referral_taken_back":
        return say_("referral_taken_back", friend=p["friend"], points=p["points"]), None
    if message.kind == "referral_capped":
        return say_("referral_capped", friend=p["friend"], limit=p["limit"]), None
    if message.kind == "nps":
        return say_("nps_question", cafe=settings.cafe_name), nps_buttons(p["feedback"])
    raise ValueError(f"unknown outbox message kind {message.kind!r}")


def birthday_text(message: Outgoing, settings: Settings, reader: str) -> str:
    """The birthday treat: one whole text for each of what it gives (points, a coupon)."""
    p, name = message.params, message.first_name
    bonus, reward = p.get("bonus"), p.get("reward")
    if reward:
        until = _day(settings, reader, p["until"])
        if bonus:
            return t(
                reader,
                "birthday_treat_bonus_and_reward",
                name=name,
                points=bonus,
                reward=reward,
                date=until,
            )
        return t(reader, "birthday_treat_reward", name=name, reward=reward, date=until)
    if bonus:
        return t(reader, "birthday_treat_bonus", name=name, points=bonus)
    return t(reader, "birthday_treat", name=name)


def nps_buttons(feedback_id: int) -> InlineKeyboardMarkup:
    scores = [
        InlineKeyboardButton(str(score), callback_data=f"{NPS}:{feedback_id}:{score}")
        for score in range(11)
    ]
    return InlineKeyboardMarkup([scores[:6], scores[6:]])
