"""Every user-facing text, in English: the source of the gettext catalogs.

Each text has a stable id (gettext's context, ``msgctxt``) and its English wording (the
``msgid`` translators read); ``pybabel extract`` collects them from this file into
``bot/locales/messages.pot`` with the comment above each one, and each language's
``.po`` holds its translations (docs/translating.md). A text with a count has its plural
forms and names the placeholder that decides between them. Messages are HTML; ``t``
escapes the values and writes numbers in the reader's locale.
"""

from __future__ import annotations

import functools
import html
from typing import Final

from bot import i18n


class Html(str):
    """A value that is already safe HTML and must not be escaped again."""

    __slots__ = ()


EN: Final[dict[str, str]] = {}
# key: (the placeholder holding the count, the singular, the plural), in English.
PLURALS: Final[dict[str, tuple[str, str, str]]] = {}


def msg(key: str, text: str) -> None:
    """Declare a text (the extraction keyword ``msg:1c,2``)."""
    EN[key] = text


def plural(key: str, count: str, one: str, other: str) -> None:
    """Declare a text with plural forms chosen by the number in ``{count}`` (the
    extraction keyword ``plural:1c,3,4``); each language has as many forms as it needs."""
    EN[key] = other
    PLURALS[key] = (count, one, other)


# TRANSLATORS: Buttons of the customer keyboard.
msg("btn_card", "💳 My card")
msg("btn_balance", "⭐ Balance")
msg("btn_history", "📜 History")
msg("btn_help", "❓ Help")
msg("btn_rewards", "🎁 Rewards")
msg("btn_coupons", "🎟 My coupons")
msg("btn_offers", "🎉 Offers")
msg("btn_settings", "⚙️ Settings")
# TRANSLATORS: Command menu descriptions.
msg("cmd_start", "Join or open the main menu")
msg("cmd_card", "Show my QR member card")
msg("cmd_balance", "My points")
msg("cmd_history", "My last 10 transactions")
msg("cmd_help", "How to earn and redeem")
msg("cmd_rewards", "Rewards I can get")
msg("cmd_coupons", "My open coupons")
msg("cmd_redeem", "Redeem a coupon: /redeem CODE")
msg("cmd_catalog", "Manage the rewards catalog")
msg("cmd_offers", "Offers running now")
msg("cmd_settings", "Language, promotions and birthday")
msg("cmd_offer", "Create a limited-time offer")
msg("cmd_broadcast", "Send a message to members")
msg("cmd_broadcasts", "Past broadcasts and their figures")
msg("cmd_invite", "Invite a friend: you both get a bonus")
msg("cmd_mydata", "Everything we hold about you")
msg("cmd_forget", "Leave and be forgotten")
msg("cmd_winback", "What members who stay away get")
msg("cmd_referrals", "Top referrers")
msg("cmd_report", "Points and revenue for the accountant")
msg("cmd_stats", "How the programme is doing, with charts")
msg("cmd_export", "The ledger as CSV")
msg("cmd_audit", "Who did what, lately")
msg("cmd_redemptionrate", "The expected redemption rate")
msg("cmd_locations", "Your shops: add, rename, close")
msg("cmd_where", "Say which shop you are working in")
# TRANSLATORS: Joining.
msg(
    "welcome_new",
    "Welcome to {cafe}, <b>{name}</b>! 🎉\n"
    "You're now a member. Tap <b>My card</b> and show the QR code at the counter "
    "to collect points with every purchase.",
)
plural(
    "welcome_back",
    "points",
    "Welcome back, <b>{name}</b>! You have <b>{points}</b> point.",
    "Welcome back, <b>{name}</b>! You have <b>{points}</b> points.",
)
msg("not_a_member", "You're not a member yet. Press /start to join — it takes one tap.")
# TRANSLATORS: Member card.
plural(
    "card_caption",
    "points",
    "<b>{name}</b> · member card\n"
    "⭐ {points} point\n"
    "Show this QR at the counter. If scanning fails, tell the barista this code: "
    "<code>{code}</code>",
    "<b>{name}</b> · member card\n"
    "⭐ {points} points\n"
    "Show this QR at the counter. If scanning fails, tell the barista this code: "
    "<code>{code}</code>",
)
# TRANSLATORS: The member card's last line; {time} is a time of day (the card changes often).
msg("card_valid_until", "Valid until {time}. Tap <b>My card</b> any time for a fresh one.")
msg("card_static", "This card does not expire.")
# TRANSLATORS: Balance and history.
plural(
    "balance",
    "points",
    "⭐ You have <b>{points}</b> point, worth about {worth}.",
    "⭐ You have <b>{points}</b> points, worth about {worth}.",
)
plural(
    "history_title",
    "count",
    "📜 <b>Your last transaction</b>",
    "📜 <b>Your last {count} transactions</b>",
)
# TRANSLATORS: One line of /history: when, the points with their sign (+40, −150), and why.
msg("history_line", "{date}  <b>{points}</b>  {reason}")
msg("history_line_at", "{date}  <b>{points}</b>  {reason} · {location}")
msg(
    "history_empty",
    "No transactions yet. Show your card at the counter and your points will appear here.",
)
msg("reason_earn", "Purchase {amount}")
msg("reason_reversal", "Correction")
msg("reason_redeem", "Reward: {reason}")
msg("reason_refund", "Refund: {reason}")
msg("reason_bonus", "Bonus: {reason}")
msg("reason_expire", "Points expired")
msg("reason_birthday", "Birthday treat 🎂")
msg("reason_referral", "Referral bonus 🤝")
msg("reason_referral_taken_back", "Referral bonus taken back (purchase corrected)")
msg("reason_winback", "Welcome-back bonus")
# TRANSLATORS: Help.
# TRANSLATORS: /help. {rate} is how many points each {unit} of money spent earns (a
# number, maybe with decimals), {unit} one unit of the café's currency ("€1.00").
plural(
    "help",
    "rate",
    "<b>How it works</b>\n\n"
    "<b>Earn:</b> show your QR card (tap <b>My card</b>) when you pay. The barista scans it "
    "and you get {rate} point for every {unit} you spend. A receipt arrives here right away.\n\n"
    "<b>Redeem:</b> when you have enough points, exchange them for a reward coupon and "
    "show its QR at the counter.\n\n"
    "Commands: /card, /balance, /history, /invite (bring a friend), /settings, /help.\n"
    "Your data: /mydata sends you everything we hold about you; /forget removes you.",
    "<b>How it works</b>\n\n"
    "<b>Earn:</b> show your QR card (tap <b>My card</b>) when you pay. The barista scans it "
    "and you get {rate} points for every {unit} you spend. A receipt arrives here right away.\n\n"
    "<b>Redeem:</b> when you have enough points, exchange them for a reward coupon and "
    "show its QR at the counter.\n\n"
    "Commands: /card, /balance, /history, /invite (bring a friend), /settings, /help.\n"
    "Your data: /mydata sends you everything we hold about you; /forget removes you.",
)
# TRANSLATORS: Deep links.
msg(
    "link_malformed",
    "That link doesn't look right. Ask the café for a fresh one, or press /start to open "
    "your own card.",
)
msg(
    "card_scan_not_staff",
    "This is a member card. Only café staff can scan it. Press /start to see your own card.",
)
# TRANSLATORS: Staff: scanning and issuing.
msg("cmd_scan", "Issue points: /scan CODE AMOUNT")
msg("cmd_undo", "Undo my last purchase entry")
msg("cmd_staff", "Staff: list, invite, remove")
plural(
    "scan_ok",
    "points",
    "👤 <b>{name}</b> · {tier} · {points} point\nSend the purchase amount, e.g. <code>4.50</code>.",
    "👤 <b>{name}</b> · {tier} · {points} points\n"
    "Send the purchase amount, e.g. <code>4.50</code>.",
)
msg(
    "scan_expired", "This card has expired. Ask the customer to tap <b>My card</b> for a fresh one."
)
msg(
    "scan_invalid",
    "This isn't a valid member card. Ask the customer to tap <b>My card</b> and scan again.",
)
msg(
    "code_invalid",
    "That code isn't valid or was already used. Ask the customer to tap <b>My card</b> "
    "for a fresh code.",
)
msg("scan_self", "You can't issue points to your own card. Ask a colleague.")
msg(
    "scan_usage",
    "Type the code from the customer's card and the amount, e.g. <code>/scan K7P2QX 4.50</code>.",
)
msg(
    "no_open_scan",
    "Scan the customer's card first (or type <code>/scan CODE AMOUNT</code>), then send "
    "the amount.",
)
msg("scan_closed", "That scan is no longer open. Scan the customer's card again.")
msg(
    "amount_not_a_number",
    "“{text}” isn't an amount. Send the purchase total, e.g. <code>{example}</code>.",
)
msg(
    "amount_not_positive",
    "The amount must be more than zero. Send the purchase total, e.g. <code>{example}</code>.",
)
msg(
    "amount_too_many_decimals",
    "That amount has too many decimals. Send e.g. <code>{example}</code>.",
)
msg(
    "amount_ambiguous",
    "“{text}” could mean {readings}, so nothing was recorded. "
    "Send it again without a thousands separator, e.g. <code>{example}</code>.",
)
msg(
    "amount_too_large",
    "That is more than the {max} allowed per purchase. Check the amount and send it again.",
)
msg(
    "amount_replaced",
    "This button was for {shown}, but you changed the amount to {current} since. "
    "Nothing was recorded: tap a category under {current}.",
)
msg("zero_points", "{amount} earns no points ({rate} per {unit}). Nothing was recorded.")
msg("pick_category", "{name} · {amount}\nWhich category?")
# TRANSLATORS: A category button at the counter whose purchases earn more: its name and
# multiplier ("Beans ×2").
msg("btn_category_multiplier", "{name} ×{multiplier}")
msg("btn_cancel", "✖ Cancel")
msg("btn_issue_again", "Issue again")
msg("btn_undo", "↩ Undo")
plural(
    "duplicate",
    "points",
    "⚠️ Looks like a duplicate: {name} got {points} point for {amount} at {time}. Issue again?",
    "⚠️ Looks like a duplicate: {name} got {points} points for {amount} at {time}. Issue again?",
)
msg("scan_cancelled", "Cancelled. Nothing was recorded.")
plural(
    "issued",
    "points",
    "✅ <b>+{points} point</b> for {name} — balance {balance}\n{details} · #{entry}",
    "✅ <b>+{points} points</b> for {name} — balance {balance}\n{details} · #{entry}",
)
# TRANSLATORS: Under a purchase: an offer of the customer's valid only in other shops;
# {places} lists them ("North Street and Station").
msg("offer_not_here", "ℹ️ {title} does not apply here: only at {places}.")
plural(
    "already_issued",
    "points",
    "Already recorded: +{points} point for {name} (#{entry}).",
    "Already recorded: +{points} points for {name} (#{entry}).",
)
plural(
    "receipt",
    "points",
    "🧾 <b>+{points} point</b> for your purchase of {details} at {cafe}.\n"
    "Served by {staff}. New balance: <b>{balance}</b> points.",
    "🧾 <b>+{points} points</b> for your purchase of {details} at {cafe}.\n"
    "Served by {staff}. New balance: <b>{balance}</b> points.",
)
plural(
    "receipt_at",
    "points",
    "🧾 <b>+{points} point</b> for your purchase of {details} at {cafe}, {location}.\n"
    "Served by {staff}. New balance: <b>{balance}</b> points.",
    "🧾 <b>+{points} points</b> for your purchase of {details} at {cafe}, {location}.\n"
    "Served by {staff}. New balance: <b>{balance}</b> points.",
)
# TRANSLATORS: A line under the receipt: the offers this purchase got; {titles} lists
# the offers' names (the owner's words).
plural(
    "receipt_offers",
    "count",
    "🎉 Offer applied: {titles}",
    "🎉 Offers applied: {titles}",
)
plural(
    "limit_purchase",
    "points",
    "Refused: {points} point is above the limit of {limit} per purchase. The owner has been "
    "notified.",
    "Refused: {points} points is above the limit of {limit} per purchase. The owner has been "
    "notified.",
)
plural(
    "limit_daily",
    "limit",
    "Refused: this would take you over your daily limit of {limit} point. The owner has been "
    "notified.",
    "Refused: this would take you over your daily limit of {limit} points. The owner has been "
    "notified.",
)
# TRANSLATORS: To the owners: a barista ({staff}) tried to issue more than a limit allows.
plural(
    "owner_limit_alert_purchase",
    "points",
    "⚠️ {staff} tried to issue {points} point to {name} (limit per purchase: {limit}). Refused.",
    "⚠️ {staff} tried to issue {points} points to {name} (limit per purchase: {limit}). Refused.",
)
plural(
    "owner_limit_alert_daily",
    "points",
    "⚠️ {staff} tried to issue {points} point to {name} (daily limit per staff member: {limit}). "
    "Refused.",
    "⚠️ {staff} tried to issue {points} points to {name} (daily limit per staff member: {limit}). "
    "Refused.",
)
plural(
    "undo_done",
    "points",
    "↩️ Undone: −{points} point for {name} (#{entry}). Balance {balance}.",
    "↩️ Undone: −{points} points for {name} (#{entry}). Balance {balance}.",
)
# TRANSLATORS: The same when the purchase had paid a referral bonus, taken back with it.
plural(
    "undo_done_referral",
    "points",
    "↩️ Undone: −{points} point for {name} (#{entry}). Balance {balance}.\n"
    "The referral bonus this purchase paid was taken back too.",
    "↩️ Undone: −{points} points for {name} (#{entry}). Balance {balance}.\n"
    "The referral bonus this purchase paid was taken back too.",
)
msg("undo_already", "That entry (#{entry}) was already undone.")
plural(
    "undo_notice",
    "points",
    "↩️ Correction: your purchase of {details} (+{points} point) was undone. New balance: "
    "<b>{balance}</b> points.",
    "↩️ Correction: your purchase of {details} (+{points} points) was undone. New balance: "
    "<b>{balance}</b> points.",
)
# TRANSLATORS: The same to a customer whose referral welcome bonus came with that purchase.
plural(
    "undo_notice_referral",
    "points",
    "↩️ Correction: your purchase of {details} (+{points} point) was undone. New balance: "
    "<b>{balance}</b> points.\n"
    "Your referral welcome bonus is taken back too: you get it with your next purchase.",
    "↩️ Correction: your purchase of {details} (+{points} points) was undone. New balance: "
    "<b>{balance}</b> points.\n"
    "Your referral welcome bonus is taken back too: you get it with your next purchase.",
)
msg("undo_not_found", "There is nothing of yours to undo.")
msg("undo_not_yours", "You can only undo entries you issued yourself. Ask the owner.")
plural(
    "undo_too_late",
    "minutes",
    "Entries can be undone within {minutes} minute. Ask the owner to reverse it.",
    "Entries can be undone within {minutes} minutes. Ask the owner to reverse it.",
)
msg("undo_not_undoable", "Only purchase entries can be undone.")
msg(
    "undo_spent",
    "Can't undo: the customer has already spent those points. Ask the owner to sort it out.",
)
msg(
    "undo_referral_spent",
    "Can't undo: this purchase paid {name} a referral bonus that they have already spent."
    " Ask the owner to sort it out.",
)
msg("undo_usage", "Use /undo for your last entry, or /undo NUMBER for entry #NUMBER.")
msg(
    "photo_no_qr",
    "I couldn't find a QR code in that photo. Try again a bit closer, or type "
    "<code>/scan CODE AMOUNT</code>.",
)
msg("photo_not_ours", "That QR code isn't one of ours.")
msg("photo_customer", "Thanks! I can't do anything with photos here — use the buttons below.")
plural(
    "staff_help",
    "minutes",
    "<b>For staff</b>\n"
    "Scan the customer's card with your phone camera, then send the amount (e.g. "
    "<code>4.50</code>). If the camera can't read it, type <code>/scan CODE AMOUNT</code> or send "
    "me a photo of the QR. Made a mistake? Tap <b>Undo</b> or send /undo within {minutes} minute.",
    "<b>For staff</b>\n"
    "Scan the customer's card with your phone camera, then send the amount (e.g. "
    "<code>4.50</code>). If the camera can't read it, type <code>/scan CODE AMOUNT</code> or send "
    "me a photo of the QR. Made a mistake? Tap <b>Undo</b> or send /undo within {minutes} minutes.",
)
# TRANSLATORS: Staff management (owners).
msg("staff_list_title", "👥 <b>Staff</b>")
msg("staff_list_empty", "No staff yet. Invite your baristas with the button below.")
msg("staff_list_line", "• {name} (since {date})")
msg("btn_invite", "➕ Invite a barista")
msg("btn_remove", "Remove {name}")
msg(
    "invite_created",
    "Send this one-time link to your barista. It works once, until {time}:\n{link}",
)
msg(
    "invite_welcome",
    "👋 Welcome to the team at {cafe}, <b>{name}</b>! You can now issue points.\n"
    "Scan a customer's card with your phone camera, then send the amount.",
)
msg("invite_owner_notice", "✅ {name} joined as staff.")
msg("invite_invalid", "This invite link isn't valid. Ask the owner for a new one.")
msg("invite_expired", "This invite link has expired. Ask the owner for a new one.")
msg("invite_used", "This invite link was already used. Ask the owner for a new one.")
msg("invite_already_staff", "You're already on the team — no invite needed.")
msg("staff_removed", "{name} was removed from staff.")
msg("staff_not_found", "That person is not on the staff list any more.")
msg(
    "staff_removed_notice", "You are no longer staff at {cafe}. Your own membership stays as it is."
)
# TRANSLATORS: A chain's staff, by location (owners see every location; a manager their own).
msg("staff_location_title", "\n📍 <b>{location}</b>")
msg("staff_location_closed", "\n🔒 <b>{location}</b> (closed)")
msg("staff_location_empty", "No staff here yet.")
msg("staff_list_line_manager", "• {name}, manager (since {date})")
msg("staff_no_locations", "You don't manage a location.")
msg("btn_remove_at", "Remove {name} ({location})")
msg("btn_invite_barista_at", "➕ Barista for {location}")
msg("btn_invite_manager_at", "👤 Manager for {location}")
msg(
    "invite_created_barista",
    "Send this one-time link to your barista for {location}. It works once, until {time}:\n{link}",
)
msg(
    "invite_created_manager",
    "Send this one-time link to the manager of {location}. It works once, until {time}:\n{link}",
)
msg(
    "invite_welcome_barista",
    "👋 Welcome to the team at {cafe}, <b>{name}</b>! You work at {location} and can now "
    "issue points.\nScan a customer's card with your phone camera, then send the amount.",
)
msg(
    "invite_welcome_manager",
    "👋 <b>{name}</b>, you are now the manager of {location} at {cafe}. Invite and remove "
    "its baristas with /staff; scan cards and send amounts like everyone at the counter.",
)
msg(
    "invite_welcome_another",
    "📍 You now work at {location} too. At your first scan each day I'll ask where you "
    "are; /where changes it.",
)
msg("invite_owner_notice_barista", "✅ {name} joined {location} as a barista.")
msg("invite_owner_notice_manager", "✅ {name} is now the manager of {location}.")
msg("staff_removed_at", "{name} no longer works at {location}.")
msg("staff_removed_at_notice", "You no longer work at {location} ({cafe}).")
msg("location_closed", "That location is closed (or not one of yours). Nothing was changed.")
msg("location_unknown", "That location no longer exists. Open /locations again.")
msg(
    "no_open_location",
    "None of your locations is open, so you can't issue points or hand over rewards. "
    "Ask the owner.",
)
# TRANSLATORS: Where a barista in several shops is working now.
msg("where_question", "📍 Where are you working now?")
msg("where_question_scan", "📍 Where are you working today? Tap your shop, then send the amount.")
msg("where_one", "📍 You work at {location}: nothing to choose.")
msg("where_chosen", "📍 You're at <b>{location}</b> today. To change it, send /where.")
# TRANSLATORS: The owner's locations.
msg("locations_title", "📍 <b>Locations</b>")
plural(
    "locations_line",
    "staff",
    "• {name}: {staff} person on the team",
    "• {name}: {staff} people on the team",
)
msg("locations_line_closed", "• {name}: closed since {date}")
msg(
    "locations_one_hint",
    "\nOpening a second shop? Add it here. Receipts, history and the staff list then "
    "name the shop, and each shop gets its own team and managers.",
)
msg("locations_manager", "{name} (manager)")
plural(
    "location_open",
    "count",
    "📍 <b>{name}</b>\nOpen since {date} · {count} person on the team",
    "📍 <b>{name}</b>\nOpen since {date} · {count} people on the team",
)
msg(
    "location_closed_since",
    "🔒 <b>{name}</b>\nClosed since {date}. Its history stays; it takes no new scans.",
)
# TRANSLATORS: {names} is a list of the location's team (a manager: locations_manager).
msg("location_team", "Team: {names}")
msg("btn_location_add", "➕ Add a location")
msg("btn_rename", "✏️ Rename")
msg("btn_close", "🔒 Close")
msg("btn_invite_barista", "➕ Invite a barista")
msg("btn_invite_manager", "👤 Invite a manager")
msg("btn_locations_all", "« All locations")
msg("btn_close_yes", "🔒 Yes, close it")
msg("btn_close_keep", "Keep it open")
msg(
    "location_close_ask",
    "Close <b>{name}</b>? Its history stays in reports and /history; it takes no new "
    "scans, and its staff can no longer pick it.",
)
msg("location_last_open", "That's your last open location: it stays open.")
msg("location_already_closed", "That location is closed already.")
msg("location_closed_done", "🔒 {name} is closed. Its history stays.")
msg("location_ask_name", "Send the name of the new location (up to {max} characters).")
msg("location_ask_rename", "Send the new name for <b>{name}</b> (up to {max} characters).")
msg("location_name_taken", "There's already a location called “{name}”. Send another name.")
msg("location_name_invalid", "A name is 1 to {max} characters on one line. Send it again.")
msg("location_added", "📍 <b>{name}</b> added.")
msg("location_renamed", "✏️ Renamed to <b>{name}</b>.")
# TRANSLATORS: Balance details: tier and the next reward.
plural(
    "balance_tier_next",
    "needed",
    "🏅 Tier: <b>{tier}</b> (×{multiplier} points). {needed} more point earned to reach "
    "{next_tier}.",
    "🏅 Tier: <b>{tier}</b> (×{multiplier} points). {needed} more points earned to reach "
    "{next_tier}.",
)
msg(
    "balance_tier_top",
    "🏅 Tier: <b>{tier}</b> (×{multiplier} points). That's our top tier. Thank you!",
)
plural(
    "balance_next_reward",
    "cost",
    "🎁 Next reward: {title} ({cost} point)\n<code>{bar}</code> {points}/{cost}",
    "🎁 Next reward: {title} ({cost} points)\n<code>{bar}</code> {points}/{cost}",
)
msg("balance_can_redeem", "🎁 You can redeem <b>{title}</b> now — tap <b>Rewards</b>.")
msg(
    "tier_up",
    "🎉 Congratulations, you've reached <b>{tier}</b>! From now on every purchase earns "
    "×{multiplier} points.",
)
# TRANSLATORS: Rewards and coupons (customers).
plural(
    "rewards_title",
    "points",
    "🎁 <b>Rewards</b> — you have {points} point",
    "🎁 <b>Rewards</b> — you have {points} points",
)
plural(
    "rewards_line_ok",
    "cost",
    "✅ {title} — {cost} point",
    "✅ {title} — {cost} points",
)
plural(
    "rewards_line_missing",
    "cost",
    "• {title} — {cost} point (need {missing} more)",
    "• {title} — {cost} points (need {missing} more)",
)
msg("rewards_empty", "There are no rewards yet. Ask at the counter!")
msg("btn_redeem", "Redeem {title}")
plural(
    "coupon_caption",
    "cost",
    "🎁 <b>{title}</b>\n"
    "Coupon for {name} · {cost} point\n"
    "Show this QR at the counter, or tell the barista the code <code>{code}</code>.\n"
    "Valid until {date}.",
    "🎁 <b>{title}</b>\n"
    "Coupon for {name} · {cost} points\n"
    "Show this QR at the counter, or tell the barista the code <code>{code}</code>.\n"
    "Valid until {date}.",
)
msg("btn_cancel_coupon", "✖ Cancel coupon (refund)")
msg("btn_confirm_cancel", "Yes, cancel and refund")
msg("btn_keep_coupon", "Keep it")
plural(
    "cancel_coupon_question",
    "cost",
    "Cancel your {title} coupon and get {cost} point back?",
    "Cancel your {title} coupon and get {cost} points back?",
)
plural(
    "coupon_cancelled",
    "cost",
    "Coupon cancelled: {cost} point are back. Balance: <b>{balance}</b> points.",
    "Coupon cancelled: {cost} points are back. Balance: <b>{balance}</b> points.",
)
msg(
    "coupon_still_open", "Your {title} coupon is already in the chat above. Show it at the counter."
)
msg("coupon_closed_redeemed", "✅ <b>{title}</b>: used on {date}. This code no longer works.")
msg(
    "coupon_closed_cancelled",
    "↩️ <b>{title}</b>: cancelled on {date}; its points were refunded. This code no longer works.",
)
msg("coupon_closed_expired", "⌛ <b>{title}</b>: expired on {date}. This code no longer works.")
msg("coupon_kept", "Great — your coupon is still valid.")
plural(
    "not_enough_points",
    "missing",
    "You need {missing} more point for that reward. Keep collecting!",
    "You need {missing} more points for that reward. Keep collecting!",
)
msg(
    "reward_unavailable",
    "That reward isn't available any more. Tap <b>Rewards</b> for the current list.",
)
msg("coupons_title", "🎟 <b>Your open coupons</b>")
msg("coupons_line", "• {title} — valid until {date}")
msg("coupons_empty", "You have no open coupons. Tap <b>Rewards</b> to get one.")
msg("btn_show_coupon", "Show {title}")
msg("coupon_redeemed_notice", "✅ Your <b>{title}</b> coupon was redeemed. Enjoy!")
plural(
    "coupon_expired_notice",
    "cost",
    "⌛ Your <b>{title}</b> coupon expired unused, so its {cost} point are back. Balance: "
    "<b>{balance}</b> points.",
    "⌛ Your <b>{title}</b> coupon expired unused, so its {cost} points are back. Balance: "
    "<b>{balance}</b> points.",
)
msg("coupon_link_customer", "This is a coupon. Show it at the counter to use it.")
# TRANSLATORS: Coupons at the counter (staff).
msg("coupon_staff", "🎁 <b>{title}</b> for {name}\nValid until {date}. Hand it over, then confirm.")
msg("btn_confirm_coupon", "✅ Confirm — hand over")
msg("coupon_confirmed", "✅ Redeemed: <b>{title}</b> for {name}.")
# TRANSLATORS: {time} is a time of day, or a date and time when it was not today.
msg("coupon_already_redeemed", "⛔ {title}: already redeemed at {time} by {staff}.")
msg("coupon_already_redeemed_unnamed", "⛔ {title}: already redeemed at {time}.")
msg(
    "coupon_was_cancelled",
    "⛔ {title}: the customer cancelled this coupon and got the points back.",
)
msg("coupon_was_expired", "⛔ {title}: this coupon expired on {date}; its points were refunded.")
msg(
    "coupon_past_date",
    "⛔ {title}: this coupon expired on {date}; its points go back to the customer.",
)
msg("coupon_malformed", "That isn't a coupon code. Coupon codes look like <code>ABCD-EFGH</code>.")
msg(
    "coupon_unknown",
    "There's no such coupon. Ask the customer to open it from their chat (<b>My coupons</b>).",
)
msg("redeem_usage", "Type the coupon's code, e.g. <code>/redeem ABCD-EFGH</code>.")
# TRANSLATORS: Catalog (owners). The list, then a button per reward that opens it.
msg("catalog_title", "🗂 <b>Rewards catalog</b>")
plural(
    "catalog_line",
    "cost",
    "#{id} {title} — {cost} point",
    "#{id} {title} — {cost} points",
)
# TRANSLATORS: A reward switched off: customers do not see it.
plural(
    "catalog_line_off",
    "cost",
    "#{id} {title} — {cost} point (off)",
    "#{id} {title} — {cost} points (off)",
)
msg("catalog_empty", "The catalog is empty.")
msg(
    "catalog_help",
    "Tap a reward to change its cost or switch it off, or <b>➕ Add a reward</b>.",
)
msg("btn_catalog_add", "➕ Add a reward")
# TRANSLATORS: The button that opens one reward of the catalog ({id} is its number).
msg("btn_catalog_reward", "✏️ #{id} {title}")
msg("btn_catalog_reward_off", "💤 #{id} {title}")
# TRANSLATORS: Buttons that page through a long catalog.
msg("btn_page_earlier", "◀ Earlier")
msg("btn_page_later", "Later ▶")
# TRANSLATORS: One reward, opened from the catalog, with its buttons under it.
plural(
    "catalog_reward_on",
    "cost",
    "🎁 <b>#{id} {title}</b>: {cost} point. Customers can redeem it.",
    "🎁 <b>#{id} {title}</b>: {cost} points. Customers can redeem it.",
)
plural(
    "catalog_reward_off",
    "cost",
    "💤 <b>#{id} {title}</b>: {cost} point. Switched off: customers don't see it.",
    "💤 <b>#{id} {title}</b>: {cost} points. Switched off: customers don't see it.",
)
msg("btn_catalog_cost", "✏️ Change the cost")
msg("btn_catalog_off", "⏸ Switch off")
msg("btn_catalog_on", "▶️ Switch on")
msg("catalog_ask_title", "A new reward. What is it called? (1 to 48 characters)")
msg("catalog_ask_cost", "How many points does <b>{title}</b> cost? e.g. <code>150</code>")
plural(
    "catalog_ask_new_cost",
    "cost",
    "The new cost of <b>#{id} {title}</b> (now {cost} point)? e.g. <code>120</code>",
    "The new cost of <b>#{id} {title}</b> (now {cost} points)? e.g. <code>120</code>",
)
plural(
    "catalog_added",
    "cost",
    "Added #{id} {title} for {cost} point.",
    "Added #{id} {title} for {cost} points.",
)
msg("catalog_bad_title", "The title must be 1 to 48 characters.")
msg("catalog_bad_cost", "The cost must be a whole number of points, from 1 to 1000000.")
msg("catalog_bad_duplicate", "There is already a reward with that title.")
msg("catalog_not_found", "There is no reward with that number. Send /catalog to see the list.")
# TRANSLATORS: Words an owner may type in "/catalog add 150 Croissant", "/catalog cost 3 120",
# "/catalog off 3" and "/catalog on 3" (the buttons do the same). Each: a word a person may
# type; lowercase; comma-separated alternatives allowed. The English word is understood too.
msg("word_add", "add")
msg("word_cost", "cost, price")
msg("word_on", "on")
msg("word_off", "off")
# TRANSLATORS: Offers (customers). {end} is a date and time; {value} a multiplier ("1.5").
msg("offers_title", "🎉 <b>Offers for you</b>")
msg("offers_line_multiplier", "• <b>{title}</b>: ×{value} points, until {end}")
plural(
    "offers_line_bonus",
    "value",
    "• <b>{title}</b>: +{value} bonus point per purchase, until {end}",
    "• <b>{title}</b>: +{value} bonus points per purchase, until {end}",
)
# TRANSLATORS: {value} is the title of a reward from the café's catalog.
msg("offers_line_coupon", "• <b>{title}</b>: a free {value}, until {end}")
msg("offers_line_description", "  {description}")
msg("offers_line_where", "  📍 Only at {places}")
msg("offers_none", "No offers running right now. We'll let you know!")
# TRANSLATORS: The hours an offer is valid, on a line of its own: {days} is a list of days
# ("Mon–Fri and Sun", "Sat and Sun"), {hours} a time range ("15:00–17:00").
msg("offer_hours", "🕒 {days}, {hours}")
msg("offer_hours_daily", "🕒 Every day, {hours}")
# TRANSLATORS: Consecutive days in offer_hours: the first and the last ("Mon–Fri").
msg("offer_days_span", "{first}–{last}")
# TRANSLATORS: Offers (owners). What an offer gives, on a line of its own.
msg("offer_effect_multiplier", "Gives: ×{value} points")
plural(
    "offer_effect_bonus",
    "value",
    "Gives: +{value} bonus point per purchase",
    "Gives: +{value} bonus points per purchase",
)
# TRANSLATORS: {value} is the title of a reward from the café's catalog.
msg("offer_effect_coupon", "Gives: a free {value}")
msg("offers_owner_title", "🎉 <b>Offers</b>")
# TRANSLATORS: The first line of an offer in the owner's /offers; {start} and {end} are a
# date and time each. The lines after it say what it gives, when and for whom.
msg("offers_owner_upcoming", "#{id} <b>{title}</b>: upcoming, from {start} to {end}")
msg("offers_owner_running", "#{id} <b>{title}</b>: running until {end} (since {start})")
msg("offers_owner_ended", "#{id} <b>{title}</b>: ended {end} (ran from {start})")
# TRANSLATORS: {audience} is one of the audience_* texts.
msg("offer_for", "For: {audience}")
msg("offers_owner_none", "No offers yet. Create one with /offer.")
msg("btn_end_offer", "End #{id} now")
msg("offer_ended", "Offer #{id} {title} has ended.")
msg("offer_not_found", "That offer has already ended.")
msg("offer_ask_title", "New offer. What's its title? (Send /cancel at any time.)")
msg(
    "offer_ask_description",
    "A short description customers will see? Send it, or tap <b>Skip</b>.",
)
msg("btn_skip", "Skip")
msg("offer_ask_kind", "What does the offer give?")
msg("btn_kind_multiplier", "× Points multiplier")
msg("btn_kind_bonus", "+ Bonus points")
msg("btn_kind_coupon", "🎁 Free reward")
msg("offer_ask_multiplier", "The multiplier, e.g. <code>2</code> or <code>1.5</code>:")
msg("offer_ask_bonus", "Bonus points per purchase, e.g. <code>20</code>:")
msg("offer_ask_reward", "Which reward does everyone get?")
msg("offer_no_rewards", "Add a reward with /catalog first. Offer cancelled.")
msg("offer_bad_multiplier", "Send a number above 1 and at most 10, e.g. <code>2</code>.")
msg("offer_bad_coupon", "Pick the reward with one of the buttons above, or press Cancel.")
msg("offer_bad_bonus", "Send a whole number of points from 1 to 10000, e.g. <code>20</code>.")
# TRANSLATORS: {tomorrow} is the first of your word_tomorrow words, as the owner may type it.
msg(
    "offer_ask_start",
    "When does it start? Tap <b>Now</b>, or send a date and time in café time, e.g. "
    "<code>2026-11-28 15:00</code>, <code>28.11 15:00</code> or <code>{tomorrow} 9:00</code>.",
)
msg("btn_now", "▶️ Now")
msg("offer_ask_end", "When does it end? e.g. <code>2026-11-30 18:00</code>")
msg("offer_bad_date", "I couldn't read that date. Try <code>2026-11-28 15:00</code>.")
msg("offer_end_before_start", "The end must be after the start ({start}). Send another end time.")
# TRANSLATORS: Words an owner may type for a start or an end: "now", and the day before a time
# ("today 15:00", "tomorrow 9:00"). Each: a word a person may type; lowercase;
# comma-separated alternatives allowed. The English word is understood too.
msg("word_now", "now")
msg("word_today", "today")
msg("word_tomorrow", "tomorrow")
# TRANSLATORS: {example} is how to type Monday to Friday afternoons with your day names
# ("Mo-Fr 15:00-17:00"); the owner may type any day name of your language, or English.
msg(
    "offer_ask_window",
    "Only at certain hours? Send the days and hours, e.g. <code>{example}</code>, "
    "or tap <b>Any time</b>.",
)
msg("btn_any_time", "Any time")
msg(
    "offer_bad_window",
    "Send days and hours like <code>{example}</code>, or only hours like <code>15:00-17:00</code>.",
)
# TRANSLATORS: Words an owner may type for several days in an offer's hours
# ("weekend 10:00-12:00"), and the word between two days of a range ("Mon to Fri"). Each: a
# word a person may type; lowercase; comma-separated alternatives allowed. Day names need no
# words here: every name your language has for a day is understood, and English.
msg("word_weekdays", "weekdays")
msg("word_weekend", "weekend, weekends")
msg("word_every_day", "daily, every day")
msg("word_through", "to, through")
msg("offer_ask_audience", "Who is it for?")
# TRANSLATORS: Audiences: each stands alone, on a button or after "For:".
msg("audience_all", "Everyone")
msg("audience_tier", "{tier} members")
plural(
    "audience_lapsed",
    "days",
    "No visit for {days} day",
    "No visit for {days} days",
)
msg("audience_lapsed_button", "Lapsed customers…")
msg("audience_birthday", "Birthday this month")
msg("ask_lapsed_days", "No visit for how many days? e.g. <code>30</code>")
msg("bad_lapsed_days", "Send a whole number of days from 1 to 3650.")
# TRANSLATORS: A chain's audiences and offers limited to some locations. {places} is a list of
# location names ("Main and Harbour").
plural(
    "audience_visited",
    "days",
    "Bought at {places} in the last {days} day",
    "Bought at {places} in the last {days} days",
)
msg("audience_visited_button", "📍 Customers of a location…")
msg("ask_visited_places", "Customers of which locations? Tick one or more, then Done.")
msg("ask_visited_days", "Who bought at {places} in the last how many days? e.g. <code>30</code>")
msg("ask_pick_a_location", "Tick at least one location first, then Done.")
msg(
    "offer_ask_where",
    "Where is the offer valid? <b>Everywhere</b>, or tick the locations, then Done.",
)
msg("offer_valid_at", "📍 Valid only at {places}.")
msg("btn_place_on", "✅ {name}")
msg("btn_place_off", "▫️ {name}")
msg("btn_places_done", "Done")
msg("btn_places_everywhere", "🌍 Everywhere")
msg("offer_ask_announce", "Announce it to them when it starts?")
msg("btn_announce_yes", "📣 Yes, announce")
msg("btn_announce_no", "No")
# TRANSLATORS: The offer's preview, line by line: a heading, the title, (the owner's
# description,) what it gives, (its hours,) its dates, its audience, (where,) the announcement.
msg("offer_preview_title", "<b>Preview</b>")
msg("offer_preview_name", "🎉 <b>{title}</b>")
msg("offer_preview_dates", "From {start} to {end}")
plural(
    "offer_preview_audience",
    "count",
    "For: {audience} ({count} member now)",
    "For: {audience} ({count} members now)",
)
msg("offer_preview_announce", "📣 Announced when it starts.")
msg("offer_preview_silent", "Not announced.")
msg("btn_save", "✅ Save")
msg("offer_saved", "Offer #{id} saved. It runs from {start} to {end}.")
msg("conversation_cancelled", "Cancelled. Nothing was saved.")
msg(
    "offer_draft_lost",
    "This offer draft is incomplete, so nothing was saved. Start again with /offer.",
)
# TRANSLATORS: Broadcasts (owners).
msg(
    "broadcast_ask_message",
    "Send the message for your members: text, or a photo with a caption. Formatting "
    "(bold, italic, links) is kept. /cancel to stop.",
)
msg(
    "broadcast_too_long",
    "That's too long for Telegram ({length} of {limit} characters). Send a shorter one.",
)
msg("broadcast_ask_audience", "Who should get it?")
msg(
    "broadcast_bad_html",
    "Telegram couldn't read the formatting (check that every tag like <code>&lt;b&gt;</code> "
    "is closed). Send the message again.",
)
plural(
    "broadcast_preview",
    "count",
    "That's how it will look. Send it to <b>{count}</b> member ({audience})?",
    "That's how it will look. Send it to <b>{count}</b> members ({audience})?",
)
msg(
    "broadcast_nobody",
    "Nobody in that audience can receive promotions right now. Nothing was sent.",
)
msg("btn_send", "📣 Send")
plural(
    "broadcast_queued",
    "count",
    "Broadcast #{id} queued for {count} member. Progress appears below.",
    "Broadcast #{id} queued for {count} members. Progress appears below.",
)
# TRANSLATORS: The owner's live progress of a broadcast, edited as it goes; {eta} is a
# number of seconds ("s" is the unit's symbol).
msg(
    "broadcast_progress",
    "📣 Broadcast #{id}: sent {sent} · remaining {pending} · failed {failed} · "
    "blocked {blocked}\nAbout {eta} s left.",
)
# TRANSLATORS: The same while Telegram makes the bot wait {seconds} seconds.
msg(
    "broadcast_progress_paused",
    "📣 Broadcast #{id}: sent {sent} · remaining {pending} · failed {failed} · "
    "blocked {blocked}\nAbout {eta} s left.\n"
    "⏸ Paused by Telegram for {seconds} s; it goes on by itself.",
)
msg(
    "broadcast_done",
    "✅ Broadcast #{id} finished: {sent} sent, {failed} failed, {blocked} blocked the bot.",
)
msg("broadcasts_title", "📣 <b>Broadcasts</b>")
# TRANSLATORS: One broadcast in the owner's /broadcasts list: its number, its day and
# time, who it was for ("Everyone", "Gold members"…), its figures, and that it is still
# being sent.
msg(
    "broadcasts_line_sending",
    "#{id} · {date} {time} · {audience} · {sent}/{total} sent, {failed} failed, "
    "{blocked} blocked · sending",
)
# TRANSLATORS: The same for a broadcast sent to everyone it could reach.
msg(
    "broadcasts_line_done",
    "#{id} · {date} {time} · {audience} · {sent}/{total} sent, {failed} failed, "
    "{blocked} blocked · done",
)
msg("broadcasts_none", "No broadcasts yet. Send one with /broadcast.")
# TRANSLATORS: Under the broadcast's preview: a button per language, named in its own
# words ("Español", "Deutsch"), for the owner to write the message in that language too.
msg("btn_broadcast_version", "➕ Add a version in {language}")
msg("btn_broadcast_version_again", "✏️ Rewrite the version in {language}")
msg(
    "broadcast_ask_version",
    "Send the message in {language}, as the members who read {language} should get it. "
    "/cancel to stop.",
)
msg(
    "broadcast_ask_version_caption",
    "Send the photo's caption in {language}, as the members who read {language} should "
    "get it (the photo stays the same). /cancel to stop.",
)
# TRANSLATORS: The question under the preview once the owner wrote versions in other
# languages; {languages} lists them in their own words ("Español and Deutsch").
plural(
    "broadcast_preview_versions",
    "count",
    "Members who read {languages} get their version, everyone else your first message. "
    "Send it to <b>{count}</b> member ({audience})?",
    "Members who read {languages} get their version, everyone else your first message. "
    "Send it to <b>{count}</b> members ({audience})?",
)
# TRANSLATORS: What the bot says (a short pop-up) when a member taps "Stop offers and news"
# under a broadcast.
msg(
    "broadcast_news_stopped",
    "🔕 Done: no more offers and news. Receipts and coupons still arrive.",
)
msg("broadcast_news_again", "🔔 Done: you'll get offers and news again.")
# TRANSLATORS: The pop-up when the owner taps that button under their own preview.
msg(
    "broadcast_news_preview",
    "Members who tap this get no more offers and news (they can turn them on in /settings).",
)
# TRANSLATORS: An offer's announcement to members. {title} and {text} are the owner's
# own words (the offer's title and description), {gift} the reward it gives. "My coupons"
# is the members' button (btn_coupons): write it as your translation of that does.
msg("broadcast_offer", "🎉 <b>{title}</b>")
msg("broadcast_offer_described", "🎉 <b>{title}</b>\n{text}")
msg(
    "broadcast_offer_gift",
    "🎉 <b>{title}</b>\n🎁 Your free {gift} is waiting in <b>My coupons</b>.",
)
msg(
    "broadcast_offer_gift_described",
    "🎉 <b>{title}</b>\n{text}\n🎁 Your free {gift} is waiting in <b>My coupons</b>.",
)
# TRANSLATORS: Settings (customers).
msg("settings_title", "⚙️ <b>Settings</b>")
msg("settings_promotions_on", "🔔 Offers and news: <b>on</b>")
msg("settings_promotions_off", "🔕 Offers and news: <b>off</b> (receipts and coupons still arrive)")
msg("settings_birthday", "🎂 Birthday: <b>{birthday}</b>")
msg(
    "settings_birthday_unset",
    "🎂 Birthday: not set — send <code>/birthday 24.12</code> for a birthday treat.",
)
msg("settings_service_on", "⏰ Points reminders and birthday treat: <b>on</b>")
msg("settings_service_off", "🔕 Points reminders and birthday treat: <b>off</b>")
msg("settings_language", "🌐 Language: <b>{language}</b>")
# TRANSLATORS: the /settings button that opens the choice of languages.
msg("btn_language", "🌐 Language")
msg("language_question", "🌐 Which language should I speak with you?")
# TRANSLATORS: a language in the choice of languages, {name} in its own words ("Español").
msg("language_current", "✅ {name}")
msg("language_other", "{name}")
msg("language_chosen", "🌐 Done: I'll speak {name} with you from now on.")
msg("language_keyboard", "Your buttons below are in the new language too.")
msg("settings_privacy", "🔒 /mydata: everything we hold about you · /forget: leave for good")
msg("btn_promotions_off", "🔕 Stop offers and news")
msg("btn_promotions_on", "🔔 Get offers and news")
msg("btn_service_off", "🔕 Stop reminders and birthday treat")
msg("btn_service_on", "⏰ Get reminders and birthday treat")
msg("birthday_usage", "Send your birthday as day and month, e.g. <code>/birthday 24.12</code>.")
msg("birthday_saved", "🎂 Saved: {birthday}. We'll remember!")
msg(
    "birthday_locked",
    "Your birthday is set to <b>{birthday}</b>. It can be changed once a year; "
    "the next change is possible from {date}.",
)
# TRANSLATORS: Points expiry.
msg("balance_expires", "⏳ Your points expire at the end of <b>{date}</b> unless you visit before.")
plural(
    "expiry_reminder",
    "points",
    "⏳ Your <b>{points}</b> point expire at the end of <b>{date}</b>.\n"
    "Visit us before then and they stay yours.",
    "⏳ Your <b>{points}</b> points expire at the end of <b>{date}</b>.\n"
    "Visit us before then and they stay yours.",
)
plural(
    "expiry_reminder_reward",
    "points",
    "⏳ Your <b>{points}</b> point expire at the end of <b>{date}</b>.\n"
    "They buy a <b>{reward}</b> right now. Visit us before then and they stay yours.",
    "⏳ Your <b>{points}</b> points expire at the end of <b>{date}</b>.\n"
    "They buy a <b>{reward}</b> right now. Visit us before then and they stay yours.",
)
plural(
    "expired_notice",
    "points",
    "⌛ Your {points} point expired after a long time without a visit. Come back soon: every "
    "purchase starts a new balance.",
    "⌛ Your {points} points expired after a long time without a visit. Come back soon: every "
    "purchase starts a new balance.",
)
# TRANSLATORS: Win-back.
msg("winback_default", "☕ We miss you at {cafe}! Come by soon.")
plural(
    "winback_bonus",
    "points",
    "🎁 We added <b>{points}</b> point to your balance.",
    "🎁 We added <b>{points}</b> points to your balance.",
)
msg("winback_reward", "🎟 A free <b>{reward}</b> is waiting in <b>My coupons</b> until {date}.")
plural(
    "winback_title",
    "days",
    "💌 <b>Win-back message</b> (after {days} day without a visit)",
    "💌 <b>Win-back message</b> (after {days} days without a visit)",
)
msg("winback_off", "💌 Win-back is off. Set WINBACK_AFTER_DAYS to turn it on.")
# TRANSLATORS: The owner's /winback: what members who stay away get, line by line.
msg("winback_text_line", "Text: {text}")
plural(
    "winback_bonus_line",
    "bonus",
    "Bonus: {bonus} point",
    "Bonus: {bonus} points",
)
# TRANSLATORS: {reward} is a reward of the café's catalog, {id} its number.
plural(
    "winback_coupon_line",
    "days",
    "Coupon: a free {reward} (#{id}), valid {days} day",
    "Coupon: a free {reward} (#{id}), valid {days} days",
)
msg("winback_no_coupon", "Coupon: none")
msg("winback_help", "Change it with the buttons below.")
msg("btn_winback_text", "✏️ Text")
msg("btn_winback_bonus", "⭐ Bonus")
msg("btn_winback_coupon", "🎟 Coupon")
msg("winback_ask_text", "Send the text members who stay away get (up to 1000 characters).")
msg(
    "winback_ask_bonus",
    "How many bonus points do they get? e.g. <code>50</code>, or <code>0</code> for none.",
)
msg("winback_bad_bonus", "Send a whole number of points from 0 to 100000, e.g. <code>50</code>.")
msg("winback_ask_coupon", "Which reward do they get as a free coupon?")
msg("btn_winback_no_coupon", "No coupon")
msg("winback_ask_days", "How long is the free {reward} valid?")
plural("btn_days", "days", "{days} day", "{days} days")
msg("winback_saved", "Saved. Dormant members get this from now on.")
msg("winback_bad", "I couldn't read that. See /winback for how to change it.")
# TRANSLATORS: Words an owner may type in "/winback text …", "/winback bonus 50",
# "/winback reward 3 14" and "/winback reward none" (the buttons do the same). Each: a word a
# person may type; lowercase; comma-separated alternatives allowed. English is understood too.
msg("word_text", "text")
msg("word_bonus", "bonus")
msg("word_reward", "reward, coupon")
msg("word_none", "none, off")
# TRANSLATORS: Birthday treat.
msg("birthday_treat", "🎂 Happy birthday, <b>{name}</b>!")
plural(
    "birthday_treat_bonus",
    "points",
    "🎂 Happy birthday, <b>{name}</b>! We added <b>{points}</b> point to your balance.",
    "🎂 Happy birthday, <b>{name}</b>! We added <b>{points}</b> points to your balance.",
)
msg(
    "birthday_treat_reward",
    "🎂 Happy birthday, <b>{name}</b>! A free <b>{reward}</b> is waiting in <b>My coupons</b> "
    "until {date}.",
)
plural(
    "birthday_treat_bonus_and_reward",
    "points",
    "🎂 Happy birthday, <b>{name}</b>! We added <b>{points}</b> point to your balance. "
    "A free <b>{reward}</b> is waiting in <b>My coupons</b> until {date}.",
    "🎂 Happy birthday, <b>{name}</b>! We added <b>{points}</b> points to your balance. "
    "A free <b>{reward}</b> is waiting in <b>My coupons</b> until {date}.",
)
# TRANSLATORS: Referrals.
msg("invite", "🤝 <b>Bring a friend</b>\nSend them your personal link:\n{link}")
# TRANSLATORS: The paragraph under the invite link: what each side gets.
plural(
    "invite_terms",
    "mine",
    "When they join with it and make a first purchase, you get <b>{mine}</b> point and they get "
    "<b>{theirs}</b>.",
    "When they join with it and make a first purchase, you get <b>{mine}</b> points and they get "
    "<b>{theirs}</b>.",
)
plural(
    "invite_terms_with_minimum",
    "mine",
    "When they join with it and make a first purchase of at least {amount}, you get <b>{mine}</b> "
    "point and they get <b>{theirs}</b>.",
    "When they join with it and make a first purchase of at least {amount}, you get <b>{mine}</b> "
    "points and they get <b>{theirs}</b>.",
)
msg("invite_no_bonus", "Every friend you bring is welcome!")
msg("invite_staff", "Invite links are for customers; staff accounts can't refer friends.")
msg(
    "referral_welcome",
    "Welcome to {cafe}, <b>{name}</b>! 🎉 {friend} invited you. "
    "Tap <b>My card</b> and show the QR code at the counter.",
)
msg(
    "referral_welcome_bonus",
    "Welcome to {cafe}, <b>{name}</b>! 🎉 {friend} invited you. You both get a bonus after "
    "your first purchase. Tap <b>My card</b> and show the QR code at the counter.",
)
msg(
    "referral_refused_already_member",
    "You're already a member, so this invite doesn't apply — but welcome back! "
    "Invite links are for people joining for the first time.",
)
msg(
    "referral_refused_own_link",
    "That's your own invite link. Share it with a friend: they join with it, and you "
    "both get the bonus after their first purchase.",
)
msg(
    "referral_refused_staff",
    "Invites don't apply to staff accounts, so no bonus comes with this one. Welcome!",
)
msg("referral_refused_unknown", "This invite link isn't valid (anymore). You've joined anyway!")
msg("referral_joined", "🤝 {friend} joined with your invite.")
plural(
    "referral_joined_bonus",
    "points",
    "🤝 {friend} joined with your invite. You get <b>{points}</b> point after their first "
    "purchase.",
    "🤝 {friend} joined with your invite. You get <b>{points}</b> points after their first "
    "purchase.",
)
plural(
    "referral_rewarded",
    "points",
    "🎉 {friend} made their first purchase: <b>+{points}</b> point for you!",
    "🎉 {friend} made their first purchase: <b>+{points}</b> points for you!",
)
plural(
    "referral_taken_back",
    "points",
    "↩️ {friend}'s first purchase was corrected at the counter, so the <b>{points}</b> referral "
    "point is taken back. You get it again with their next purchase.",
    "↩️ {friend}'s first purchase was corrected at the counter, so the <b>{points}</b> referral "
    "points are taken back. You get them again with their next purchase.",
)
plural(
    "referral_capped",
    "limit",
    "🤝 {friend} made their first purchase, but you've already had {limit} referral bonus this "
    "month, so no bonus this time. Thank you for spreading the word!",
    "🤝 {friend} made their first purchase, but you've already had {limit} referral bonuses this "
    "month, so no bonus this time. Thank you for spreading the word!",
)
msg("referral_receipt", "🤝 Referral bonus included — welcome!")
msg("referrals_title", "🤝 <b>Top referrers</b>")
msg("referrals_line", "{name} (#{id}): {rewarded} rewarded, {pending} waiting, {refused} refused")
msg("referrals_none", "No referrals yet. Customers get their link with /invite.")
# TRANSLATORS: Feedback (NPS).
msg(
    "nps_question",
    "How likely are you to recommend {cafe} to a friend? (0 = not at all, 10 = very)",
)
msg(
    "nps_thanks",
    "Thank you! You gave us <b>{score}/10</b>. Anything we could do better? "
    "Just reply here (or tap another number to change your answer).",
)
msg("nps_comment_thanks", "Thank you for telling us. 🙏")
# TRANSLATORS: To the owners, about a low score; {date} is the day of the visit.
msg(
    "nps_low_alert",
    "⚠️ {name} (member #{id}) rated us <b>{score}/10</b> after their visit on {date}.",
)
msg(
    "nps_low_alert_with_comment",
    "⚠️ {name} (member #{id}) rated us <b>{score}/10</b> after their visit on {date}.\n"
    "They wrote: “{comment}”",
)
# TRANSLATORS: Privacy.
msg("mydata_caption", "🔒 Everything we hold about you, as a file any text editor opens.")
# TRANSLATORS: The question /forget asks, line by line (the lines about coupons and points
# only when there are some).
msg(
    "forget_intro",
    "Forget you? Your name, username, birthday, chat and feedback comments are removed.",
)
plural(
    "forget_lose_coupons",
    "coupons",
    "Your {coupons} open coupon is cancelled.",
    "Your {coupons} open coupons are cancelled.",
)
plural(
    "forget_lose_points",
    "points",
    "Your <b>{points}</b> point is lost.",
    "Your <b>{points}</b> points are lost.",
)
msg(
    "forget_outro",
    "The café keeps its bookkeeping (entries without your name). You can join again later as "
    "a new member. This cannot be undone.",
)
msg("btn_forget_yes", "Yes, forget me")
msg("btn_forget_no", "No, keep my membership")
msg("forget_done", "Done: we've forgotten you. Press /start any time to join again as new.")
msg("forget_kept", "Good to have you. Nothing changed.")
# TRANSLATORS: The owner's numbers.
msg(
    "period_usage",
    "Which period? E.g. <code>/{command}</code> (this month), <code>/{command} {last}</code>, "
    "<code>/{command} 2026-11</code> or <code>/{command} 2026-11-01 2026-11-15</code>.",
)
# TRANSLATORS: The word an owner types after /report, /stats or /export for last month's
# figures ("/report last"): one lowercase word. The English word is understood too.
msg("word_last", "last")
# TRANSLATORS: {period} is a period as a calendar names it ("November 2026", "1–15 Nov
# 2026"): phrase the titles so that it fits as it is, without a case ending.
msg("report_title", "📒 <b>Points and revenue — {period}</b>")
msg("report_roll_title", "<b>Points roll-forward</b>")
# TRANSLATORS: The lines of the points roll-forward; {value} is a number of points with its
# sign ("+12", "-40", "0").
msg("report_opening", "Opening balance: <b>{value}</b>")
msg("report_issued_purchase", "Issued for purchases: <b>{value}</b>")
msg("report_issued_offer_bonus", "Issued by offers: <b>{value}</b>")
msg("report_issued_birthday", "Birthday treats: <b>{value}</b>")
msg("report_issued_referral", "Referral bonuses: <b>{value}</b>")
msg("report_issued_winback", "Win-back bonuses: <b>{value}</b>")
msg("report_issued_manual", "Manual bonuses: <b>{value}</b>")
msg("report_reversed", "Undone purchases: <b>{value}</b>")
msg("report_redeemed", "Redeemed for coupons: <b>{value}</b>")
msg("report_refunded", "Refunded (coupons cancelled or expired): <b>{value}</b>")
msg("report_expired", "Expired: <b>{value}</b>")
msg("report_closing", "= Closing balance: <b>{value}</b>")
msg("report_reconciled", "✅ Equals the members' balances now ({balances}).")
msg("report_unreconciled", "⚠️ The members' balances add up to {balances}: please report this.")
plural(
    "report_liability",
    "points",
    "<b>Liability</b>: {points} point = {face} at face value, <b>{expected}</b> at the expected "
    "redemption rate of {rate}.",
    "<b>Liability</b>: {points} points = {face} at face value, <b>{expected}</b> at the "
    "expected redemption rate of {rate}.",
)
msg("report_rates", "Expected redemption rate: {rate}; observed so far: {observed}.")
msg("report_revenue_title", "<b>Revenue (IFRS 15 / ASC 606)</b>")
# TRANSLATORS: The revenue lines; {value} is an amount of money.
msg("report_deferred", "Deferred in the period: <b>{value}</b>")
msg("report_recognised", "Recognised in the period: <b>{value}</b>")
msg("report_contract_liability", "Contract liability at the end: <b>{value}</b>")
msg(
    "report_bonus",
    "Bonus points given without a sale: {points}, a marketing cost of {cost} "
    "at expected redemption value.",
)
msg("report_files", "The roll-forward and the ledger follow as CSV files.")
# TRANSLATORS: A chain's numbers: one location's, the chain-wide part, and who may see which.
msg("report_title_at", "📒 <b>Points and revenue — {location} — {period}</b>")
msg("report_title_chain_wide", "📒 <b>Points and revenue — chain-wide — {period}</b>")
msg(
    "report_location_note",
    "Only this location's purchases and their undos: redemptions, refunds, expiry and "
    "bonuses are chain-wide (points are good in every shop).",
)
msg(
    "report_chain_wide_note",
    "What was done at no location: redemptions, refunds, expiry and bonuses (points are "
    "good in every shop).",
)
msg("report_parts_title", "<b>By location</b> (these add up to the figures above)")
msg(
    "report_part",
    "{name}: closing <b>{closing}</b> ({movements}); deferred {deferred}, recognised "
    "{recognised}, contract liability {contract}",
)
msg(
    "report_part_chain_wide",
    "🌐 Chain-wide: closing <b>{closing}</b> ({movements}); deferred {deferred}, recognised "
    "{recognised}, contract liability {contract}",
)
msg(
    "figures_usage",
    "Which period and location? E.g. <code>/{command}</code> (this month, all locations), "
    "<code>/{command} {last} {location}</code> or <code>/{command} 2026-11 {location}</code>. "
    "Locations: {names}.",
)
msg("figures_not_yours", "You can see the figures of {names} only.")
msg("figures_nothing", "You don't manage a location, so there are no figures for you here.")
msg("btn_figures_all", "🏢 All locations")
msg("btn_figures_chain_wide", "🌐 Chain-wide")
msg("btn_figures_at", "📍 {name}")
msg("export_roll_caption", "Points roll-forward, liability and revenue.")
plural(
    "export_ledger_caption",
    "count",
    "Ledger: {count} entry.",
    "Ledger: {count} entries.",
)
msg("rate_current", "📐 Expected redemption rate now: <b>{rate}</b>.")
msg("rate_history_line", "From {date}: {rate}")
msg(
    "rate_usage",
    "Change it with <code>/redemptionrate 95%</code> (from now) or "
    "<code>/redemptionrate 95% {word_from} 2027-01-01</code>.",
)
# TRANSLATORS: The word an owner types in "/redemptionrate 95% from 2027-01-01" before the
# first day of a new rate: one lowercase word. The English word is understood too.
msg("word_from", "from")
msg("rate_bad_range", "The rate is a share from 0 % to 100 %, e.g. <code>95%</code>.")
msg(
    "rate_bad_past",
    "An estimate can't change the past: sales already made keep theirs. "
    "Choose today or a later date.",
)
msg("rate_saved", "Saved: expected redemption rate {rate} from {date}.")
# TRANSLATORS: The /stats figures. {trend} is an arrow against the period before (" ↑",
# " ↓", " =", with its space) or nothing: keep it right after the figure it belongs to.
# The figures are written as "label: number" so that no noun has to agree with a number.
# {period} and {previous} are periods as a calendar names them ("December 2026",
# "1–15 Dec 2026"): phrase the title so that they fit as they are, without a case ending.
msg("stats_title", "📊 <b>{period}</b> (arrows: against {previous})")
msg(
    "stats_members",
    "👥 Members: <b>{total}</b> · new: {new}{trend} · reachable: {reachable}",
)
msg("stats_active", "🟢 Active in the last 30 days: <b>{active}</b>")
msg("stats_retention", "🔁 Customer retention: <b>{rate}</b>{trend} (before: {previous})")
msg("stats_repeat", "🔂 Repeat purchase rate: <b>{rate}</b>{trend}")
msg(
    "stats_visits",
    "☕ Customers: {customers} · visits: {visits}{trend} · visits per customer: {per} · "
    "spent per customer: {spend} · average basket: {basket}",
)
msg("stats_points", "⭐ Points issued: {issued}{trend} · redeemed: {redeemed} ({rate})")
msg("stats_coupons", "🎟 Coupons issued: {issued} · used: {used} · expired: {expired}")
# TRANSLATORS: {score} is the Net Promoter Score with its sign ("+25", "-10") or "—".
plural(
    "stats_nps",
    "answers",
    "💬 NPS: <b>{score}</b>{trend} ({answers} answer)",
    "💬 NPS: <b>{score}</b>{trend} ({answers} answers)",
)
# TRANSLATORS: An offer's figures in /stats: {title} is the offer's title.
msg(
    "stats_offer",
    "🎉 {title}: purchases: {purchases} · members who used it: {members} · they spent "
    "{users} each, other customers {others}",
)
msg("stats_broadcasts", "📣 Broadcasts: {count} · messages delivered: {sent} of {total}")
# TRANSLATORS: {top} is a list of the top referrers (stats_top_referrer), or "—".
msg(
    "stats_referrals",
    "🤝 Friends who joined: {joined} · referrers rewarded: {rewarded} · top: {top}",
)
# TRANSLATORS: One of the top referrers in /stats: their name and how many friends of theirs
# were rewarded.
msg("stats_top_referrer", "{name} ({count})")
# TRANSLATORS: {staff} is a list of stats_staff_member, or "—".
msg("stats_staff", "🧾 Purchases recorded by: {staff}")
# TRANSLATORS: A staff member in /stats: their name (or Telegram id) and how many purchases
# they recorded.
msg("stats_staff_member", "{name} ({count})")
# TRANSLATORS: {tiers} is a list of stats_tier.
msg("stats_tiers", "🏅 Tiers: {tiers}")
# TRANSLATORS: A tier in /stats: its name (the café's own word) and its number of members.
msg("stats_tier", "{name}: {count}")
msg("stats_chart_caption", "Visits and points per week; how each month's new members come back.")
msg("stats_title_at", "📊 <b>{location} — {period}</b> (arrows: against {previous})")
msg("stats_active_at", "🟢 Customers here in the last 30 days: <b>{active}</b>")
msg(
    "stats_points_at",
    "⭐ Points issued here: {issued}{trend} · coupons handed over here: {used}",
)
msg("stats_parts_title", "<b>By location</b>")
msg(
    "stats_part",
    "📍 {name}: customers: {customers} · visits: {visits} · spent: {spend} · "
    "points issued: {issued}",
)
msg("stats_part_chain_wide", "🌐 Chain-wide: points issued: {issued} (bonuses, at no location)")
msg(
    "stats_chart_caption_at",
    "Visits and points per week here (redeemed: coupons handed over here).",
)
# TRANSLATORS: The /stats chart (a picture): its title, "café · period", or with a location
# of a chain, "café, location · period".
msg("chart_title", "{cafe} · {period}")
msg("chart_title_at", "{cafe}, {location} · {period}")
msg("chart_visits", "Visits per week")
msg("chart_points", "Points per week")
# TRANSLATORS: The chart's legend: points issued and points redeemed (short).
msg("chart_issued", "issued")
msg("chart_redeemed", "redeemed")
msg("chart_cohorts", "Members still buying, by month joined")
# TRANSLATORS: A row of the chart's cohort grid: the month members joined ("Nov 2026") and
# how many joined then.
msg("chart_cohort", "{month} ({members})")
# TRANSLATORS: Under the cohort grid's columns, which read +0, +1, +2…
msg("chart_months_after", "months after joining")
# TRANSLATORS: The audit log (/audit). Each line: when, [which shop,] who (name and Telegram
# id), what (audit_action_*), [which member,] [the details, as the log recorded them].
msg("audit_title_at", "🗒 <b>Audit log — {location}</b> (newest first)")
msg("audit_title", "🗒 <b>Audit log</b> (newest first)")
msg("audit_line", "{when} · {who} · {action}")
msg("audit_line_member", "{when} · {who} · {action} · member #{member}")
msg("audit_line_detail", "{when} · {who} · {action} · {detail}")
msg("audit_line_member_detail", "{when} · {who} · {action} · member #{member} · {detail}")
msg("audit_line_at", "{when} · {location} · {who} · {action}")
msg("audit_line_at_member", "{when} · {location} · {who} · {action} · member #{member}")
msg("audit_line_at_detail", "{when} · {location} · {who} · {action} · {detail}")
msg(
    "audit_line_at_member_detail",
    "{when} · {location} · {who} · {action} · member #{member} · {detail}",
)
# TRANSLATORS: Who did something, in the audit log: a name and a Telegram id.
msg("audit_who", "{name} ({id})")
# TRANSLATORS: What was done, in the audit log (short).
msg("audit_action_card_scan", "card scanned")
msg("audit_action_points_issue", "points issued")
msg("audit_action_points_refused", "points refused (limit)")
msg("audit_action_points_undo", "purchase undone")
msg("audit_action_coupon_redeem", "coupon handed over")
msg("audit_action_coupon_gift", "gift coupons given")
msg("audit_action_coupon_cancelled", "coupon cancelled")
msg("audit_action_coupon_expired", "coupon expired")
msg("audit_action_offer_create", "offer created")
msg("audit_action_offer_end", "offer ended")
msg("audit_action_referral_reward", "referral rewarded")
msg("audit_action_referral_reopen", "referral reopened")
msg("audit_action_broadcast_create", "broadcast sent")
msg("audit_action_member_forget", "member forgotten")
msg("audit_action_staff_invite", "staff invited")
msg("audit_action_staff_join", "staff joined")
msg("audit_action_staff_remove", "staff removed")
msg("audit_action_rate_set", "redemption rate set")
msg("audit_action_catalog_add", "reward added")
msg("audit_action_catalog_change", "reward changed")
msg("audit_action_catalog_seed", "reward added at start-up")
msg("audit_action_owner_claim", "owner link used")
msg("audit_action_location_add", "location added")
msg("audit_action_location_rename", "location renamed")
msg("audit_action_location_close", "location closed")
msg("audit_none", "Nothing in the audit log for that.")
msg(
    "audit_usage",
    "Use <code>/audit</code>, <code>/audit {member} 12</code> (member #12) or "
    "<code>/audit {staff} 123456</code> (a staff member's Telegram id).",
)
# TRANSLATORS: The words an owner types in "/audit member 12" and "/audit staff 123456":
# one lowercase word each. The English words are understood too.
msg("word_member", "member")
msg("word_staff", "staff")
# TRANSLATORS: Claiming the bot as its first owner.
msg(
    "owner_claimed",
    "👑 <b>{name}</b>, you are now the owner of {cafe}'s loyalty bot.\n"
    "Your menu now has the owner commands: invite your team with /staff, "
    "set up rewards with /catalog, and see /help for the rest.",
)
msg(
    "owner_claim_invalid",
    "This owner link has expired or was used already. "
    "Restart the bot to get a new one in its log, or set OWNER_IDS.",
)
# TRANSLATORS: Generic.
msg("button_expired", "This button has expired. Please start again from the menu.")
msg("not_allowed", "Sorry, that's not available for your account.")
msg("unknown_text", "I didn't catch that. Use the buttons below or /help.")
msg("error", "Sorry, something went wrong on our side. Please try again in a moment.")
msg(
    "error_try_again",
    "Sorry, that did not go through: our records are out of reach for a moment. "
    "Nothing was saved. Please try again in a few seconds.",
)
# TRANSLATORS: The owners' alert about an unexpected error: what and when, never who. One
# text for each thing the bot was doing; {kind} is the error's technical name (RuntimeError),
# {time} a date and time.
# TRANSLATORS: {command} is a command such as /balance.
plural(
    "error_alert_command",
    "minutes",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during the command "
    "{command}. The details are in the bot's log. Further {kind} errors in the next {minutes} "
    "minute are only logged.",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during the command "
    "{command}. The details are in the bot's log. Further {kind} errors in the next {minutes} "
    "minutes are only logged.",
)
# TRANSLATORS: {label} is a button of the customers' keyboard.
plural(
    "error_alert_keyboard",
    "minutes",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during the “{label}” button. "
    "The details are in the bot's log. Further {kind} errors in the next {minutes} minute are "
    "only logged.",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during the “{label}” button. "
    "The details are in the bot's log. Further {kind} errors in the next {minutes} minutes are "
    "only logged.",
)
# TRANSLATORS: {prefix} is the code of a button under a message.
plural(
    "error_alert_button",
    "minutes",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during a button press "
    "({prefix}). The details are in the bot's log. Further {kind} errors in the next {minutes} "
    "minute are only logged.",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during a button press "
    "({prefix}). The details are in the bot's log. Further {kind} errors in the next {minutes} "
    "minutes are only logged.",
)
plural(
    "error_alert_message",
    "minutes",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during a message. The "
    "details are in the bot's log. Further {kind} errors in the next {minutes} minute are only "
    "logged.",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during a message. The "
    "details are in the bot's log. Further {kind} errors in the next {minutes} minutes are only "
    "logged.",
)
plural(
    "error_alert_photo",
    "minutes",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during a photo. The details "
    "are in the bot's log. Further {kind} errors in the next {minutes} minute are only logged.",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during a photo. The details "
    "are in the bot's log. Further {kind} errors in the next {minutes} minutes are only logged.",
)
# TRANSLATORS: {job} is the name of one of the bot's scheduled jobs.
plural(
    "error_alert_job",
    "minutes",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during a scheduled job "
    "({job}). The details are in the bot's log. Further {kind} errors in the next {minutes} "
    "minute are only logged.",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during a scheduled job "
    "({job}). The details are in the bot's log. Further {kind} errors in the next {minutes} "
    "minutes are only logged.",
)
plural(
    "error_alert_background",
    "minutes",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during the bot's own "
    "background work. The details are in the bot's log. Further {kind} errors in the next "
    "{minutes} minute are only logged.",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during the bot's own "
    "background work. The details are in the bot's log. Further {kind} errors in the next "
    "{minutes} minutes are only logged.",
)
plural(
    "error_alert_other",
    "minutes",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during an update from "
    "Telegram. The details are in the bot's log. Further {kind} errors in the next {minutes} "
    "minute are only logged.",
    "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during an update from "
    "Telegram. The details are in the bot's log. Further {kind} errors in the next {minutes} "
    "minutes are only logged.",
)
# TRANSLATORS: the demo page (`loyalty-bot demo`): a browser page showing the phones of the
# demo's people (Anna the customer, Ben the barista, Olga the owner) talking to the bot.
# The page's texts are plain text (no HTML) unless a comment says otherwise. This one is
# the browser tab's title.
msg("demo_title", "Café loyalty bot: demo")
# TRANSLATORS: the demo page's heading; {cafe} is the demo café's name.
msg("demo_heading", "☕ {cafe}: the loyalty bot, on your computer")
# TRANSLATORS: the demo page's hint, in HTML. {customer} and {barista} are names (Anna,
# Ben). "Start" is the demo phone's button (demo_start), "My card" the bot's button
# (btn_card): write them as your translations of those do. 🌐 is each phone's language list.
msg(
    "demo_hint",
    "The real bot, with a local Telegram: nothing leaves this machine. "
    "Press <b>Start</b> on {customer}'s phone, tap <b>My card</b>, then click the QR code "
    "to scan it with {barista}'s phone and type an amount. "
    "The 🌐 list on a phone sets the language of that person's Telegram app.",
)
msg("demo_add_phone", "Add a customer")
msg("demo_reset", "Reset the demo")
# TRANSLATORS: the demo page: what screen readers call the row of phones.
msg("demo_phones", "Phones")
msg("demo_scan_title", "Scan this QR code with…")
msg("demo_cancel", "Cancel")
# TRANSLATORS: the demo page: a person's role, under their name on their phone.
msg("demo_role_customer", "customer")
msg("demo_role_barista", "barista")
msg("demo_role_owner", "owner")
# TRANSLATORS: the demo page: a person to choose in "Scan this QR code with…".
msg("demo_person_customer", "{name} (customer)")
msg("demo_person_barista", "{name} (barista)")
msg("demo_person_owner", "{name} (owner)")
# TRANSLATORS: the demo page: the button that opens the bot on a phone, as Telegram's does.
msg("demo_start", "Start")
# TRANSLATORS: the demo page: the button that opens a phone's list of bot commands.
msg("demo_menu", "Menu")
msg("demo_send_photo", "Send a photo")
# TRANSLATORS: the demo page: the empty message box of a phone, as Telegram's says it.
msg("demo_message_placeholder", "Message")
msg("demo_send", "Send")
# TRANSLATORS: the demo page, for screen readers: a phone's message box.
msg("demo_message_from", "Message from {name}")
# TRANSLATORS: the demo page, for screen readers: a phone's list of messages.
msg("demo_chat_of", "{name}'s chat with the bot")
# TRANSLATORS: the demo page, for screen readers: the bot's buttons under a phone's chat.
msg("demo_keyboard_of", "Reply keyboard of {name}")
# TRANSLATORS: the demo page: the list of languages on a phone (its Telegram app's language).
msg("demo_language_of", "Language of {name}'s Telegram")
# TRANSLATORS: the demo page: after a language was picked on a phone; {language} is that
# language's own name ("Español").
msg(
    "demo_language_switched",
    "{name}'s Telegram now speaks {language}: the bot answers in it from the next message.",
)
# TRANSLATORS: the demo page: what a picture of a QR code is, for screen readers.
msg("demo_qr", "QR code")
msg("demo_qr_scan", "QR code: scan it with another phone")
msg("demo_photo_sent", "Photo you sent")
msg("demo_photo_from_bot", "Picture from the bot")
# TRANSLATORS: the demo page: a spoiler in a message, for screen readers.
msg("demo_spoiler", "Hidden text: press to show")
# TRANSLATORS: the demo page: the mark on a message the bot changed after sending it.
msg("demo_edited", "edited")
# TRANSLATORS: the demo page: the bot asked the local Telegram for something the real one
# refuses. {method} and {description} are Telegram's own words, {code} its error number.
msg("demo_rejected", "⚠ Telegram would reject this: {method} answered {code}, {description}")
# TRANSLATORS: the demo page: {status} is an HTTP status code (404).
msg("demo_server_answered", "The demo server answered {status}.")
msg(
    "demo_server_gone",
    "The demo server is not answering: is `loyalty-bot demo` still running?",
)
msg("demo_connected_again", "Connected again.")
msg("demo_connection_lost", "Connection to the demo lost: reconnecting…")
msg("demo_resetting", "Resetting the demo café…")
msg("demo_reset_done", "The demo café is as new.")
msg("demo_phone_added", "Another customer joined: press Start on the new phone.")
# TRANSLATORS: the demo page: why something done on a phone was refused.
msg("demo_refused_resetting", "The demo café is being reset: try again in a moment.")
msg("demo_refused_already_resetting", "The demo café is already being reset.")
msg("demo_refused_no_phone", "There is no such phone: reload the page.")
msg("demo_refused_not_json", "Expected a JSON body.")
msg("demo_refused_not_object", "Expected a JSON object.")
msg("demo_refused_empty_text", "Type a message first.")
msg("demo_refused_too_long", "Telegram takes at most {limit} characters in a message.")
msg("demo_refused_button_gone", "That button is no longer on the message.")
msg("demo_refused_no_qr", "There is no QR code in that picture.")
# TRANSLATORS: the demo page: a QR code that is a link to another address; {link} is it.
msg("demo_refused_other_bot", "This code opens {link}, not this bot.")
msg("demo_refused_no_photo", "Choose a photo to send.")
msg("demo_refused_empty_photo", "That photo is empty.")
msg("demo_refused_no_message", "No such message.")
msg("demo_refused_message_gone", "That message is gone.")
msg("demo_refused_language", "Choose one of the languages on the list.")


