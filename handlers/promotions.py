"""Offers and broadcasts (owners), offers and promotion settings (customers)."""

from __future__ import annotations

import html
import logging
import re
import warnings
from collections.abc import Awaitable, Callable
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus, MessageLimit, ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.domain import Member, NewOffer, Offer
from bot.inputs import parse_int
from bot.offers import parse_audience, parse_local_datetime, parse_window
from bot.services.membership import BirthdayLocked
from bot.services.offers import OfferNotFound
from bot.services.roles import Role
from handlers.common import (
    Context,
    button_args,
    edit_text,
    get_broadcaster,
    get_services,
    local_time,
    member_only,
    remove_buttons,
    reply,
    requires,
    say,
)

logger = logging.getLogger(__name__)

OFFER = "of"
BROADCAST = "bc"
END_OFFER = "ofend"
PROMOTIONS = "promo"
DATETIME = "%d %b %H:%M"
CONVERSATION_TIMEOUT_SECONDS = 15 * 60
_TAGS = r"(b|strong|i|em|u|ins|s|strike|del|a|code|pre|tg-spoiler|blockquote)\b"
TYPED_TAG = re.compile(rf"</?{_TAGS}")
STRAY_LESS_THAN = re.compile(rf"<(?!/?{_TAGS})")
BARE_AMPERSAND = re.compile(r"&(?!#?\w+;)")

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
) = range(11)
B_MESSAGE, B_AUDIENCE, B_LAPSED, B_CONFIRM = range(100, 104)
END = ConversationHandler.END


def draft(context: Context, key: str) -> dict[str, Any]:
    data = cast(dict[str, Any], context.user_data)
    return cast(dict[str, Any], data.setdefault(key, {}))


def cancel_row(context: Context, prefix: str) -> list[InlineKeyboardButton]:
    return [InlineKeyboardButton(say(context, "btn_cancel"), callback_data=f"{prefix}:cancel")]


def with_cancel(
    context: Context, prefix: str, rows: list[list[InlineKeyboardButton]] | None = None
) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([*(rows or []), cancel_row(context, prefix)])


async def ask(update: Update, context: Context, prefix: str, key: str, **values: object) -> None:
    await reply(update, say(context, key, **values), reply_markup=with_cancel(context, prefix))


def message_text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message else ""


# -- describing offers and audiences ---------------------------------------------------------


def describe_audience(context: Context, audience: str) -> str:
    parsed = parse_audience(audience)
    if parsed.kind == "tier":
        return say(context, "audience_tier", tier=parsed.value)
    if parsed.kind == "lapsed":
        return say(context, "audience_lapsed", days=parsed.value)
    return say(context, f"audience_{parsed.kind}")


def describe_effect(context: Context, kind: str, value: object) -> str:
    if isinstance(value, Decimal):
        value = value.normalize()
    return say(context, f"offer_effect_{kind}", value=value)


async def reward_titles(context: Context) -> dict[int, str]:
    return {reward.id: reward.title for reward in await get_services(context).catalog.list()}


def effect_of(context: Context, offer: Offer, rewards: dict[int, str]) -> str:
    if offer.kind == "coupon":
        return describe_effect(context, "coupon", rewards.get(offer.reward_id or 0, "?"))
    value: object = offer.multiplier if offer.kind == "multiplier" else offer.bonus_points
    return describe_effect(context, offer.kind, value)


def window_text(context: Context, window: str | None) -> str:
    return say(context, "offer_window", window=window) if window else ""


def audience_keyboard(context: Context, prefix: str) -> InlineKeyboardMarkup:
    tiers = get_services(context).settings.tiers
    rows = [[InlineKeyboardButton(say(context, "audience_all"), callback_data=f"{prefix}:aud:all")]]
    rows.append(
        [
            InlineKeyboardButton(
                say(context, "audience_tier", tier=tier.name), callback_data=f"{prefix}:aud:t{i}"
            )
            for i, tier in enumerate(tiers)
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                say(context, "audience_lapsed_button"), callback_data=f"{prefix}:aud:lapsed"
            ),
            InlineKeyboardButton(
                say(context, "audience_birthday"), callback_data=f"{prefix}:aud:birthday"
            ),
        ]
    )
    return with_cancel(context, prefix, rows)


