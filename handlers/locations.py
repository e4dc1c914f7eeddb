"""A chain's locations: the owner's /locations (add, rename, close, invite a location's
team), and /where with its buttons, by which a barista in several shops says where they
are working now."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot import i18n
from bot.inputs import parse_int
from bot.services import errors
from bot.services.locations import MANAGER, NAME_MAX
from bot.services.roles import Role
from handlers.common import (
    Context,
    actor_of,
    button_args,
    button_expired,
    edit_text,
    lang,
    local_date,
    on_button,
    remove_buttons,
    reply,
    requires,
    say,
)
from handlers.context import LocationDraft
from handlers.issuing import show_scan
from handlers.staff import INVITE_AT
from handlers.texts import Html
from handlers.whereabouts import HERE, ask_where
from handlers.wizard import CONVERSATION_TIMEOUT_SECONDS, END, TYPED, message_text

logger = logging.getLogger(__name__)

# Callback data prefixes (each payload far below Telegram's 64 bytes).
ALL = "lall"  # back to the list
SHOW = "loc"  # loc:<id>: one location and its buttons
CLOSE_ASK = "lcl"  # lcl:<id>: "close it?"
CLOSE_YES = "lcly"  # lcly:<id>: closed
ADD = "ladd"  # name a new location (typed)
RENAME = "lrn"  # lrn:<id>: rename (typed)
NAMING = "lname"  # the naming step's Cancel button
NAME = 1  # the conversation's one state: waiting for a typed name


async def overview(context: Context, owner_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """Every location, open ones first in the buttons, with "Add a location"."""
    services = context.services
    locations = await services.locations.all()
    teams = {team.location.id: len(team.members) for team in await services.staff.teams(owner_id)}
    lines = [say(context, "locations_title")]
    for place in locations:
        if place.is_open:
            line = say(context, "locations_line", name=place.name, staff=teams.get(place.id, 0))
        else:
            closed = local_date(context, place.closed_at or place.created_at)
            line = say(context, "locations_line_closed", name=place.name, date=closed)
        lines.append(line)
    if len(locations) == 1:
        lines.append(say(context, "locations_one_hint"))
    rows = [
        [
            InlineKeyboardButton(
                f"{'📍' if place.is_open else '🔒'} {place.name}",
                callback_data=f"{SHOW}:{place.id}",
            )
        ]
        for place in locations
    ]
    rows.append([InlineKeyboardButton(say(context, "btn_location_add"), callback_data=ADD)])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def details(
    context: Context, owner_id: int, location_id: int
) -> tuple[str, InlineKeyboardMarkup]:
    """One location: since when, its team, and what the owner can do with it."""
    services = context.services
    place = await services.locations.get(location_id)
    team = next(
        (t.members for t in await services.staff.teams(owner_id) if t.location.id == location_id),
        (),
    )
    people = [
        say(context, "locations_manager", name=m.first_name) if m.role == MANAGER else m.first_name
        for m in team
    ]
    since = local_date(context, place.created_at)
    if place.is_open:
        lines = [say(context, "location_open", name=place.name, date=since, count=len(team))]
    else:
        closed = local_date(context, place.closed_at or place.created_at)
        lines = [say(context, "location_closed_since", name=place.name, date=closed)]
    if people:
        names = Html(i18n.listing(lang(context), people))
        lines.append(say(context, "location_team", names=names))
    text = "\n".join(lines)
    rows = [
        [InlineKeyboardButton(say(context, "btn_rename"), callback_data=f"{RENAME}:{place.id}")]
    ]
    if place.is_open:
        rows[0].append(
            InlineKeyboardButton(say(context, "btn_close"), callback_data=f"{CLOSE_ASK}:{place.id}")
        )
        rows.append(
            [
                InlineKeyboardButton(
                    say(context, "btn_invite_barista"), callback_data=f"{INVITE_AT}:{place.id}:b"
                ),
                InlineKeyboardButton(
                    say(context, "btn_invite_manager"), callback_data=f"{INVITE_AT}:{place.id}:m"
                ),
            ]
        )
    rows.append([InlineKeyboardButton(say(context, "btn_locations_all"), callback_data=ALL)])
    return text, InlineKeyboardMarkup(rows)


@requires(Role.OWNER)
async def locations_command(update: Update, context: Context) -> None:
    """/locations: the café's locations, each a button."""
    user = update.effective_user
    assert user is not None
    text, markup = await overview(context, user.id)
    await reply(update, text, reply_markup=markup)


