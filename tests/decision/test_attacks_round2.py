"""Round-2 attacks on ``curator decide``: approvals that look like they satisfy the rules while
one person (or no review of a file) stands behind them."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.core.errors import DecisionRefused
from curator.decision.decide import DecisionRequest, assess, decide
from tests.changes.helpers import checklists
from tests.changes.test_custom_code import evil_repo
from tests.decision.helpers import curator, isolated_checklists, make_model, open_session, reviewed


def test_a_second_key_of_the_same_curator_is_not_a_second_approval(tmp_path: Path) -> None:
    session = open_session(isolated_checklists(tmp_path / "cl", ["fetch"], approvals_required=2))
    try:
        ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
        bob = curator(session.workspace, tmp_path / "bob", "Bob", "bob@example.org")
        bob2 = curator(session.workspace, tmp_path / "bob-laptop", "Bob B.", " Bob@Example.org")
        review = reviewed(session, make_model(tmp_path / "tiny"), opened_by=ada)
        first = decide(session, DecisionRequest(review.id, True, "looks right"), bob)
        assert first.outcome == "pending"
        with pytest.raises(DecisionRefused, match="already approved"):
            decide(session, DecisionRequest(review.id, True, "agreed"), bob2)
        assert session.ledger.get_review(review.id).state == "open"
    finally:
        session.close()


def test_the_opener_cannot_approve_with_another_key_or_spelling(tmp_path: Path) -> None:
    session = open_session(isolated_checklists(tmp_path / "cl", ["fetch"], approvals_required=2))
    try:
        ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
        ada2 = curator(session.workspace, tmp_path / "ada-2", "Ada L.", "ADA@example.org ")
        review = reviewed(session, make_model(tmp_path / "tiny"), opened_by=ada)
        with pytest.raises(DecisionRefused, match="cannot approve"):
            decide(session, DecisionRequest(review.id, True, "mine"), ada2)
    finally:
        session.close()


def test_a_custom_code_waiver_names_each_file_not_a_longer_one_containing_it(tmp_path: Path) -> None:
    session = open_session(checklists(tmp_path / "checklists", ["fetch", "scan"]))
    try:
        model = evil_repo(tmp_path / "evil", tmp_path / "IMPORTED")
        (model / "evil.py").write_text("import os\nos.system('true')\n")
        review = reviewed(session, model)
        ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
        files = next(b.files for b in assess(session, review.id).blockers if b.stage == "custom-code")
        assert set(files) == {"evil.py", "modeling_evil.py"}
        # 'evil.py' appears inside 'modeling_evil.py', but evil.py was never named as reviewed
        for reason in ("reviewed modeling_evil.py: architecture only",
                       "reviewed modeling_evil.py and not_evil.py", "reviewed modeling_evil.py, evil.pyc"):
            with pytest.raises(DecisionRefused, match=r"does not name evil\.py"):
                decide(session, DecisionRequest(review.id, True, "ok", {"custom-code": reason}), ada)
        reason = "reviewed modeling_evil.py (architecture) and evil.py."
        outcome = decide(session, DecisionRequest(review.id, True, "ok", {"custom-code": reason}), ada)
        assert outcome.outcome == "approved"
    finally:
        session.close()
