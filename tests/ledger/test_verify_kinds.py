"""`curator ledger verify` reads every row as its typed event: a row of a kind this curator does
not know (a newer curator's, or a forged one: its hash chains, so the chain alone cannot tell)
or a known kind whose payload is not that kind's is refused, naming the row and the kind.

Before, verify read only the four kinds it holds the tables to, so a forged ``approval`` row
or a ``decision`` whose outcome is a list passed as an intact ledger.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from curator.core.models import Candidate, StageResult, Status
from curator.core.workspace import Workspace
from curator.ledger import Ledger
from tests.decision.helpers import cli


def _ledger() -> Ledger:
    return Ledger(Workspace.open(os.environ["CURATOR_HOME"]).ledger_path)


def _filled() -> tuple[Ledger, str]:
    ledger = _ledger()
    review = ledger.create_review(Candidate("acme/m", "main", "hub", commit="f" * 40))
    ledger.save_result(review.id, StageResult("fetch", Status.PASSED))
    return ledger, review.id


def _verify() -> tuple[int, dict[str, object], str]:
    done = cli("ledger", "verify", "--json", "--no-checkpoint")
    return done.returncode, json.loads(done.stdout), done.stderr


def test_an_intact_ledger_of_known_kinds_verifies() -> None:
    ledger, review_id = _filled()
    ledger.append("decision", {"outcome": "approved", "final": "approved"}, review_id)
    ledger.close()
    code, doc, _ = _verify()
    assert (code, doc["ok"], doc["rows"]) == (0, True, 3)


def test_a_row_of_an_unknown_kind_is_refused_naming_row_and_kind() -> None:
    ledger, review_id = _filled()
    seq = ledger.append("approval", {"outcome": "approved", "by": "mallory"}, review_id)
    ledger.close()
    code, doc, _ = _verify()
    assert (code, doc["ok"], doc["first_bad"]) == (1, False, seq)
    assert str(doc["reason"]).startswith(f"ledger row {seq} (approval): 'approval' is not a kind of event")
    assert "newer curator" in str(doc["reason"])
    human = cli("ledger", "verify", "--no-checkpoint")
    assert human.returncode == 1
    lines = human.stderr.strip().splitlines()
    assert len(lines) == 1 and f"row {seq}" in lines[0] and "approval" in lines[0]


@pytest.mark.parametrize(("kind", "payload", "problem"), [
    ("decision", {"outcome": ["approved"]}, "'outcome' is a list, expected a string"),
    ("pushed", {"digest": "sha256:" + "a" * 64}, "the payload has no 'ref'"),
    ("production", {"action": "promote", "name": "acme/m", "tag": "prod", "digest": 7},
     "'digest' is a number, expected a string"),
    ("signer_seen", "acme", "the payload is a string, not an object"),
])
def test_a_known_kind_whose_payload_is_not_its_type_is_refused(kind: str, payload: object,
                                                               problem: str) -> None:
    ledger, review_id = _filled()
    seq = ledger.append(kind, payload, review_id)
    ledger.append("quarterly_run", {"run_id": "after"})  # a later good row does not hide it
    ledger.close()
    code, doc, _ = _verify()
    assert (code, doc["ok"], doc["first_bad"]) == (1, False, seq)
    assert str(doc["reason"]) == f"ledger row {seq} ({kind}): {problem}"


def test_the_library_verify_refuses_the_same(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.db")
    try:
        good = ledger.append("quarterly_run", {"run_id": "q1"})
        assert ledger.verify().ok
        bad = ledger.append("note", {"text": "a tool's row"})
        report = ledger.verify()
        assert (report.ok, report.first_bad, report.rows) == (False, bad, 2)
        assert good < bad and "'note' is not a kind of event" in report.reason
    finally:
        ledger.close()
