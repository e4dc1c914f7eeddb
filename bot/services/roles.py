"""Who may do what. The one place that decides a user's role."""

from __future__ import annotations

from enum import IntEnum

from bot.settings import Settings
from storage import Database
from storage import staff as staff_store


class Role(IntEnum):
    CUSTOMER = 0
    STAFF = 1
    OWNER = 2


class RoleService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    async def role_of(self, tg_user_id: int) -> Role:
        """Owners come from settings; staff from the database, so removal is immediate."""
        if self._settings.is_owner(tg_user_id):
            return Role.OWNER
        if await staff_store.active(self._db.reader, tg_user_id) is not None:
            return Role.STAFF
        return Role.CUSTOMER
