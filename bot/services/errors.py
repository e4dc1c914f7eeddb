"""Expected failures a service reports; handlers turn each into a friendly reply."""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: something the person can fix or needs to be told about."""


class NotAMember(ServiceError):
    """The user has not pressed Start yet."""


class CardInvalid(ServiceError):
    """A card token or code is forged, malformed or unknown."""


class CardExpired(ServiceError):
    """A genuine card whose validity has passed."""
