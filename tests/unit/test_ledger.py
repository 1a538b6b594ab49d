"""The ledger's hash chain detects edited, deleted and reordered rows, on both backends.

Every test runs against the embedded SQLite ledger and against a real PostgreSQL server
(``pg_url``: a fresh database per test; skipped, with the reason, when no server can run).
Tampering goes around curator, in raw SQL on a connection of its own.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from curator.core.errors import DecisionRefused, LedgerError, ReviewNotFound
from curator.core.events import DecisionMade
from curator.core.models import Candidate, Finding, Severity, StageResult, Status
from curator.ledger import Ledger, LedgerBase
from curator.ledger.postgres import PostgresLedger


@dataclass
class Store:
    """One ledger store as the tests see it: curator ledgers on it, and raw SQL behind its back."""

    backend: str
    open: Callable[[], LedgerBase]
    #: run one statement (``?`` placeholders) on a connection of its own
    raw: Callable[..., None]
    schema_version: Callable[[], int]
    set_schema_version: Callable[[int], None]


def _sqlite_store(path: Path) -> Store:
    def raw(sql: str, *args: object) -> None:
        db = sqlite3.connect(path)
        db.execute(sql, args)
        db.commit()
        db.close()

    def version() -> int:
        db = sqlite3.connect(path)
        try:
            return int(db.execute("PRAGMA user_version").fetchone()[0])
        finally:
            db.close()

    return Store("sqlite", lambda: Ledger(path), raw, version,
                 lambda v: raw(f"PRAGMA user_version = {int(v)}"))


def _postgres_store(url: str) -> Store:
    def raw(sql: str, *args: object) -> None:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(sql.replace("?", "%s"), args or None)

    def version() -> int:
        with psycopg.connect(url, autocommit=True) as db:
            row = db.execute("SELECT value FROM curator_meta WHERE key = 'schema_version'").fetchone()
        assert row is not None
        return int(row[0])

    return Store("postgres", lambda: PostgresLedger(url), raw, version,
                 lambda v: raw("UPDATE curator_meta SET value = ? WHERE key = 'schema_version'", str(v)))


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return _sqlite_store(tmp_path / "ledger.db")
    return _postgres_store(request.getfixturevalue("pg_url"))


@pytest.fixture
def ledger(store: Store) -> Iterator[LedgerBase]:
    led = store.open()
    yield led
    led.close()


def _fill(ledger: LedgerBase) -> str:
    review = ledger.create_review(Candidate("acme/m", "main", "hub", commit="a" * 40))
    ledger.save_result(review.id, StageResult(
        "fetch", Status.FAILED, (Finding(Severity.CRITICAL, "sha256-mismatch", "x"),), {"n": 1}))
    ledger.append("quarterly_run", {"run_id": "hello"}, review.id)
    ledger.append("quarterly_run", {"run_id": "world"}, review.id)
    return review.id


def test_fresh_ledger_is_versioned(store: Store, ledger: LedgerBase, tmp_path: Path) -> None:
    assert store.schema_version() == 2
    if store.backend == "sqlite":
        db = sqlite3.connect(tmp_path / "ledger.db")
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        db.close()


def test_intact_chain_verifies(ledger: LedgerBase) -> None:
    _fill(ledger)
    report = ledger.verify()
    assert report.ok and report.rows == 4
    assert report.head == ledger.events()[-1]["hash"]


def test_results_round_trip(ledger: LedgerBase) -> None:
    review_id = _fill(ledger)
    result = ledger.results(review_id)["fetch"]
    assert result.status is Status.FAILED
    assert result.findings[0].severity is Severity.CRITICAL
    assert ledger.get_review(review_id).candidate.commit == "a" * 40
    runs = ledger.events(review_id, kind="quarterly_run")
    assert [e["payload"]["run_id"] for e in runs] == ["hello", "world"]


def test_results_of_many_reviews_in_one_read_are_each_reviews_own(ledger: LedgerBase) -> None:
    """``results_of`` (the inventory's one read for every adopted model) gives each review exactly
    what ``results`` gives it, across more ids than one query's chunk, and leaves out a review
    with no result."""
    candidate = Candidate("org/m", "main", "hub", commit="b" * 40)
    ids = []
    for n in range(503):  # more than one chunk of 500 ids
        review = ledger.create_review(candidate)
        ids.append(review.id)
        if n % 100 == 0:
            ledger.save_result(review.id, StageResult("fetch", Status.PASSED, (), {"n": n}))
            ledger.save_result(review.id, StageResult("scan", Status.WARNED, (), {"m": -n}))
    empty = ledger.create_review(candidate).id
    found = ledger.results_of([*ids, ids[0], empty])
    assert found == {i: ledger.results(i) for i in ids if ledger.results(i)}
    assert [found[i]["fetch"].evidence["n"] for i in ids if i in found] == [0, 100, 200, 300, 400, 500]
    assert found[ids[500]]["scan"].evidence == {"m": -500} and empty not in found
    assert ledger.results_of([]) == {}


def test_a_stage_saved_again_replaces_its_result(ledger: LedgerBase) -> None:
    review_id = _fill(ledger)
    ledger.save_result(review_id, StageResult("fetch", Status.PASSED, (), {"n": 2}))
    assert ledger.results(review_id)["fetch"].evidence == {"n": 2}
    ledger.discard_result(review_id, "fetch")
    assert ledger.results(review_id) == {}
    report = ledger.verify()
    assert report.ok and report.rows == 6


def test_a_second_connection_sees_the_same_ledger(store: Store, ledger: LedgerBase) -> None:
    review_id = _fill(ledger)
    other = store.open()
    try:
        assert [r.id for r in other.reviews()] == [review_id]
        assert other.verify().head == ledger.verify().head
    finally:
        other.close()
    assert store.schema_version() == 2


def test_edited_row_is_named(store: Store, ledger: LedgerBase) -> None:
    _fill(ledger)
    store.raw("UPDATE events SET payload = ? WHERE seq = 3", '{"text": "HELLO"}')
    report = ledger.verify()
    assert not report.ok and report.first_bad == 3 and "edited" in report.reason


def test_deleted_row_is_named(store: Store, ledger: LedgerBase) -> None:
    _fill(ledger)
    store.raw("DELETE FROM events WHERE seq = 2")
    report = ledger.verify()
    assert not report.ok and report.first_bad == 2 and "missing" in report.reason


def test_rehashed_row_breaks_the_next_link(store: Store, ledger: LedgerBase) -> None:
    """Recomputing an edited row's own hash is not enough: the next row no longer follows."""
    from curator.ledger.chain import row_hash

    _fill(ledger)
    ev = ledger.events()[2]
    prev = ledger.events()[1]["hash"]
    forged = row_hash(prev, 3, ev["time"], "quarterly_run", ev["review_id"], {"run_id": "forged"})
    store.raw("UPDATE events SET payload = ?, hash = ? WHERE seq = 3", '{"run_id": "forged"}', forged)
    report = ledger.verify()
    assert not report.ok and report.first_bad == 4


def test_edited_stage_result_is_detected(store: Store, ledger: LedgerBase) -> None:
    review_id = _fill(ledger)
    forged = StageResult("fetch", Status.PASSED).to_dict()
    store.raw("UPDATE stage_results SET result = ? WHERE review_id = ?", json.dumps(forged), review_id)
    report = ledger.verify()
    assert not report.ok and "fetch" in report.reason and report.first_bad == 2


def test_unknown_review_is_a_clear_error(ledger: LedgerBase) -> None:
    with pytest.raises(ReviewNotFound, match="nope"):
        ledger.get_review("nope")
    with pytest.raises(ReviewNotFound, match="nope"):
        ledger.record_decision("nope", lambda state, prior: (state, DecisionMade("rejected")))


def test_newer_schema_is_refused(store: Store) -> None:
    store.open().close()
    store.set_schema_version(99)
    with pytest.raises(LedgerError, match="upgrade curator"):
        store.open()


def test_two_connections_append_without_losing_rows(store: Store) -> None:
    """Two processes' worth of writers (separate connections) interleave; the chain stays whole."""
    a, b = store.open(), store.open()

    def write(led: LedgerBase, tag: str) -> None:
        for i in range(50):
            led.append("quarterly_run", {"run_id": f"{tag}-{i}"})

    threads = [threading.Thread(target=write, args=(led, tag)) for led, tag in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = a.verify()
    assert report.ok and report.rows == 100
    seqs = [e["seq"] for e in b.events()]
    assert seqs == list(range(1, 101))
    a.close()
    b.close()


def test_concurrent_deciders_close_a_review_once(store: Store) -> None:
    """Four curators (own connections) decide the same review at once: exactly one closes it,
    the others see its decision and are refused, and the chain stays whole."""
    first = store.open()
    review_id = first.create_review(Candidate("acme/m", "main", "hub", commit="b" * 40)).id
    ledgers = [first] + [store.open() for _ in range(3)]
    start = threading.Barrier(len(ledgers))
    outcomes: list[str] = []

    def decide(led: LedgerBase, who: int) -> None:
        def judge(state: str, prior: list[DecisionMade]) -> tuple[str, DecisionMade]:
            if state != "open":
                raise DecisionRefused(f"decided by {prior[-1].rationale}")
            return "decided", DecisionMade("approved", rationale=str(who))

        start.wait()
        try:
            led.record_decision(review_id, judge)
            outcomes.append("won")
        except DecisionRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=decide, args=(led, i)) for i, led in enumerate(ledgers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "won"]
    assert len(first.events(review_id, kind="decision")) == 1
    assert first.get_review(review_id).state == "decided"
    assert first.verify().ok
    for led in ledgers:
        led.close()
