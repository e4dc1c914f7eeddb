"""Versioned schema migrations, per engine. Append new versions; never edit a released one.

SQLite databases replay this history from version 1 (cafés upgrade their file in place).
A new PostgreSQL database starts from ``schema/postgresql.sql``, the whole schema at
:data:`POSTGRESQL_BASELINE` written the PostgreSQL way (``BIGINT`` ids, ``timestamptz``,
``boolean``, PL/pgSQL triggers), as Matrix Synapse keeps a full schema per engine.
Every migration after the baseline runs on both engines: written in the standard form
both accept, or with its PostgreSQL text in :data:`POSTGRESQL_TEXT`.

Each migration is a tuple of single statements (``executescript`` would commit the
surrounding transaction, so statements are run one by one inside it). All pending
migrations run in one transaction; on PostgreSQL an advisory lock makes a second process
starting at the same moment wait, then find nothing left to do.
"""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.engine import Conn

Migration = tuple[int, tuple[str, ...]]

_V1_MEMBERS_AND_LEDGER: tuple[str, ...] = (
    """
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE members (
        id          INTEGER PRIMARY KEY,
        tg_user_id  INTEGER NOT NULL UNIQUE,
        chat_id     INTEGER NOT NULL,
        first_name  TEXT    NOT NULL,
        username    TEXT,
        language    TEXT,
        balance     INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
        created_at  TEXT    NOT NULL
    )
    """,
    """
    CREATE TABLE ledger (
        id              INTEGER PRIMARY KEY,
        member_id       INTEGER NOT NULL REFERENCES members(id),
        points          INTEGER NOT NULL CHECK (points <> 0),
        kind            TEXT    NOT NULL,
        reason          TEXT    NOT NULL,
        actor_id        INTEGER,
        amount_minor    INTEGER,
        category        TEXT,
        reverses_id     INTEGER UNIQUE REFERENCES ledger(id),
        idempotency_key TEXT    NOT NULL UNIQUE,
        created_at      TEXT    NOT NULL
    )
    """,
    "CREATE INDEX ledger_member ON ledger (member_id, id)",
    # The ledger is append-only: corrections are new, reversing entries.
    """
    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END
    """,
    """
    CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END
    """,
    # The cached balance moves in the same transaction as the entry, so it always
    # equals the sum of the member's ledger; the CHECK above refuses overdrafts.
    """
    CREATE TRIGGER ledger_apply AFTER INSERT ON ledger
    BEGIN UPDATE members SET balance = balance + NEW.points WHERE id = NEW.member_id; END
    """,
    """
    CREATE TABLE card_codes (
        code       TEXT PRIMARY KEY,
        member_id  INTEGER NOT NULL REFERENCES members(id),
        expires_at TEXT    NOT NULL
    )
    """,
    "CREATE INDEX card_codes_member ON card_codes (member_id)",
)

_V2_STAFF_SCANS_AUDIT: tuple[str, ...] = (
    """
    CREATE TABLE staff (
        tg_user_id INTEGER PRIMARY KEY,
        chat_id    INTEGER NOT NULL,
        first_name TEXT    NOT NULL,
        added_by   INTEGER NOT NULL,
        added_at   TEXT    NOT NULL,
        removed_at TEXT
    )
    """,
    """
    CREATE TABLE staff_invites (
        token      TEXT PRIMARY KEY,
        created_by INTEGER NOT NULL,
        created_at TEXT    NOT NULL,
        expires_at TEXT    NOT NULL,
        used_by    INTEGER,
        used_at    TEXT
    )
    """,
    # A scan: a barista has identified a member and is about to enter the purchase.
    # Its id is the idempotency key of the one ledger entry it may produce.
    """
    CREATE TABLE scans (
        id           TEXT PRIMARY KEY,
        staff_id     INTEGER NOT NULL,
        member_id    INTEGER NOT NULL REFERENCES members(id),
        created_at   TEXT    NOT NULL,
        amount_minor INTEGER,
        entry_id     INTEGER REFERENCES ledger(id),
        closed_at    TEXT
    )
    """,
    "CREATE INDEX scans_staff ON scans (staff_id, created_at)",
    """
    CREATE TABLE audit_log (
        id         INTEGER PRIMARY KEY,
        actor_id   INTEGER NOT NULL,
        action     TEXT    NOT NULL,
        member_id  INTEGER REFERENCES members(id),
        detail     TEXT    NOT NULL DEFAULT '',
        created_at TEXT    NOT NULL
    )
    """,
    "CREATE INDEX audit_actor ON audit_log (actor_id, id)",
    "CREATE INDEX ledger_actor ON ledger (actor_id, created_at)",
    "CREATE INDEX ledger_member_time ON ledger (member_id, created_at)",
)

