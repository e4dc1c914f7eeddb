"""The café's team: /staff with invite and remove buttons (a chain's grouped by location; a
manager sees and manages their location's baristas), a staff invite opened, and the
one-time owner claim link."""

from __future__ import annotations

import logging
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.ext import BaseHandler, CommandHandler

from bot.services import errors
from bot.services.locations import BARISTA, MANAGER
from bot.services.roles import Role
from handlers import menus
from handlers.common import (
    Context,
    button_args,
    deep_link,
    edit_text,
    local_date,
    local_day_time,
    main_keyboard,
    notify,
    on_button,
    person_reader,
    reply,
    requires,
    say,
)
from handlers.profile import profile_of
from handlers.texts import t

logger = logging.getLogger(__name__)


INVITE = "sinv"  # an invite to the café's only location (one-location cafés)
REMOVE = "srm"  # remove from the staff, every location at once (owners)
INVITE_AT = "linv"  # linv:<location>:<b|m>: a barista's or manager's invite to a location
REMOVE_AT = "slrm"  # slrm:<staff>:<location>: remove from one location
ROLE_CODES = {"b": BARISTA, "m": MANAGER}


async def staff_overview(context: Context, viewer_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """The team as the viewer may see it: a one-location café's owner sees today's list;
    a chain's owner every location's team, a manager their location's."""
    services = context.services
    if await services.locations.is_chain() or not await services.roles.is_owner(viewer_id):
        return await teams_overview(context, viewer_id)
    staff = await services.staff.list()
    lines = [say(context, "staff_list_title")]
    if not staff:
        lines.append(say(context, "staff_list_empty"))
    for person in staff:
        date = local_date(context, person.added_at)
        lines.append(say(context, "staff_list_line", name=person.first_name, date=date))
    rows = [
        [
            InlineKeyboardButton(
                say(context, "btn_remove", name=person.first_name[:30]),
                callback_data=f"{REMOVE}:{person.tg_user_id}",
            )
        ]
        for person in staff
    ]
    rows.append([InlineKeyboardButton(say(context, "btn_invite"), callback_data=INVITE)])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


async def teams_overview(context: Context, viewer_id: int) -> tuple[str, InlineKeyboardMarkup]:
    """Each location's team, with the buttons this viewer may use: remove (the owner
    anyone, a manager their baristas) and invite (the owner baristas and managers)."""
    services = context.services
    owner = await services.roles.is_owner(viewer_id)
    lines = [say(context, "staff_list_title")]
    rows: list[list[InlineKeyboardButton]] = []
    for team in await services.staff.teams(viewer_id):
        place = team.location
        key = "staff_location_title" if place.is_open else "staff_location_closed"
        lines.append(say(context, key, location=place.name))
        if not team.members:
            lines.append(say(context, "staff_location_empty"))
        for person in team.members:
            date = local_date(context, person.added_at)
            key = "staff_list_line_manager" if person.role == MANAGER else "staff_list_line"
            lines.append(say(context, key, name=person.first_name, date=date))
            if owner or person.role == BARISTA:
                label = say(
                    context, "btn_remove_at", name=person.first_name[:24], location=place.name[:24]
                )
                data = f"{REMOVE_AT}:{person.tg_user_id}:{place.id}"
                rows.append([InlineKeyboardButton(label, callback_data=data)])
        if place.is_open:
            invites = [("btn_invite_barista_at", "b")] + ([("btn_invite_manager_at", "m")] * owner)
            rows.append(
                [
                    InlineKeyboardButton(
                        say(context, label, location=place.name[:24]),
                        callback_data=f"{INVITE_AT}:{place.id}:{code}",
                    )
                    for label, code in invites
                ]
            )
    if len(lines) == 1:
        lines.append(say(context, "staff_no_locations"))
    return "\n".join(lines), InlineKeyboardMarkup(rows)


@requires(Role.MANAGER)
async def staff_command(update: Update, context: Context) -> None:
    """/staff: the team, with a remove button each and an invite button."""
    user = update.effective_user
    assert user is not None
    text, markup = await staff_overview(context, user.id)
    await reply(update, text, reply_markup=markup)


@requires(Role.OWNER)
async def invite_pressed(update: Update, context: Context) -> None:
    """Create a one-time staff invite link (to the café's only location)."""
    query = update.callback_query
    if await button_args(update, context, 0) is None or query is None:
        return
    await send_invite(update, context, None, BARISTA)


@requires(Role.MANAGER)
async def invite_at_pressed(update: Update, context: Context) -> None:
    """A one-time invite to one location, as barista or (owners only) manager."""
    parsed = await button_args(update, context, 2, numeric=(0,))
    if parsed is None or parsed[1] not in ROLE_CODES:
        return
    await send_invite(update, context, parsed.number(0), ROLE_CODES[parsed[1]])


async def send_invite(update: Update, context: Context, location_id: int | None, role: str) -> None:
    """Make the invite link and send it to the person who asked for it."""
    user = update.effective_user
    assert user is not None
    services = context.services
    try:
        invite = await services.staff.create_invite(user.id, location_id, role)
    except errors.ServiceError as error:
        await reply(update, say(context, refusal_key(error)))
        return
    time = local_day_time(context, invite.expires_at)
    link = deep_link(context, invite.payload)
    if location_id is None and role == BARISTA and not await services.locations.is_chain():
        await reply(update, say(context, "invite_created", time=time, link=link))
        return
    key = f"invite_created_{role}"
    await reply(update, say(context, key, location=invite.location.name, time=time, link=link))


def refusal_key(error: errors.ServiceError) -> str:
    return {
        errors.NotAllowed: "not_allowed",
        errors.LocationClosed: "location_closed",
        errors.LocationUnknown: "location_unknown",
    }.get(type(error), "error")


@requires(Role.OWNER)
async def remove_pressed(update: Update, context: Context) -> None:
    """Remove a staff member from every location; their access ends with this tap."""
    parsed = await button_args(update, context, 1, numeric=(0,))
    if parsed is None:
        return
    await remove(update, context, parsed.number(0), None)


@requires(Role.MANAGER)
async def remove_at_pressed(update: Update, context: Context) -> None:
    """Remove someone from one location (a manager: only their location's baristas)."""
    parsed = await button_args(update, context, 2, numeric=(0, 1))
    if parsed is None:
        return
    await remove(update, context, parsed.number(0), parsed.number(1))


async def remove(update: Update, context: Context, staff_id: int, location_id: int | None) -> None:
    user = update.effective_user
    assert user is not None
    services = context.services
    try:
        removed = await services.staff.remove(user.id, staff_id, location_id)
    except errors.ServiceError as error:
        await reply(update, say(context, refusal_key(error)))
        return
    if removed is None:
        await reply(update, say(context, "staff_not_found"))
        return
    person = removed.staff
    role = await services.roles.role_of(person.tg_user_id)
    await menus.install_menu(context.bot, person.chat_id, role, services.languages)
    text, markup = await staff_overview(context, user.id)
    await edit_text(update, text, reply_markup=markup)
    cafe = services.settings.cafe_name
    # The notice is theirs to read: in their language, not the remover's.
    their = await person_reader(context, person.tg_user_id)
    if removed.left_staff:
        await reply(update, say(context, "staff_removed", name=person.first_name))
        await notify(context, person.chat_id, t(their, "staff_removed_notice", cafe=cafe))
        return
    assert removed.location is not None
    place = removed.location.name
    await reply(update, say(context, "staff_removed_at", name=person.first_name, location=place))
    notice = t(their, "staff_removed_at_notice", cafe=cafe, location=place)
    await notify(context, person.chat_id, notice)


async def invite_link(update: Update, context: Context) -> None:
    """Someone opened a staff invite: make them staff and tell the owner who invited them."""
    profile = profile_of(update)
    if profile is None or not context.args:
        return
    services = context.services
    try:
        joined = await services.staff.accept_invite(context.args[0], profile)
    except errors.ServiceError as error:
        key = {
            errors.InviteExpired: "invite_expired",
            errors.InviteUsed: "invite_used",
            errors.AlreadyStaff: "invite_already_staff",
            errors.LocationClosed: "location_closed",
        }.get(type(error), "invite_invalid")
        await reply(update, say(context, key))
        return
    role = await services.roles.role_of(profile.tg_user_id)
    await menus.install_menu(context.bot, profile.chat_id, role, services.languages)
    cafe, name, place = services.settings.cafe_name, profile.first_name, joined.location.name
    # Who invited them reads the news in their own language.
    inviter = await person_reader(context, joined.invited_by)
    if joined.role == BARISTA and not await services.locations.is_chain():
        await reply(update, say(context, "invite_welcome", cafe=cafe, name=name))
        await notify(context, joined.invited_by, t(inviter, "invite_owner_notice", name=name))
        return
    if not joined.new_staff and joined.role == BARISTA:
        key = "invite_welcome_another"
    else:
        key = f"invite_welcome_{joined.role}"
    await reply(update, say(context, key, cafe=cafe, name=name, location=place))
    notice = t(inviter, f"invite_owner_notice_{joined.role}", name=name, location=place)
    await notify(context, joined.invited_by, notice)


async def owner_claim_link(update: Update, context: Context) -> None:
    """The one-time owner link from the start-up log: its first opener owns the bot."""
    profile = profile_of(update)
    if profile is None or not context.args:
        return
    services = context.services
    if not await services.roles.claim_owner(context.args[0], profile.tg_user_id):
        await reply(update, say(context, "owner_claim_invalid"))
        return
    logger.warning("User %s claimed the bot as its owner", profile.tg_user_id)
    await services.members.join(profile)
    await menus.install_menu(context.bot, profile.chat_id, Role.OWNER, services.languages)
    await reply(
        update,
        say(context, "owner_claimed", cafe=services.settings.cafe_name, name=profile.first_name),
        reply_markup=main_keyboard(context),
    )


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    """/staff with its invite and remove buttons (the links are opened through /start)."""
    return [
        CommandHandler("staff", staff_command),
        on_button(INVITE, invite_pressed),
        on_button(REMOVE, remove_pressed),
        on_button(INVITE_AT, invite_at_pressed),
        on_button(REMOVE_AT, remove_at_pressed),
    ]
