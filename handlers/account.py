"""A member's own account: the QR card, /balance with tier and next reward, /history."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from telegram import (
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot import i18n
from bot.domain import EntryKind, LedgerEntry, Member
from bot.qr import render_png
from bot.services.membership import Card
from handlers.common import (
    Context,
    deep_link,
    lang,
    local_clock,
    local_date,
    local_day_time,
    main_keyboard,
    member_only,
    money,
    on_keyboard,
    reply,
    say,
)

logger = logging.getLogger(__name__)


@member_only
async def card(update: Update, context: Context, member: Member) -> None:
    """Send a fresh QR member card with the typed fallback code."""
    services = context.services
    issued: Card = await services.members.issue_card(member)
    if issued.expires_at is None:
        validity = say(context, "card_static")
    else:
        validity = say(context, "card_valid_until", time=local_clock(context, issued.expires_at))
    card_lines = [
        say(
            context,
            "card_caption",
            name=issued.member.first_name,
            points=issued.member.balance,
            code=issued.code,
        ),
        validity,
    ]
    caption = "\n".join(card_lines)
    chat = update.effective_chat
    if chat is not None:
        await chat.send_photo(
            render_png(deep_link(context, issued.payload)),
            caption=caption,
            reply_markup=main_keyboard(context),
        )


@member_only
async def balance(update: Update, context: Context, member: Member) -> None:
    """Show points and what they are worth."""
    services = context.services
    view = services.members.balance(member)
    lines = [say(context, "balance", points=view.points, worth=money(context, view.worth_minor))]
    tier, upcoming, needed = await services.issuing.tier_progress(view.member)
    multiplier = i18n.number(lang(context), tier.multiplier.normalize())
    if upcoming is None:
        lines.append(say(context, "balance_tier_top", tier=tier.name, multiplier=multiplier))
    else:
        lines.append(
            say(
                context,
                "balance_tier_next",
                tier=tier.name,
                multiplier=multiplier,
                needed=needed,
                next_tier=upcoming.name,
            )
        )
    cheapest = await services.catalog.cheapest()
    if cheapest is not None and cheapest.cost <= view.points:
        lines.append(say(context, "balance_can_redeem", title=cheapest.title))
    elif cheapest is not None:
        lines.append(
            say(
                context,
                "balance_next_reward",
                title=cheapest.title,
                cost=cheapest.cost,
                points=view.points,
                bar=progress_bar(view.points, cheapest.cost),
            )
        )
    expiry = expiry_line(context, services.lifecycle.expires_at(view.member))
    if expiry is not None:
        lines.append(expiry)
    await reply(update, "\n".join(lines))


def progress_bar(current: int, target: int, width: int = 10) -> str:
    filled = min(width, current * width // target) if target > 0 else width
    return "▓" * filled + "░" * (width - filled)


def describe_entry(context: Context, entry: LedgerEntry) -> str:
    if entry.kind is EntryKind.EARN and entry.amount_minor is not None:
        amount = money(context, entry.amount_minor)
        return say(context, "reason_earn", amount=amount)
    if entry.kind is EntryKind.REFERRAL and entry.points < 0:
        return say(context, "reason_referral_taken_back")
    return say(context, f"reason_{entry.kind.value}", reason=entry.reason)


@member_only
async def history(update: Update, context: Context, member: Member) -> None:
    """The last ten ledger entries, newest first."""
    services = context.services
    entries = await services.members.history(member, limit=10)
    if not entries:
        await reply(update, say(context, "history_empty"))
        return
    # A chain's history names the location of each purchase and undo.
    names = await services.locations.names() if await services.locations.is_chain() else {}
    lines = [say(context, "history_title", count=len(entries))]
    for entry in entries:
        location = names.get(entry.location_id) if entry.location_id is not None else None
        lines.append(
            say(
                context,
                "history_line_at" if location else "history_line",
                date=local_day_time(context, entry.created_at),
                points=i18n.signed(lang(context), entry.points),
                reason=describe_entry(context, entry),
                location=location or "",
            )
        )
    await reply(update, "\n".join(lines))


def expiry_line(context: Context, expires_at: datetime | None) -> str | None:
    if expires_at is None:
        return None
    last_day = local_date(context, expires_at - timedelta(seconds=1))
    return say(context, "balance_expires", date=last_day)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """The card, balance and history, as commands and as main-keyboard buttons."""
    return [
        CommandHandler("card", card),
        on_keyboard("btn_card", card),
        CommandHandler("balance", balance),
        on_keyboard("btn_balance", balance),
        CommandHandler("history", history),
        on_keyboard("btn_history", history),
    ]