_V3_REWARDS_AND_COUPONS: tuple[str, ...] = (
    """
    CREATE TABLE rewards (
        id         INTEGER PRIMARY KEY,
        title      TEXT    NOT NULL,
        cost       INTEGER NOT NULL CHECK (cost > 0),
        active     INTEGER NOT NULL DEFAULT 1,
        created_at TEXT    NOT NULL
    )
    """,
    "CREATE UNIQUE INDEX rewards_title ON rewards (title COLLATE NOCASE)",
    """
    CREATE TABLE coupons (
        id              INTEGER PRIMARY KEY,
        token           TEXT    NOT NULL UNIQUE,
        code            TEXT    NOT NULL UNIQUE,
        member_id       INTEGER NOT NULL REFERENCES members(id),
        reward_id       INTEGER NOT NULL REFERENCES rewards(id),
        title           TEXT    NOT NULL,
        cost            INTEGER NOT NULL,
        state           TEXT    NOT NULL DEFAULT 'issued'
                        CHECK (state IN ('issued', 'redeemed', 'cancelled', 'expired')),
        issued_at       TEXT    NOT NULL,
        expires_at      TEXT    NOT NULL,
        closed_at       TEXT,
        closed_by       INTEGER,
        closed_by_name  TEXT,
        debit_entry_id  INTEGER NOT NULL UNIQUE REFERENCES ledger(id),
        refund_entry_id INTEGER UNIQUE REFERENCES ledger(id)
    )
    """,
    "CREATE INDEX coupons_member ON coupons (member_id, state)",
    "CREATE INDEX coupons_expiry ON coupons (state, expires_at)",
    # States only move issued → redeemed | cancelled | expired.
    """
    CREATE TRIGGER coupons_state_forward BEFORE UPDATE OF state ON coupons
    WHEN OLD.state <> 'issued' OR NEW.state = 'issued'
    BEGIN SELECT RAISE(ABORT, 'coupon state can only leave issued'); END
    """,
)

_COUPON_COLUMNS = (
    "id, token, code, member_id, reward_id, title, cost, state, issued_at, expires_at,"
    " closed_at, closed_by, closed_by_name, debit_entry_id, refund_entry_id"
)

_V4_OFFERS_BROADCASTS_PREFERENCES: tuple[str, ...] = (
    "ALTER TABLE members ADD COLUMN promotions_opt_out INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE members ADD COLUMN unreachable_at TEXT",
    "ALTER TABLE members ADD COLUMN birthday TEXT",  # 'MM-DD'
    """
    CREATE TABLE offers (
        id           INTEGER PRIMARY KEY,
        title        TEXT    NOT NULL,
        description  TEXT    NOT NULL DEFAULT '',
        kind         TEXT    NOT NULL CHECK (kind IN ('multiplier', 'bonus', 'coupon')),
        multiplier   TEXT,
        bonus_points INTEGER,
        reward_id    INTEGER REFERENCES rewards(id),
        starts_at    TEXT    NOT NULL,
        ends_at      TEXT    NOT NULL,
        window       TEXT,
        audience     TEXT    NOT NULL,
        announce     INTEGER NOT NULL DEFAULT 0,
        started_at   TEXT,
        ended_at     TEXT,
        created_by   INTEGER NOT NULL,
        created_at   TEXT    NOT NULL,
        CHECK (ends_at > starts_at)
    )
    """,
    "CREATE INDEX offers_time ON offers (ends_at, starts_at)",
    "ALTER TABLE ledger ADD COLUMN offer_id INTEGER REFERENCES offers(id)",
    # Gift coupons from offers cost the member nothing, so they have no debit entry:
    # rebuild the coupons table with debit_entry_id nullable and an offer reference.
    """
    CREATE TABLE coupons_v4 (
        id              INTEGER PRIMARY KEY,
        token           TEXT    NOT NULL UNIQUE,
        code            TEXT    NOT NULL UNIQUE,
        member_id       INTEGER NOT NULL REFERENCES members(id),
        reward_id       INTEGER NOT NULL REFERENCES rewards(id),
        title           TEXT    NOT NULL,
        cost            INTEGER NOT NULL CHECK (cost >= 0),
        state           TEXT    NOT NULL DEFAULT 'issued'
                        CHECK (state IN ('issued', 'redeemed', 'cancelled', 'expired')),
        issued_at       TEXT    NOT NULL,
        expires_at      TEXT    NOT NULL,
        closed_at       TEXT,
        closed_by       INTEGER,
        closed_by_name  TEXT,
        debit_entry_id  INTEGER UNIQUE REFERENCES ledger(id),
        refund_entry_id INTEGER UNIQUE REFERENCES ledger(id),
        offer_id        INTEGER REFERENCES offers(id),
        CHECK ((cost = 0) = (debit_entry_id IS NULL)),
        UNIQUE (offer_id, member_id)
    )
    """,
    f"INSERT INTO coupons_v4 ({_COUPON_COLUMNS}) SELECT {_COUPON_COLUMNS} FROM coupons",
    "DROP TABLE coupons",
    "ALTER TABLE coupons_v4 RENAME TO coupons",
    "CREATE INDEX coupons_member ON coupons (member_id, state)",
    "CREATE INDEX coupons_expiry ON coupons (state, expires_at)",
    """
    CREATE TRIGGER coupons_state_forward BEFORE UPDATE OF state ON coupons
    WHEN OLD.state <> 'issued' OR NEW.state = 'issued'
    BEGIN SELECT RAISE(ABORT, 'coupon state can only leave issued'); END
    """,
    """
    CREATE TABLE broadcasts (
        id                  INTEGER PRIMARY KEY,
        created_by          INTEGER NOT NULL,
        created_at          TEXT    NOT NULL,
        text                TEXT    NOT NULL,
        photo_file_id       TEXT,
        audience            TEXT    NOT NULL,
        offer_id            INTEGER REFERENCES offers(id),
        state               TEXT    NOT NULL DEFAULT 'sending'
                            CHECK (state IN ('sending', 'done')),
        total               INTEGER NOT NULL,
        finished_at         TEXT,
        progress_chat_id    INTEGER,
        progress_message_id INTEGER
    )
    """,
    """
    CREATE TABLE broadcast_recipients (
        broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),
        member_id    INTEGER NOT NULL REFERENCES members(id),
        chat_id      INTEGER NOT NULL,
        state        TEXT    NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sent', 'failed', 'blocked')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        sent_at      TEXT,
        PRIMARY KEY (broadcast_id, member_id)
    )
    """,
    "CREATE INDEX broadcast_recipients_state ON broadcast_recipients (broadcast_id, state)",
)

