"""How offers read: what customers see in /offers, the owner's list with its End
buttons, and the lines the preview shares with them (what an offer gives, its hours)."""

from __future__ import annotations

from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot import i18n
from bot.domain import Member, NewOffer, Offer
from bot.services.roles import Role
from handlers.common import Context, lang, member_only, reply, requires, say
from handlers.offer_windows import hours_line
from handlers.wizard import describe_audience, place_names, valid_at, when

END_OFFER = "ofend"


def effect_value(context: Context, value: object) -> object:
    """A multiplier as the reader writes a number ("1.5", "1,5"); points and titles as they are."""
    return i18n.number(lang(context), value.normalize()) if isinstance(value, Decimal) else value


def describe_effect(context: Context, kind: str, value: object) -> str:
    """What an offer gives, on a line of its own ("Gives: ×2 points")."""
    return say(context, f"offer_effect_{kind}", value=effect_value(context, value))


async def reward_titles(context: Context) -> dict[int, str]:
    return {reward.id: reward.title for reward in await context.services.catalog.list()}


def value_of(offer: Offer | NewOffer, rewards: dict[int, str]) -> object:
    """What an offer gives: its multiplier, its bonus points or its reward's title."""
    if offer.kind == "coupon":
        return rewards.get(offer.reward_id or 0, "?")
    return offer.multiplier if offer.kind == "multiplier" else offer.bonus_points


def hours_lines(context: Context, window: str | None) -> list[str]:
    """The line with an offer's hours, when it has some."""
    return [hours_line(context, window)] if window else []


@member_only
async def customer_offers(update: Update, context: Context, member: Member) -> None:
    """Offers running now for this customer, and when each ends."""
    offers = await context.services.offers.current_for(member)
    if not offers:
        await reply(update, say(context, "offers_none"))
        return
    rewards = await reward_titles(context)
    lines = [say(context, "offers_title")]
    for offer in offers:
        value = effect_value(context, value_of(offer, rewards))
        end = when(context, offer.ends_at)
        lines.append(
            say(context, f"offers_line_{offer.kind}", title=offer.title, value=value, end=end)
        )
        if offer.description:
            lines.append(say(context, "offers_line_description", description=offer.description))
        lines.extend(hours_lines(context, offer.window))
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
        lines.extend(
            [
                "",
                say(
                    context,
                    f"offers_owner_{state}",
                    id=str(offer.id),
                    title=offer.title,
                    start=when(context, offer.starts_at),
                    end=when(context, offer.ends_at),
                ),
                describe_effect(context, offer.kind, value_of(offer, rewards)),
                *hours_lines(context, offer.window),
                say(
                    context, "offer_for", audience=await describe_audience(context, offer.audience)
                ),
                *await valid_at(context, offer.location_ids),
            ]
        )
        if state != "ended":
            label = say(context, "btn_end_offer", id=str(offer.id))
            rows.append([InlineKeyboardButton(label, callback_data=f"{END_OFFER}:{offer.id}")])
    await reply(update, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows) if rows else None)


offers_command = requires(Role.OWNER, otherwise=customer_offers)(owner_offers)
