"""Issuing points at the counter: scan a card (camera, photo or /scan code), type the amount,
pick a category, confirm a suspected duplicate."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot import i18n
from bot.domain import LedgerEntry, Member
from bot.money import example_amount, format_reading
from bot.services import errors
from bot.services.issuing import (
    Actor,
    AmountResult,
    DuplicateSuspected,
    Issued,
    LimitExceeded,
    NeedsCategory,
    ScanView,
)
from bot.services.roles import Role
from bot.tokens import normalise_code
from handlers.common import (
    Context,
    actor_of,
    at_least,
    button_args,
    count,
    lang,
    local_clock,
    member_reader,
    money,
    notify,
    notify_owners,
    on_button,
    remove_buttons,
    reply,
    requires,
    say,
    send_receipt,
)
from handlers.help import card_link_refused
from handlers.outbox import purchase_details as details_of
from handlers.texts import t
from handlers.whereabouts import ask_where

logger = logging.getLogger(__name__)


# Callback data prefixes; every payload stays far below Telegram's 64 bytes.
CATEGORY = "cat"
AGAIN = "dup"
CANCEL = "cx"
UNDO = "undo"


def purchase_details(context: Context, entry: LedgerEntry, reader: str | None = None) -> str:
    """A purchase's amount (and category) as ``reader`` writes it (the sender by default)."""
    settings = context.services.settings
    return details_of(settings, reader or lang(context), entry.amount_minor or 0, entry.category)


def undo_button(context: Context, entry: LedgerEntry) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(say(context, "btn_undo"), callback_data=f"{UNDO}:{entry.id}")]]
    )


async def show_scan(update: Update, context: Context, view: ScanView) -> None:
    count(context, lambda m: m.scans.inc())
    if view.choices:  # a barista in several shops says where they are first
        await ask_where(update, context, view.choices, view.scan.id)
        return
    await reply(
        update,
        say(
            context,
            "scan_ok",
            name=view.member.first_name,
            tier=view.tier.name,
            points=view.member.balance,
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        say(context, "btn_cancel"), callback_data=f"{CANCEL}:{view.scan.id}"
                    )
                ]
            ]
        ),
    )


async def show_issued(update: Update, context: Context, actor: Actor, issued: Issued) -> None:
    """Confirm to the barista; on a new entry, send the customer their receipt."""
    entry, member = issued.entry, issued.member
    if not issued.created:
        await reply(
            update,
            say(
                context,
                "already_issued",
                points=entry.points,
                name=member.first_name,
                entry=str(entry.id),
            ),
        )
        return
    count(context, lambda m: m.ledger_entries.labels("earn").inc())
    lines = [
        say(
            context,
            "issued",
            points=entry.points,
            name=member.first_name,
            balance=member.balance,
            details=purchase_details(context, entry),
            entry=str(entry.id),
        )
    ]
    if issued.offers_not_here:  # the customer's offers valid in other locations only
        names = await context.services.locations.names()
        for offer in issued.offers_not_here:
            places = i18n.listing(lang(context), [names.get(p, "?") for p in offer.location_ids])
            lines.append(say(context, "offer_not_here", title=offer.title, places=places))
    try:
        await reply(update, "\n".join(lines), reply_markup=undo_button(context, entry))
    finally:
        # The entry is written: the customer gets their receipt even if the barista's
        # confirmation could not be delivered (the barista's retry is caught as a duplicate).
        await send_customer_side(context, actor, issued)


async def send_customer_side(context: Context, actor: Actor, issued: Issued) -> None:
    """The receipt (queued when Telegram fails now), the feedback question, a new tier:
    each in the customer's language, whoever scanned."""
    entry, member = issued.entry, issued.member
    services = context.services
    # Where the café has more than one location, the receipt names this one.
    location = await services.locations.name_if_chain(entry.location_id)
    facts = {
        "points": entry.points,
        "balance": member.balance,
        "amount_minor": entry.amount_minor or 0,
        "category": entry.category,
        "cafe": services.settings.cafe_name,
        "staff": actor.first_name,
        "location": location,
        "offers": [offer.title for offer in issued.offers],
        "referral": issued.referral_paid,
    }
    await send_receipt(context, member, f"entry:{entry.id}", facts)
    visits = await services.issuing.visits_of(member)
    asked = await services.feedback.after_purchase(member, entry, visits)
    if asked or issued.referral_paid:
        context.broadcaster.wake()  # the feedback question, the referral notice
    if issued.promoted_to is not None:
        await notify(context, member.chat_id, await tier_up_text(context, member, issued))


async def tier_up_text(context: Context, member: Member, issued: Issued) -> str:
    """The news of a new tier, in the customer's language."""
    tier = issued.promoted_to
    assert tier is not None
    reader = await member_reader(context, member)
    multiplier = i18n.number(reader, tier.multiplier.normalize())
    return t(reader, "tier_up", tier=tier.name, multiplier=multiplier)