_V5_OWNERS: tuple[str, ...] = (
    # Owners who claimed the bot with the one-time link (OWNER_IDS, when set, wins).
    """
    CREATE TABLE owners (
        tg_user_id INTEGER PRIMARY KEY,
        added_at   TEXT    NOT NULL,
        added_by   TEXT    NOT NULL
    )
    """,
    """
    CREATE TABLE owner_claims (
        token_hash TEXT    PRIMARY KEY,
        created_at TEXT    NOT NULL,
        expires_at TEXT    NOT NULL,
        used_by    INTEGER,
        used_at    TEXT
    )
    """,
)

_V6_COUPON_MESSAGES: tuple[str, ...] = (
    # Every message that shows a coupon's QR, so all are edited when the coupon closes.
    """
    CREATE TABLE coupon_messages (
        coupon_id  INTEGER NOT NULL REFERENCES coupons(id),
        chat_id    INTEGER NOT NULL,
        message_id INTEGER NOT NULL,
        PRIMARY KEY (coupon_id, chat_id, message_id)
    )
    """,
)

_V7_LIFECYCLE: tuple[str, ...] = (
    # The last visit (purchase or redemption) starts each member's expiry and win-back
    # clock; joining counts as the first. A trigger keeps it with the ledger.
    "ALTER TABLE members ADD COLUMN last_visit_at TEXT",
    """
    UPDATE members SET last_visit_at = COALESCE(
        (SELECT MAX(created_at) FROM ledger
         WHERE ledger.member_id = members.id AND kind IN ('earn', 'redeem')),
        created_at)
    """,
    """
    CREATE TRIGGER members_first_visit AFTER INSERT ON members WHEN NEW.last_visit_at IS NULL
    BEGIN UPDATE members SET last_visit_at = NEW.created_at WHERE id = NEW.id; END
    """,
    """
    CREATE TRIGGER ledger_visit AFTER INSERT ON ledger WHEN NEW.kind IN ('earn', 'redeem')
    BEGIN
        UPDATE members SET last_visit_at = NEW.created_at
        WHERE id = NEW.member_id AND last_visit_at < NEW.created_at;
    END
    """,
    "CREATE INDEX members_last_visit ON members (last_visit_at) WHERE balance > 0",
    "CREATE INDEX members_visit_all ON members (last_visit_at)",
    "CREATE INDEX members_birthday ON members (birthday) WHERE birthday IS NOT NULL",
    "ALTER TABLE members ADD COLUMN service_opt_out INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE members ADD COLUMN birthday_set_at TEXT",
    "ALTER TABLE members ADD COLUMN referral_code TEXT",
    "CREATE UNIQUE INDEX members_referral_code ON members (referral_code)",
    "ALTER TABLE members ADD COLUMN forgotten_at TEXT",
    # The last visit a win-back message was sent for: one per dormant spell.
    "ALTER TABLE members ADD COLUMN winback_for TEXT",
    """
    CREATE INDEX members_winback_due ON members (last_visit_at)
    WHERE winback_for IS NULL OR winback_for <> last_visit_at
    """,
    """
    CREATE TABLE referrals (
        referred_id INTEGER PRIMARY KEY REFERENCES members(id),
        referrer_id INTEGER NOT NULL REFERENCES members(id),
        joined_at   TEXT    NOT NULL,
        state       TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'rewarded', 'refused')),
        reason      TEXT,
        settled_at  TEXT,
        CHECK (referred_id <> referrer_id)
    )
    """,
    "CREATE INDEX referrals_referrer ON referrals (referrer_id, state, settled_at)",
    """
    CREATE TABLE feedback (
        id              INTEGER PRIMARY KEY,
        member_id       INTEGER NOT NULL REFERENCES members(id),
        entry_id        INTEGER NOT NULL UNIQUE REFERENCES ledger(id),
        asked_at        TEXT    NOT NULL,
        score           INTEGER CHECK (score BETWEEN 0 AND 10),
        answered_at     TEXT,
        comment         TEXT,
        comment_until   TEXT
    )
    """,
    "CREATE INDEX feedback_member ON feedback (member_id, asked_at)",
    # Messages the bot sends members unasked (reminders, treats, questions): rendered and
    # sent by the bulk sender, paced, outside quiet hours, each at most once (dedup_key).
    """
    CREATE TABLE outbox (
        id          INTEGER PRIMARY KEY,
        member_id   INTEGER NOT NULL REFERENCES members(id),
        kind        TEXT    NOT NULL,
        dedup_key   TEXT    NOT NULL UNIQUE,
        params      TEXT    NOT NULL DEFAULT '{}',
        service     INTEGER NOT NULL,
        visit_at    TEXT,
        created_at  TEXT    NOT NULL,
        state       TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'sent', 'skipped', 'failed', 'blocked')),
        attempts    INTEGER NOT NULL DEFAULT 0,
        sent_at     TEXT,
        last_error  TEXT
    )
    """,
    "CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending'",
)