def chosen_audience(context: Context, choice: str) -> str | None:
    """The audience a button names; None when the owner must still say how many days."""
    tier_index = parse_int(choice[1:]) if choice.startswith("t") else None
    if tier_index is not None:
        tiers = get_services(context).settings.tiers
        return f"tier:{tiers[tier_index].name}" if tier_index < len(tiers) else "all"
    if choice == "lapsed":
        return None
    return "birthday" if choice == "birthday" else "all"


def lapsed_days(text: str) -> str | None:
    days = parse_int(text, low=1, high=3650)
    return None if days is None else f"lapsed:{days}"


AudienceChosen = Callable[[Update, Context, str], Awaitable[int]]


async def audience_pressed(
    update: Update, context: Context, prefix: str, lapsed_state: int, chosen: AudienceChosen
) -> int:
    """An audience button in either conversation; "lapsed" first asks for the days."""
    args = await pressed(update)
    audience = chosen_audience(context, args[1] if len(args) == 2 else "all")
    if audience is None:
        await ask(update, context, prefix, "ask_lapsed_days")
        return lapsed_state
    return await chosen(update, context, audience)


async def lapsed_typed(
    update: Update, context: Context, prefix: str, lapsed_state: int, chosen: AudienceChosen
) -> int:
    """The number of days for a "no visit for N days" audience."""
    audience = lapsed_days(message_text(update))
    if audience is None:
        await ask(update, context, prefix, "bad_lapsed_days")
        return lapsed_state
    return await chosen(update, context, audience)


async def pressed(update: Update) -> list[str]:
    """Answer a conversation button and return what follows its prefix."""
    query = update.callback_query
    if query is None:
        return []
    await query.answer()
    return (query.data or "").split(":")[1:]


async def cancel_conversation(update: Update, context: Context) -> int:
    """/cancel or a Cancel button, at any step: drop the draft, save nothing."""
    if update.callback_query is not None:
        await update.callback_query.answer()
        await remove_buttons(update)
    data = cast(dict[str, Any], context.user_data)
    data.pop(OFFER, None)
    data.pop(BROADCAST, None)
    await reply(update, say(context, "conversation_cancelled"))
    return END


# -- the /offer conversation -----------------------------------------------------------------


@requires(Role.OWNER)
async def offer_begin(update: Update, context: Context) -> int:
    """/offer: start the guided conversation for a new offer."""
    cast(dict[str, Any], context.user_data)[OFFER] = {}
    await ask(update, context, OFFER, "offer_ask_title")
    return O_TITLE


async def offer_title(update: Update, context: Context) -> int:
    title = " ".join(message_text(update).split())
    if not 1 <= len(title) <= 60:
        await ask(update, context, OFFER, "offer_ask_title")
        return O_TITLE
    draft(context, OFFER)["title"] = title
    await ask(update, context, OFFER, "offer_ask_description")
    return O_DESCRIPTION


async def offer_description(update: Update, context: Context) -> int:
    text = message_text(update)
    draft(context, OFFER)["description"] = "" if text == "-" else text[:300]
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
    draft(context, OFFER)["kind"] = kind
    if kind != "coupon":
        await ask(update, context, OFFER, f"offer_ask_{kind}")
        return O_VALUE
    rewards = await get_services(context).catalog.list(active_only=True)
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
    offer = draft(context, OFFER)
    text = message_text(update).replace(",", ".").lstrip("x×+")
    try:
        if offer.get("kind") == "multiplier":
            value = Decimal(text)
            if not (1 < value <= 10):
                raise InvalidOperation
            offer["multiplier"] = value
        else:
            bonus = parse_int(text, low=1, high=10_000)
            if bonus is None:
                raise InvalidOperation
            offer["bonus"] = bonus
    except InvalidOperation:
        await ask(update, context, OFFER, f"offer_bad_{offer.get('kind', 'bonus')}")
        return O_VALUE
    await ask(update, context, OFFER, "offer_ask_start")
    return O_START


async def offer_reward(update: Update, context: Context) -> int:
    args = await pressed(update)
    reward_id = parse_int(args[1]) if len(args) == 2 else None
    if reward_id is None:
        return O_VALUE
    draft(context, OFFER)["reward_id"] = reward_id
    await ask(update, context, OFFER, "offer_ask_start")
    return O_START


