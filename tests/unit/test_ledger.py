"""The ledger's hash chain detects edited, deleted and reordered rows."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from curator.core.errors import LedgerError, ReviewNotFound
from curator.core.models import Candidate, Finding, Severity, StageResult, Status
from curator.ledger import Ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    led = Ledger(tmp_path / "ledger.db")
    yield led
    led.close()


def _fill(ledger: Ledger) -> str:
    review = ledger.create_review(Candidate("acme/m", "main", "hub", commit="a" * 40))
    ledger.save_result(review.id, StageResult(
        "fetch", Status.FAILED, (Finding(Severity.CRITICAL, "sha256-mismatch", "x"),), {"n": 1}))
    ledger.append("note", {"text": "hello"}, review.id)
    ledger.append("note", {"text": "world"}, review.id)
    return review.id


def test_fresh_ledger_is_wal_and_versioned(ledger: Ledger, tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "ledger.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1


def test_intact_chain_verifies(ledger: Ledger) -> None:
    _fill(ledger)
    report = ledger.verify()
    assert report.ok and report.rows == 4
    assert report.head == ledger.events()[-1]["hash"]


def test_results_round_trip(ledger: Ledger) -> None:
    review_id = _fill(ledger)
    result = ledger.results(review_id)["fetch"]
    assert result.status is Status.FAILED
    assert result.findings[0].severity is Severity.CRITICAL
    assert ledger.get_review(review_id).candidate.commit == "a" * 40


def _raw(path: Path, sql: str, *args: object) -> None:
    db = sqlite3.connect(path)
    db.execute(sql, args)
    db.commit()
    db.close()


def test_edited_row_is_named(ledger: Ledger, tmp_path: Path) -> None:
    _fill(ledger)
    _raw(tmp_path / "ledger.db", "UPDATE events SET payload = ? WHERE seq = 3", '{"text": "HELLO"}')
    report = ledger.verify()
    assert not report.ok and report.first_bad == 3 and "edited" in report.reason


def test_deleted_row_is_named(ledger: Ledger, tmp_path: Path) -> None:
    _fill(ledger)
    _raw(tmp_path / "ledger.db", "DELETE FROM events WHERE seq = 2")
    report = ledger.verify()
    assert not report.ok and report.first_bad == 2 and "missing" in report.reason


def test_rehashed_row_breaks_the_next_link(ledger: Ledger, tmp_path: Path) -> None:
    """Recomputing an edited row's own hash is not enough: the next row no longer follows."""
    from curator.ledger.chain import row_hash

    _fill(ledger)
    ev = ledger.events()[2]
    prev = ledger.events()[1]["hash"]
    forged = row_hash(prev, 3, ev["time"], "note", ev["review_id"], {"text": "forged"})
    _raw(tmp_path / "ledger.db", "UPDATE events SET payload = ?, hash = ? WHERE seq = 3",
         '{"text": "forged"}', forged)
    report = ledger.verify()
    assert not report.ok and report.first_bad == 4


def test_edited_stage_result_is_detected(ledger: Ledger, tmp_path: Path) -> None:
    review_id = _fill(ledger)
    forged = StageResult("fetch", Status.PASSED).to_dict()
    import json

    _raw(tmp_path / "ledger.db", "UPDATE stage_results SET result = ? WHERE review_id = ?",
         json.dumps(forged), review_id)
    report = ledger.verify()
    assert not report.ok and "fetch" in report.reason and report.first_bad == 2


def test_unknown_review_is_a_clear_error(ledger: Ledger) -> None:
    with pytest.raises(ReviewNotFound, match="nope"):
        ledger.get_review("nope")


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    Ledger(tmp_path / "l.db").close()
    _raw(tmp_path / "l.db", "PRAGMA user_version = 99")
    with pytest.raises(LedgerError, match="upgrade curator"):
        Ledger(tmp_path / "l.db")


def test_two_connections_append_without_losing_rows(tmp_path: Path) -> None:
    """Two processes' worth of writers (separate connections) interleave; the chain stays whole."""
    import threading

    a, b = Ledger(tmp_path / "l.db"), Ledger(tmp_path / "l.db")

    def write(led: Ledger, tag: str) -> None:
        for i in range(50):
            led.append("note", {"who": tag, "i": i})

    threads = [threading.Thread(target=write, args=(led, tag)) for led, tag in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = a.verify()
    assert report.ok and report.rows == 100
    a.close()
    b.close()