_V8_ACCOUNTING: tuple[str, ...] = (
    # Reports read periods of the ledger by time.
    "CREATE INDEX ledger_time ON ledger (created_at, kind, points)",
    # How each purchase's price splits between the goods and the points it earned
    # (IFRS 15 relative stand-alone selling prices), fixed at the sale with the expected
    # redemption rate then in force. Amounts are millionths of a minor unit, so sums stay
    # exact integers and money is rounded once, in the report.
    """
    CREATE TABLE sale_allocations (
        entry_id       INTEGER PRIMARY KEY REFERENCES ledger(id),
        amount_minor   INTEGER NOT NULL,
        points         INTEGER NOT NULL,
        offer_points   INTEGER NOT NULL DEFAULT 0,
        rate_ppm       INTEGER NOT NULL,
        ssp_micro      INTEGER NOT NULL,
        deferred_micro INTEGER NOT NULL
    )
    """,
    # The owner's estimate of the share of points that will ever be redeemed, from a date.
    """
    CREATE TABLE redemption_rates (
        effective_from TEXT    PRIMARY KEY,
        rate_ppm       INTEGER NOT NULL CHECK (rate_ppm BETWEEN 0 AND 1000000),
        set_by         INTEGER NOT NULL,
        set_at         TEXT    NOT NULL
    )
    """,
    "CREATE INDEX audit_member ON audit_log (member_id, id)",
    "CREATE INDEX coupons_issued ON coupons (issued_at)",
    "CREATE INDEX coupons_closed ON coupons (closed_at)",
    "CREATE INDEX ledger_offer ON ledger (offer_id, created_at) WHERE offer_id IS NOT NULL",
    "CREATE INDEX feedback_answered ON feedback (answered_at)",
    "CREATE INDEX referrals_joined ON referrals (joined_at)",
    "CREATE INDEX referrals_settled ON referrals (state, settled_at)",
    "CREATE INDEX broadcasts_created ON broadcasts (created_at)",
    "CREATE INDEX members_created ON members (created_at)",
)

_V9_HOT_PATHS: tuple[str, ...] = (
    # Every statement on a request path uses an index (tests/test_query_plans.py guards it).
    "CREATE INDEX scans_open ON scans (staff_id) WHERE closed_at IS NULL",
    "CREATE INDEX members_chat ON members (chat_id)",  # 403s mark a chat unreachable
    "CREATE INDEX ledger_actor_kind ON ledger (actor_id, kind, id)",
)

_V10_OUTBOX_RETRIES: tuple[str, ...] = (
    # A message that failed waits before it is tried again (back-off), instead of being
    # retried at once by the next pass.
    "ALTER TABLE outbox ADD COLUMN next_try_at TEXT",
)

_V11_REFERRAL_SETTLED_BY: tuple[str, ...] = (
    # The purchase that settled a referral: undoing it takes the bonus back.
    "ALTER TABLE referrals ADD COLUMN settled_entry_id INTEGER REFERENCES ledger (id)",
    "CREATE INDEX referrals_settled_entry ON referrals (settled_entry_id)"
    " WHERE settled_entry_id IS NOT NULL",
)

_V12_CONVERSATIONS: tuple[str, ...] = (
    # Where each person is in a multi-step conversation (the /offer and /broadcast
    # wizards), so a restart resumes it. ``conv_key`` is the Telegram key of the
    # conversation (chat and user ids) as canonical JSON text; a finished one has no row.
    """
    CREATE TABLE conversation_states (
        name        TEXT    NOT NULL,
        conv_key    TEXT    NOT NULL,
        state       INTEGER NOT NULL,
        updated_at  TEXT    NOT NULL,
        PRIMARY KEY (name, conv_key)
    )
    """,
    # What a person has typed so far in those conversations (the drafts), as JSON. Only
    # people with something to keep have a row: a customer's empty data has none.
    """
    CREATE TABLE conversation_user_data (
        tg_user_id  INTEGER PRIMARY KEY,
        data        TEXT    NOT NULL,
        updated_at  TEXT    NOT NULL
    )
    """,
)