async def offer_starts(update: Update, context: Context) -> int:
    services = get_services(context)
    try:
        starts = parse_local_datetime(
            message_text(update), services.settings.tz, services.clock.now()
        )
    except ValueError:
        await ask(update, context, OFFER, "offer_bad_date")
        return O_START
    draft(context, OFFER)["starts_at"] = starts
    await ask(update, context, OFFER, "offer_ask_end")
    return O_END


async def offer_ends(update: Update, context: Context) -> int:
    services = get_services(context)
    offer = draft(context, OFFER)
    try:
        ends = parse_local_datetime(
            message_text(update), services.settings.tz, services.clock.now()
        )
    except ValueError:
        await ask(update, context, OFFER, "offer_bad_date")
        return O_END
    if ends <= offer["starts_at"] or ends <= services.clock.now():
        start = local_time(context, offer["starts_at"], DATETIME)
        await ask(update, context, OFFER, "offer_end_before_start", start=start)
        return O_END
    offer["ends_at"] = ends
    rows = [[InlineKeyboardButton(say(context, "btn_any_time"), callback_data=f"{OFFER}:any")]]
    await reply(
        update, say(context, "offer_ask_window"), reply_markup=with_cancel(context, OFFER, rows)
    )
    return O_WINDOW


async def offer_window(update: Update, context: Context) -> int:
    if update.callback_query is not None:
        await pressed(update)
        draft(context, OFFER)["window"] = None
    else:
        try:
            draft(context, OFFER)["window"] = str(parse_window(message_text(update)))
        except ValueError:
            await ask(update, context, OFFER, "offer_bad_window")
            return O_WINDOW
    await reply(
        update, say(context, "offer_ask_audience"), reply_markup=audience_keyboard(context, OFFER)
    )
    return O_AUDIENCE


async def offer_audience(update: Update, context: Context) -> int:
    return await audience_pressed(update, context, OFFER, O_LAPSED, offer_audience_chosen)


async def offer_lapsed(update: Update, context: Context) -> int:
    return await lapsed_typed(update, context, OFFER, O_LAPSED, offer_audience_chosen)


async def offer_audience_chosen(update: Update, context: Context, audience: str) -> int:
    offer = draft(context, OFFER)
    offer["audience"] = audience
    if offer.get("kind") == "coupon":
        offer["announce"] = True  # a gift nobody hears about is no gift
        return await offer_preview(update, context)
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
    draft(context, OFFER)["announce"] = args[:1] == ["yes"]
    return await offer_preview(update, context)


def new_offer(offer: dict[str, Any]) -> NewOffer:
    return NewOffer(
        title=offer["title"],
        description=offer.get("description", ""),
        kind=offer["kind"],
        multiplier=offer.get("multiplier"),
        bonus_points=offer.get("bonus"),
        reward_id=offer.get("reward_id"),
        starts_at=offer["starts_at"],
        ends_at=offer["ends_at"],
        window=offer.get("window"),
        audience=offer["audience"],
        announce=bool(offer.get("announce")),
    )


async def offer_preview(update: Update, context: Context) -> int:
    offer = draft(context, OFFER)
    services = get_services(context)
    if offer["kind"] == "coupon":
        reward = next(
            (r for r in await services.catalog.list() if r.id == offer.get("reward_id")), None
        )
        effect = describe_effect(context, "coupon", reward.title if reward else "?")
    else:
        value = offer.get("multiplier") if offer["kind"] == "multiplier" else offer.get("bonus")
        effect = describe_effect(context, offer["kind"], value)
    description = f"{offer['description']}\n" if offer.get("description") else ""
    text = say(
        context,
        "offer_preview",
        title=offer["title"],
        description=description,
        effect=effect,
        window=window_text(context, offer.get("window")),
        start=local_time(context, offer["starts_at"], DATETIME),
        end=local_time(context, offer["ends_at"], DATETIME),
        audience=describe_audience(context, offer["audience"]),
        count=await services.offers.audience_size(offer["audience"]),
        announce=say(
            context, "offer_preview_announce" if offer.get("announce") else "offer_preview_silent"
        ),
    )
    rows = [[InlineKeyboardButton(say(context, "btn_save"), callback_data=f"{OFFER}:save")]]
    await reply(update, text, reply_markup=with_cancel(context, OFFER, rows))
    return O_CONFIRM


