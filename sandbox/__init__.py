"""A local Telegram: a Bot API emulator, and the browser demo built on it."""