_V13_ERROR_ALERTS: tuple[str, ...] = (
    # When the owners were last alerted about each kind of unexpected error (the
    # exception's type name): at most one alert a kind per window, however many bot
    # processes share this database and however often they restart.
    """
    CREATE TABLE error_alerts (
        kind          TEXT PRIMARY KEY,
        last_sent_at  TEXT NOT NULL
    )
    """,
)

_V14_PORTABLE_NAMES: tuple[str, ...] = (
    # What PostgreSQL cannot take as SQLite has it, changed here so both engines share
    # one schema and one SQL. ``window`` is a reserved word in PostgreSQL (quoted here,
    # as standard SQL quotes an identifier); the domain keeps calling it the window.
    'ALTER TABLE offers RENAME COLUMN "window" TO hours',
    # COLLATE NOCASE is SQLite's: titles are unique case-insensitively by lower(), an
    # expression index both engines have (queries compare lower(title) = lower(:title)).
    # SQLite's lower() and NOCASE both fold ASCII only, so no existing titles collide.
    "DROP INDEX rewards_title",
    "CREATE UNIQUE INDEX rewards_title ON rewards (lower(title))",
)

_V15_LOCATIONS: tuple[str, ...] = (
    # A café's shops. Every café has at least one: existing databases get "Main", which
    # the owner can rename; with one location the bot never mentions locations at all.
    # A closed location keeps its history but takes no new scans.
    """
    CREATE TABLE locations (
        id         INTEGER PRIMARY KEY,
        name       TEXT    NOT NULL,
        created_at TEXT    NOT NULL,
        closed_at  TEXT
    )
    """,
    "CREATE UNIQUE INDEX locations_name ON locations (lower(name))",
    "INSERT INTO locations (name, created_at)"
    " VALUES ('Main', strftime('%Y-%m-%dT%H:%M:%f', 'now') || '+00:00')",
    # Where each staff member works, with their role there: a barista issues points; a
    # manager also invites and removes that location's baristas.
    """
    CREATE TABLE staff_locations (
        staff_id    INTEGER NOT NULL REFERENCES staff(tg_user_id),
        location_id INTEGER NOT NULL REFERENCES locations(id),
        role        TEXT    NOT NULL DEFAULT 'barista' CHECK (role IN ('barista', 'manager')),
        added_by    INTEGER NOT NULL,
        added_at    TEXT    NOT NULL,
        PRIMARY KEY (staff_id, location_id)
    )
    """,
    "CREATE INDEX staff_locations_location ON staff_locations (location_id, role)",
    "INSERT INTO staff_locations (staff_id, location_id, role, added_by, added_at)"
    " SELECT tg_user_id, (SELECT MIN(id) FROM locations), 'barista', added_by, added_at"
    " FROM staff WHERE removed_at IS NULL",
    # Where a staff member (or an owner) said they are working: asked at their first scan
    # of the café's day when they work in more than one open location.
    """
    CREATE TABLE staff_whereabouts (
        tg_user_id  INTEGER PRIMARY KEY,
        location_id INTEGER NOT NULL REFERENCES locations(id),
        chosen_at   TEXT    NOT NULL
    )
    """,
    # An invite is for one location and one role there.
    "ALTER TABLE staff_invites ADD COLUMN location_id INTEGER REFERENCES locations(id)",
    "ALTER TABLE staff_invites ADD COLUMN role TEXT NOT NULL DEFAULT 'barista'"
    " CHECK (role IN ('barista', 'manager'))",
    "UPDATE staff_invites SET location_id = (SELECT MIN(id) FROM locations)",
    # Where each scan, purchase, undo and coupon hand-over happened. In the ledger only
    # entries made at a counter have one (purchases and their reversals, the reversal
    # taking its purchase's); a coupon's is where it was handed over.
    "ALTER TABLE scans ADD COLUMN location_id INTEGER REFERENCES locations(id)",
    "UPDATE scans SET location_id = (SELECT MIN(id) FROM locations)",
    "ALTER TABLE ledger ADD COLUMN location_id INTEGER REFERENCES locations(id)",
    # The one update the ledger ever gets: its history joins the default location.
    "DROP TRIGGER ledger_no_update",
    "UPDATE ledger SET location_id = (SELECT MIN(id) FROM locations)"
    " WHERE kind IN ('earn', 'reversal')",
    """
    CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
    BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END
    """,
    # A staff member's daily limit counts per location.
    "CREATE INDEX ledger_actor_location ON ledger (actor_id, location_id, created_at)",
    "ALTER TABLE coupons ADD COLUMN redeemed_location_id INTEGER REFERENCES locations(id)",
    "UPDATE coupons SET redeemed_location_id = (SELECT MIN(id) FROM locations)"
    " WHERE state = 'redeemed'",
)

