"""The services of one running bot, opened in post_init and closed in post_shutdown."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from bot.clock import Clock
from bot.observability import Metrics
from bot.services.alerts import AlertService
from bot.services.audience import AudienceService
from bot.services.broadcasts import BroadcastService
from bot.services.catalog import CatalogService
from bot.services.conversations import ConversationService
from bot.services.coupons import CouponService
from bot.services.exports import ExportService
from bot.services.feedback import FeedbackService
from bot.services.health import BackupService, HealthService
from bot.services.issuing import IssuingService
from bot.services.languages import LanguageService
from bot.services.leases import LeaseService
from bot.services.lifecycle import LifecycleService
from bot.services.locations import LocationService
from bot.services.membership import MembershipService
from bot.services.offers import OfferService
from bot.services.outbox import OutboxService
from bot.services.privacy import PrivacyService
from bot.services.referrals import ReferralService
from bot.services.replicas import ReplicaService
from bot.services.reports import ReportService
from bot.services.roles import RoleService
from bot.services.staff import StaffService
from bot.services.stats import StatsService
from bot.settings import Settings
from storage import Database
from storage import meta as meta_store
from storage.changes import ChangeFeed

SIGNING_KEY_META = "card_signing_key"


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    roles: RoleService
    members: MembershipService
    staff: StaffService
    issuing: IssuingService
    catalog: CatalogService
    coupons: CouponService
    audience: AudienceService
    broadcasts: BroadcastService
    offers: OfferService
    health: HealthService
    lifecycle: LifecycleService
    referrals: ReferralService
    feedback: FeedbackService
    privacy: PrivacyService
    outbox: OutboxService
    reports: ReportService
    exports: ExportService
    stats: StatsService
    backups: BackupService
    conversations: ConversationService
    alerts: AlertService
    locations: LocationService
    replicas: ReplicaService
    leases: LeaseService
    languages: LanguageService
    metrics: Metrics | None = None
    # Tells the caches here when another process changed their data (storage/changes.py).
    changes: ChangeFeed | None = None

    @classmethod
    async def open(
        cls, settings: Settings, clock: Clock, metrics: Metrics | None = None
    ) -> Services:
        db = Database(settings.database)
        if metrics is not None:
            db.on_lock_wait = metrics.write_lock_wait.observe
        await db.open()
        try:
            services = await cls._build(settings, clock, db)
            services.metrics = metrics
            if services.changes is not None:
                await services.changes.start()
            return services
        except BaseException:
            # aiosqlite's worker threads would keep the process alive after a failed start.
            await db.close()
            raise

    @classmethod
    async def _build(cls, settings: Settings, clock: Clock, db: Database) -> Services:
        key = await _signing_key(db, settings)
        changes = ChangeFeed(db)
        roles = RoleService(db, settings, clock, key)
        replicas = ReplicaService(db, clock, settings.replica_id)
        leases = LeaseService(db, clock, settings.replica_id)
        members = MembershipService(db, clock, settings, key)
        audience = AudienceService(db, clock, settings)
        locations = LocationService(db, clock, settings, roles)
        coupons = CouponService(db, clock, settings, locations)
        broadcasts = BroadcastService(db, clock, audience)
        offers = OfferService(db, clock, settings, audience, coupons, broadcasts)
        referrals = ReferralService(db, clock, settings, roles)
        services = cls(
            settings=settings,
            clock=clock,
            db=db,
            roles=roles,
            members=members,
            staff=StaffService(db, clock, roles, locations),
            issuing=IssuingService(db, clock, settings, members, offers, referrals, locations),
            catalog=CatalogService(db, clock, changes),
            coupons=coupons,
            audience=audience,
            broadcasts=broadcasts,
            offers=offers,
            health=HealthService(db, clock, replicas, leases),
            lifecycle=LifecycleService(db, clock, settings, coupons, roles),
            referrals=referrals,
            feedback=FeedbackService(db, clock, settings),
            privacy=PrivacyService(db, clock, coupons),
            outbox=OutboxService(db, clock),
            reports=ReportService(db, clock, settings),
            exports=ExportService(db, settings),
            stats=StatsService(db, clock, settings),
            backups=BackupService(settings, clock),
            conversations=ConversationService(db, clock),
            alerts=AlertService(db, clock),
            locations=locations,
            replicas=replicas,
            leases=leases,
            languages=LanguageService(db, clock, settings),
        )
        services.changes = changes
        if settings.rewards_file is not None:
            await services.catalog.seed(settings.rewards_file)
        await services.reports.backfill_allocations()
        return services

    @property
    def replica_id(self) -> str:
        """This process among the replicas sharing the database (REPLICA_ID)."""
        return self.replicas.replica_id

    async def close(self) -> None:
        if self.changes is not None:
            await self.changes.stop()
        await self.db.close()


async def _signing_key(db: Database, settings: Settings) -> bytes:
    """The explicit CARD_SECRET, else a key generated once and kept in the database."""
    if settings.card_secret is not None:
        return settings.card_secret.get_secret_value().encode()
    async with db.transaction() as tx:
        stored = await meta_store.get_or_set(tx, SIGNING_KEY_META, secrets.token_hex(32))
    return bytes.fromhex(stored)
