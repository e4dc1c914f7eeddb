"""The café's team: the owner's /staff with invite and remove buttons, a staff invite opened,
and the one-time owner claim link."""

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
from bot.services.roles import Role
from handlers import menus
from handlers.common import (
    Context,
    button_args,
    deep_link,
    edit_text,
    local_time,
    main_keyboard,
    notify,
    on_button,
    reply,
    requires,
    say,
)
from handlers.profile import profile_of

logger = logging.getLogger(__name__)


INVITE = "sinv"


REMOVE = "srm"


async def staff_overview(context: Context) -> tuple[str, InlineKeyboardMarkup]:
    staff = await context.services.staff.list()
    lines = [say(context, "staff_list_title")]
    if not staff:
        lines.append(say(context, "staff_list_empty"))
    for person in staff:
        date = local_time(context, person.added_at, "%d %b %Y")
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


@requires(Role.OWNER)
async def staff_command(update: Update, context: Context) -> None:
    """/staff: the team, with a remove button each and an invite button."""
    text, markup = await staff_overview(context)
    await reply(update, text, reply_markup=markup)


@requires(Role.OWNER)
async def invite_pressed(update: Update, context: Context) -> None:
    """Create a one-time staff invite link."""
    query = update.callback_query
    if await button_args(update, context, 0) is None or query is None:
        return
    invite = await context.services.staff.create_invite(query.from_user.id)
    await reply(
        update,
        say(
            context,
            "invite_created",
            time=local_time(context, invite.expires_at, "%d %b %H:%M"),
            link=deep_link(context, invite.payload),
        ),
    )


@requires(Role.OWNER)
async def remove_pressed(update: Update, context: Context) -> None:
    """Remove a staff member; their access ends with this tap."""
    query = update.callback_query
    parsed = await button_args(update, context, 1, numeric=(0,))
    if query is None or parsed is None:
        return
    services = context.services
    removed = await services.staff.remove(query.from_user.id, parsed.number(0))
    if removed is None:
        await reply(update, say(context, "staff_not_found"))
        return
    await menus.install_menu(
        context.bot, removed.chat_id, Role.CUSTOMER, services.settings.language
    )
    text, markup = await staff_overview(context)
    await edit_text(update, text, reply_markup=markup)
    await reply(update, say(context, "staff_removed", name=removed.first_name))
    await notify(
        context,
        removed.chat_id,
        say(context, "staff_removed_notice", cafe=services.settings.cafe_name),
    )


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
        }.get(type(error), "invite_invalid")
        await reply(update, say(context, key))
        return
    await menus.install_menu(context.bot, profile.chat_id, Role.STAFF, services.settings.language)
    await reply(
        update,
        say(context, "invite_welcome", cafe=services.settings.cafe_name, name=profile.first_name),
    )
    await notify(
        context, joined.invited_by, say(context, "invite_owner_notice", name=profile.first_name)
    )


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
    await menus.install_menu(context.bot, profile.chat_id, Role.OWNER, services.settings.language)
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
    ]
