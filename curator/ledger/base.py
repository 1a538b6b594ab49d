"""What every ledger backend shares: the reviews, the stage results and the hash-chained
event log, written once in portable SQL over a small transaction adapter.

A backend (SQLite, PostgreSQL) supplies only what differs: how to open a transaction
that holds the ledger's one write lock, how to read (optionally from one snapshot), where
its schema version lives, and its table definitions. The chain itself is in ``chain.py``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, ClassVar, Protocol, Self, TypeVar

from curator.core.errors import LedgerError, ReviewNotFound
from curator.core.events import (
    DecisionMade,
    LedgerEvent,
    Recorded,
    ReviewOpened,
    ReviewState,
    StageDiscarded,
    StageRecorded,
)
from curator.core.models import Candidate, Review, StageResult
from curator.ledger.audit import LedgerHead, audit
from curator.ledger.chain import GENESIS, ChainReport, row_hash

#: the schema version every backend's migrations lead to
SCHEMA_VERSION = 2
#: schema 2, portable SQL: the head every append records, started from the chain as it stands
HEAD_MIGRATION = f"""
    CREATE TABLE chain_head (
        id INTEGER PRIMARY KEY, row_count BIGINT NOT NULL, head TEXT NOT NULL);
    INSERT INTO chain_head (id, row_count, head)
        SELECT 1, COUNT(*), COALESCE((SELECT hash FROM events ORDER BY seq DESC LIMIT 1), '{GENESIS}')
        FROM events
    """

Judge = Callable[[str, list[DecisionMade]], tuple[str, DecisionMade]]
E = TypeVar("E", bound=LedgerEvent)


class Tx(Protocol):
    """One open transaction (or autocommit reads). SQL uses ``?`` placeholders."""

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return all its rows."""
        ...

    def run(self, sql: str, args: Sequence[Any] = ()) -> None:
        """Run a statement that returns no rows."""
        ...