@requires(Role.OWNER)
async def all_pressed(update: Update, context: Context) -> None:
    query = update.callback_query
    if await button_args(update, context, 0) is None or query is None:
        return
    text, markup = await overview(context, query.from_user.id)
    await edit_text(update, text, reply_markup=markup)


@requires(Role.OWNER)
async def show_pressed(update: Update, context: Context) -> None:
    parsed = await button_args(update, context, 1, numeric=(0,))
    query = update.callback_query
    if parsed is None or query is None:
        return
    try:
        text, markup = await details(context, query.from_user.id, parsed.number(0))
    except errors.LocationUnknown:
        await reply(update, say(context, "location_unknown"))
        return
    await edit_text(update, text, reply_markup=markup)


@requires(Role.OWNER)
async def close_asked(update: Update, context: Context) -> None:
    parsed = await button_args(update, context, 1, numeric=(0,))
    if parsed is None:
        return
    location_id = parsed.number(0)
    try:
        place = await context.services.locations.get(location_id)
    except errors.LocationUnknown:
        await reply(update, say(context, "location_unknown"))
        return
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    say(context, "btn_close_yes"), callback_data=f"{CLOSE_YES}:{location_id}"
                ),
                InlineKeyboardButton(
                    say(context, "btn_close_keep"), callback_data=f"{SHOW}:{location_id}"
                ),
            ]
        ]
    )
    await edit_text(
        update, say(context, "location_close_ask", name=place.name), reply_markup=markup
    )


@requires(Role.OWNER)
async def close_confirmed(update: Update, context: Context) -> None:
    parsed = await button_args(update, context, 1, numeric=(0,), answer=False)
    query = update.callback_query
    if parsed is None or query is None:
        return
    try:
        place = await context.services.locations.close(query.from_user.id, parsed.number(0))
    except errors.ServiceError as error:
        key = {
            errors.LastOpenLocation: "location_last_open",
            errors.LocationClosed: "location_already_closed",
        }.get(type(error), "location_unknown")
        await query.answer(say(context, key), show_alert=True)
        return
    await query.answer()
    text, markup = await overview(context, query.from_user.id)
    await edit_text(update, text, reply_markup=markup)
    await reply(update, say(context, "location_closed_done", name=place.name))


# -- naming: a new location, or a new name (the one thing typed) ------------------------------


def cancel_markup(context: Context) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(say(context, "btn_cancel"), callback_data=f"{NAMING}:cancel")]]
    )


@requires(Role.OWNER)
async def add_pressed(update: Update, context: Context) -> int:
    if await button_args(update, context, 0) is None:
        return END
    context.drafts.location = LocationDraft()
    await reply(
        update, say(context, "location_ask_name", max=NAME_MAX), reply_markup=cancel_markup(context)
    )
    return NAME


@requires(Role.OWNER)
async def rename_pressed(update: Update, context: Context) -> int:
    parsed = await button_args(update, context, 1, numeric=(0,))
    if parsed is None:
        return END
    try:
        place = await context.services.locations.get(parsed.number(0))
    except errors.LocationUnknown:
        await reply(update, say(context, "location_unknown"))
        return END
    context.drafts.location = LocationDraft(location_id=place.id)
    await reply(
        update,
        say(context, "location_ask_rename", name=place.name, max=NAME_MAX),
        reply_markup=cancel_markup(context),
    )
    return NAME