_V15_LOCATIONS_POSTGRESQL: tuple[str, ...] = (
    """
    CREATE TABLE locations (
        id         BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        name       text   NOT NULL,
        created_at timestamptz NOT NULL,
        closed_at  timestamptz
    )
    """,
    "CREATE UNIQUE INDEX locations_name ON locations (lower(name))",
    "INSERT INTO locations (name, created_at) VALUES ('Main', now())",
    """
    CREATE TABLE staff_locations (
        staff_id    BIGINT NOT NULL REFERENCES staff(tg_user_id),
        location_id BIGINT NOT NULL REFERENCES locations(id),
        role        text   NOT NULL DEFAULT 'barista' CHECK (role IN ('barista', 'manager')),
        added_by    BIGINT NOT NULL,
        added_at    timestamptz NOT NULL,
        PRIMARY KEY (staff_id, location_id)
    )
    """,
    "CREATE INDEX staff_locations_location ON staff_locations (location_id, role)",
    "INSERT INTO staff_locations (staff_id, location_id, role, added_by, added_at)"
    " SELECT tg_user_id, (SELECT MIN(id) FROM locations), 'barista', added_by, added_at"
    " FROM staff WHERE removed_at IS NULL",
    """
    CREATE TABLE staff_whereabouts (
        tg_user_id  BIGINT PRIMARY KEY,
        location_id BIGINT NOT NULL REFERENCES locations(id),
        chosen_at   timestamptz NOT NULL
    )
    """,
    "ALTER TABLE staff_invites ADD COLUMN location_id BIGINT REFERENCES locations(id)",
    "ALTER TABLE staff_invites ADD COLUMN role text NOT NULL DEFAULT 'barista'"
    " CHECK (role IN ('barista', 'manager'))",
    "UPDATE staff_invites SET location_id = (SELECT MIN(id) FROM locations)",
    "ALTER TABLE scans ADD COLUMN location_id BIGINT REFERENCES locations(id)",
    "UPDATE scans SET location_id = (SELECT MIN(id) FROM locations)",
    "ALTER TABLE ledger ADD COLUMN location_id BIGINT REFERENCES locations(id)",
    "ALTER TABLE ledger DISABLE TRIGGER ledger_no_update",
    "UPDATE ledger SET location_id = (SELECT MIN(id) FROM locations)"
    " WHERE kind IN ('earn', 'reversal')",
    "ALTER TABLE ledger ENABLE TRIGGER ledger_no_update",
    "CREATE INDEX ledger_actor_location ON ledger (actor_id, location_id, created_at)",
    "ALTER TABLE coupons ADD COLUMN redeemed_location_id BIGINT REFERENCES locations(id)",
    "UPDATE coupons SET redeemed_location_id = (SELECT MIN(id) FROM locations)"
    " WHERE state = 'redeemed'",
)

_V16_REPLICAS: tuple[str, ...] = (
    # Which bot process (replica) runs each scheduled job: a job runs only on the replica
    # holding its lease, renewed while that replica lives and taken over by another once
    # it expires (bot/services/leases.py).
    """
    CREATE TABLE leases (
        name        TEXT PRIMARY KEY,
        holder      TEXT NOT NULL,
        expires_at  TEXT NOT NULL
    )
    """,
    # Each running replica's heartbeat, for `loyalty-bot health` and /healthz.
    """
    CREATE TABLE replicas (
        id          TEXT PRIMARY KEY,
        started_at  TEXT NOT NULL,
        seen_at     TEXT NOT NULL,
        version     TEXT NOT NULL
    )
    """,
    # The owner claim link is derived from this random nonce with the signing key, so any
    # replica (and a restart) can log the same link while only its hash is stored. Links
    # made before cannot be shown again: unused ones go (the next start makes a new one).
    "ALTER TABLE owner_claims ADD COLUMN nonce TEXT",
    "DELETE FROM owner_claims WHERE used_by IS NULL",
    # At most one unused link at a time: replicas starting at once make one between them.
    "CREATE UNIQUE INDEX owner_claims_open ON owner_claims ((used_by IS NULL))"
    " WHERE used_by IS NULL",
)

# The same, with PostgreSQL's moments (timestamptz).
_V16_REPLICAS_POSTGRESQL: tuple[str, ...] = (
    """
    CREATE TABLE leases (
        name        text PRIMARY KEY,
        holder      text NOT NULL,
        expires_at  timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE replicas (
        id          text PRIMARY KEY,
        started_at  timestamptz NOT NULL,
        seen_at     timestamptz NOT NULL,
        version     text NOT NULL
    )
    """,
    *_V16_REPLICAS[2:],
)