class LedgerBase(ABC):
    """The workspace's record of reviews; safe to share between threads and processes.

    Every write is one transaction that holds the backend's write lock for its whole
    length, so two writers (threads, processes, machines) can never both read the same
    chain head: appends and ``record_decision`` are serialised.
    """

    #: one script per schema version; statements separated by ``;``
    MIGRATIONS: ClassVar[list[str]]

    def __init__(self, where: str) -> None:
        #: what errors name: a file path, or a URL without its password
        self.where = where
        # one connection per ledger object: threads take turns on it
        self._lock = threading.RLock()

    # -- what a backend provides ----------------------------------------------------------
    @abstractmethod
    def _write(self) -> AbstractContextManager[Tx]:
        """A transaction holding the ledger's write lock; commits on success, else rolls back."""

    @abstractmethod
    def _read(self, snapshot: bool = False) -> AbstractContextManager[Tx]:
        """Reads; with ``snapshot`` all of them see the ledger at one instant."""

    @abstractmethod
    def _schema_version(self, db: Tx) -> int:
        """The schema version stored in the ledger (0 for an empty one)."""

    @abstractmethod
    def _set_schema_version(self, db: Tx, version: int) -> None:
        """Record the schema version the migrations reached."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection; the object is unusable afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------------------
    def _migrate(self) -> None:
        with self._write() as db:
            current = self._schema_version(db)
            if current > SCHEMA_VERSION:
                raise LedgerError(
                    f"the ledger {self.where} has schema {current}, newer than this curator's "
                    f"{SCHEMA_VERSION}", "upgrade curator")
            for version in range(current, SCHEMA_VERSION):
                for statement in self.MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.run(statement)
            if current != SCHEMA_VERSION:
                self._set_schema_version(db, SCHEMA_VERSION)

    # -- events ---------------------------------------------------------------------------
    def _record(self, db: Tx, event: LedgerEvent, review_id: str | None) -> int:
        return self._append(db, event.KIND, event.to_payload(), review_id)

    def _append(self, db: Tx, kind: str, payload: object, review_id: str | None) -> int:
        last = db.rows("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        seq, prev = (int(last[0][0]) + 1, str(last[0][1])) if last else (1, GENESIS)
        now = time.time()
        digest = row_hash(prev, seq, now, kind, review_id, payload)
        db.run("INSERT INTO events (seq, time, kind, review_id, payload, prev_hash, hash) "
               "VALUES (?,?,?,?,?,?,?)",
               (seq, now, kind, review_id, json.dumps(payload, sort_keys=True), prev, digest))
        db.run("INSERT INTO chain_head (id, row_count, head) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE "
               "SET row_count = excluded.row_count, head = excluded.head", (seq, digest))
        return seq

    def append(self, kind: str, payload: object, review_id: str | None = None) -> int:
        """Append one raw row to the chain; returns its sequence number. Curator's own writers
        use ``record`` (a typed event); this is for rows of any shape (tests, tools)."""
        with self._write() as db:
            return self._append(db, kind, payload, review_id)

    def record(self, event: LedgerEvent, review_id: str | None = None) -> int:
        """Append one event to the chain; returns its sequence number."""
        with self._write() as db:
            return self._record(db, event, review_id)

    def read(self, kind: type[E], review_id: str | None = None) -> list[Recorded[E]]:
        """Every event of one kind (optionally one review's), typed, in chain order;
        ``LedgerError`` naming the row when one does not hold that kind's payload."""
        return [Recorded.of(row, kind.from_payload(row["payload"], row["seq"]))
                for row in self.events(review_id, kind.KIND)]

    def read_kinds(self, *kinds: type[LedgerEvent],
                   review_id: str | None = None) -> list[Recorded[LedgerEvent]]:
        """Every event of these kinds, typed, in chain order (one read, so one order)."""
        by_kind = {kind.KIND: kind for kind in kinds}
        return [Recorded.of(row, by_kind[row["kind"]].from_payload(row["payload"], row["seq"]))
                for row in self.events(review_id) if row["kind"] in by_kind]

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
        with self._read() as db:
            rows = db.rows("SELECT seq, time, kind, review_id, payload, hash FROM events"
                           + where + " ORDER BY seq", args)
        return [{"seq": r[0], "time": r[1], "kind": r[2], "review_id": r[3],
                 "payload": json.loads(r[4]), "hash": r[5]} for r in rows]

    def verify(self, anchor: LedgerHead | None = None) -> ChainReport:
        """Walk the chain: an edited, inserted or deleted row breaks it at that row; rows cut
        off its end break it against the head the ledger recorded (and ``anchor``, a head
        recorded outside it: a checkpoint, the signed state).

        Also checks that every stored review and stage result is the one its event recorded.
        """
        with self._read(snapshot=True) as db:
            rows = db.rows("SELECT seq, time, kind, review_id, payload, prev_hash, hash FROM events "
                           "ORDER BY seq")
            head = db.rows("SELECT row_count, head FROM chain_head WHERE id = 1")
            reviews = db.rows("SELECT id, candidate, created, state FROM reviews")
            results = db.rows("SELECT review_id, stage, result, digest FROM stage_results")
        if not head:
            return ChainReport(len(rows), rows[-1][6] if rows else GENESIS, len(rows),
                               "the head the ledger records was deleted")
        return audit(rows, head[0], reviews, results, anchor)

    def head(self) -> LedgerHead:
        """The ledger's length and last row's hash, once its chain verifies (IntegrityError if not):
        what a checkpoint or the signed state anchors."""
        from curator.core.errors import IntegrityError

        report = self.verify()
        if not report.ok:
            raise IntegrityError(f"the ledger {self.where} is broken at row {report.first_bad} "
                                 f"({report.reason})", "find out what happened before anchoring it")
        return LedgerHead(report.rows, report.head)

    # -- reviews --------------------------------------------------------------------------
    def create_review(self, candidate: Candidate, opened_by: dict[str, Any] | None = None) -> Review:
        """Open a review; ``opened_by`` (the curator's identity) makes separation of duties checkable."""
        review = Review(id=self._new_review_id(), candidate=candidate, created=time.time())
        opened = ReviewOpened(candidate.to_dict(), review.created, opened_by)
        with self._write() as db:
            db.run("INSERT INTO reviews (id, candidate, created, state) VALUES (?,?,?,?)",
                   (review.id, json.dumps(candidate.to_dict()), review.created, review.state))
            self._record(db, opened, review.id)
        return review

    def _new_review_id(self) -> str:
        return uuid.uuid4().hex[:12]

    def _not_found(self, review_id: str) -> ReviewNotFound:
        return ReviewNotFound(f"no review {review_id} in the ledger {self.where}",
                              "run 'curator inventory' or check the id")

    @staticmethod
    def _review(row: tuple[Any, ...]) -> Review:
        return Review(id=row[0], candidate=Candidate.from_dict(json.loads(row[1])),
                      created=row[2], state=row[3])

    def get_review(self, review_id: str) -> Review:
        """One review by id; ``ReviewNotFound`` names the id and the ledger."""
        with self._read() as db:
            rows = db.rows("SELECT id, candidate, created, state FROM reviews WHERE id = ?",
                           (review_id,))
        if not rows:
            raise self._not_found(review_id)
        return self._review(rows[0])

    def reviews(self) -> list[Review]:
        """Every review, oldest first."""
        with self._read() as db:
            rows = db.rows("SELECT id, candidate, created, state FROM reviews ORDER BY created")
        return [self._review(r) for r in rows]

    def record_decision(self, review_id: str, judge: Judge) -> str:
        """Atomically rule on a review: ``judge(state, earlier decisions)`` returns the new
        state and the ``decision`` event to append, or raises to refuse.

        The write lock serialises concurrent deciders: the second one sees the first
        one's decision, so exactly one can close a review.
        """
        with self._write() as db:
            rows = db.rows("SELECT state FROM reviews WHERE id = ?", (review_id,))
            if not rows:
                raise self._not_found(review_id)
            before = str(rows[0][0])
            prior = [DecisionMade.from_payload(json.loads(p), int(seq)) for seq, p in db.rows(
                "SELECT seq, payload FROM events WHERE review_id = ? AND kind = ? ORDER BY seq",
                (review_id, DecisionMade.KIND))]
            state, decision = judge(before, prior)
            self._record(db, decision, review_id)
            if state != before:
                db.run("UPDATE reviews SET state = ? WHERE id = ?", (state, review_id))
                self._record(db, ReviewState(state), review_id)
            return state

    def set_state(self, review_id: str, state: str) -> None:
        """Move a review to ``state`` (recorded in the chain)."""
        with self._write() as db:
            db.run("UPDATE reviews SET state = ? WHERE id = ?", (state, review_id))
            self._record(db, ReviewState(state), review_id)

    # -- stage results --------------------------------------------------------------------
    def save_result(self, review_id: str, result: StageResult) -> None:
        """Persist a finished stage and chain its digest into the event log."""
        digest = result.digest
        with self._write() as db:
            db.run("INSERT INTO stage_results (review_id, stage, result, digest) VALUES (?,?,?,?) "
                   "ON CONFLICT (review_id, stage) DO UPDATE "
                   "SET result = excluded.result, digest = excluded.digest",
                   (review_id, result.stage, json.dumps(result.to_dict()), digest))
            recorded = StageRecorded(result.stage, result.status.value, digest)
            self._record(db, recorded, review_id)

    def results(self, review_id: str) -> dict[str, StageResult]:
        """The stored result of every stage of a review that has one."""
        with self._read() as db:
            rows = db.rows("SELECT stage, result FROM stage_results WHERE review_id = ?", (review_id,))
        return {stage: StageResult.from_dict(json.loads(data)) for stage, data in rows}

    def results_of(self, review_ids: Iterable[str]) -> dict[str, dict[str, StageResult]]:
        """The stored results of many reviews in a few reads (one per 500 ids), not one read each:
        what a report of every adopted model needs. A review with no result is left out."""
        ids = list(dict.fromkeys(review_ids))
        rows: list[tuple[Any, ...]] = []
        with self._read() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows += db.rows("SELECT review_id, stage, result FROM stage_results WHERE review_id IN ("
                                + ", ".join("?" * len(chunk)) + ")", chunk)
        found: dict[str, dict[str, StageResult]] = {}
        for review_id, stage, data in rows:
            found.setdefault(str(review_id), {})[str(stage)] = StageResult.from_dict(json.loads(data))
        return found

    def discard_result(self, review_id: str, stage: str) -> None:
        """Forget a stage's result so it runs again (recorded in the chain)."""
        with self._write() as db:
            db.run("DELETE FROM stage_results WHERE review_id = ? AND stage = ?", (review_id, stage))
            self._record(db, StageDiscarded(stage), review_id)
