"""Offers: the owner's /offer wizard and ending an offer early (how offers read, in
/offers and the preview: handlers/offer_views.py)."""

from __future__ import annotations

import html
import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from telegram import InlineKeyboardButton, Update
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.domain import NewOffer
from bot.inputs import parse_int
from bot.offers import parse_local_datetime, parse_window
from bot.services.offers import OfferNotFound
from bot.services.roles import Role
from handlers.common import (
    Context,
    button_args,
    on_button,
    on_keyboard,
    remove_buttons,
    reply,
    requires,
    say,
)
from handlers.context import OfferDraft
from handlers.offer_views import (
    END_OFFER,
    describe_effect,
    hours_lines,
    offers_command,
    reward_titles,
    value_of,
)
from handlers.offer_windows import date_words_of, day_words_of, example
from handlers.wizard import (
    END,
    TYPED,
    ask,
    ask_locations,
    audience_keyboard,
    audience_steps,
    conversation,
    describe_audience,
    first_word,
    location_picker,
    message_text,
    on_step_button,
    pressed,
    valid_at,
    when,
    with_cancel,
)

logger = logging.getLogger(__name__)


OFFER = "of"


(
    O_TITLE,
    O_DESCRIPTION,
    O_KIND,
    O_VALUE,
    O_START,
    O_END,
    O_WINDOW,
    O_AUDIENCE,
    O_LAPSED,
    O_ANNOUNCE,
    O_CONFIRM,
    O_PLACES,
    O_VISIT_DAYS,
    O_WHERE,
) = range(14)


@requires(Role.OWNER)
async def offer_begin(update: Update, context: Context) -> int:
    """/offer: start the guided conversation for a new offer."""
    context.drafts.offer = OfferDraft()
    await ask(update, context, OFFER, "offer_ask_title")
    return O_TITLE


async def offer_title(update: Update, context: Context) -> int:
    title = " ".join(message_text(update).split())
    if not 1 <= len(title) <= 60:
        await ask(update, context, OFFER, "offer_ask_title")
        return O_TITLE
    draft(context).title = title
    skip = [[InlineKeyboardButton(say(context, "btn_skip"), callback_data=f"{OFFER}:skip")]]
    await reply(
        update,
        say(context, "offer_ask_description"),
        reply_markup=with_cancel(context, OFFER, skip),
    )
    return O_DESCRIPTION


async def offer_description(update: Update, context: Context) -> int:
    """The description typed, or none (Skip, or a typed "-")."""
    text = message_text(update)
    if update.callback_query is not None:
        await pressed(update)
        text = ""
    draft(context).description = "" if text == "-" else text[:300]
    rows = [
        [
            InlineKeyboardButton(say(context, f"btn_kind_{kind}"), callback_data=f"{OFFER}:{kind}")
            for kind in ("multiplier", "bonus", "coupon")
        ]
    ]
    await reply(
        update, say(context, "offer_ask_kind"), reply_markup=with_cancel(context, OFFER, rows)
    )
    return O_KIND


async def offer_kind(update: Update, context: Context) -> int:
    (kind,) = (await pressed(update))[:1] or [""]
    draft(context).kind = kind
    if kind != "coupon":
        await ask(update, context, OFFER, f"offer_ask_{kind}")
        return O_VALUE
    rewards = await context.services.catalog.list(active_only=True)
    if not rewards:
        await reply(update, say(context, "offer_no_rewards"))
        return END
    rows = [
        [InlineKeyboardButton(r.title, callback_data=f"{OFFER}:rw:{r.id}")] for r in rewards[:20]
    ]
    await reply(
        update, say(context, "offer_ask_reward"), reply_markup=with_cancel(context, OFFER, rows)
    )
    return O_VALUE


async def offer_value(update: Update, context: Context) -> int:
    offer = draft(context)
    text = message_text(update).replace(",", ".").lstrip("x×+")
    try:
        if offer.kind == "multiplier":
            value = Decimal(text)
            if not (1 < value <= 10):
                raise InvalidOperation
            offer.multiplier = value
        else:
            bonus = parse_int(text, low=1, high=10_000)
            if bonus is None:
                raise InvalidOperation
            offer.bonus = bonus
    except InvalidOperation:
        await ask(update, context, OFFER, f"offer_bad_{offer.kind or 'bonus'}")
        return O_VALUE
    return await ask_start(update, context)


async def offer_reward(update: Update, context: Context) -> int:
    args = await pressed(update)
    reward_id = parse_int(args[1]) if len(args) == 2 else None
    if reward_id is None:
        return O_VALUE
    draft(context).reward_id = reward_id
    return await ask_start(update, context)


