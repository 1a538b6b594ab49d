"""Signed ledger checkpoints: a ledger rewritten after a checkpoint (even with a freshly computed,
valid chain) or cut short at its end fails `curator ledger verify`; an intact one passes."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from curator.attest.keys import FileSigner, init_keys
from curator.changes.checkpoint import check_ledger, checkpoint_repository, make_checkpoint
from curator.core.errors import IntegrityError
from curator.core.models import Candidate, StageResult, Status
from curator.core.workspace import Workspace
from curator.decision.verify import trusted_curators
from curator.ledger.chain import GENESIS, row_hash
from curator.registry import open_registry
from curator.review.session import Session
from tests.changes.helpers import checklists
from tests.decision.helpers import cli, curator, open_session


@pytest.fixture
def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Session:
    policy = checklists(tmp_path / "checklists", ["fetch"])
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(policy))
    s = open_session(policy)
    review = s.ledger.create_review(Candidate("acme/m", "main", "hub", commit="f" * 40))
    s.ledger.save_result(review.id, StageResult("fetch", Status.PASSED))
    for i in range(4):
        s.ledger.append("quarterly_run", {"run_id": f"note {i}"}, review.id)
    s.close()
    return s


@pytest.fixture
def ada(session: Session, tmp_path: Path) -> FileSigner:
    return curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")


def _db() -> sqlite3.Connection:
    return sqlite3.connect(Workspace.open(os.environ["CURATOR_HOME"]).ledger_path)


def _verify() -> tuple[int, dict[str, object], str]:
    done = cli("ledger", "verify", "--json")
    return done.returncode, json.loads(done.stdout), done.stderr


def _checkpoint(key_dir: Path) -> dict[str, object]:
    done = cli("ledger", "checkpoint", "--key-dir", str(key_dir), "--json")
    assert done.returncode == 0, done.stderr
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def test_intact_ledger_holds_its_checkpoint(session: Session, ada: FileSigner, tmp_path: Path) -> None:
    code, doc, _ = _verify()
    assert code == 0 and doc["checkpoint"] == {"found": False, "ok": True, "problems": []}
    made = _checkpoint(tmp_path / "ada")
    assert made["rows"] == 6 and str(made["ref"]).startswith("curator/ledger-checkpoints:rows-6")
    code, doc, _ = _verify()
    assert code == 0 and doc["checkpoint"]["found"] and doc["rows"] == 7  # type: ignore[index]
    human = cli("ledger", "verify")
    assert human.returncode == 0 and "holds the checkpoint" in human.stderr


def test_rewritten_ledger_with_a_valid_chain_fails(session: Session, ada: FileSigner, tmp_path: Path) -> None:
    _checkpoint(tmp_path / "ada")
    with _db() as db:  # an attacker edits row 3 and recomputes every hash after it
        rows = db.execute("SELECT seq, time, kind, review_id, payload FROM events ORDER BY seq").fetchall()
        prev = GENESIS
        for seq, when, kind, review_id, payload in rows:
            data = json.loads(payload)
            if seq == 3:
                data = {"run_id": "rewritten"}
            digest = row_hash(prev, seq, when, kind, review_id, data)
            db.execute("UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                       (json.dumps(data, sort_keys=True), prev, digest, seq))
            prev = digest
        db.execute("UPDATE chain_head SET head = ?", (prev,))  # and the head the ledger keeps
    code, doc, _ = _verify()
    assert doc["chain_ok"] is True  # the chain alone cannot tell
    assert code == 1 and doc["ok"] is False
    assert "rewritten" in doc["checkpoint"]["problems"][0]  # type: ignore[index]
    human = cli("ledger", "verify")
    assert human.returncode == 1 and "fails its checkpoint" in human.stderr


def test_deleting_the_last_rows_fails(session: Session, ada: FileSigner, tmp_path: Path) -> None:
    made = _checkpoint(tmp_path / "ada")
    with _db() as db:  # the last two notes and the checkpoint's own event: a clean, shorter chain
        db.execute("DELETE FROM events WHERE seq > ?", (int(str(made["rows"])) - 2,))
        db.execute("UPDATE chain_head SET row_count = row_count - 3, "
                   "head = (SELECT hash FROM events ORDER BY seq DESC LIMIT 1)")
    code, doc, _ = _verify()
    assert doc["chain_ok"] is True
    assert code == 1 and "rows were deleted" in doc["checkpoint"]["problems"][0]  # type: ignore[index]


def test_only_a_trusted_curators_checkpoint_counts(session: Session, ada: FileSigner, tmp_path: Path) -> None:
    init_keys(tmp_path / "mallory", "Mallory", "m@example.org")  # a key no trust file lists
    with _opened(session) as s:
        registry = open_registry(s.workspace.registry_dir, s.policy)
        repository = checkpoint_repository(s.policy)
        make_checkpoint(s.ledger, FileSigner(tmp_path / "mallory"), registry, repository)
        check = check_ledger(s.ledger, registry, repository, trusted_curators(s.policy))
        assert not check.ok and "untrusted-key" in check.problems[0]
        with _db() as db:
            db.execute("UPDATE events SET payload = '{}' WHERE seq = 2")
        with pytest.raises(IntegrityError, match="already broken at row 2"):
            make_checkpoint(s.ledger, ada, registry, repository)


@contextmanager
def _opened(session: Session) -> Iterator[Session]:
    s = Session.open(session.workspace, session.policy)
    try:
        yield s
    finally:
        s.close()