async def show_needs_category(update: Update, context: Context, needed: NeedsCategory) -> None:
    buttons = [
        InlineKeyboardButton(
            say(
                context,
                "btn_category_multiplier",
                name=category.name,
                multiplier=i18n.number(lang(context), category.multiplier.normalize()),
            )
            if category.multiplier != 1
            else category.name,
            callback_data=f"{CATEGORY}:{needed.scan.id}:{index}:{needed.amount_minor}",
        )
        for index, category in enumerate(needed.categories)
    ]
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    rows.append(
        [
            InlineKeyboardButton(
                say(context, "btn_cancel"), callback_data=f"{CANCEL}:{needed.scan.id}"
            )
        ]
    )
    await reply(
        update,
        say(
            context,
            "pick_category",
            name=needed.member.first_name,
            amount=money(context, needed.amount_minor),
        ),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def show_duplicate(
    update: Update, context: Context, suspected: DuplicateSuspected, category_index: int | None
) -> None:
    previous = suspected.previous
    index = "" if category_index is None else category_index
    again = f"{AGAIN}:{suspected.scan.id}:{index}:{suspected.amount_minor}"
    await reply(
        update,
        say(
            context,
            "duplicate",
            name=suspected.member.first_name,
            points=previous.points,
            amount=money(context, previous.amount_minor or 0),
            time=local_clock(context, previous.created_at),
        ),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(say(context, "btn_issue_again"), callback_data=again),
                    InlineKeyboardButton(
                        say(context, "btn_cancel"), callback_data=f"{CANCEL}:{suspected.scan.id}"
                    ),
                ]
            ]
        ),
    )


async def report_limit(
    update: Update, context: Context, actor: Actor, refused: LimitExceeded
) -> None:
    await reply(
        update,
        say(context, f"limit_{refused.limit_kind}", points=refused.points, limit=refused.limit),
    )
    await notify_owners(
        context,
        lambda reader: t(
            reader,
            f"owner_limit_alert_{refused.limit_kind}",
            staff=actor.first_name,
            points=refused.points,
            name=refused.member.first_name,
            limit=refused.limit,
        ),
    )


async def explain(update: Update, context: Context, error: errors.ServiceError) -> None:
    """One friendly sentence for each expected failure at the counter."""
    settings = context.services.settings
    if isinstance(error, errors.AmountInvalid):
        text = say(
            context,
            f"amount_{error.problem}",
            text=error.text[:40],
            max=money(context, settings.max_purchase_minor),
            example=example_amount(settings.currency_exponent, settings.locale),
            readings=i18n.listing(
                lang(context),
                [
                    format_reading(value, settings.currency, lang(context))
                    for value in error.readings
                ],
                style="or",
            ),
        )
    elif isinstance(error, errors.LocationNeeded):
        await ask_where(update, context, error.choices, error.scan_id)
        return
    elif isinstance(error, errors.ReferralBonusSpent):
        text = say(context, "undo_referral_spent", name=error.referrer_name)
    elif isinstance(error, errors.AmountReplaced):
        text = say(
            context,
            "amount_replaced",
            shown=money(context, error.shown_minor),
            current=money(context, error.current_minor or 0),
        )
    else:
        key = {
            errors.CardExpired: "scan_expired",
            errors.CardInvalid: "scan_invalid",
            errors.SelfIssue: "scan_self",
            errors.NoOpenScan: "no_open_scan",
            errors.ScanClosed: "scan_closed",
            errors.EntryNotFound: "undo_not_found",
            errors.NotYourEntry: "undo_not_yours",
            errors.UndoWindowPassed: "undo_too_late",
            errors.NotUndoable: "undo_not_undoable",
            errors.PointsAlreadySpent: "undo_spent",
            errors.NoOpenLocation: "no_open_location",
        }.get(type(error), "error")
        text = say(context, key, minutes=settings.undo_window_minutes)
    await reply(update, text)


async def show_result(update: Update, context: Context, actor: Actor, result: AmountResult) -> None:
    """What an issuing step produced: the category question, or the points issued."""
    if isinstance(result, NeedsCategory):
        await show_needs_category(update, context, result)
    else:
        await show_issued(update, context, actor, result)


async def show_refusal(
    update: Update,
    context: Context,
    actor: Actor,
    error: errors.ServiceError,
    category_index: int | None = None,
) -> None:
    """Why an issuing step recorded nothing: a suspected duplicate to confirm, a limit
    (the owners are told), a purchase too small for a point, or one friendly sentence."""
    if isinstance(error, DuplicateSuspected):
        await show_duplicate(update, context, error, category_index)
    elif isinstance(error, LimitExceeded):
        await report_limit(update, context, actor, error)
    elif isinstance(error, errors.ZeroPoints):
        await explain_zero(update, context, error.amount_minor)
    else:
        await explain(update, context, error)


