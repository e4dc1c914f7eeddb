"""What each member reads of a broadcast: the owner's words as written (their version in
the member's language, else the text they wrote first), and the bot's own parts in the
member's language (the button that stops offers and news, an offer announcement's lines).
Written at sending time, in the language each member has then."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import i18n
from bot.domain import Broadcast, Offer
from bot.services.container import Services
from handlers.texts import t

# The button under every broadcast: "<OPT_OUT>:0" stops offers and news, "<OPT_OUT>:1"
# gets them again, "<OPT_OUT>:p" is the owner's preview of it (it changes nothing).
OPT_OUT = "news"
PREVIEW = "p"


def opt_out_markup(reader: str, *, subscribed: bool = True) -> InlineKeyboardMarkup:
    """The button under a broadcast, in the reader's language: stop offers and news (or,
    once stopped, get them again)."""
    if subscribed:
        button = InlineKeyboardButton(t(reader, "btn_promotions_off"), callback_data=f"{OPT_OUT}:0")
    else:
        button = InlineKeyboardButton(t(reader, "btn_promotions_on"), callback_data=f"{OPT_OUT}:1")
    return InlineKeyboardMarkup([[button]])


def preview_markup(reader: str) -> InlineKeyboardMarkup:
    """The same button under the owner's preview, where pressing it only explains it."""
    stop = InlineKeyboardButton(
        t(reader, "btn_promotions_off"), callback_data=f"{OPT_OUT}:{PREVIEW}"
    )
    return InlineKeyboardMarkup([[stop]])


def version_for(broadcast: Broadcast, reader: str) -> str | None:
    """The owner's version in the reader's language, if they wrote one."""
    return broadcast.versions.get(i18n.language_of(reader))


@dataclass(frozen=True, slots=True)
class Letter:
    """One broadcast as each of its recipients reads it."""

    broadcast: Broadcast
    offer: Offer | None = None  # the offer it announces
    gift: str = ""  # the reward an announced gift offer hands out

    def text(self, reader: str) -> str:
        """The message (or photo caption) for a member whose reader is ``reader``."""
        offer = self.offer
        if offer is None:
            return version_for(self.broadcast, reader) or self.broadcast.text
        words = version_for(self.broadcast, reader) or offer.description
        if self.gift and words:
            key = "broadcast_offer_gift_described"
        elif self.gift:
            key = "broadcast_offer_gift"
        else:
            key = "broadcast_offer_described" if words else "broadcast_offer"
        return t(reader, key, title=offer.title, text=words, gift=self.gift)

    def markup(self, reader: str) -> InlineKeyboardMarkup:
        return opt_out_markup(reader)


async def letter_for(services: Services, broadcast: Broadcast) -> Letter:
    """The broadcast with what its recipients' messages are written from: for an offer's
    announcement, the offer and the reward it gives."""
    offer = await services.broadcasts.announced_offer(broadcast)
    if offer is None:
        return Letter(broadcast)
    gift = ""
    if offer.kind == "coupon" and offer.reward_id is not None:
        rewards = {reward.id: reward.title for reward in await services.catalog.list()}
        gift = rewards.get(offer.reward_id, "")
    return Letter(broadcast, offer, gift)


async def owner_reader(services: Services, tg_user_id: int) -> str:
    """The reader of an owner's broadcast progress: their /settings choice, else their
    Telegram's language as known from their membership, else the café's."""
    member = await services.members.find(tg_user_id)
    return await services.languages.reader_of(tg_user_id, member.language if member else None)