async def offer_save(update: Update, context: Context) -> int:
    await pressed(update)
    user = update.effective_user
    data = cast(dict[str, Any], context.user_data)
    offer = data.pop(OFFER, None)
    if user is None or not offer:
        return END
    saved = await get_services(context).offers.create(user.id, new_offer(offer))
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


# -- /offers ---------------------------------------------------------------------------------


@member_only
async def customer_offers(update: Update, context: Context, member: Member) -> None:
    """Offers running now for this customer, and when each ends."""
    offers = await get_services(context).offers.current_for(member)
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
    await reply(update, "\n".join(lines))


async def owner_offers(update: Update, context: Context) -> None:
    """All recent offers with their state, and a button to end each running one early."""
    services = get_services(context)
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
                audience=describe_audience(context, offer.audience),
                start=local_time(context, offer.starts_at, DATETIME),
                end=local_time(context, offer.ends_at, DATETIME),
                state=say(context, f"offer_state_{state}"),
            )
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
        offer = await get_services(context).offers.end(user.id, int(args[0]))
    except OfferNotFound:
        await reply(update, say(context, "offer_not_found"))
        return
    await reply(update, say(context, "offer_ended", id=offer.id, title=offer.title))


# -- the /broadcast conversation -------------------------------------------------------------


@requires(Role.OWNER)
async def broadcast_begin(update: Update, context: Context) -> int:
    """/broadcast: write, pick the audience, preview, confirm."""
    cast(dict[str, Any], context.user_data)[BROADCAST] = {}
    await ask(update, context, BROADCAST, "broadcast_ask_message")
    return B_MESSAGE


async def broadcast_message(update: Update, context: Context) -> int:
    message = update.effective_message
    if message is None:
        return B_MESSAGE
    plain = message.caption if message.photo else message.text
    limit = MessageLimit.CAPTION_LENGTH if message.photo else MessageLimit.MAX_TEXT_LENGTH
    if plain is not None and len(plain) > limit:
        await ask(update, context, BROADCAST, "broadcast_too_long", length=len(plain), limit=limit)
        return B_MESSAGE
    entry = draft(context, BROADCAST)
    entry["photo"] = message.photo[-1].file_id if message.photo else None
    entry["text"] = broadcast_html(message)
    await reply(
        update,
        say(context, "broadcast_ask_audience"),
        reply_markup=audience_keyboard(context, BROADCAST),
    )
    return B_AUDIENCE


def broadcast_html(message: Message) -> str:
    """The owner's message as HTML: Telegram's own formatting (bold, links…) is kept, and a
    message without any may use HTML tags typed by hand (the preview checks them)."""
    formatted = bool(message.caption_entities if message.photo else message.entities)
    if formatted:
        return (message.caption_html if message.photo else message.text_html) or ""
    plain = (message.caption if message.photo else message.text) or ""
    if not TYPED_TAG.search(plain):
        return html.escape(plain, quote=False)
    # Typed tags are kept; a bare "&" or a "<" that opens no tag is text, so escape it.
    plain = BARE_AMPERSAND.sub("&amp;", plain)
    return STRAY_LESS_THAN.sub("&lt;", plain)


async def broadcast_audience(update: Update, context: Context) -> int:
    return await audience_pressed(update, context, BROADCAST, B_LAPSED, broadcast_preview)


async def broadcast_lapsed(update: Update, context: Context) -> int:
    return await lapsed_typed(update, context, BROADCAST, B_LAPSED, broadcast_preview)


async def broadcast_preview(update: Update, context: Context, audience: str) -> int:
    entry = draft(context, BROADCAST)
    entry["audience"] = audience
    count = await get_services(context).offers.audience_size(audience)
    chat = update.effective_chat
    if count == 0 or chat is None:
        cast(dict[str, Any], context.user_data).pop(BROADCAST, None)
        await reply(update, say(context, "broadcast_nobody"))
        return END
    try:
        if entry["photo"]:
            await chat.send_photo(entry["photo"], caption=entry["text"], parse_mode=ParseMode.HTML)
        else:
            await chat.send_message(entry["text"], parse_mode=ParseMode.HTML)
    except BadRequest as error:
        logger.info("Broadcast preview rejected: %s", error)
        await ask(update, context, BROADCAST, "broadcast_bad_html")
        return B_MESSAGE
    rows = [[InlineKeyboardButton(say(context, "btn_send"), callback_data=f"{BROADCAST}:send")]]
    await reply(
        update,
        say(
            context,
            "broadcast_preview",
            count=count,
            audience=describe_audience(context, audience),
        ),
        reply_markup=with_cancel(context, BROADCAST, rows),
    )
    return B_CONFIRM