async def ask_start(update: Update, context: Context) -> int:
    """When does it start: Now, or a date and time typed (their words for "tomorrow" too)."""
    now = [[InlineKeyboardButton(say(context, "btn_now"), callback_data=f"{OFFER}:now")]]
    await reply(
        update,
        say(context, "offer_ask_start", tomorrow=first_word(context, "word_tomorrow")),
        reply_markup=with_cancel(context, OFFER, now),
    )
    return O_START


def typed_moment(update: Update, context: Context) -> datetime:
    """The start or end the owner typed, in café time ("28.11 15:00", "morgen 9:00")."""
    services = context.services
    return parse_local_datetime(
        message_text(update), services.settings.tz, services.clock.now(), date_words_of(context)
    )


async def offer_starts(update: Update, context: Context) -> int:
    """The start: the Now button, or typed."""
    if update.callback_query is not None:
        await pressed(update)
        starts = context.services.clock.now()
    else:
        try:
            starts = typed_moment(update, context)
        except ValueError:
            await ask(update, context, OFFER, "offer_bad_date")
            return O_START
    draft(context).starts_at = starts
    await ask(update, context, OFFER, "offer_ask_end")
    return O_END


async def offer_ends(update: Update, context: Context) -> int:
    services = context.services
    offer = draft(context)
    try:
        ends = typed_moment(update, context)
    except ValueError:
        await ask(update, context, OFFER, "offer_bad_date")
        return O_END
    starts = offer.starts_at or services.clock.now()
    if ends <= starts or ends <= services.clock.now():
        start = when(context, starts)
        await ask(update, context, OFFER, "offer_end_before_start", start=start)
        return O_END
    offer.ends_at = ends
    rows = [[InlineKeyboardButton(say(context, "btn_any_time"), callback_data=f"{OFFER}:any")]]
    await reply(
        update,
        say(context, "offer_ask_window", example=example(context)),
        reply_markup=with_cancel(context, OFFER, rows),
    )
    return O_WINDOW


async def offer_window(update: Update, context: Context) -> int:
    """The hours: Any time, or days and hours typed with the owner's day names or English."""
    if update.callback_query is not None:
        await pressed(update)
        draft(context).window = None
    else:
        try:
            window = parse_window(message_text(update), day_words_of(context))
        except ValueError:
            await ask(update, context, OFFER, "offer_bad_window", example=example(context))
            return O_WINDOW
        draft(context).window = str(window)
    await reply(
        update,
        say(context, "offer_ask_audience"),
        reply_markup=await audience_keyboard(context, OFFER),
    )
    return O_AUDIENCE


async def offer_audience_chosen(update: Update, context: Context, audience: str) -> int:
    offer = draft(context)
    offer.audience = audience
    if offer.kind == "coupon":
        offer.announce = True  # a gift nobody hears about is no gift
        return await offer_preview(update, context)
    if await context.services.locations.is_chain():  # valid everywhere, or in some shops
        offer.picked = []
        await ask_locations(update, context, OFFER, "ol", "offer_ask_where", everywhere=True)
        return O_WHERE
    return await offer_ask_announce(update, context)


async def offer_where_chosen(update: Update, context: Context, places: list[int]) -> int:
    """Where the offer is valid: the locations ticked, or none (everywhere)."""
    draft(context).valid_at = places
    return await offer_ask_announce(update, context)


async def offer_ask_announce(update: Update, context: Context) -> int:
    rows = [
        [
            InlineKeyboardButton(say(context, "btn_announce_yes"), callback_data=f"{OFFER}:yes"),
            InlineKeyboardButton(say(context, "btn_announce_no"), callback_data=f"{OFFER}:no"),
        ]
    ]
    await reply(
        update, say(context, "offer_ask_announce"), reply_markup=with_cancel(context, OFFER, rows)
    )
    return O_ANNOUNCE


async def offer_announce(update: Update, context: Context) -> int:
    args = await pressed(update)
    draft(context).announce = args[:1] == ["yes"]
    return await offer_preview(update, context)


def draft(context: Context) -> OfferDraft:
    drafts = context.drafts
    if drafts.offer is None:
        drafts.offer = OfferDraft()
    return drafts.offer


def new_offer(offer: OfferDraft) -> NewOffer | None:
    """The offer the draft describes; None when a step is missing (a draft lost on the way)."""
    if offer.starts_at is None or offer.ends_at is None or not offer.title or not offer.audience:
        return None
    return NewOffer(
        title=offer.title,
        description=offer.description,
        kind=offer.kind,
        multiplier=offer.multiplier,
        bonus_points=offer.bonus,
        reward_id=offer.reward_id,
        starts_at=offer.starts_at,
        ends_at=offer.ends_at,
        window=offer.window,
        audience=offer.audience,
        announce=offer.announce,
        location_ids=tuple(offer.valid_at),
    )


