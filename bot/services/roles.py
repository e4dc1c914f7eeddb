"""Who may do what. The one place that decides a user's role."""

from __future__ import annotations

from enum import IntEnum

from bot.settings import Settings


class Role(IntEnum):
    CUSTOMER = 0
    STAFF = 1
    OWNER = 2


class RoleService:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    async def role_of(self, tg_user_id: int) -> Role:
        if self._settings.is_owner(tg_user_id):
            return Role.OWNER
        return Role.CUSTOMER
