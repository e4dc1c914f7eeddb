"""``loyalty-bot demo``: the real bot, a demo café and three phones in the browser.

Everything runs in this process: the local Bot API (:mod:`sandbox.botapi`), the page
(:mod:`sandbox.web`) on the same port, and the real ``Application`` with its services and
storage, polling that local API. Nothing here talks to the internet.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bot.app import App, build_application
from bot.clock import Clock
from bot.domain import NewOffer
from bot.i18n import ENGLISH
from bot.qr import decode
from bot.services.container import Services
from bot.settings import Settings
from bot.startup import StartupError
from sandbox.botapi import FakeTelegram, FakeUser
from sandbox.running import start_polling, stop_polling
from sandbox.web import Page
from storage import meta

logger = logging.getLogger(__name__)

# Shaped like a token so the settings accept it; the local API is the only one that does.
DEMO_TOKEN = "100000:DEMO-local-sandbox-never-a-real-token"
DEMO_BOT = "CafeDemoBot"
CAFE_NAME = "Demo Café"
# Set in every database the demo seeds: the demo opens (and Reset deletes) no other.
DEMO_MARKER = "demo_cafe"


class NotADemoDatabase(StartupError):
    """``--db`` names a database the demo did not make, perhaps a café's real one."""


@dataclass(frozen=True)
class Phone:
    """A person with a phone on the page."""

    id: int
    name: str
    role: str  # customer, barista or owner

    @property
    def label(self) -> str:
        return f"{self.name} ({self.role})"


CUSTOMER = Phone(2001, "Anna", "customer")
BARISTA = Phone(3001, "Ben", "barista")
OWNER = Phone(1001, "Olga", "owner")
MORE_CUSTOMERS = ("Chloé", "Dev", "Emma", "Farid", "Grace", "Hiro", "Ines", "Jonas")
# Seeded people without a phone on the page: a barista of the past, and regulars.
SAM = Phone(3999, "Sam", "barista")
REWARDS = (("Extra shot", 40), ("Espresso", 150), ("Cappuccino", 300), ("Slice of cake", 400))
# Regulars' visits, as "days ago:amount"; Priya spends points on an espresso at her last.
# Some come today, so this month's /stats has numbers on the first of the month too.
REGULARS = {
    "Marta": "54:4.20 47:3.80 40:6.50 33:4.20 12:4.20 5:8.90 0:4.20",
    "Tom": "50:12.40 21:3.20 2:4.50 0:3.20",
    "Priya": "44:5.10 37:5.10 30:5.10 23:5.10 16:5.10 9:5.10",
    "Leo": "58:3.50",
    "Sofia": "26:9.80 19:2.90 1:6.40 0:7.60",
}
REDEEMS = {"Priya": "Espresso"}
FIRST_REGULAR_ID = 4000


@dataclass(frozen=True)
class Visit:
    days_ago: int
    amount: str
    name: str
    redeem: str | None


def regulars_visits() -> list[Visit]:
    """Every regular's visit, oldest first, so the clock only moves forward."""
    visits: list[Visit] = []
    for name, history in REGULARS.items():
        entries = history.split()
        for number, entry in enumerate(entries):
            days, amount = entry.split(":")
            last = number == len(entries) - 1
            visits.append(Visit(int(days), amount, name, REDEEMS.get(name) if last else None))
    return sorted(visits, key=lambda visit: -visit.days_ago)


