"""SQLite ledger (WAL, schema-versioned). Every write is one IMMEDIATE transaction."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from curator.core.errors import LedgerError
from curator.ledger.base import HEAD_MIGRATION, SCHEMA_VERSION, LedgerBase, Tx

__all__ = ["SCHEMA_VERSION", "Ledger"]

MIGRATIONS: list[str] = [
    # 1: reviews, results and the chained event log
    """
    CREATE TABLE reviews (
        id TEXT PRIMARY KEY, candidate TEXT NOT NULL, created REAL NOT NULL,
        state TEXT NOT NULL DEFAULT 'open');
    CREATE TABLE stage_results (
        review_id TEXT NOT NULL REFERENCES reviews(id), stage TEXT NOT NULL,
        result TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (review_id, stage));
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY, time REAL NOT NULL, kind TEXT NOT NULL, review_id TEXT,
        payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
    """,
    # 2: the chain's head, kept by every append (rows cut off its end no longer go unseen)
    HEAD_MIGRATION,
]


class _SqliteTx:
    """The ``Tx`` adapter over one sqlite3 connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, args).fetchall()

    def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        self._db.execute(sql, args)


class Ledger(LedgerBase):
    """The embedded ledger: one SQLite file in the workspace, shared by its processes."""

    MIGRATIONS = MIGRATIONS

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise LedgerError(f"cannot open the ledger {path} ({exc})",
                              "check the file, or restore it from a backup") from exc

    def close(self) -> None:
        # under the lock: closing while a worker thread's read runs crashes the sqlite3 module
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[Tx]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise LedgerError(f"the ledger {self.path} is busy ({exc})",
                                  "another curator process holds it; try again") from exc
            try:
                yield _SqliteTx(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    @contextmanager
    def _read(self, snapshot: bool = False) -> Iterator[Tx]:
        with self._lock:
            # a deferred transaction pins one WAL snapshot for all of its reads
            began = snapshot and not self._db.in_transaction
            if began:
                self._db.execute("BEGIN")
            try:
                yield _SqliteTx(self._db)
            finally:
                if began:
                    self._db.execute("COMMIT")

    def _new_review_id(self) -> str:
        # through this module's ``uuid``: the TUI snapshots and the screenshots script pin
        # review ids by patching ``curator.ledger.sqlite.uuid``
        return uuid.uuid4().hex[:12]

    def _schema_version(self, db: Tx) -> int:
        return int(db.rows("PRAGMA user_version")[0][0])

    def _set_schema_version(self, db: Tx, version: int) -> None:
        db.run(f"PRAGMA user_version={int(version)}")