async def name_typed(update: Update, context: Context) -> int:
    """The typed name: the location is added or renamed; a bad name is asked again."""
    draft = context.drafts.location
    user = update.effective_user
    if draft is None or user is None:
        return END
    services = context.services
    text = message_text(update)
    try:
        if draft.location_id is None:
            place = await services.locations.add(user.id, text)
        else:
            place = await services.locations.rename(user.id, draft.location_id, text)
    except (errors.LocationNameInvalid, errors.LocationNameTaken) as error:
        key = (
            "location_name_taken"
            if isinstance(error, errors.LocationNameTaken)
            else ("location_name_invalid")
        )
        await reply(update, say(context, key, name=text[:NAME_MAX], max=NAME_MAX),
                    reply_markup=cancel_markup(context))  # fmt: skip
        return NAME
    except errors.LocationUnknown:
        context.drafts.location = None
        await reply(update, say(context, "location_unknown"))
        return END
    context.drafts.location = None
    key = "location_added" if draft.location_id is None else "location_renamed"
    text, markup = await details(context, user.id, place.id)
    done = say(context, key, name=place.name)
    await reply(update, "\n\n".join((done, text)), reply_markup=markup)
    return END


async def naming_cancelled(update: Update, context: Context) -> int:
    if update.callback_query is not None:
        await update.callback_query.answer()
        await remove_buttons(update)
    context.drafts.location = None
    await reply(update, say(context, "conversation_cancelled"))
    return END


def naming_conversation() -> ConversationHandler[Any]:
    """Adding or renaming a location: a button, then the name typed; kept in the database
    like the other conversations, so a restart continues it."""
    cancel: list[BaseHandler[Update, Any, Any]] = [
        CommandHandler("cancel", naming_cancelled),
        CallbackQueryHandler(naming_cancelled, pattern=rf"^{NAMING}:cancel$"),
    ]
    with warnings.catch_warnings():
        # Tracked per chat, not per message: one name being typed per owner chat.
        warnings.filterwarnings("ignore", message=".*per_message.*")
        return ConversationHandler(
            entry_points=[on_button(ADD, add_pressed), on_button(RENAME, rename_pressed)],
            states={NAME: [MessageHandler(TYPED, name_typed)]},
            fallbacks=cancel,
            conversation_timeout=CONVERSATION_TIMEOUT_SECONDS,
            name="locations",
            persistent=True,
        )


# -- where a barista is working now ----------------------------------------------------------


@requires(Role.STAFF)
async def where_command(update: Update, context: Context) -> None:
    """/where: say (or change) where you are working now."""
    user = update.effective_user
    assert user is not None
    choices = await context.services.locations.choices_for(user.id)
    if len(choices) == 1:
        await reply(update, say(context, "where_one", location=choices[0][1]))
        return
    await ask_where(update, context, choices)


@requires(Role.STAFF)
async def here_pressed(update: Update, context: Context) -> None:
    """A location picked: remembered for today; a scan waiting for it continues."""
    query = update.callback_query
    if query is None:
        return
    parts = (query.data or "").split(":", 2)
    location_id = parse_int(parts[1]) if len(parts) >= 2 else None
    if location_id is None:
        await button_expired(update, context)
        return
    await query.answer()
    services = context.services
    actor = await actor_of(update, context)
    try:
        place = await services.locations.choose(actor.tg_user_id, location_id)
    except errors.ServiceError:
        await reply(update, say(context, "location_closed"))
        return
    await remove_buttons(update)
    await reply(update, say(context, "where_chosen", location=place.name))
    if len(parts) == 3 and parts[2]:
        try:
            view = await services.issuing.locate_scan(actor, parts[2])
        except errors.ScanClosed:
            await reply(update, say(context, "scan_closed"))
            return
        await show_scan(update, context, view)


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/locations with its buttons and naming conversation; /where and its buttons."""
    return [
        naming_conversation(),
        CommandHandler("locations", locations_command),
        on_button(ALL, all_pressed),
        on_button(SHOW, show_pressed),
        on_button(CLOSE_ASK, close_asked),
        on_button(CLOSE_YES, close_confirmed),
        CommandHandler("where", where_command),
        on_button(HERE, here_pressed),
    ]