class DemoClock(Clock):
    """Real time, which the seeding moves back to write a café's past weeks."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


def demo_settings(api_url: str, database: Path) -> Settings:
    """The demo's own settings: never a token or an API address from the environment."""
    values: dict[str, Any] = {
        "bot_token": DEMO_TOKEN,
        "telegram_api_url": api_url,
        "owner_ids": (OWNER.id,),
        "database_path": database,
        "cafe_name": CAFE_NAME,
        "card_secret": None,
        "webhook_url": None,
        "metrics_port": 0,
        "backup_dir": None,
        "rewards_file": None,
        "log_level": "WARNING",
        # Ten points a euro, a point worth a cent: a coffee earns an extra shot.
        "points_per_unit": Decimal(10),
        "point_value": Decimal("0.01"),
        "referral_bonus_points": 50,
        "referral_friend_bonus_points": 50,
        "quiet_hours": "off",  # a demo in the evening still shows broadcasts
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class Demo:
    """The demo café: start, reset, add a phone, stop."""

    def __init__(self, *, port: int, db_path: Path | None = None, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self._folder = None if db_path else tempfile.TemporaryDirectory(prefix="loyalty-demo-")
        self.db_path = db_path or Path(self._folder.name) / "demo.db"  # type: ignore[union-attr]
        self.fake = FakeTelegram(DEMO_TOKEN, username=DEMO_BOT, name=CAFE_NAME)
        self.clock = DemoClock()
        self.phones: list[Phone] = [CUSTOMER, BARISTA, OWNER]
        # Each phone's Telegram app language (its language_code), as picked on the page.
        self.languages: dict[int, str] = {}
        self.page = Page(self)
        self.app: App | None = None
        self.busy = asyncio.Lock()  # a reset, or adding a phone, one at a time
        self.url = ""

    @property
    def services(self) -> Services:
        assert self.app is not None
        services: Services = self.app.bot_data.services
        return services

    def phone(self, phone_id: int) -> Phone | None:
        return next((p for p in self.phones if p.id == phone_id), None)

    def language_of(self, phone: Phone) -> str:
        """The language of the phone's Telegram app: English until another is picked."""
        return self.languages.get(phone.id, ENGLISH)

    def user(self, phone: Phone) -> FakeUser:
        """The phone's person, as Telegram describes them in what they do."""
        return self.fake.user(phone.id, phone.name, language_code=self.language_of(phone))

    async def start(self) -> str:
        if self.db_path.exists() and meta.read_now(self.db_path, DEMO_MARKER) is None:
            raise NotADemoDatabase(
                f"--db: {self.db_path} is not a database the demo made, and the demo never"
                " opens (or resets) a café's real data: give a new file name"
            )
        self.url = await self.fake.start(self.page.web_app(), self.host, self.port)
        await self._start_bot()
        return self.url

    async def stop(self) -> None:
        await self._stop_bot()
        await self.fake.stop()
        if self._folder is not None:
            self._folder.cleanup()

    async def reset(self) -> None:
        """Back to the freshly seeded café: a new database, empty chats, three phones
        (whose Telegram languages stay as picked: they are the phones', not the café's)."""
        async with self.busy:
            await self._stop_bot()
            self.fake.reset()
            self.page.forget()
            for suffix in ("", "-wal", "-shm"):
                self.db_path.with_name(self.db_path.name + suffix).unlink(missing_ok=True)
            self.phones = [CUSTOMER, BARISTA, OWNER]
            kept = {phone.id for phone in self.phones}
            self.languages = {id_: code for id_, code in self.languages.items() if id_ in kept}
            await self._start_bot()

    async def add_customer(self) -> Phone:
        """One more customer's phone, to try broadcasts and offers on."""
        async with self.busy:
            taken = {p.name for p in self.phones}
            name = next((n for n in MORE_CUSTOMERS if n not in taken), f"Guest {len(self.phones)}")
            phone = Phone(
                max(p.id for p in self.phones if p.role == "customer") + 1, name, "customer"
            )
            self.phones.append(phone)
        self.page.publish_snapshot()
        return phone

    async def _start_bot(self) -> None:
        fresh = not self.db_path.exists()
        self.fake.known_chats.add(OWNER.id)  # the owner has talked to the bot before
        settings = demo_settings(self.fake.url, self.db_path)
        self.app = build_application(
            settings, clock=self.clock, update_processor=self.fake.processor()
        )
        await start_polling(self.app, poll_timeout=10)
        if fresh:
            await seed(self)
        self.page.publish_snapshot()

    async def _stop_bot(self) -> None:
        if self.app is not None:
            app, self.app = self.app, None
            await stop_polling(app, self.fake)


async def seed(demo: Demo) -> None:
    """A café with a catalog, weeks of regulars' visits, a running offer and a barista,
    written the way people would: by messages to the bot."""
    services = demo.services
    async with services.db.transaction() as tx:
        await meta.put(tx, DEMO_MARKER, "yes")
    for title, cost in REWARDS:
        await services.catalog.add(OWNER.id, title, cost)
    await demo.user(OWNER).send("/start")
    sam = await hire(demo, SAM)
    ids = {name: FIRST_REGULAR_ID + n for n, name in enumerate(REGULARS)}
    joined: set[str] = set()
    try:
        for number, visit in enumerate(regulars_visits()):
            # Visits spread over the day; today's within the last hour.
            earlier = timedelta(hours=number % 5) if visit.days_ago else timedelta(minutes=number)
            demo.clock.offset = -(timedelta(days=visit.days_ago) + earlier)
            regular = demo.fake.user(ids[visit.name], visit.name)
            if visit.name not in joined:
                await regular.send("/start")
                joined.add(visit.name)
            await counter_visit(sam, regular, visit.amount)
            if visit.redeem:
                await redeem_at_counter(sam, regular, visit.redeem)
    finally:
        demo.clock.offset = timedelta(0)
    now = demo.clock.now()
    await services.offers.create(
        OWNER.id,
        NewOffer(
            title="Welcome week",
            description="10 bonus points on every visit",
            kind="bonus",
            multiplier=None,
            bonus_points=10,
            reward_id=None,
            starts_at=now - timedelta(days=1),
            ends_at=now + timedelta(days=6),
            window=None,
            audience="all",
            announce=False,
        ),
    )
    await hire(demo, BARISTA)


async def hire(demo: Demo, phone: Phone) -> FakeUser:
    invite = await demo.services.staff.create_invite(OWNER.id)
    person = demo.user(phone)
    await person.send(f"/start {invite.payload}")
    return person


def start_payload(photo: bytes | None) -> str:
    """What the phone camera reads from a card or coupon: the deep link's payload."""
    (link,) = decode(photo or b"")
    return link.partition("?start=")[2]


async def counter_visit(barista: FakeUser, customer: FakeUser, amount: str) -> None:
    (card,) = await customer.send("/card")
    await barista.send(f"/start {start_payload(card.photo)}")
    await barista.send(amount)


async def redeem_at_counter(barista: FakeUser, customer: FakeUser, title: str) -> None:
    (listing,) = await customer.send("🎁 Rewards")
    (coupon,) = await customer.press(listing, f"Redeem {title}")
    (shown,) = await barista.send(f"/start {start_payload(coupon.photo)}")
    await barista.press(shown, "Confirm")


async def serve(demo: Demo, announce: Callable[[str], None] = print) -> None:
    """Run until Ctrl-C or SIGTERM, then stop cleanly (a second Ctrl-C changes nothing)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    try:
        url = await demo.start()
        announce(f"Demo café running at {url} (Ctrl-C stops it)")
        await stopping.wait()
    finally:
        try:
            await demo.stop()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