async def broadcast_send(update: Update, context: Context) -> int:
    await pressed(update)
    user = update.effective_user
    entry = cast(dict[str, Any], context.user_data).pop(BROADCAST, None)
    if user is None or not entry:
        return END
    broadcast = await get_services(context).broadcasts.create(
        created_by=user.id,
        text=entry["text"],
        photo_file_id=entry["photo"],
        audience=entry["audience"],
    )
    queued = say(context, "broadcast_queued", id=broadcast.id, count=broadcast.total)
    # The question turns into the confirmation: one message less in the owner's chat.
    if update.callback_query is not None:
        await edit_text(update, queued)
    else:
        await reply(update, queued)
    get_broadcaster(context).wake()
    return END


@requires(Role.OWNER)
async def broadcasts_command(update: Update, context: Context) -> None:
    """/broadcasts: past broadcasts with their figures."""
    services = get_services(context)
    broadcasts = await services.broadcasts.recent()
    if not broadcasts:
        await reply(update, say(context, "broadcasts_none"))
        return
    lines = [say(context, "broadcasts_title")]
    for broadcast in broadcasts:
        counts = await services.broadcasts.counts(broadcast.id)
        lines.append(
            say(
                context,
                "broadcasts_line",
                id=broadcast.id,
                date=local_time(context, broadcast.created_at, DATETIME),
                audience=describe_audience(context, broadcast.audience),
                sent=counts.sent,
                total=broadcast.total,
                failed=counts.failed,
                blocked=counts.blocked,
                state=say(context, f"broadcast_state_{broadcast.state}"),
            )
        )
    await reply(update, "\n".join(lines))


# -- customers: settings and reachability ---------------------------------------------------


async def settings_view(context: Context, member: Member) -> tuple[str, InlineKeyboardMarkup]:
    preferences = await get_services(context).members.preferences(member)
    lines = [
        say(context, "settings_title"),
        say(
            context,
            "settings_promotions_on" if preferences.promotions else "settings_promotions_off",
        ),
    ]
    lines.append(
        say(context, "settings_service_on" if preferences.service else "settings_service_off")
    )
    if preferences.birthday:
        month, day = preferences.birthday.split("-")
        lines.append(say(context, "settings_birthday", birthday=f"{day}.{month}"))
    else:
        lines.append(say(context, "settings_birthday_unset"))
    lines.append(say(context, "settings_privacy"))
    toggle = "btn_promotions_off" if preferences.promotions else "btn_promotions_on"
    value = 0 if preferences.promotions else 1
    service_toggle = "btn_service_off" if preferences.service else "btn_service_on"
    service_value = 0 if preferences.service else 1
    buttons = [
        [InlineKeyboardButton(say(context, toggle), callback_data=f"{PROMOTIONS}:{value}")],
        [
            InlineKeyboardButton(
                say(context, service_toggle), callback_data=f"{PROMOTIONS}:s{service_value}"
            )
        ],
    ]
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


@member_only
async def settings_command(update: Update, context: Context, member: Member) -> None:
    """/settings: allow or stop promotional messages; birthday."""
    text, markup = await settings_view(context, member)
    await reply(update, text, reply_markup=markup)


async def promotions_pressed(update: Update, context: Context) -> None:
    """The two switches: offers and news; points reminders and the birthday treat.
    Receipts and coupon messages are not affected by either."""
    args = await button_args(update, context, 1)
    user = update.effective_user
    if args is None or args[0] not in ("0", "1", "s0", "s1") or user is None:
        return
    services = get_services(context)
    member = await services.members.find(user.id)
    if member is None:
        return
    if args[0].startswith("s"):
        await services.members.set_service(member, service=args[0] == "s1")
    else:
        await services.members.set_promotions(member, args[0] == "1")
    text, markup = await settings_view(context, member)
    await edit_text(update, text, reply_markup=markup)


