"""What a customer does in their own chat: card, balance, history, help."""

from __future__ import annotations

from telegram import Update

from bot.domain import EntryKind, LedgerEntry, Member
from bot.qr import render_png
from bot.services.membership import Card
from bot.services.roles import Role
from handlers import lifecycle
from handlers.common import (
    Context,
    deep_link,
    get_services,
    main_keyboard,
    member_only,
    money,
    reply,
    say,
)
from handlers.texts import Html


@member_only
async def card(update: Update, context: Context, member: Member) -> None:
    """Send a fresh QR member card with the typed fallback code."""
    services = get_services(context)
    issued: Card = await services.members.issue_card(member)
    if issued.expires_at is None:
        validity = say(context, "card_static")
    else:
        local = issued.expires_at.astimezone(services.settings.tz)
        validity = say(context, "card_valid_until", time=local.strftime("%H:%M"))
    caption = say(
        context,
        "card_caption",
        name=issued.member.first_name,
        points=issued.member.balance,
        code=issued.code,
        validity=Html(validity),
    )
    chat = update.effective_chat
    if chat is not None:
        await chat.send_photo(
            render_png(deep_link(context, issued.payload)),
            caption=caption,
            parse_mode="HTML",
            reply_markup=main_keyboard(context),
        )


@member_only
async def balance(update: Update, context: Context, member: Member) -> None:
    """Show points and what they are worth."""
    services = get_services(context)
    view = services.members.balance(member)
    lines = [say(context, "balance", points=view.points, worth=money(context, view.worth_minor))]
    tier, upcoming, needed = await services.issuing.tier_progress(view.member)
    tier_line = say(context, "balance_tier", tier=tier.name, multiplier=tier.multiplier.normalize())
    if upcoming is None:
        lines.append(f"{tier_line} {say(context, 'balance_top_tier')}")
    else:
        lines.append(
            f"{tier_line} {say(context, 'balance_next_tier', needed=needed, tier=upcoming.name)}"
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
    expiry = lifecycle.expiry_line(context, services.lifecycle.expires_at(view.member))
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
    services = get_services(context)
    entries = await services.members.history(member, limit=10)
    if not entries:
        await reply(update, say(context, "history_empty"))
        return
    tz = services.settings.tz
    lines = [say(context, "history_title", count=len(entries))]
    for entry in entries:
        lines.append(
            say(
                context,
                "history_line",
                date=entry.created_at.astimezone(tz).strftime("%d %b %H:%M"),
                points=f"{entry.points:+d}",
                reason=describe_entry(context, entry),
            )
        )
    await reply(update, "\n".join(lines))


async def help_command(update: Update, context: Context) -> None:
    """Explain how to earn and redeem."""
    settings = get_services(context).settings
    per_unit = settings.points_per_unit
    rate = (
        say(context, "points_rate_one")
        if per_unit == 1
        else say(context, "points_rate_many", count=per_unit.normalize())
    )
    unit = money(context, 10**settings.currency_exponent)
    text = say(context, "help", rate=rate, unit=unit)
    user = update.effective_user
    if user and await get_services(context).roles.role_of(user.id) >= Role.STAFF:
        text += say(context, "staff_help", minutes=settings.undo_window_minutes)
    await reply(update, text)


async def card_link_refused(update: Update, context: Context) -> None:
    """A member card opened by someone who may not scan cards: reveal nothing."""
    await reply(update, say(context, "card_scan_not_staff"))


async def photo_from_customer(update: Update, context: Context) -> None:
    """Customers have no use for photos here."""
    await reply(update, say(context, "photo_customer"))


async def unknown_text(update: Update, context: Context) -> None:
    """Anything we do not understand gets a pointer to the buttons, unless it is the
    comment to a feedback score just given."""
    message, user = update.effective_message, update.effective_user
    if message is not None and message.text and user is not None:
        member = await get_services(context).members.find(user.id)
        if member is not None and await lifecycle.take_comment(
            update, context, member, message.text
        ):
            return
    await reply(update, say(context, "unknown_text"))