_V17_SENDING_CLAIMS: tuple[str, ...] = (
    # Several bot processes share the queues: a sender claims a few rows before sending
    # them, until its claim expires (a sender that died), and records each outcome.
    "ALTER TABLE broadcast_recipients ADD COLUMN claimed_by TEXT",
    "ALTER TABLE broadcast_recipients ADD COLUMN claim_expires_at TEXT",
    # A failed attempt's back-off, in the database so whichever sender comes next keeps it.
    "ALTER TABLE broadcast_recipients ADD COLUMN next_try_at TEXT",
    "ALTER TABLE outbox ADD COLUMN claimed_by TEXT",
    "ALTER TABLE outbox ADD COLUMN claim_expires_at TEXT",
    # Until when Telegram paused the broadcast (a 429's retry_after): a sender taking over
    # waits out the rest, and the owner's progress message says so.
    "ALTER TABLE broadcasts ADD COLUMN resume_at TEXT",
    # The claims read pending rows only, in order: the rows already sent are most of the
    # table and never read again. (Claimed pending rows are a batch or two, so the index
    # holds every pending row: a claim that expired is found by the same walk.) The
    # outbox's outbox_pending index already has this shape.
    "CREATE INDEX broadcast_recipients_due ON broadcast_recipients (broadcast_id, member_id)"
    " WHERE state = 'pending'",
    # Each process's interactive replies per second (see storage/reply_counts.py), so the
    # one process sending bulk leaves room for the others' replies.
    """
    CREATE TABLE reply_counts (
        replica    TEXT    NOT NULL,
        slot       INTEGER NOT NULL,
        second_at  TEXT    NOT NULL,
        replies    INTEGER NOT NULL,
        PRIMARY KEY (replica, slot)
    )
    """,
    "CREATE INDEX reply_counts_second ON reply_counts (second_at)",
)

# The same, with PostgreSQL's moments (timestamptz).
_V17_SENDING_CLAIMS_POSTGRESQL: tuple[str, ...] = (
    "ALTER TABLE broadcast_recipients ADD COLUMN claimed_by text",
    "ALTER TABLE broadcast_recipients ADD COLUMN claim_expires_at timestamptz",
    "ALTER TABLE broadcast_recipients ADD COLUMN next_try_at timestamptz",
    "ALTER TABLE outbox ADD COLUMN claimed_by text",
    "ALTER TABLE outbox ADD COLUMN claim_expires_at timestamptz",
    "ALTER TABLE broadcasts ADD COLUMN resume_at timestamptz",
    _V17_SENDING_CLAIMS[6],
    """
    CREATE TABLE reply_counts (
        replica    text        NOT NULL,
        slot       integer     NOT NULL,
        second_at  timestamptz NOT NULL,
        replies    integer     NOT NULL,
        PRIMARY KEY (replica, slot)
    )
    """,
    _V17_SENDING_CLAIMS[8],
)

_V18_HANDLED_UPDATES: tuple[str, ...] = (
    # The updates already handled, by Telegram's update_id: a webhook update Telegram
    # delivers again (the replica handling it died before answering) is recognised and
    # not handled twice. Kept a day (a job prunes older rows); polling does not use it.
    """
    CREATE TABLE handled_updates (
        update_id   INTEGER PRIMARY KEY,
        handled_at  TEXT    NOT NULL
    )
    """,
    "CREATE INDEX handled_updates_at ON handled_updates (handled_at)",
)

# The same, with PostgreSQL's types (update ids as BIGINT, the moment as timestamptz).
_V18_HANDLED_UPDATES_POSTGRESQL: tuple[str, ...] = (
    """
    CREATE TABLE handled_updates (
        update_id   BIGINT      PRIMARY KEY,
        handled_at  timestamptz NOT NULL
    )
    """,
    _V18_HANDLED_UPDATES[1],
)

_V19_LOCATION_FIGURES: tuple[str, ...] = (
    # Where an offer is valid: no rows, everywhere (every offer made before this); rows,
    # only in those locations (a barista elsewhere is told it does not apply there).
    """
    CREATE TABLE offer_locations (
        offer_id    INTEGER NOT NULL REFERENCES offers(id),
        location_id INTEGER NOT NULL REFERENCES locations(id),
        PRIMARY KEY (offer_id, location_id)
    )
    """,
    # A location's purchases in a period (its /stats, /report and export) and the members
    # who bought there lately (an audience): one range of this index per location.
    "CREATE INDEX ledger_location ON ledger (location_id, created_at)",
    # Where an audited action happened (scans, entries, undos, hand-overs, a location's
    # team): a manager's /audit reads their location's lines, newest first.
    "ALTER TABLE audit_log ADD COLUMN location_id INTEGER REFERENCES locations(id)",
    "CREATE INDEX audit_location ON audit_log (location_id, id)",
)

# The same, with PostgreSQL's ids (BIGINT, as locations.id and offers.id are there).
_V19_LOCATION_FIGURES_POSTGRESQL: tuple[str, ...] = (
    """
    CREATE TABLE offer_locations (
        offer_id    BIGINT NOT NULL REFERENCES offers(id),
        location_id BIGINT NOT NULL REFERENCES locations(id),
        PRIMARY KEY (offer_id, location_id)
    )
    """,
    _V19_LOCATION_FIGURES[1],
    "ALTER TABLE audit_log ADD COLUMN location_id BIGINT REFERENCES locations(id)",
    _V19_LOCATION_FIGURES[3],
)

_V20_LANGUAGES: tuple[str, ...] = (
    # The language a person chose in /settings (members, staff and owners alike), by their
    # Telegram id. Without a row, their Telegram app's language is theirs.
    """
    CREATE TABLE languages (
        tg_user_id  INTEGER PRIMARY KEY,
        language    TEXT    NOT NULL,
        chosen_at   TEXT    NOT NULL
    )
    """,
)