async def explain_zero(update: Update, context: Context, amount_minor: int) -> None:
    settings = context.services.settings
    await reply(
        update,
        say(
            context,
            "zero_points",
            amount=money(context, amount_minor),
            rate=i18n.number(lang(context), settings.points_per_unit.normalize()),
            unit=money(context, 10**settings.currency_exponent),
        ),
    )


async def scan_card(update: Update, context: Context) -> None:
    """A member card link opened by staff: show the member and ask for the amount."""
    actor = await actor_of(update, context)
    payload = context.args[0] if context.args else ""
    try:
        view = await context.services.issuing.scan_card(actor, payload)
    except errors.ServiceError as error:
        await explain(update, context, error)
        return
    await show_scan(update, context, view)


card_link = requires(Role.STAFF, otherwise=card_link_refused)(scan_card)


@requires(Role.STAFF)
async def scan_command(update: Update, context: Context) -> None:
    """/scan CODE AMOUNT: the typed fallback when the camera can't read the card."""
    args = context.args or []
    message = update.effective_message
    if len(args) not in (1, 2) or message is None:
        await reply(update, say(context, "scan_usage"))
        return
    actor = await actor_of(update, context)
    services = context.services
    message_key = f"msg:{message.chat_id}:{message.message_id}"
    try:
        view = await services.issuing.scan_code(actor, normalise_code(args[0]), message_key)
    except errors.CardInvalid:
        await reply(update, say(context, "code_invalid"))
        return
    except errors.ServiceError as error:
        await explain(update, context, error)
        return
    if len(args) == 1 or view.choices:
        await show_scan(update, context, view)
        return
    try:
        result = await services.issuing.enter_amount(actor, args[1], view.scan.id)
    except errors.ServiceError as error:
        await show_refusal(update, context, actor, error)
        return
    await show_result(update, context, actor, result)


async def take_amount(update: Update, context: Context) -> bool:
    """A barista's text as the amount for their open scan. False when the text is not an
    amount: the sender is no staff, or has no open scan and typed no digit."""
    message = update.effective_message
    if message is None or message.text is None or not await at_least(update, context, Role.STAFF):
        return False
    actor = await actor_of(update, context)
    issuing = context.services.issuing
    if await issuing.open_scan_of(actor) is None and not any(ch.isdigit() for ch in message.text):
        return False
    try:
        result = await issuing.enter_amount(actor, message.text)
    except errors.ServiceError as error:
        await show_refusal(update, context, actor, error)
        return True
    await show_result(update, context, actor, result)
    return True


@requires(Role.STAFF)
async def category_pressed(update: Update, context: Context) -> None:
    """The barista picked the category: issue the points."""
    parsed = await button_args(update, context, 3, numeric=(1, 2))
    if parsed is None:
        return
    await remove_buttons(update)
    actor = await actor_of(update, context)
    scan_id, index, amount = parsed[0], parsed.number(1), parsed.number(2)
    try:
        result = await context.services.issuing.issue(actor, scan_id, index, amount=amount)
    except errors.ServiceError as error:
        await show_refusal(update, context, actor, error, index)
        return
    await show_result(update, context, actor, result)


@requires(Role.STAFF)
async def issue_again_pressed(update: Update, context: Context) -> None:
    """The barista confirmed that a suspected duplicate is a real second purchase."""
    parsed = await button_args(update, context, 3, numeric=(2,), optional=(1,))
    if parsed is None:
        return
    await remove_buttons(update)
    actor = await actor_of(update, context)
    index = parsed.number_or_none(1)
    try:
        # The amount on the duplicate warning is the one the barista confirms by pressing.
        result = await context.services.issuing.issue(
            actor, parsed[0], index, amount=parsed.number(2), typed=True, force=True
        )
    except errors.ServiceError as error:
        await show_refusal(update, context, actor, error, index)
        return
    await show_result(update, context, actor, result)


@requires(Role.STAFF)
async def cancel_pressed(update: Update, context: Context) -> None:
    """Abandon a scan; nothing is recorded."""
    query = update.callback_query
    parsed = await button_args(update, context, 1)
    if query is None or parsed is None:
        return
    actor = await actor_of(update, context)
    try:
        await context.services.issuing.cancel_scan(actor, parsed[0])
    except errors.ServiceError as error:
        await explain(update, context, error)
        return
    await remove_buttons(update)
    await reply(update, say(context, "scan_cancelled"))


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/scan and the counter's buttons: category, issue again, cancel."""
    return [
        CommandHandler("scan", scan_command),
        on_button(CATEGORY, category_pressed),
        on_button(AGAIN, issue_again_pressed),
        on_button(CANCEL, cancel_pressed),
    ]
