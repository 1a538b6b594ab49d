"""SQLite ledger (WAL, schema-versioned). Every write is one IMMEDIATE transaction."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from curator.core.errors import LedgerError, ReviewNotFound
from curator.core.models import Candidate, Review, StageResult
from curator.ledger.chain import GENESIS, ChainReport, row_hash

SCHEMA_VERSION = 1
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
]


class Ledger:
    """The workspace's record of reviews; safe to share between threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
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
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise LedgerError(f"the ledger {self.path} is busy ({exc})",
                                  "another curator process holds it; try again") from exc
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def _migrate(self) -> None:
        with self._write() as db:
            current = db.execute("PRAGMA user_version").fetchone()[0]
            if current > SCHEMA_VERSION:
                raise LedgerError(
                    f"the ledger {self.path} has schema {current}, newer than this curator's "
                    f"{SCHEMA_VERSION}", "upgrade curator")
            for version in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _append(self, db: sqlite3.Connection, kind: str, payload: Any,
                review_id: str | None) -> int:
        last = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        now = time.time()
        digest = row_hash(prev, seq, now, kind, review_id, payload)
        db.execute("INSERT INTO events VALUES (?,?,?,?,?,?,?)",
                   (seq, now, kind, review_id, json.dumps(payload, sort_keys=True), prev, digest))
        return seq

    # -- events ---------------------------------------------------------------------------
    def append(self, kind: str, payload: Any, review_id: str | None = None) -> int:
        """Append one event to the chain; returns its sequence number."""
        with self._write() as db:
            return self._append(db, kind, payload, review_id)

    def events(self, review_id: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Events in chain order, optionally only one review's or one kind's."""
        clauses, args = [], []
        if review_id is not None:
            clauses.append("review_id = ?")
            args.append(review_id)
        if kind is not None:
            clauses.append("kind = ?")
            args.append(kind)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, time, kind, review_id, payload, hash FROM events"
                + where + " ORDER BY seq", args).fetchall()
        return [{"seq": r[0], "time": r[1], "kind": r[2], "review_id": r[3],
                 "payload": json.loads(r[4]), "hash": r[5]} for r in rows]

    def verify(self) -> ChainReport:
        """Walk the chain: an edited, inserted or deleted row breaks it at that row.

        Also checks that every stored stage result is the one its event recorded.
        """
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, time, kind, review_id, payload, prev_hash, hash FROM events "
                "ORDER BY seq").fetchall()
            results = self._db.execute(
                "SELECT review_id, stage, result, digest FROM stage_results").fetchall()
        prev, expected_seq = GENESIS, 1
        recorded: dict[tuple[str, str], tuple[int, str]] = {}
        for seq, when, kind, review_id, payload, prev_hash, digest in rows:
            if seq != expected_seq:
                return ChainReport(len(rows), prev, expected_seq,
                                   f"row {expected_seq} is missing (next row is {seq})")
            if prev_hash != prev:
                return ChainReport(len(rows), prev, seq, f"row {seq} does not follow row {seq - 1}")
            data = json.loads(payload)
            if row_hash(prev, seq, when, kind, review_id, data) != digest:
                return ChainReport(len(rows), prev, seq, f"row {seq} ({kind}) was edited")
            if kind == "stage_result":
                recorded[(review_id, data["stage"])] = (seq, data["digest"])
            prev, expected_seq = digest, seq + 1
        for review_id, stage, result, digest in results:
            actual = StageResult.from_dict(json.loads(result)).digest
            seq, chained = recorded.get((review_id, stage), (0, ""))
            if chained != actual or digest != actual:
                return ChainReport(len(rows), prev, seq,
                                   f"stage result {stage} of review {review_id} was edited "
                                   f"after row {seq} recorded it")
        return ChainReport(len(rows), prev)

    # -- reviews --------------------------------------------------------------------------
    def create_review(self, candidate: Candidate, opened_by: dict[str, Any] | None = None) -> Review:
        """Open a review; ``opened_by`` (the curator's identity) makes separation of duties checkable."""
        review = Review(id=uuid.uuid4().hex[:12], candidate=candidate, created=time.time())
        opened: dict[str, Any] = {"candidate": candidate.to_dict()}
        if opened_by:
            opened["curator"] = opened_by
        with self._write() as db:
            db.execute("INSERT INTO reviews VALUES (?,?,?,?)",
                       (review.id, json.dumps(candidate.to_dict()), review.created, review.state))
            self._append(db, "review_opened", opened, review.id)
        return review

    def _review(self, row: tuple[Any, ...]) -> Review:
        return Review(id=row[0], candidate=Candidate.from_dict(json.loads(row[1])),
                      created=row[2], state=row[3])

    def get_review(self, review_id: str) -> Review:
        with self._lock:
            row = self._db.execute("SELECT * FROM reviews WHERE id = ?", (review_id,)).fetchone()
        if row is None:
            raise ReviewNotFound(f"no review {review_id} in the ledger {self.path}",
                                 "run 'curator inventory' or check the id")
        return self._review(row)

    def reviews(self) -> list[Review]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM reviews ORDER BY created").fetchall()
        return [self._review(r) for r in rows]

    def record_decision(self, review_id: str,
                        judge: Callable[[str, list[dict[str, Any]]], tuple[str, dict[str, Any]]]) -> str:
        """Atomically rule on a review: ``judge(state, earlier decisions)`` returns the new
        state and the ``decision`` event to append, or raises to refuse.

        The IMMEDIATE transaction serialises concurrent deciders: the second one sees
        the first one's decision, so exactly one can close a review.
        """
        with self._write() as db:
            row = db.execute("SELECT state FROM reviews WHERE id = ?", (review_id,)).fetchone()
            if row is None:
                raise ReviewNotFound(f"no review {review_id} in the ledger {self.path}",
                                     "run 'curator inventory' or check the id")
            prior = [json.loads(p) for (p,) in db.execute(
                "SELECT payload FROM events WHERE review_id = ? AND kind = 'decision' ORDER BY seq",
                (review_id,))]
            state, payload = judge(row[0], prior)
            self._append(db, "decision", payload, review_id)
            if state != row[0]:
                db.execute("UPDATE reviews SET state = ? WHERE id = ?", (state, review_id))
                self._append(db, "review_state", {"state": state}, review_id)
            return state

    def set_state(self, review_id: str, state: str) -> None:
        with self._write() as db:
            db.execute("UPDATE reviews SET state = ? WHERE id = ?", (state, review_id))
            self._append(db, "review_state", {"state": state}, review_id)

    # -- stage results --------------------------------------------------------------------
    def save_result(self, review_id: str, result: StageResult) -> None:
        """Persist a finished stage and chain its digest into the event log."""
        digest = result.digest
        with self._write() as db:
            db.execute("INSERT OR REPLACE INTO stage_results VALUES (?,?,?,?)",
                       (review_id, result.stage, json.dumps(result.to_dict()), digest))
            self._append(db, "stage_result",
                         {"stage": result.stage, "status": result.status.value, "digest": digest},
                         review_id)

    def results(self, review_id: str) -> dict[str, StageResult]:
        with self._lock:
            rows = self._db.execute("SELECT stage, result FROM stage_results WHERE review_id = ?",
                                    (review_id,)).fetchall()
        return {stage: StageResult.from_dict(json.loads(data)) for stage, data in rows}

    def discard_result(self, review_id: str, stage: str) -> None:
        """Forget a stage's result so it runs again (recorded in the chain)."""
        with self._write() as db:
            db.execute("DELETE FROM stage_results WHERE review_id = ? AND stage = ?",
                       (review_id, stage))
            self._append(db, "stage_discarded", {"stage": stage}, review_id)
