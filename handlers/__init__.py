"""Telegram-facing code: read the update, call a service, reply. No SQL, no business rules."""