@member_only
async def birthday_command(update: Update, context: Context, member: Member) -> None:
    """/birthday 24.12: for birthday offers."""
    try:
        preferences = await get_services(context).members.set_birthday(
            member, " ".join(context.args or [])
        )
    except BirthdayLocked as locked:
        month, day = (locked.current.birthday or "00-00").split("-")
        date = local_time(context, locked.unlocks, "%d %b %Y")
        await reply(update, say(context, "birthday_locked", birthday=f"{day}.{month}", date=date))
        return
    except ValueError:
        await reply(update, say(context, "birthday_usage"))
        return
    month, day = (preferences.birthday or "00-00").split("-")
    await reply(update, say(context, "birthday_saved", birthday=f"{day}.{month}"))


async def bot_membership_changed(update: Update, context: Context) -> None:
    """Telegram tells us when someone blocks or unblocks the bot."""
    change = update.my_chat_member
    if change is None:
        return
    reachable = change.new_chat_member.status not in (
        ChatMemberStatus.BANNED,
        ChatMemberStatus.LEFT,
    )
    await get_services(context).members.set_reachable(change.chat.id, reachable)


# -- registration -----------------------------------------------------------------------------


def conversations() -> list[BaseHandler[Any, Any, Any]]:
    """The owner conversations. Register them before any plain text handler.

    Only the entry commands pass the permission gate: a conversation's later steps are
    reachable only from a chat that entered it, i.e. an owner's.
    """
    text = filters.TEXT & ~filters.COMMAND

    def on_button(callback: Any, prefix: str, pattern: str) -> CallbackQueryHandler[Any, Any]:
        return CallbackQueryHandler(callback, pattern=rf"^{prefix}:{pattern}")

    cancel: list[BaseHandler[Update, Any, Any]] = [
        CommandHandler("cancel", cancel_conversation),
        CallbackQueryHandler(cancel_conversation, pattern=rf"^({OFFER}|{BROADCAST}):cancel$"),
    ]
    # PTB warns that CallbackQueryHandlers are tracked per chat, not per message; that is
    # what these conversations want (one draft per owner chat).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message.*")
        offer = ConversationHandler(
            entry_points=[CommandHandler("offer", offer_begin, filters=filters.ChatType.PRIVATE)],
            states={
                O_TITLE: [MessageHandler(text, offer_title)],
                O_DESCRIPTION: [MessageHandler(text, offer_description)],
                O_KIND: [on_button(offer_kind, OFFER, "(multiplier|bonus|coupon)$")],
                O_VALUE: [
                    MessageHandler(text, offer_value),
                    on_button(offer_reward, OFFER, r"rw:"),
                ],
                O_START: [MessageHandler(text, offer_starts)],
                O_END: [MessageHandler(text, offer_ends)],
                O_WINDOW: [
                    MessageHandler(text, offer_window),
                    on_button(offer_window, OFFER, "any$"),
                ],
                O_AUDIENCE: [on_button(offer_audience, OFFER, "aud:")],
                O_LAPSED: [MessageHandler(text, offer_lapsed)],
                O_ANNOUNCE: [on_button(offer_announce, OFFER, "(yes|no)$")],
                O_CONFIRM: [on_button(offer_save, OFFER, "save$")],
            },
            fallbacks=cancel,
            conversation_timeout=CONVERSATION_TIMEOUT_SECONDS,
            name="offer",
        )
        broadcast = ConversationHandler(
            entry_points=[
                CommandHandler("broadcast", broadcast_begin, filters=filters.ChatType.PRIVATE)
            ],
            states={
                B_MESSAGE: [MessageHandler(text | filters.PHOTO, broadcast_message)],
                B_AUDIENCE: [on_button(broadcast_audience, BROADCAST, "aud:")],
                B_LAPSED: [MessageHandler(text, broadcast_lapsed)],
                B_CONFIRM: [on_button(broadcast_send, BROADCAST, "send$")],
            },
            fallbacks=cancel,
            conversation_timeout=CONVERSATION_TIMEOUT_SECONDS,
            name="broadcast",
        )
    return [offer, broadcast]
