"""Online backups with SQLite's backup API, and checking a copy before it is restored.

A backup reads one consistent snapshot of the database while the bot goes on writing
(WAL readers never block the writer), so it can run at any time.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from storage.db import StorageError
from storage.migrations import MIGRATIONS


def backup(source: Path, target: Path) -> None:
    """Copy the database at ``source`` to ``target`` (written whole, then renamed into
    place, so a half-written backup never replaces a good one)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # every page in one step: one consistent snapshot
        finally:
            dst.close()
    finally:
        src.close()
    partial.replace(target)


@dataclass(frozen=True, slots=True)
class Verdict:
    integrity: str  # "ok", or SQLite's first complaint
    schema_version: int
    entries: int
    members: int
    balances_match: bool  # every member's balance equals the sum of their ledger

    @property
    def ok(self) -> bool:
        return (
            self.integrity == "ok"
            and self.balances_match
            and 0 < self.schema_version <= MIGRATIONS[-1][0]
        )


def verify(path: Path) -> Verdict:
    """What a database file holds and whether it is whole (read-only)."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise StorageError(f"{path} cannot be opened ({exc})") from None
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        version = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
        entries = conn.execute("SELECT COUNT(*) FROM ledger").fetchone()[0]
        members = conn.execute("SELECT COUNT(*) FROM members").fetchone()[0]
        mismatched = conn.execute(
            "SELECT COUNT(*) FROM members AS m WHERE m.balance <>"
            " (SELECT COALESCE(SUM(points), 0) FROM ledger AS l WHERE l.member_id = m.id)"
        ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path} is not a database of this bot ({exc})") from None
    finally:
        conn.close()
    return Verdict(str(integrity), int(version), int(entries), int(members), mismatched == 0)


def prune(folder: Path, pattern: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` files matching ``pattern``; returns the deleted."""
    files = sorted(folder.glob(pattern))
    doomed = files[:-keep] if keep > 0 else files
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed
