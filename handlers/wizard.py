"""The kit the owner's step-by-step conversations share: asking with a Cancel button,
reading a pressed button, the words an owner may type (theirs and English), dates in
their language, the audience picker with its "days without a visit" step and
(in a chain) "who bought at these locations lately", the location picker, cancelling,
and the persistent ConversationHandler they are built into."""

from __future__ import annotations

import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import i18n
from bot.inputs import alternatives, parse_int
from bot.offers import parse_audience, visited_audience
from handlers.common import Context, lang, remove_buttons, reply, say
from handlers.texts import t

CONVERSATION_TIMEOUT_SECONDS = 15 * 60
END = ConversationHandler.END
# What an owner types at a step: plain text, never a command (/cancel ends the wizard).
TYPED = filters.TEXT & ~filters.COMMAND

Step = Callable[[Update, Context], Coroutine[Any, Any, int]]
AudienceChosen = Callable[[Update, Context, str], Awaitable[int]]
PlacesChosen = Callable[[Update, Context, list[int]], Awaitable[int]]
StepHandlers = list[BaseHandler[Update, Any, Any]]


class Picking(Protocol):
    """A draft that keeps the locations being picked (ids), between button presses."""

    picked: list[int]


DraftOf = Callable[[Context], Picking]


def with_cancel(
    context: Context, prefix: str, rows: list[list[InlineKeyboardButton]] | None = None
) -> InlineKeyboardMarkup:
    """The given button rows with the wizard's Cancel button under them."""
    cancel = InlineKeyboardButton(say(context, "btn_cancel"), callback_data=f"{prefix}:cancel")
    return InlineKeyboardMarkup([*(rows or []), [cancel]])


async def ask(update: Update, context: Context, prefix: str, key: str, **values: object) -> None:
    """Ask the next question, with a Cancel button."""
    await reply(update, say(context, key, **values), reply_markup=with_cancel(context, prefix))


def when(context: Context, moment: datetime) -> str:
    """A date and time in café time, as the reader writes it ("30 Nov, 18:00")."""
    return i18n.day_time(lang(context), moment, context.services.settings.tz)


def accepted(context: Context, key: str) -> frozenset[str]:
    """The words the catalog text ``key`` lists, in the reader's language and in English,
    folded (compare them with ``bot.inputs.folded``)."""
    return alternatives(t(lang(context), key), t(i18n.ENGLISH, key))


def first_word(context: Context, key: str) -> str:
    """The first of the words ``key`` lists in the reader's language, to show as an example."""
    return t(lang(context), key).split(",")[0].strip()


def message_text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "").strip() if message else ""


async def pressed(update: Update) -> list[str]:
    """Answer a conversation button and return what follows its prefix."""
    query = update.callback_query
    if query is None:
        return []
    await query.answer()
    return (query.data or "").split(":")[1:]


def on_step_button(
    callback: Callable[[Update, Context], Coroutine[Any, Any, int | None]],
    prefix: str,
    pattern: str,
) -> CallbackQueryHandler[Any, Any]:
    """A step's button: its data is ``<prefix>:<pattern>…`` (a step that returns None stays
    where it is)."""
    return CallbackQueryHandler(callback, pattern=rf"^{prefix}:{pattern}")


# -- the audience picker ---------------------------------------------------------------------


async def place_names(context: Context, location_ids: tuple[int, ...] | list[int]) -> str:
    """The locations' names, in the order given, as the reader lists: "Main and Harbour"."""
    names = await context.services.locations.names()
    return i18n.listing(lang(context), [names.get(place, "?") for place in location_ids])


async def valid_at(context: Context, location_ids: tuple[int, ...]) -> list[str]:
    """The line saying where an offer is valid, when it is limited to some locations."""
    if not location_ids:
        return []
    return [say(context, "offer_valid_at", places=await place_names(context, location_ids))]


async def describe_audience(context: Context, audience: str) -> str:
    parsed = parse_audience(audience)
    if parsed.kind == "tier":
        return say(context, "audience_tier", tier=parsed.value)
    if parsed.kind == "lapsed":
        return say(context, "audience_lapsed", days=int(parsed.value))
    if parsed.kind == "visited":
        places, days = parsed.visited
        return say(
            context, "audience_visited", places=await place_names(context, places), days=days
        )
    return say(context, f"audience_{parsed.kind}")


async def audience_keyboard(context: Context, prefix: str) -> InlineKeyboardMarkup:
    tiers = context.services.settings.tiers
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
    if await context.services.locations.is_chain():
        label = say(context, "audience_visited_button")
        rows.append([InlineKeyboardButton(label, callback_data=f"{prefix}:aud:visited")])
    return with_cancel(context, prefix, rows)


def chosen_audience(context: Context, choice: str) -> str | None:
    """The audience a button names; None when the owner must still say how many days."""
    tier_index = parse_int(choice[1:]) if choice.startswith("t") else None
    if tier_index is not None:
        tiers = context.services.settings.tiers
        return f"tier:{tiers[tier_index].name}" if tier_index < len(tiers) else "all"
    if choice in ("lapsed", "visited"):
        return None
    return "birthday" if choice == "birthday" else "all"


def lapsed_days(text: str) -> str | None:
    days = parse_int(text, low=1, high=3650)
    return None if days is None else f"lapsed:{days}"


# -- picking locations ---------------------------------------------------------------------

DONE, EVERYWHERE = "done", "all"


async def location_toggles(
    context: Context, prefix: str, step: str, picked: list[int], *, everywhere: bool = False
) -> InlineKeyboardMarkup:
    """A button per open location, ticked when picked (data ``prefix:step:<id>``), then
    Done (and "Everywhere" where no pick is an answer)."""
    locations = await context.services.locations.open()
    buttons = [
        InlineKeyboardButton(
            say(
                context, "btn_place_on" if place.id in picked else "btn_place_off", name=place.name
            ),
            callback_data=f"{prefix}:{step}:{place.id}",
        )
        for place in locations
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    last = [
        InlineKeyboardButton(
            say(context, "btn_places_done"), callback_data=f"{prefix}:{step}:{DONE}"
        )
    ]
    if everywhere:
        label = say(context, "btn_places_everywhere")
        last.insert(0, InlineKeyboardButton(label, callback_data=f"{prefix}:{step}:{EVERYWHERE}"))
    return with_cancel(context, prefix, [*rows, last])


def location_picker(
    prefix: str, step: str, draft_of: DraftOf, done: PlacesChosen, *, everywhere: bool = False
) -> StepHandlers:
    """The step that picks one or more locations by ticking buttons, then Done: ``done``
    gets the ids (none: "Everywhere") and returns the next state."""

    async def place_pressed(update: Update, context: Context) -> int | None:
        args = await pressed(update)
        choice = args[1] if len(args) == 2 else ""
        draft = draft_of(context)
        if choice == EVERYWHERE and everywhere:
            draft.picked = []
            return await done(update, context, [])
        if choice == DONE:
            if not draft.picked:
                await ask(update, context, prefix, "ask_pick_a_location")
                return None
            return await done(update, context, list(draft.picked))
        place = parse_int(choice, low=1)
        if place is None or place not in {p.id for p in await context.services.locations.open()}:
            return None  # an old or forged button: no such open location
        draft.picked = sorted(set(draft.picked) ^ {place})
        query = update.callback_query
        if query is not None:
            markup = await location_toggles(
                context, prefix, step, draft.picked, everywhere=everywhere
            )
            await query.edit_message_reply_markup(markup)
        return None  # the same step: tick more, or Done

    return [on_step_button(place_pressed, prefix, f"{step}:")]


async def ask_locations(
    update: Update, context: Context, prefix: str, step: str, key: str, *, everywhere: bool = False
) -> None:
    """Ask which locations, with the tick buttons (nothing ticked yet)."""
    markup = await location_toggles(context, prefix, step, [], everywhere=everywhere)
    await reply(update, say(context, key), reply_markup=markup)


def audience_steps(
    prefix: str,
    audience_state: int,
    lapsed_state: int,
    chosen: AudienceChosen,
    *,
    draft_of: DraftOf,
    places_state: int,
    visit_days_state: int,
) -> dict[object, StepHandlers]:
    """The steps that pick an audience: the buttons, then (for "no visit for N days") the
    number of days, or (for "bought at these locations lately", in a chain) the locations
    and then the days. ``chosen`` takes the audience and returns the next state."""

    async def audience_pressed(update: Update, context: Context) -> int:
        """An audience button; "lapsed" first asks for the days, "visited" for places."""
        args = await pressed(update)
        choice = args[1] if len(args) == 2 else "all"
        audience = chosen_audience(context, choice)
        if audience is None and choice == "visited":
            draft_of(context).picked = []
            await ask_locations(update, context, prefix, "vl", "ask_visited_places")
            return places_state
        if audience is None:
            await ask(update, context, prefix, "ask_lapsed_days")
            return lapsed_state
        return await chosen(update, context, audience)

    async def places_picked(update: Update, context: Context, places: list[int]) -> int:
        names = await place_names(context, places)
        await ask(update, context, prefix, "ask_visited_days", places=names)
        return visit_days_state

    async def visit_days_typed(update: Update, context: Context) -> int:
        """The number of days for a "bought at these locations lately" audience."""
        days = parse_int(message_text(update), low=1, high=3650)
        places = draft_of(context).picked
        if days is None or not places:
            await ask(update, context, prefix, "bad_lapsed_days")
            return visit_days_state
        draft_of(context).picked = []
        return await chosen(update, context, str(visited_audience(places, days)))

    async def lapsed_typed(update: Update, context: Context) -> int:
        """The number of days for a "no visit for N days" audience."""
        audience = lapsed_days(message_text(update))
        if audience is None:
            await ask(update, context, prefix, "bad_lapsed_days")
            return lapsed_state
        return await chosen(update, context, audience)

    return {
        audience_state: [on_step_button(audience_pressed, prefix, "aud:")],
        lapsed_state: [MessageHandler(TYPED, lapsed_typed)],
        places_state: location_picker(prefix, "vl", draft_of, places_picked),
        visit_days_state: [MessageHandler(TYPED, visit_days_typed)],
    }


# -- the conversation ------------------------------------------------------------------------


def conversation(
    name: str,
    prefix: str,
    begin: Step | None,
    states: dict[object, StepHandlers],
    *,
    entries: StepHandlers | None = None,
    drafted: bool = True,
) -> ConversationHandler[Any]:
    """A wizard entered by the command ``/<name>`` (when ``begin`` is given) or by one of
    the ``entries`` (buttons, which enter it again from any step), with its draft in
    ``UserData.<name>`` (unless not ``drafted``): cancelled by /cancel or its Cancel
    button, ended after a quiet quarter of an hour, and kept in the database so a restart
    continues it.

    Only the entry passes the permission gate (``begin`` and ``entries`` are gated): the
    later steps are reachable only from a chat that entered the conversation."""

    async def cancel_conversation(update: Update, context: Context) -> int:
        """/cancel or the Cancel button, at any step: drop the draft, save nothing."""
        if update.callback_query is not None:
            await update.callback_query.answer()
            await remove_buttons(update)
        if drafted:
            setattr(context.drafts, name, None)
        await reply(update, say(context, "conversation_cancelled"))
        return END

    cancel: StepHandlers = [
        CommandHandler("cancel", cancel_conversation),
        CallbackQueryHandler(cancel_conversation, pattern=rf"^{prefix}:cancel$"),
    ]
    entry_points: StepHandlers = [CommandHandler(name, begin)] if begin is not None else []
    entry_points += entries or []
    # PTB warns that CallbackQueryHandlers are tracked per chat, not per message; that is
    # what these conversations want (one draft per owner chat).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message.*")
        return ConversationHandler(
            entry_points=entry_points,
            states=dict(states),
            fallbacks=cancel,
            conversation_timeout=CONVERSATION_TIMEOUT_SECONDS,
            name=name,
            persistent=True,
            allow_reentry=bool(entries),
        )
