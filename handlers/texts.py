"""Every user-facing text, per language. Messages are HTML; values are escaped by ``t``."""

from __future__ import annotations

import html
from typing import Final


class Html(str):
    """A value that is already safe HTML and must not be escaped again."""

    __slots__ = ()


EN: Final[dict[str, str]] = {
    # Buttons of the customer keyboard.
    "btn_card": "💳 My card",
    "btn_balance": "⭐ Balance",
    "btn_history": "📜 History",
    "btn_help": "❓ Help",
    # Command menu descriptions.
    "cmd_start": "Join or open the main menu",
    "cmd_card": "Show my QR member card",
    "cmd_balance": "My points",
    "cmd_history": "My last 10 transactions",
    "cmd_help": "How to earn and redeem",
    # Joining.
    "welcome_new": (
        "Welcome to {cafe}, <b>{name}</b>! 🎉\n"
        "You're now a member. Tap <b>My card</b> and show the QR code at the counter "
        "to collect points with every purchase."
    ),
    "welcome_back": "Welcome back, <b>{name}</b>! You have <b>{points}</b> points.",
    "not_a_member": "You're not a member yet. Press /start to join — it takes one tap.",
    # Member card.
    "card_caption": (
        "<b>{name}</b> · member card\n"
        "⭐ {points} points\n"
        "Show this QR at the counter. If scanning fails, tell the barista this code: "
        "<code>{code}</code>\n"
        "{validity}"
    ),
    "card_valid_until": "Valid until {time}. Tap <b>My card</b> any time for a fresh one.",
    "card_static": "This card does not expire.",
    # Balance and history.
    "balance": "⭐ You have <b>{points}</b> points, worth about {worth}.",
    "history_title": "📜 <b>Your last {count} transactions</b>",
    "history_line": "{date}  <b>{points}</b>  {reason}",
    "history_empty": (
        "No transactions yet. Show your card at the counter and your points will appear here."
    ),
    "reason_earn": "Purchase {amount}",
    "reason_reversal": "Correction",
    "reason_redeem": "Reward: {reason}",
    "reason_refund": "Refund: {reason}",
    "reason_bonus": "Bonus: {reason}",
    # Help.
    "help": (
        "<b>How it works</b>\n\n"
        "<b>Earn:</b> show your QR card (tap <b>My card</b>) when you pay. The barista scans it "
        "and you get {rate} for every {unit} you spend. A receipt arrives here right away.\n\n"
        "<b>Redeem:</b> when you have enough points, exchange them for a reward coupon and "
        "show its QR at the counter.\n\n"
        "Commands: /card, /balance, /history, /help."
    ),
    "points_rate_one": "1 point",
    "points_rate_many": "{count} points",
    # Deep links.
    "link_malformed": (
        "That link doesn't look right. Ask the café for a fresh one, or press /start to open "
        "your own card."
    ),
    "link_not_active": "That link isn't in use at this café yet. Press /start to see your card.",
    "card_scan_not_staff": (
        "This is a member card. Only café staff can scan it. Press /start to see your own card."
    ),
    # Generic.
    "not_allowed": "Sorry, that's not available for your account.",
    "unknown_text": "I didn't catch that. Use the buttons below or /help.",
    "error": "Sorry, something went wrong on our side. Please try again in a moment.",
}

MESSAGES: Final[dict[str, dict[str, str]]] = {"en": EN}
DEFAULT_LANGUAGE: Final = "en"


def t(lang: str, key: str, /, **values: object) -> str:
    """The text ``key`` in ``lang`` (falling back to English) with HTML-escaped values."""
    table = MESSAGES.get(lang, EN)
    template = table.get(key) or EN[key]
    safe = {
        name: value if isinstance(value, Html) else html.escape(str(value), quote=False)
        for name, value in values.items()
    }
    return template.format(**safe)


def button_texts(key: str) -> list[str]:
    """All translations of a button, so a handler matches whichever language was shown."""
    return sorted({table.get(key, EN[key]) for table in MESSAGES.values()})