# The same, with PostgreSQL's types (Telegram ids as BIGINT, the moment as timestamptz).
_V20_LANGUAGES_POSTGRESQL: tuple[str, ...] = (
    """
    CREATE TABLE languages (
        tg_user_id  BIGINT      PRIMARY KEY,
        language    text        NOT NULL,
        chosen_at   timestamptz NOT NULL
    )
    """,
)

_V21_BROADCAST_VERSIONS: tuple[str, ...] = (
    # An owner's broadcast in other languages, each written by the owner: a member whose
    # language has a version gets it, everyone else the broadcast's own text. For an
    # offer's announcement, the owner's words (its description) per language.
    """
    CREATE TABLE broadcast_texts (
        broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),
        language     TEXT    NOT NULL,
        text         TEXT    NOT NULL,
        PRIMARY KEY (broadcast_id, language)
    )
    """,
)

# The same, with PostgreSQL's ids (BIGINT, as broadcasts.id is there).
_V21_BROADCAST_VERSIONS_POSTGRESQL: tuple[str, ...] = (
    """
    CREATE TABLE broadcast_texts (
        broadcast_id BIGINT NOT NULL REFERENCES broadcasts(id),
        language     text   NOT NULL,
        text         text   NOT NULL,
        PRIMARY KEY (broadcast_id, language)
    )
    """,
)

MIGRATIONS: tuple[Migration, ...] = (
    (1, _V1_MEMBERS_AND_LEDGER),
    (2, _V2_STAFF_SCANS_AUDIT),
    (3, _V3_REWARDS_AND_COUPONS),
    (4, _V4_OFFERS_BROADCASTS_PREFERENCES),
    (5, _V5_OWNERS),
    (6, _V6_COUPON_MESSAGES),
    (7, _V7_LIFECYCLE),
    (8, _V8_ACCOUNTING),
    (9, _V9_HOT_PATHS),
    (10, _V10_OUTBOX_RETRIES),
    (11, _V11_REFERRAL_SETTLED_BY),
    (12, _V12_CONVERSATIONS),
    (13, _V13_ERROR_ALERTS),
    (14, _V14_PORTABLE_NAMES),
    (15, _V15_LOCATIONS),
    (16, _V16_REPLICAS),
    (17, _V17_SENDING_CLAIMS),
    (18, _V18_HANDLED_UPDATES),
    (19, _V19_LOCATION_FIGURES),
    (20, _V20_LANGUAGES),
    (21, _V21_BROADCAST_VERSIONS),
)

# The version schema/postgresql.sql creates; later ones come from MIGRATIONS.
POSTGRESQL_BASELINE = 14
# PostgreSQL's text of a migration after the baseline, where it differs from SQLite's.
POSTGRESQL_TEXT: dict[int, tuple[str, ...]] = {
    15: _V15_LOCATIONS_POSTGRESQL,
    16: _V16_REPLICAS_POSTGRESQL,
    17: _V17_SENDING_CLAIMS_POSTGRESQL,
    18: _V18_HANDLED_UPDATES_POSTGRESQL,
    19: _V19_LOCATION_FIGURES_POSTGRESQL,
    20: _V20_LANGUAGES_POSTGRESQL,
    21: _V21_BROADCAST_VERSIONS_POSTGRESQL,
}
# Any number shared by all processes migrating one PostgreSQL database.
MIGRATION_LOCK = 4_172_931


class SchemaTooNew(Exception):
    """The database was written by a newer version of the bot."""

    def __init__(self, version: int) -> None:
        super().__init__(
            f"the database was written by a newer version of the bot (schema {version}); "
            "upgrade the bot, or restore a backup made by this version"
        )
        self.version = version


def postgresql_schema() -> str:
    return resources.files("storage").joinpath("schema/postgresql.sql").read_text("utf-8")


async def migrate(conn: Conn) -> None:
    """Apply what this database lacks, inside the caller's transaction."""
    from storage.engine import Engine, per_engine, sql

    postgresql = conn.engine is Engine.POSTGRESQL
    if postgresql:
        await conn.value(sql("SELECT pg_advisory_xact_lock(:key)"), key=MIGRATION_LOCK)
    await conn.run(
        per_engine(
            sqlite="CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
            " applied_at TEXT NOT NULL DEFAULT (datetime('now')))",
            postgresql="CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY,"
            " applied_at timestamptz NOT NULL DEFAULT now())",
        )
    )
    current = int(
        await conn.value(sql("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version")) or 0
    )
    if current > MIGRATIONS[-1][0]:
        raise SchemaTooNew(current)
    mark = sql("INSERT INTO schema_version (version) VALUES (:version)")
    if postgresql and current == 0:
        # A multi-statement script with no parameters: psycopg sends it as one query.
        await conn.ddl(postgresql_schema())
        await conn.run_many(
            mark, [{"version": v} for v, _ in MIGRATIONS if v <= POSTGRESQL_BASELINE]
        )
        current = POSTGRESQL_BASELINE
    for version, statements in MIGRATIONS:
        if version <= current:
            continue
        for statement in POSTGRESQL_TEXT.get(version, statements) if postgresql else statements:
            await conn.ddl(statement)
        await conn.run(mark, version=version)