def template(reader: str, key: str, count: int | None = None) -> str:
    """The text ``key`` as the reader's language writes it (English where a catalog
    lacks it), in the plural form for ``count``."""
    catalog = i18n.catalog(reader)
    forms = PLURALS.get(key)
    if forms is None:
        return str(catalog.pgettext(key, EN[key]))
    return str(catalog.npgettext(key, forms[1], forms[2], count if count is not None else 2))


@functools.cache
def _known(reader: str) -> str:
    """A reader Babel can format for; anything else reads English."""
    return reader if i18n.shipped_language(reader) else i18n.ENGLISH


def _shown(reader: str, value: object) -> str:
    if isinstance(value, Html):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return i18n.number(reader, value)
    return html.escape(str(value), quote=False)


def t(reader: str, key: str, /, **values: object) -> str:
    """The text ``key`` for ``reader`` (a locale such as "es" or "de_AT"), its values
    HTML-escaped and its whole numbers written as the reader's locale writes numbers
    (pass an identifier as ``str`` to keep its digits bare)."""
    reader = _known(reader)
    forms = PLURALS.get(key)
    count = values.get(forms[0]) if forms else None
    chosen = template(reader, key, count if isinstance(count, int) else None)
    return chosen.format(**{name: _shown(reader, value) for name, value in values.items()})


def button_texts(key: str) -> list[str]:
    """All translations of a button, so a handler matches whichever language was shown."""
    return sorted({template(language, key) for language in i18n.SHIPPED})
