"""CSV files for the accountant: the ledger of a period and its roll-forward.

UTF-8 with a byte-order mark (so spreadsheets detect it), a header row, ISO 8601 times in
café time with their offset, amounts in currency units with a dot, points as integers.
The ledger's last two columns say where an entry was made: ``location`` (the location's
id, stable across renames) and ``location_name`` (its name when exported). Purchases and
their undos have one, also in a café with a single location; entries not made at a
counter (redemptions, refunds, expiry, bonuses) leave both empty.
The ledger is streamed to the file a batch at a time, never built in memory.
"""

from __future__ import annotations

import asyncio
import csv
from decimal import Decimal
from pathlib import Path

from bot.periods import Period
from bot.services.reports import CHAIN_WIDE, AccountingReport
from bot.settings import Settings
from storage import Database
from storage import locations as location_store
from storage import reports as report_store
from storage.reports import ExportRow

# The column headers, the ledger's kinds and the roll-forward's line names are stable English
# machine names in every café, whatever language the owner reads: spreadsheets, import
# templates and accountants' tools key on them, and a file must read the same after the
# owner changes language (docs/accounting.md). Only the files' captions in the chat are
# translated.
LEDGER_HEADER = [
    "entry", "time", "member", "kind", "points", "amount", "currency", "category", "actor",
    "reason", "offer", "reverses", "location", "location_name",
]  # fmt: skip
ROLL_FORWARD_HEADER = ["line", "points", "amount", "currency"]


def _part_suffix(location_id: int | None) -> str:
    """A part's files are named after it: ``-location-3``, ``-chain-wide``."""
    if location_id is None:
        return ""
    return "-chain-wide" if location_id == CHAIN_WIDE else f"-location-{location_id}"


def money_text(minor: int | None, exponent: int) -> str:
    """Minor units as currency units with a dot, e.g. 450 → "4.50"."""
    if minor is None:
        return ""
    return f"{Decimal(minor).scaleb(-exponent):.{exponent}f}"


class ExportService:
    def __init__(self, db: Database, settings: Settings) -> None:
        self._db = db
        self._settings = settings

    def ledger_name(self, period: Period, location_id: int | None = None) -> str:
        return f"ledger-{period.slug}{_part_suffix(location_id)}.csv"

    def roll_forward_name(self, period: Period, location_id: int | None = None) -> str:
        return f"points-roll-forward-{period.slug}{_part_suffix(location_id)}.csv"

    async def write_ledger(self, period: Period, path: Path, location_id: int | None = None) -> int:
        """Write the period's ledger to ``path``; returns the number of entries. With
        ``location_id``: only that location's entries (CHAIN_WIDE: those made at none)."""
        count = 0
        handle = await asyncio.to_thread(path.open, "w", encoding="utf-8-sig", newline="")
        try:
            writer = csv.writer(handle)
            await asyncio.to_thread(writer.writerow, LEDGER_HEADER)
            names = {
                location.id: location.name
                for location in await location_store.all_locations(self._db.report_reader)
            }
            async for batch in report_store.ledger_rows(
                self._db.report_reader,
                period.start,
                period.end,
                location_id=location_id or None,
                without_location=location_id == CHAIN_WIDE,
            ):
                rows = [self._ledger_row(row, names) for row in batch]
                await asyncio.to_thread(writer.writerows, rows)
                count += len(rows)
        finally:
            await asyncio.to_thread(handle.close)
        return count

    def _ledger_row(self, row: ExportRow, names: dict[int, str]) -> list[object]:
        settings = self._settings
        return [
            row.entry_id,
            row.created_at.astimezone(settings.tz).isoformat(timespec="seconds"),
            row.member_id,
            row.kind,
            row.points,
            money_text(row.amount_minor, settings.currency_exponent),
            settings.currency if row.amount_minor is not None else "",
            row.category or "",
            "" if row.actor_id is None else row.actor_id,
            row.reason,
            "" if row.offer_id is None else row.offer_id,
            "" if row.reverses_id is None else row.reverses_id,
            "" if row.location_id is None else row.location_id,
            "" if row.location_id is None else names.get(row.location_id, ""),
        ]

    async def write_roll_forward(self, report: AccountingReport, path: Path) -> None:
        settings = self._settings
        exponent, currency = settings.currency_exponent, settings.currency
        roll, d = report.roll, report.deferral
        lines: list[list[object]] = [list(ROLL_FORWARD_HEADER)]
        lines.append(["opening balance", roll.opening, "", ""])
        lines += [[f"issued: {kind.replace('_', ' ')}", points, "", ""]
                  for kind, points in roll.issued.items()]  # fmt: skip
        lines += [
            ["reversed (undo)", roll.reversed, "", ""],
            ["redeemed", roll.redeemed, "", ""],
            ["refunded (coupons cancelled or expired)", roll.refunded, "", ""],
            ["expired", roll.expired, "", ""],
            ["closing balance", roll.closing, "", ""],
            ["liability at face value", roll.closing,
             money_text(report.liability_face, exponent), currency],
            ["liability at expected redemption", "",
             money_text(report.liability_expected, exponent), currency],
            ["revenue deferred in period", "",
             money_text(d.deferred_in_period, exponent), currency],
            ["revenue recognised in period", "",
             money_text(d.recognised_in_period, exponent), currency],
            ["contract liability at end", "", money_text(d.contract_liability, exponent), currency],
            ["bonus points issued (marketing cost)", report.bonus_issued,
             money_text(report.bonus_cost, exponent), currency],
        ]  # fmt: skip
        for part in report.parts:  # a chain's: by location, then chain-wide (they add up)
            name = part.location if part.location_id != CHAIN_WIDE else "chain-wide"
            lines += [
                [f"{name}: closing balance", part.roll.closing, "", ""],
                [f"{name}: revenue deferred in period", "",
                 money_text(part.deferral.deferred_in_period, exponent), currency],
                [f"{name}: revenue recognised in period", "",
                 money_text(part.deferral.recognised_in_period, exponent), currency],
                [f"{name}: contract liability at end", "",
                 money_text(part.deferral.contract_liability, exponent), currency],
            ]  # fmt: skip

        def write() -> None:
            with path.open("w", encoding="utf-8-sig", newline="") as handle:
                csv.writer(handle).writerows(lines)

        await asyncio.to_thread(write)
