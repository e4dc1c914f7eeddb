"""Whose language: a person's own choice in /settings, else what their Telegram says,
else the café's ``LANGUAGE``, else English (bot/i18n.py resolves the chain)."""

from __future__ import annotations

from bot import i18n
from bot.clock import Clock
from bot.settings import Settings
from storage import Database
from storage import languages as language_store


class LanguageService:
    def __init__(self, db: Database, clock: Clock, settings: Settings) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings

    def reader(self, language: str | None) -> str:
        """The reader (a Babel locale) for someone whose language is ``language``: their
        choice, or their Telegram's ``language_code``; None reads the café's."""
        return i18n.reader(language, self._settings.language, self._settings.locale)

    @property
    def cafe_reader(self) -> str:
        """The café's own reader: for texts that have no one person as their reader."""
        return self.reader(None)

    async def chosen(self, tg_user_id: int) -> str | None:
        """The language someone chose in /settings, or None."""
        return await language_store.chosen(self._db.reader, tg_user_id)

    async def reader_of(self, tg_user_id: int, telegram_language: str | None) -> str:
        """Someone's reader: their choice, else their Telegram's (one read)."""
        chosen = await language_store.chosen(self._db.reader, tg_user_id)
        return self.reader(chosen or telegram_language)

    async def reader_of_person(self, tg_user_id: int) -> str:
        """The reader of someone known by their Telegram id only (an owner, a barista):
        their choice, else the Telegram language stored with their membership, else the
        café's (one read)."""
        languages = await language_store.of(self._db.reader, tg_user_id)
        return self.reader(languages.chosen or languages.stored)

    async def reader_of_sender(self, tg_user_id: int, telegram_language: str | None) -> str:
        """The reader of someone who just sent an update, whose Telegram app says
        ``telegram_language``: as ``reader_of``, in the same one read, and a member whose
        app language changed since it was stored has it stored anew (a write only then),
        so what is sent to them later (receipts, reminders) follows it too."""
        languages = await language_store.of(self._db.reader, tg_user_id)
        if telegram_language and languages.stored not in (None, telegram_language):
            async with self._db.transaction() as tx:
                await language_store.store_telegram(tx, tg_user_id, telegram_language)
        return self.reader(languages.chosen or telegram_language)

    async def choose(self, tg_user_id: int, language: str) -> str:
        """Keep someone's choice of a shipped language; returns their new reader."""
        shipped = i18n.shipped_language(language)
        if shipped is None:
            raise ValueError(f"not a shipped language: {language!r}")
        async with self._db.transaction() as tx:
            await language_store.choose(tx, tg_user_id, shipped, self._clock.now())
        return self.reader(shipped)