async def draft_lost(update: Update, context: Context) -> int:
    context.drafts.offer = None
    await reply(update, say(context, "offer_draft_lost"))
    return END


async def offer_preview(update: Update, context: Context) -> int:
    offer = new_offer(draft(context))
    if offer is None:
        return await draft_lost(update, context)
    services = context.services
    value = value_of(offer, await reward_titles(context))
    lines = [
        say(context, "offer_preview_title"),
        say(context, "offer_preview_name", title=offer.title),
        *([html.escape(offer.description, quote=False)] if offer.description else []),
        describe_effect(context, offer.kind, value),
        *hours_lines(context, offer.window),
        say(
            context,
            "offer_preview_dates",
            start=when(context, offer.starts_at),
            end=when(context, offer.ends_at),
        ),
        say(
            context,
            "offer_preview_audience",
            audience=await describe_audience(context, offer.audience),
            count=await services.offers.audience_size(offer.audience),
        ),
        *await valid_at(context, offer.location_ids),
        say(context, "offer_preview_announce" if offer.announce else "offer_preview_silent"),
    ]
    rows = [[InlineKeyboardButton(say(context, "btn_save"), callback_data=f"{OFFER}:save")]]
    await reply(update, "\n".join(lines), reply_markup=with_cancel(context, OFFER, rows))
    return O_CONFIRM


async def offer_save(update: Update, context: Context) -> int:
    await pressed(update)
    user = update.effective_user
    offer = new_offer(draft(context))
    if offer is None:
        return await draft_lost(update, context)
    context.drafts.offer = None
    if user is None:
        return END
    saved = await context.services.offers.create(user.id, offer)
    if update.callback_query is not None:
        await remove_buttons(update)
    await reply(
        update,
        say(
            context,
            "offer_saved",
            id=str(saved.id),
            start=when(context, saved.starts_at),
            end=when(context, saved.ends_at),
        ),
    )
    return END


@requires(Role.OWNER)
async def end_offer_pressed(update: Update, context: Context) -> None:
    """End an offer early."""
    args = await button_args(update, context, 1, numeric=(0,))
    user = update.effective_user
    if args is None or user is None:
        return
    try:
        offer = await context.services.offers.end(user.id, args.number(0))
    except OfferNotFound:
        await reply(update, say(context, "offer_not_found"))
        return
    await reply(update, say(context, "offer_ended", id=str(offer.id), title=offer.title))


def offer_conversation() -> ConversationHandler[Any]:
    """/offer, step by step: title, description, kind, value, start, end, hours,
    audience, announcement, preview and save."""
    return conversation(
        "offer",
        OFFER,
        offer_begin,
        {
            O_TITLE: [MessageHandler(TYPED, offer_title)],
            O_DESCRIPTION: [
                MessageHandler(TYPED, offer_description),
                on_step_button(offer_description, OFFER, "skip$"),
            ],
            O_KIND: [on_step_button(offer_kind, OFFER, "(multiplier|bonus|coupon)$")],
            O_VALUE: [
                MessageHandler(TYPED, offer_value),
                on_step_button(offer_reward, OFFER, r"rw:"),
            ],
            O_START: [
                MessageHandler(TYPED, offer_starts),
                on_step_button(offer_starts, OFFER, "now$"),
            ],
            O_END: [MessageHandler(TYPED, offer_ends)],
            O_WINDOW: [
                MessageHandler(TYPED, offer_window),
                on_step_button(offer_window, OFFER, "any$"),
            ],
            **audience_steps(
                OFFER,
                O_AUDIENCE,
                O_LAPSED,
                offer_audience_chosen,
                draft_of=draft,
                places_state=O_PLACES,
                visit_days_state=O_VISIT_DAYS,
            ),
            O_WHERE: location_picker(OFFER, "ol", draft, offer_where_chosen, everywhere=True),
            O_ANNOUNCE: [on_step_button(offer_announce, OFFER, "(yes|no)$")],
            O_CONFIRM: [on_step_button(offer_save, OFFER, "save$")],
        },
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/offers (and its keyboard button) for everyone, each role seeing its own view; the
    owner's End button."""
    return [
        CommandHandler("offers", offers_command),
        on_keyboard("btn_offers", offers_command),
        on_button(END_OFFER, end_offer_pressed),
    ]
