"""Running the real bot against the local Bot API, in the order ``run_polling`` uses."""

from __future__ import annotations

from bot.app import ALLOWED_UPDATES, App
from sandbox.botapi import FakeTelegram


async def start_polling(app: App, *, poll_timeout: int = 1) -> None:
    """Initialise, open the services (post_init), poll and start: what run_polling does."""
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(
        poll_interval=0, timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES
    )
    await app.start()


async def stop_polling(app: App, fake: FakeTelegram) -> None:
    """Stop as run_polling does on Ctrl-C, without waiting out a long poll."""
    assert app.updater is not None
    fake.drain_polls(True)
    try:
        await app.updater.stop()
    finally:
        fake.drain_polls(False)
    await app.stop()
    assert app.post_stop is not None
    await app.post_stop(app)
    await app.shutdown()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)
