"""Offers: the owner's /offer wizard, /offers with early ending, and what customers see
in /offers."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.domain import Member, NewOffer, Offer
from bot.inputs import parse_int
from bot.offers import parse_local_datetime, parse_window
from bot.services.offers import OfferNotFound
from bot.services.roles import Role
from handlers.common import (
    Context,
    button_args,
    local_time,
    member_only,
    on_button,
    on_keyboard,
    remove_buttons,
    reply,
    requires,
    say,
)
from handlers.context import OfferDraft
from handlers.wizard import (
    DATETIME,
    END,
    TYPED,
    ask,
    ask_locations,
    audience_keyboard,
    audience_steps,
    conversation,
    describe_audience,
    location_picker,
    message_text,
    on_step_button,
    place_names,
    pressed,
    valid_at,
    with_cancel,
)

logger = logging.getLogger(__name__)


OFFER = "of"
END_OFFER = "ofend"


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


def describe_effect(context: Context, kind: str, value: object) -> str:
    if isinstance(value, Decimal):
        value = value.normalize()
    return say(context, f"offer_effect_{kind}", value=value)


async def reward_titles(context: Context) -> dict[int, str]:
    return {reward.id: reward.title for reward in await context.services.catalog.list()}


def effect_of(context: Context, offer: Offer, rewards: dict[int, str]) -> str:
    if offer.kind == "coupon":
        return describe_effect(context, "coupon", rewards.get(offer.reward_id or 0, "?"))
    value: object = offer.multiplier if offer.kind == "multiplier" else offer.bonus_points
    return describe_effect(context, offer.kind, value)


def window_text(context: Context, window: str | None) -> str:
    return say(context, "offer_window", window=window) if window else ""


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
    await ask(update, context, OFFER, "offer_ask_description")
    return O_DESCRIPTION


async def offer_description(update: Update, context: Context) -> int:
    text = message_text(update)
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
    await ask(update, context, OFFER, "offer_ask_start")
    return O_START


async def offer_reward(update: Update, context: Context) -> int:
    args = await pressed(update)
    reward_id = parse_int(args[1]) if len(args) == 2 else None
    if reward_id is None:
        return O_VALUE
    draft(context).reward_id = reward_id
    await ask(update, context, OFFER, "offer_ask_start")
    return O_START


async def offer_starts(update: Update, context: Context) -> int:
    services = context.services
    try:
        starts = parse_local_datetime(
            message_text(update), services.settings.tz, services.clock.now()
        )
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
        ends = parse_local_datetime(
            message_text(update), services.settings.tz, services.clock.now()
        )
    except ValueError:
        await ask(update, context, OFFER, "offer_bad_date")
        return O_END
    starts = offer.starts_at or services.clock.now()
    if ends <= starts or ends <= services.clock.now():
        start = local_time(context, starts, DATETIME)
        await ask(update, context, OFFER, "offer_end_before_start", start=start)
        return O_END
    offer.ends_at = ends
    rows = [[InlineKeyboardButton(say(context, "btn_any_time"), callback_data=f"{OFFER}:any")]]
    await reply(
        update, say(context, "offer_ask_window"), reply_markup=with_cancel(context, OFFER, rows)
    )
    return O_WINDOW


async def offer_window(update: Update, context: Context) -> int:
    if update.callback_query is not None:
        await pressed(update)
        draft(context).window = None
    else:
        try:
            draft(context).window = str(parse_window(message_text(update)))
        except ValueError:
            await ask(update, context, OFFER, "offer_bad_window")
            return O_WINDOW
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
    if offer.kind == "coupon":
        reward = next((r for r in await services.catalog.list() if r.id == offer.reward_id), None)
        effect = describe_effect(context, "coupon", reward.title if reward else "?")
    else:
        value = offer.multiplier if offer.kind == "multiplier" else offer.bonus_points
        effect = describe_effect(context, offer.kind, value)
    description = f"{offer.description}\n" if offer.description else ""
    text = say(
        context,
        "offer_preview",
        title=offer.title,
        description=description,
        effect=effect,
        window=window_text(context, offer.window),
        start=local_time(context, offer.starts_at, DATETIME),
        end=local_time(context, offer.ends_at, DATETIME),
        audience=await describe_audience(context, offer.audience),
        count=await services.offers.audience_size(offer.audience),
        announce=say(
            context, "offer_preview_announce" if offer.announce else "offer_preview_silent"
        ),
    )
    text += await valid_at(context, offer.location_ids)
    rows = [[InlineKeyboardButton(say(context, "btn_save"), callback_data=f"{OFFER}:save")]]
    await reply(update, text, reply_markup=with_cancel(context, OFFER, rows))
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
            id=saved.id,
            start=local_time(context, saved.starts_at, DATETIME),
            end=local_time(context, saved.ends_at, DATETIME),
        ),
    )
    return END


@member_only
async def customer_offers(update: Update, context: Context, member: Member) -> None:
    """Offers running now for this customer, and when each ends."""
    offers = await context.services.offers.current_for(member)
    if not offers:
        await reply(update, say(context, "offers_none"))
        return
    lines = [say(context, "offers_title")]
    for offer in offers:
        lines.append(
            say(
                context,
                "offers_line",
                title=offer.title,
                effect=effect_of(context, offer, {}),
                window=window_text(context, offer.window),
                end=local_time(context, offer.ends_at, DATETIME),
            )
        )
        if offer.description:
            lines.append(say(context, "offers_line_description", description=offer.description))
        if offer.location_ids:  # limited to some shops: say which
            places = await place_names(context, offer.location_ids)
            lines.append(say(context, "offers_line_where", places=places))
    await reply(update, "\n".join(lines))


async def owner_offers(update: Update, context: Context) -> None:
    """All recent offers with their state, and a button to end each running one early."""
    services = context.services
    offers = await services.offers.recent()
    if not offers:
        await reply(update, say(context, "offers_owner_none"))
        return
    now = services.clock.now()
    rewards = await reward_titles(context)
    lines, rows = [say(context, "offers_owner_title")], []
    for offer in offers:
        state = (
            "ended" if offer.is_over(now) else "running" if offer.starts_at <= now else "upcoming"
        )
        lines.append(
            say(
                context,
                "offers_owner_line",
                id=offer.id,
                title=offer.title,
                effect=effect_of(context, offer, rewards),
                window=window_text(context, offer.window),
                audience=await describe_audience(context, offer.audience),
                start=local_time(context, offer.starts_at, DATETIME),
                end=local_time(context, offer.ends_at, DATETIME),
                state=say(context, f"offer_state_{state}"),
            )
            + await valid_at(context, offer.location_ids)
        )
        if state != "ended":
            label = say(context, "btn_end_offer", id=offer.id)
            rows.append([InlineKeyboardButton(label, callback_data=f"{END_OFFER}:{offer.id}")])
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows) if rows else None)


offers_command = requires(Role.OWNER, otherwise=customer_offers)(owner_offers)


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
    await reply(update, say(context, "offer_ended", id=offer.id, title=offer.title))


def offer_conversation() -> ConversationHandler[Any]:
    """/offer, step by step: title, description, kind, value, start, end, hours,
    audience, announcement, preview and save."""
    return conversation(
        "offer",
        OFFER,
        offer_begin,
        {
            O_TITLE: [MessageHandler(TYPED, offer_title)],
            O_DESCRIPTION: [MessageHandler(TYPED, offer_description)],
            O_KIND: [on_step_button(offer_kind, OFFER, "(multiplier|bonus|coupon)$")],
            O_VALUE: [
                MessageHandler(TYPED, offer_value),
                on_step_button(offer_reward, OFFER, r"rw:"),
            ],
            O_START: [MessageHandler(TYPED, offer_starts)],
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
