"""Every user-facing text, per language. Messages are HTML; values are escaped by ``t``."""

from __future__ import annotations

import html
from typing import Final


class Html(str):
    """A value that is already safe HTML and must not be escaped again."""

    __slots__ = ()


EN: Final[dict[str, str]] = {
    # Buttons of the customer keyboard.
    "btn_card": "💳 My card",
    "btn_balance": "⭐ Balance",
    "btn_history": "📜 History",
    "btn_help": "❓ Help",
    "btn_rewards": "🎁 Rewards",
    "btn_coupons": "🎟 My coupons",
    "btn_offers": "🎉 Offers",
    "btn_settings": "⚙️ Settings",
    # Command menu descriptions.
    "cmd_start": "Join or open the main menu",
    "cmd_card": "Show my QR member card",
    "cmd_balance": "My points",
    "cmd_history": "My last 10 transactions",
    "cmd_help": "How to earn and redeem",
    "cmd_rewards": "Rewards I can get",
    "cmd_coupons": "My open coupons",
    "cmd_redeem": "Redeem a coupon: /redeem CODE",
    "cmd_catalog": "Manage the rewards catalog",
    "cmd_offers": "Offers running now",
    "cmd_settings": "Promotions and birthday",
    "cmd_offer": "Create a limited-time offer",
    "cmd_broadcast": "Send a message to members",
    "cmd_broadcasts": "Past broadcasts and their figures",
    "cmd_invite": "Invite a friend: you both get a bonus",
    "cmd_mydata": "Everything we hold about you",
    "cmd_forget": "Leave and be forgotten",
    "cmd_winback": "What members who stay away get",
    "cmd_referrals": "Top referrers",
    "cmd_report": "Points and revenue for the accountant",
    "cmd_stats": "How the programme is doing, with charts",
    "cmd_export": "The ledger as CSV",
    "cmd_audit": "Who did what, lately",
    "cmd_redemptionrate": "The expected redemption rate",
    "cmd_locations": "Your shops: add, rename, close",
    "cmd_where": "Say which shop you are working in",
    # Joining.
    "welcome_new": (
        "Welcome to {cafe}, <b>{name}</b>! 🎉\n"
        "You're now a member. Tap <b>My card</b> and show the QR code at the counter "
        "to collect points with every purchase."
    ),
    "welcome_back": "Welcome back, <b>{name}</b>! You have <b>{points}</b> points.",
    "not_a_member": "You're not a member yet. Press /start to join — it takes one tap.",
    # Member card.
    "card_caption": (
        "<b>{name}</b> · member card\n"
        "⭐ {points} points\n"
        "Show this QR at the counter. If scanning fails, tell the barista this code: "
        "<code>{code}</code>\n"
        "{validity}"
    ),
    "card_valid_until": "Valid until {time}. Tap <b>My card</b> any time for a fresh one.",
    "card_static": "This card does not expire.",
    # Balance and history.
    "balance": "⭐ You have <b>{points}</b> points, worth about {worth}.",
    "history_title": "📜 <b>Your last {count} transactions</b>",
    "history_line": "{date}  <b>{points}</b>  {reason}",
    "history_line_at": "{date}  <b>{points}</b>  {reason} · {location}",
    "history_empty": (
        "No transactions yet. Show your card at the counter and your points will appear here."
    ),
    "reason_earn": "Purchase {amount}",
    "reason_reversal": "Correction",
    "reason_redeem": "Reward: {reason}",
    "reason_refund": "Refund: {reason}",
    "reason_bonus": "Bonus: {reason}",
    "reason_expire": "Points expired",
    "reason_birthday": "Birthday treat 🎂",
    "reason_referral": "Referral bonus 🤝",
    "reason_referral_taken_back": "Referral bonus taken back (purchase corrected)",
    "reason_winback": "Welcome-back bonus",
    # Help.
    "help": (
        "<b>How it works</b>\n\n"
        "<b>Earn:</b> show your QR card (tap <b>My card</b>) when you pay. The barista scans it "
        "and you get {rate} for every {unit} you spend. A receipt arrives here right away.\n\n"
        "<b>Redeem:</b> when you have enough points, exchange them for a reward coupon and "
        "show its QR at the counter.\n\n"
        "Commands: /card, /balance, /history, /invite (bring a friend), /settings, /help.\n"
        "Your data: /mydata sends you everything we hold about you; /forget removes you."
    ),
    "points_rate_one": "1 point",
    "points_rate_many": "{count} points",
    # Deep links.
    "link_malformed": (
        "That link doesn't look right. Ask the café for a fresh one, or press /start to open "
        "your own card."
    ),
    "card_scan_not_staff": (
        "This is a member card. Only café staff can scan it. Press /start to see your own card."
    ),
    # Staff: scanning and issuing.
    "cmd_scan": "Issue points: /scan CODE AMOUNT",
    "cmd_undo": "Undo my last purchase entry",
    "cmd_staff": "Staff: list, invite, remove",
    "scan_ok": (
        "👤 <b>{name}</b> · {tier} · {points} points\n"
        "Send the purchase amount, e.g. <code>4.50</code>."
    ),
    "scan_expired": (
        "This card has expired. Ask the customer to tap <b>My card</b> for a fresh one."
    ),
    "scan_invalid": (
        "This isn't a valid member card. Ask the customer to tap <b>My card</b> and scan again."
    ),
    "code_invalid": (
        "That code isn't valid or was already used. Ask the customer to tap <b>My card</b> "
        "for a fresh code."
    ),
    "scan_self": "You can't issue points to your own card. Ask a colleague.",
    "scan_usage": (
        "Type the code from the customer's card and the amount, e.g. "
        "<code>/scan K7P2QX 4.50</code>."
    ),
    "no_open_scan": (
        "Scan the customer's card first (or type <code>/scan CODE AMOUNT</code>), then send "
        "the amount."
    ),
    "scan_closed": "That scan is no longer open. Scan the customer's card again.",
    "amount_not_a_number": (
        "“{text}” isn't an amount. Send the purchase total, e.g. <code>{example}</code>."
    ),
    "amount_not_positive": (
        "The amount must be more than zero. Send the purchase total, e.g. <code>{example}</code>."
    ),
    "amount_too_many_decimals": (
        "That amount has too many decimals. Send e.g. <code>{example}</code>."
    ),
    "amount_ambiguous": (
        "“{text}” could mean {readings}, so nothing was recorded. "
        "Send it again without a thousands separator, e.g. <code>{example}</code>."
    ),
    "amount_too_large": (
        "That is more than the {max} allowed per purchase. Check the amount and send it again."
    ),
    "amount_replaced": (
        "This button was for {shown}, but you changed the amount to {current} since. "
        "Nothing was recorded: tap a category under {current}."
    ),
    "zero_points": "{amount} earns no points ({rate} per {unit}). Nothing was recorded.",
    "pick_category": "{name} · {amount}\nWhich category?",
    "btn_cancel": "✖ Cancel",
    "btn_issue_again": "Issue again",
    "btn_undo": "↩ Undo",
    "duplicate": (
        "⚠️ Looks like a duplicate: {name} got {points} points for {amount} at {time}. Issue again?"
    ),
    "scan_cancelled": "Cancelled. Nothing was recorded.",
    "issued": "✅ <b>+{points} points</b> for {name} — balance {balance}\n{details} · #{entry}",
    "offer_not_here": "ℹ️ {title} does not apply here: only at {places}.",
    "already_issued": "Already recorded: +{points} points for {name} (#{entry}).",
    "receipt": (
        "🧾 <b>+{points} points</b> for your purchase of {details} at {cafe}.\n"
        "Served by {staff}. New balance: <b>{balance}</b> points.{offers}"
    ),
    "receipt_at": (
        "🧾 <b>+{points} points</b> for your purchase of {details} at {cafe}, {location}.\n"
        "Served by {staff}. New balance: <b>{balance}</b> points.{offers}"
    ),
    "limit_purchase": (
        "Refused: {points} points is above the limit of {limit} per purchase. "
        "The owner has been notified."
    ),
    "limit_daily": (
        "Refused: this would take you over your daily limit of {limit} points. "
        "The owner has been notified."
    ),
    "owner_limit_alert": (
        "⚠️ {staff} tried to issue {points} points to {name} ({limit_name}: {limit}). Refused."
    ),
    "limit_name_purchase": "limit per purchase",
    "limit_name_daily": "daily limit per staff member",
    "undo_done": "↩️ Undone: −{points} points for {name} (#{entry}). Balance {balance}.",
    "undo_referral": "The referral bonus this purchase paid was taken back too.",
    "undo_referral_notice": (
        "Your referral welcome bonus is taken back too: you get it with your next purchase."
    ),
    "undo_already": "That entry (#{entry}) was already undone.",
    "undo_notice": (
        "↩️ Correction: your purchase of {details} (+{points} points) was undone. "
        "New balance: <b>{balance}</b> points."
    ),
    "undo_not_found": "There is nothing of yours to undo.",
    "undo_not_yours": "You can only undo entries you issued yourself. Ask the owner.",
    "undo_too_late": "Entries can be undone within {minutes} minutes. Ask the owner to reverse it.",
    "undo_not_undoable": "Only purchase entries can be undone.",
    "undo_spent": (
        "Can't undo: the customer has already spent those points. Ask the owner to sort it out."
    ),
    "undo_referral_spent": (
        "Can't undo: this purchase paid {name} a referral bonus that they have already spent."
        " Ask the owner to sort it out."
    ),
    "undo_usage": "Use /undo for your last entry, or /undo NUMBER for entry #NUMBER.",
    "photo_no_qr": (
        "I couldn't find a QR code in that photo. Try again a bit closer, or type "
        "<code>/scan CODE AMOUNT</code>."
    ),
    "photo_not_ours": "That QR code isn't one of ours.",
    "photo_customer": "Thanks! I can't do anything with photos here — use the buttons below.",
    "staff_help": (
        "\n\n<b>For staff</b>\nScan the customer's card with your phone camera, then send the "
        "amount (e.g. <code>4.50</code>). If the camera can't read it, type "
        "<code>/scan CODE AMOUNT</code> or send me a photo of the QR. Made a mistake? Tap "
        "<b>Undo</b> or send /undo within {minutes} minutes."
    ),
    # Staff management (owners).
    "staff_list_title": "👥 <b>Staff</b>",
    "staff_list_empty": "No staff yet. Invite your baristas with the button below.",
    "staff_list_line": "• {name} (since {date})",
    "btn_invite": "➕ Invite a barista",
    "btn_remove": "Remove {name}",
    "invite_created": (
        "Send this one-time link to your barista. It works once, until {time}:\n{link}"
    ),
    "invite_welcome": (
        "👋 Welcome to the team at {cafe}, <b>{name}</b>! You can now issue points.\n"
        "Scan a customer's card with your phone camera, then send the amount."
    ),
    "invite_owner_notice": "✅ {name} joined as staff.",
    "invite_invalid": "This invite link isn't valid. Ask the owner for a new one.",
    "invite_expired": "This invite link has expired. Ask the owner for a new one.",
    "invite_used": "This invite link was already used. Ask the owner for a new one.",
    "invite_already_staff": "You're already on the team — no invite needed.",
    "staff_removed": "{name} was removed from staff.",
    "staff_not_found": "That person is not on the staff list any more.",
    "staff_removed_notice": (
        "You are no longer staff at {cafe}. Your own membership stays as it is."
    ),
    # A chain's staff, by location (owners see every location; a manager their own).
    "staff_location_title": "\n📍 <b>{location}</b>",
    "staff_location_closed": "\n🔒 <b>{location}</b> (closed)",
    "staff_location_empty": "No staff here yet.",
    "staff_list_line_manager": "• {name}, manager (since {date})",
    "staff_no_locations": "You don't manage a location.",
    "btn_remove_at": "Remove {name} ({location})",
    "btn_invite_barista_at": "➕ Barista for {location}",
    "btn_invite_manager_at": "👤 Manager for {location}",
    "invite_created_barista": (
        "Send this one-time link to your barista for {location}. It works once, until {time}:\n"
        "{link}"
    ),
    "invite_created_manager": (
        "Send this one-time link to the manager of {location}. It works once, until {time}:\n{link}"
    ),
    "invite_welcome_barista": (
        "👋 Welcome to the team at {cafe}, <b>{name}</b>! You work at {location} and can now "
        "issue points.\nScan a customer's card with your phone camera, then send the amount."
    ),
    "invite_welcome_manager": (
        "👋 <b>{name}</b>, you are now the manager of {location} at {cafe}. Invite and remove "
        "its baristas with /staff; scan cards and send amounts like everyone at the counter."
    ),
    "invite_welcome_another": (
        "📍 You now work at {location} too. At your first scan each day I'll ask where you "
        "are; /where changes it."
    ),
    "invite_owner_notice_barista": "✅ {name} joined {location} as a barista.",
    "invite_owner_notice_manager": "✅ {name} is now the manager of {location}.",
    "staff_removed_at": "{name} no longer works at {location}.",
    "staff_removed_at_notice": "You no longer work at {location} ({cafe}).",
    "location_closed": "That location is closed (or not one of yours). Nothing was changed.",
    "location_unknown": "That location no longer exists. Open /locations again.",
    "no_open_location": (
        "None of your locations is open, so you can't issue points or hand over rewards. "
        "Ask the owner."
    ),
    # Where a barista in several shops is working now.
    "where_question": "📍 Where are you working now?",
    "where_question_scan": "📍 Where are you working today? Tap your shop, then send the amount.",
    "where_one": "📍 You work at {location}: nothing to choose.",
    "where_chosen": "📍 You're at <b>{location}</b> today. To change it, send /where.",
    # The owner's locations.
    "locations_title": "📍 <b>Locations</b>",
    "locations_line": "• {name}: {staff} staff",
    "locations_line_closed": "• {name}: closed since {date}",
    "locations_one_hint": (
        "\nOpening a second shop? Add it here. Receipts, history and the staff list then "
        "name the shop, and each shop gets its own team and managers."
    ),
    "locations_manager": "{name} (manager)",
    "location_open": "📍 <b>{name}</b>\nOpen since {date} · {count} staff",
    "location_closed_since": (
        "🔒 <b>{name}</b>\nClosed since {date}. Its history stays; it takes no new scans."
    ),
    "location_team": "Team: {names}",
    "btn_location_add": "➕ Add a location",
    "btn_rename": "✏️ Rename",
    "btn_close": "🔒 Close",
    "btn_invite_barista": "➕ Invite a barista",
    "btn_invite_manager": "👤 Invite a manager",
    "btn_locations_all": "« All locations",
    "btn_close_yes": "🔒 Yes, close it",
    "btn_close_keep": "Keep it open",
    "location_close_ask": (
        "Close <b>{name}</b>? Its history stays in reports and /history; it takes no new "
        "scans, and its staff can no longer pick it."
    ),
    "location_last_open": "That's your last open location: it stays open.",
    "location_already_closed": "That location is closed already.",
    "location_closed_done": "🔒 {name} is closed. Its history stays.",
    "location_ask_name": "Send the name of the new location (up to {max} characters).",
    "location_ask_rename": "Send the new name for <b>{name}</b> (up to {max} characters).",
    "location_name_taken": "There's already a location called “{name}”. Send another name.",
    "location_name_invalid": "A name is 1 to {max} characters on one line. Send it again.",
    "location_added": "📍 <b>{name}</b> added.",
    "location_renamed": "✏️ Renamed to <b>{name}</b>.",
    # Balance details: tier and the next reward.
    "balance_tier": "🏅 Tier: <b>{tier}</b> (×{multiplier} points).",
    "balance_next_tier": "{needed} more points earned to reach {tier}.",
    "balance_top_tier": "That's our top tier. Thank you!",
    "balance_next_reward": (
        "🎁 Next reward: {title} ({cost} points)\n<code>{bar}</code> {points}/{cost}"
    ),
    "balance_can_redeem": "🎁 You can redeem <b>{title}</b> now — tap <b>Rewards</b>.",
    "tier_up": (
        "🎉 Congratulations, you've reached <b>{tier}</b>! From now on every purchase earns "
        "×{multiplier} points."
    ),
    # Rewards and coupons (customers).
    "rewards_title": "🎁 <b>Rewards</b> — you have {points} points",
    "rewards_line_ok": "✅ {title} — {cost} points",
    "rewards_line_missing": "• {title} — {cost} points (need {missing} more)",
    "rewards_empty": "There are no rewards yet. Ask at the counter!",
    "btn_redeem": "Redeem {title}",
    "coupon_caption": (
        "🎁 <b>{title}</b>\n"
        "Coupon for {name} · {cost} points\n"
        "Show this QR at the counter, or tell the barista the code <code>{code}</code>.\n"
        "Valid until {date}."
    ),
    "btn_cancel_coupon": "✖ Cancel coupon (refund)",
    "btn_confirm_cancel": "Yes, cancel and refund",
    "btn_keep_coupon": "Keep it",
    "cancel_coupon_question": "Cancel your {title} coupon and get {cost} points back?",
    "coupon_cancelled": (
        "Coupon cancelled: {cost} points are back. Balance: <b>{balance}</b> points."
    ),
    "coupon_still_open": (
        "Your {title} coupon is already in the chat above. Show it at the counter."
    ),
    "coupon_closed_redeemed": "✅ <b>{title}</b>: used on {date}. This code no longer works.",
    "coupon_closed_cancelled": (
        "↩️ <b>{title}</b>: cancelled on {date}; its points were refunded. "
        "This code no longer works."
    ),
    "coupon_closed_expired": ("⌛ <b>{title}</b>: expired on {date}. This code no longer works."),
    "coupon_kept": "Great — your coupon is still valid.",
    "not_enough_points": "You need {missing} more points for that reward. Keep collecting!",
    "reward_unavailable": (
        "That reward isn't available any more. Tap <b>Rewards</b> for the current list."
    ),
    "coupons_title": "🎟 <b>Your open coupons</b>",
    "coupons_line": "• {title} — valid until {date}",
    "coupons_empty": "You have no open coupons. Tap <b>Rewards</b> to get one.",
    "btn_show_coupon": "Show {title}",
    "coupon_redeemed_notice": "✅ Your <b>{title}</b> coupon was redeemed. Enjoy!",
    "coupon_expired_notice": (
        "⌛ Your <b>{title}</b> coupon expired unused, so its {cost} points are back. "
        "Balance: <b>{balance}</b> points."
    ),
    "coupon_link_customer": "This is a coupon. Show it at the counter to use it.",
    # Coupons at the counter (staff).
    "coupon_staff": "🎁 <b>{title}</b> for {name}\nValid until {date}. Hand it over, then confirm.",
    "btn_confirm_coupon": "✅ Confirm — hand over",
    "coupon_confirmed": "✅ Redeemed: <b>{title}</b> for {name}.",
    "coupon_already_redeemed": "⛔ {title}: already redeemed at {time} by {staff}.",
    "coupon_was_cancelled": (
        "⛔ {title}: the customer cancelled this coupon and got the points back."
    ),
    "coupon_was_expired": "⛔ {title}: this coupon expired on {date}; its points were refunded.",
    "coupon_past_date": (
        "⛔ {title}: this coupon expired on {date}; its points go back to the customer."
    ),
    "coupon_malformed": "That isn't a coupon code. Coupon codes look like <code>ABCD-EFGH</code>.",
    "coupon_unknown": (
        "There's no such coupon. Ask the customer to open it from their chat (<b>My coupons</b>)."
    ),
    "redeem_usage": "Type the coupon's code, e.g. <code>/redeem ABCD-EFGH</code>.",
    # Catalog (owners).
    "catalog_title": "🗂 <b>Rewards catalog</b>",
    "catalog_line": "#{id} {title} — {cost} points{inactive}",
    "catalog_inactive": " (off)",
    "catalog_empty": "The catalog is empty.",
    "catalog_help": (
        "Add: <code>/catalog add 150 Croissant</code>\n"
        "Change cost: <code>/catalog cost 3 120</code>\n"
        "Switch off / on: <code>/catalog off 3</code>, <code>/catalog on 3</code>"
    ),
    "catalog_added": "Added #{id} {title} for {cost} points.",
    "catalog_changed": "#{id} {title}: {cost} points, {state}.",
    "catalog_state_on": "on",
    "catalog_state_off": "off",
    "catalog_bad_title": "The title must be 1 to 48 characters.",
    "catalog_bad_cost": "The cost must be a whole number of points, from 1 to 1000000.",
    "catalog_bad_duplicate": "There is already a reward with that title.",
    "catalog_not_found": "There is no reward with that number. Send /catalog to see the list.",
    # Offers (customers).
    "offers_title": "🎉 <b>Offers for you</b>",
    "offers_line": "• <b>{title}</b>: {effect}{window} — until {end}",
    "offers_line_description": "  {description}",
    "offers_line_where": "  📍 Only at {places}",
    "offers_none": "No offers running right now. We'll let you know!",
    "offer_effect_multiplier": "×{value} points",
    "offer_effect_bonus": "+{value} bonus points per purchase",
    "offer_effect_coupon": "a free {value}",
    "offer_window": " ({window})",
    "receipt_offers": "\n🎉 {titles}",
    # Offers (owners).
    "offers_owner_title": "🎉 <b>Offers</b>",
    "offers_owner_line": (
        "#{id} <b>{title}</b>: {effect}{window} · {audience} · {start} → {end} · {state}"
    ),
    "offers_owner_none": "No offers yet. Create one with /offer.",
    "offer_state_upcoming": "upcoming",
    "offer_state_running": "running",
    "offer_state_ended": "ended",
    "btn_end_offer": "End #{id} now",
    "offer_ended": "Offer #{id} {title} has ended.",
    "offer_not_found": "That offer has already ended.",
    "offer_ask_title": "New offer. What's its title? (Send /cancel at any time.)",
    "offer_ask_description": (
        "A short description customers will see? Send it, or <code>-</code> to skip."
    ),
    "offer_ask_kind": "What does the offer give?",
    "btn_kind_multiplier": "× Points multiplier",
    "btn_kind_bonus": "+ Bonus points",
    "btn_kind_coupon": "🎁 Free reward",
    "offer_ask_multiplier": "The multiplier, e.g. <code>2</code> or <code>1.5</code>:",
    "offer_ask_bonus": "Bonus points per purchase, e.g. <code>20</code>:",
    "offer_ask_reward": "Which reward does everyone get?",
    "offer_no_rewards": "Add a reward with /catalog first. Offer cancelled.",
    "offer_bad_multiplier": "Send a number above 1 and at most 10, e.g. <code>2</code>.",
    "offer_bad_coupon": "Pick the reward with one of the buttons above, or press Cancel.",
    "offer_bad_bonus": "Send a whole number of points from 1 to 10000, e.g. <code>20</code>.",
    "offer_ask_start": (
        "When does it start? Send <code>now</code> or a date and time in café time, e.g. "
        "<code>2026-11-28 15:00</code>, <code>28.11 15:00</code> or <code>tomorrow 9:00</code>."
    ),
    "offer_ask_end": "When does it end? e.g. <code>2026-11-30 18:00</code>",
    "offer_bad_date": "I couldn't read that date. Try <code>2026-11-28 15:00</code>.",
    "offer_end_before_start": "The end must be after the start ({start}). Send another end time.",
    "offer_ask_window": (
        "Only at certain hours? Send e.g. <code>Mon-Fri 15:00-17:00</code>, or tap <b>Any time</b>."
    ),
    "btn_any_time": "Any time",
    "offer_bad_window": (
        "Send hours like <code>Mon-Fri 15:00-17:00</code> or <code>15:00-17:00</code>."
    ),
    "offer_ask_audience": "Who is it for?",
    "audience_all": "Everyone",
    "audience_tier": "{tier} members",
    "audience_lapsed": "No visit for {days} days",
    "audience_lapsed_button": "Lapsed customers…",
    "audience_birthday": "Birthday this month",
    "ask_lapsed_days": "No visit for how many days? e.g. <code>30</code>",
    "bad_lapsed_days": "Send a whole number of days from 1 to 3650.",
    # A chain's audiences and offers limited to some locations.
    "audience_visited": "Bought at {places} in the last {days} days",
    "audience_visited_button": "📍 Customers of a location…",
    "ask_visited_places": "Customers of which locations? Tick one or more, then Done.",
    "ask_visited_days": "Who bought at {places} in the last how many days? e.g. <code>30</code>",
    "ask_pick_a_location": "Tick at least one location first, then Done.",
    "offer_ask_where": (
        "Where is the offer valid? <b>Everywhere</b>, or tick the locations, then Done."
    ),
    "offer_valid_at": "📍 Valid only at {places}.",
    "btn_place_on": "✅ {name}",
    "btn_place_off": "▫️ {name}",
    "btn_places_done": "Done",
    "btn_places_everywhere": "🌍 Everywhere",
    "offer_ask_announce": "Announce it to them when it starts?",
    "btn_announce_yes": "📣 Yes, announce",
    "btn_announce_no": "No",
    "offer_preview": (
        "<b>Preview</b>\n"
        "🎉 <b>{title}</b>\n{description}"
        "Gives: {effect}{window}\n"
        "From {start} to {end}\n"
        "For: {audience} ({count} members now)\n"
        "{announce}"
    ),
    "offer_preview_announce": "📣 Announced when it starts.",
    "offer_preview_silent": "Not announced.",
    "btn_save": "✅ Save",
    "offer_saved": "Offer #{id} saved. It runs from {start} to {end}.",
    "conversation_cancelled": "Cancelled. Nothing was saved.",
    "offer_draft_lost": (
        "This offer draft is incomplete, so nothing was saved. Start again with /offer."
    ),
    "offer_announcement": "🎉 <b>{title}</b>",
    "offer_announcement_description": "{text}",
    "offer_gift_announcement": "🎁 Your free {title} is waiting in <b>My coupons</b>.",
    # Broadcasts (owners).
    "broadcast_ask_message": (
        "Send the message for your members: text, or a photo with a caption. Formatting "
        "(bold, italic, links) is kept. /cancel to stop."
    ),
    "broadcast_too_long": (
        "That's too long for Telegram ({length} of {limit} characters). Send a shorter one."
    ),
    "broadcast_ask_audience": "Who should get it?",
    "broadcast_bad_html": (
        "Telegram couldn't read the formatting (check that every tag like <code>&lt;b&gt;</code> "
        "is closed). Send the message again."
    ),
    "broadcast_preview": "That's how it will look. Send it to <b>{count}</b> members ({audience})?",
    "broadcast_nobody": (
        "Nobody in that audience can receive promotions right now. Nothing was sent."
    ),
    "btn_send": "📣 Send",
    "broadcast_queued": "Broadcast #{id} queued for {count} members. Progress appears below.",
    "broadcast_progress": (
        "📣 Broadcast #{id}: sent {sent} · remaining {pending} · failed {failed} · "
        "blocked {blocked}\nAbout {eta} left."
    ),
    "broadcast_paused": "\n⏸ Paused by Telegram for {seconds} s; it goes on by itself.",
    "broadcast_done": (
        "✅ Broadcast #{id} finished: {sent} sent, {failed} failed, {blocked} blocked the bot."
    ),
    "broadcasts_title": "📣 <b>Broadcasts</b>",
    "broadcasts_line": (
        "#{id} · {date} · {audience} · {sent}/{total} sent, {failed} failed, "
        "{blocked} blocked · {state}"
    ),
    "broadcasts_none": "No broadcasts yet. Send one with /broadcast.",
    "broadcast_state_sending": "sending",
    "broadcast_state_done": "done",
    # Settings (customers).
    "settings_title": "⚙️ <b>Settings</b>",
    "settings_promotions_on": "🔔 Offers and news: <b>on</b>",
    "settings_promotions_off": "🔕 Offers and news: <b>off</b> (receipts and coupons still arrive)",
    "settings_birthday": "🎂 Birthday: <b>{birthday}</b>",
    "settings_birthday_unset": (
        "🎂 Birthday: not set — send <code>/birthday 24.12</code> for a birthday treat."
    ),
    "settings_service_on": "⏰ Points reminders and birthday treat: <b>on</b>",
    "settings_service_off": "🔕 Points reminders and birthday treat: <b>off</b>",
    "settings_privacy": "🔒 /mydata: everything we hold about you · /forget: leave for good",
    "btn_promotions_off": "🔕 Stop offers and news",
    "btn_promotions_on": "🔔 Get offers and news",
    "btn_service_off": "🔕 Stop reminders and birthday treat",
    "btn_service_on": "⏰ Get reminders and birthday treat",
    "birthday_usage": "Send your birthday as day and month, e.g. <code>/birthday 24.12</code>.",
    "birthday_saved": "🎂 Saved: {birthday}. We'll remember!",
    "birthday_locked": (
        "Your birthday is set to <b>{birthday}</b>. It can be changed once a year; "
        "the next change is possible from {date}."
    ),
    # Points expiry.
    "balance_expires": "⏳ Your points expire at the end of <b>{date}</b> unless you visit before.",
    "expiry_reminder": (
        "⏳ Your <b>{points}</b> points expire at the end of <b>{date}</b>.\n"
        "{offer}Visit us before then and they stay yours."
    ),
    "expiry_reminder_reward": "They buy a <b>{reward}</b> right now. ",
    "expired_notice": (
        "⌛ Your {points} points expired after a long time without a visit. "
        "Come back soon: every purchase starts a new balance."
    ),
    # Win-back.
    "winback_default": "☕ We miss you at {cafe}! Come by soon.",
    "winback_bonus": "🎁 We added <b>{points}</b> points to your balance.",
    "winback_reward": "🎟 A free <b>{reward}</b> is waiting in <b>My coupons</b> until {date}.",
    "winback_title": "💌 <b>Win-back message</b> (after {days} days without a visit)",
    "winback_off": "💌 Win-back is off. Set WINBACK_AFTER_DAYS to turn it on.",
    "winback_current": "Text: {text}\nBonus: {bonus} points\nCoupon: {reward}",
    "winback_none": "none",
    "winback_help": (
        "Change it with:\n<code>/winback text We miss you! Come by this week.</code>\n"
        "<code>/winback bonus 50</code> (points, 0 for none)\n"
        "<code>/winback reward 3 14</code> (reward #3, valid 14 days; "
        "<code>/winback reward off</code> for none)"
    ),
    "winback_saved": "Saved. Dormant members get this from now on.",
    "winback_bad": "I couldn't read that. See /winback for how to change it.",
    # Birthday treat.
    "birthday_treat": "🎂 Happy birthday, <b>{name}</b>! {gift}",
    "birthday_treat_bonus": "We added <b>{points}</b> points to your balance. ",
    "birthday_treat_reward": "A free <b>{reward}</b> is waiting in <b>My coupons</b> until {date}.",
    # Referrals.
    "invite": ("🤝 <b>Bring a friend</b>\nSend them your personal link:\n{link}\n\n{terms}"),
    "invite_terms": (
        "When they join with it and make a first purchase{minimum}, you get <b>{mine}</b> "
        "points and they get <b>{theirs}</b>."
    ),
    "invite_terms_minimum": " of at least {amount}",
    "invite_no_bonus": "Every friend you bring is welcome!",
    "invite_staff": "Invite links are for customers; staff accounts can't refer friends.",
    "referral_welcome": (
        "Welcome to {cafe}, <b>{name}</b>! 🎉 {friend} invited you. {terms}"
        "Tap <b>My card</b> and show the QR code at the counter."
    ),
    "referral_welcome_terms": "You both get a bonus after your first purchase. ",
    "referral_refused_already_member": (
        "You're already a member, so this invite doesn't apply — but welcome back! "
        "Invite links are for people joining for the first time."
    ),
    "referral_refused_own_link": (
        "That's your own invite link. Share it with a friend: they join with it, and you "
        "both get the bonus after their first purchase."
    ),
    "referral_refused_staff": (
        "Invites don't apply to staff accounts, so no bonus comes with this one. Welcome!"
    ),
    "referral_refused_unknown": "This invite link isn't valid (anymore). You've joined anyway!",
    "referral_joined": "🤝 {friend} joined with your invite. {terms}",
    "referral_joined_terms": "You get <b>{points}</b> points after their first purchase.",
    "referral_rewarded": "🎉 {friend} made their first purchase: <b>+{points}</b> points for you!",
    "referral_taken_back": (
        "↩️ {friend}'s first purchase was corrected at the counter, so the <b>{points}</b>"
        " referral points are taken back. You get them again with their next purchase."
    ),
    "referral_capped": (
        "🤝 {friend} made their first purchase, but you've already had {limit} referral "
        "bonuses this month, so no bonus this time. Thank you for spreading the word!"
    ),
    "referral_receipt": "🤝 Referral bonus included — welcome!",
    "referrals_title": "🤝 <b>Top referrers</b>",
    "referrals_line": "{name} (#{id}): {rewarded} rewarded, {pending} waiting, {refused} refused",
    "referrals_none": "No referrals yet. Customers get their link with /invite.",
    # Feedback (NPS).
    "nps_question": (
        "How likely are you to recommend {cafe} to a friend? (0 = not at all, 10 = very)"
    ),
    "nps_thanks": (
        "Thank you! You gave us <b>{score}/10</b>. Anything we could do better? "
        "Just reply here (or tap another number to change your answer)."
    ),
    "nps_comment_thanks": "Thank you for telling us. 🙏",
    "nps_low_alert": (
        "⚠️ {name} (member #{id}) rated us <b>{score}/10</b> after their visit on {date}.{comment}"
    ),
    "nps_low_alert_comment": "\nThey wrote: “{comment}”",
    # Privacy.
    "mydata_caption": "🔒 Everything we hold about you, as a file any text editor opens.",
    "forget_question": (
        "Forget you? Your name, username, birthday, chat and feedback comments are removed, "
        "your {coupons} open coupon(s) cancelled and your <b>{points}</b> points lost. "
        "The café keeps its bookkeeping (entries without your name). You can join again "
        "later as a new member. This cannot be undone."
    ),
    "btn_forget_yes": "Yes, forget me",
    "btn_forget_no": "No, keep my membership",
    "forget_done": "Done: we've forgotten you. Press /start any time to join again as new.",
    "forget_kept": "Good to have you. Nothing changed.",
    # The owner's numbers.
    "period_usage": (
        "Which period? E.g. <code>/{command}</code> (this month), <code>/{command} last</code>, "
        "<code>/{command} 2026-11</code> or <code>/{command} 2026-11-01 2026-11-15</code>."
    ),
    "report_title": "📒 <b>Points and revenue — {period}</b>",
    "report_roll_title": "<b>Points roll-forward</b>",
    "report_line": "{label}: <b>{value}</b>",
    "report_opening": "Opening balance",
    "report_issued_purchase": "Issued for purchases",
    "report_issued_offer_bonus": "Issued by offers",
    "report_issued_birthday": "Birthday treats",
    "report_issued_referral": "Referral bonuses",
    "report_issued_winback": "Win-back bonuses",
    "report_issued_manual": "Manual bonuses",
    "report_reversed": "Undone purchases",
    "report_redeemed": "Redeemed for coupons",
    "report_refunded": "Refunded (coupons cancelled or expired)",
    "report_expired": "Expired",
    "report_closing": "= Closing balance: <b>{value}</b>",
    "report_reconciled": "✅ Equals the members' balances now ({balances}).",
    "report_unreconciled": "⚠️ The members' balances add up to {balances}: please report this.",
    "report_liability": (
        "<b>Liability</b>: {points} points = {face} at face value, "
        "<b>{expected}</b> at the expected redemption rate of {rate}."
    ),
    "report_rates": "Expected redemption rate: {rate}; observed so far: {observed}.",
    "report_revenue_title": "<b>Revenue (IFRS 15 / ASC 606)</b>",
    "report_deferred": "Deferred in the period",
    "report_recognised": "Recognised in the period",
    "report_contract_liability": "Contract liability at the end",
    "report_bonus": (
        "Bonus points given without a sale: {points}, a marketing cost of {cost} "
        "at expected redemption value."
    ),
    "report_files": "The roll-forward and the ledger follow as CSV files.",
    # A chain's numbers: one location's, the chain-wide part, and who may see which.
    "report_title_at": "📒 <b>Points and revenue — {location} — {period}</b>",
    "report_title_chain_wide": "📒 <b>Points and revenue — chain-wide — {period}</b>",
    "report_location_note": (
        "Only this location's purchases and their undos: redemptions, refunds, expiry and "
        "bonuses are chain-wide (points are good in every shop)."
    ),
    "report_chain_wide_note": (
        "What was done at no location: redemptions, refunds, expiry and bonuses (points are "
        "good in every shop)."
    ),
    "report_parts_title": "<b>By location</b> (these add up to the figures above)",
    "report_part": (
        "{name}: closing <b>{closing}</b> ({movements}); deferred {deferred}, recognised "
        "{recognised}, contract liability {contract}"
    ),
    "report_chain_wide_name": "🌐 Chain-wide",
    "figures_usage": (
        "Which period and location? E.g. <code>/{command}</code> (this month, all locations), "
        "<code>/{command} last {location}</code> or <code>/{command} 2026-11 {location}</code>. "
        "Locations: {names}."
    ),
    "figures_not_yours": "You can see the figures of {names} only.",
    "figures_nothing": "You don't manage a location, so there are no figures for you here.",
    "btn_figures_all": "🏢 All locations",
    "btn_figures_chain_wide": "🌐 Chain-wide",
    "btn_figures_at": "📍 {name}",
    "export_roll_caption": "Points roll-forward, liability and revenue.",
    "export_ledger_caption": "Ledger: {count} entries.",
    "rate_current": "📐 Expected redemption rate now: <b>{rate}</b>.",
    "rate_history_line": "From {date}: {rate}",
    "rate_usage": (
        "Change it with <code>/redemptionrate 95%</code> (from now) or "
        "<code>/redemptionrate 95% from 2027-01-01</code>."
    ),
    "rate_bad_range": "The rate is a share from 0 % to 100 %, e.g. <code>95%</code>.",
    "rate_bad_past": (
        "An estimate can't change the past: sales already made keep theirs. "
        "Choose today or a later date."
    ),
    "rate_saved": "Saved: expected redemption rate {rate} from {date}.",
    "stats_title": "📊 <b>{period}</b> (arrows: against {previous})",
    "stats_members": "👥 Members: <b>{total}</b>, {new} new{trend}; {reachable} reachable",
    "stats_active": "🟢 Active in the last 30 days: <b>{active}</b>",
    "stats_retention": "🔁 Customer retention: <b>{rate}</b>{trend} (before: {previous})",
    "stats_repeat": "🔂 Repeat purchase rate: <b>{rate}</b>{trend}",
    "stats_visits": (
        "☕ {customers} customers, {visits} visits{trend}: {per} visits and {spend} each; "
        "average basket {basket}"
    ),
    "stats_points": "⭐ Points: {issued} issued{trend}, {redeemed} redeemed ({rate})",
    "stats_coupons": "🎟 Coupons: {issued} issued, {used} used, {expired} expired",
    "stats_nps": "💬 NPS: <b>{score}</b>{trend} ({answers} answers)",
    "stats_offer": (
        "🎉 {title}: {purchases} purchases by {members} members; they spent {users} each, "
        "other customers {others}"
    ),
    "stats_broadcasts": "📣 Broadcasts: {count}, {sent} of {total} messages delivered",
    "stats_referrals": "🤝 Referrals: {joined} joined, {rewarded} rewarded; top: {top}",
    "stats_staff": "🧾 Purchases recorded by: {staff}",
    "stats_tiers": "🏅 Tiers: {tiers}",
    "stats_chart_caption": "Visits and points per week; how each month's new members come back.",
    "stats_title_at": "📊 <b>{location} — {period}</b> (arrows: against {previous})",
    "stats_active_at": "🟢 Customers here in the last 30 days: <b>{active}</b>",
    "stats_points_at": "⭐ Points issued here: {issued}{trend}; coupons handed over here: {used}",
    "stats_parts_title": "<b>By location</b>",
    "stats_part": (
        "📍 {name}: {customers} customers, {visits} visits, {spend}; {issued} points issued"
    ),
    "stats_part_chain_wide": "🌐 Chain-wide: {issued} points issued (bonuses, at no location)",
    "stats_chart_caption_at": (
        "Visits and points per week here (redeemed: coupons handed over here)."
    ),
    "audit_title_at": "🗒 <b>Audit log — {location}</b> (newest first)",
    "audit_line_at": "{when} · {location} · {who} · {action}{member}{detail}",
    "audit_title": "🗒 <b>Audit log</b> (newest first)",
    "audit_line": "{when} · {who} · {action}{member}{detail}",
    "audit_none": "Nothing in the audit log for that.",
    "audit_usage": (
        "Use <code>/audit</code>, <code>/audit member 12</code> (member #12) or "
        "<code>/audit staff 123456</code> (a staff member's Telegram id)."
    ),
    # Claiming the bot as its first owner.
    "owner_claimed": (
        "👑 <b>{name}</b>, you are now the owner of {cafe}'s loyalty bot.\n"
        "Your menu now has the owner commands: invite your team with /staff, "
        "set up rewards with /catalog, and see /help for the rest."
    ),
    "owner_claim_invalid": (
        "This owner link has expired or was used already. "
        "Restart the bot to get a new one in its log, or set OWNER_IDS."
    ),
    # Generic.
    "button_expired": "This button has expired. Please start again from the menu.",
    "not_allowed": "Sorry, that's not available for your account.",
    "unknown_text": "I didn't catch that. Use the buttons below or /help.",
    "error": "Sorry, something went wrong on our side. Please try again in a moment.",
    "error_try_again": (
        "Sorry, that did not go through: our records are out of reach for a moment. "
        "Nothing was saved. Please try again in a few seconds."
    ),
    # The owners' alert about an unexpected error: what and when, never who.
    "error_alert": (
        "⚠️ The bot hit an unexpected error (<b>{kind}</b>) at {time}, during {doing}. "
        "The details are in the bot's log. Further {kind} errors in the next {minutes} "
        "minutes are only logged."
    ),
    "error_doing_command": "the command {command}",
    "error_doing_keyboard": "the “{label}” button",
    "error_doing_button": "a button press ({prefix})",
    "error_doing_message": "a message",
    "error_doing_photo": "a photo",
    "error_doing_job": "a scheduled job ({job})",
    "error_doing_background": "the bot's own background work",
    "error_doing_other": "an update from Telegram",
}

MESSAGES: Final[dict[str, dict[str, str]]] = {"en": EN}
DEFAULT_LANGUAGE: Final = "en"


def t(lang: str, key: str, /, **values: object) -> str:
    """The text ``key`` in ``lang`` (falling back to English) with HTML-escaped values."""
    table = MESSAGES.get(lang, EN)
    template = table.get(key) or EN[key]
    safe = {
        name: value if isinstance(value, Html) else html.escape(str(value), quote=False)
        for name, value in values.items()
    }
    return template.format(**safe)


def button_texts(key: str) -> list[str]:
    """All translations of a button, so a handler matches whichever language was shown."""
    return sorted({table.get(key, EN[key]) for table in MESSAGES.values()})
