"""Expected failures a service reports; handlers turn each into a friendly reply."""

from __future__ import annotations

from decimal import Decimal

from bot.domain import Coupon
from storage import TransientError

# The database was away for a moment (a restart, a failover, a lost connection) or gave
# up on a deadlock: nothing was written, and the same step works again shortly.
DatabaseUnavailable = TransientError


class ServiceError(Exception):
    """Base class: something the person can fix or needs to be told about."""


class NotAMember(ServiceError):
    """The user has not pressed Start yet."""


class CardInvalid(ServiceError):
    """A card token or code is forged, malformed or unknown."""


class CardExpired(ServiceError):
    """A genuine card whose validity has passed."""


class InviteInvalid(ServiceError):
    """No such staff invite."""


class InviteExpired(ServiceError):
    """The invite's 24 hours have passed."""


class InviteUsed(ServiceError):
    """Someone already used this single-use invite."""


class AlreadyStaff(ServiceError):
    """The person opening an invite is staff or an owner already."""


class NoOpenScan(ServiceError):
    """A barista sent an amount without scanning a card first."""


class AmountReplaced(ServiceError):
    """A category button under an amount the barista has since corrected."""

    def __init__(self, shown_minor: int, current_minor: int | None) -> None:
        super().__init__("amount replaced")
        self.shown_minor = shown_minor
        self.current_minor = current_minor


class ScanClosed(ServiceError):
    """The scan was replaced by a newer one, cancelled, or is too old."""


class SelfIssue(ServiceError):
    """Staff may not issue points to their own membership."""


class AmountInvalid(ServiceError):
    def __init__(self, problem: str, text: str, readings: tuple[Decimal, ...] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.text = text
        self.readings = readings


class ZeroPoints(ServiceError):
    """The purchase is too small to earn a point."""

    def __init__(self, amount_minor: int) -> None:
        super().__init__(str(amount_minor))
        self.amount_minor = amount_minor


class EntryNotFound(ServiceError):
    """No ledger entry to undo."""


class NotYourEntry(ServiceError):
    """Staff may only undo entries they issued themselves."""


class UndoWindowPassed(ServiceError):
    """Staff may undo only within the configured window; owners any time."""


class NotUndoable(ServiceError):
    """Only purchase entries can be undone this way."""


class PointsAlreadySpent(ServiceError):
    """Reversing would take the balance below zero."""


class ReferralBonusSpent(ServiceError):
    """The purchase paid a referral bonus that the member who invited has spent since."""

    def __init__(self, referrer_name: str) -> None:
        super().__init__(referrer_name)
        self.referrer_name = referrer_name


class RewardUnavailable(ServiceError):
    """The reward does not exist or was deactivated."""


class RewardInvalid(ServiceError):
    """A title or cost the catalog cannot take."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotEnoughPoints(ServiceError):
    def __init__(self, missing: int) -> None:
        super().__init__(str(missing))
        self.missing = missing


class CouponMalformed(ServiceError):
    """Not something that could be a coupon at all."""


class CouponUnknown(ServiceError):
    """Well-formed, but no such coupon (forged, mistyped or from another café)."""


class CouponClosed(ServiceError):
    """The coupon is redeemed, cancelled or expired; ``coupon`` says which, when and by whom."""

    def __init__(self, coupon: Coupon) -> None:
        super().__init__("closed")
        self.coupon = coupon


# -- locations ---------------------------------------------------------------------------------


class LocationNameInvalid(ServiceError):
    """A location name that is empty, too long or more than one line."""


class LocationNameTaken(ServiceError):
    """Another location has this name (whatever its case)."""


class LocationUnknown(ServiceError):
    """No such location (an old or forged button)."""


class LocationClosed(ServiceError):
    """The location is closed: it takes no new scans, invites or changes of staff."""


class LastOpenLocation(ServiceError):
    """The café's last open location cannot be closed."""


class NoOpenLocation(ServiceError):
    """Every location this staff member works in is closed."""


class LocationNeeded(ServiceError):
    """A staff member in several open locations has not said where they are today.

    ``choices``: (id, name) of the open locations they can pick; ``scan_id``: the scan
    waiting for the answer, if any."""

    def __init__(self, choices: tuple[tuple[int, str], ...], scan_id: str | None = None) -> None:
        super().__init__("location needed")
        self.choices = choices
        self.scan_id = scan_id


class NotAllowed(ServiceError):
    """A manager acting outside their location or on someone who is not their barista."""


class NotYourLocation(ServiceError):
    """A manager asked for the figures or the audit of a location they do not manage.

    ``names``: the locations they manage, to say which ones they can ask for."""

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        super().__init__("not your location")
        self.names = names
