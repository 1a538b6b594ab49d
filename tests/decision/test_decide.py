"""The decision service on real reviews, a real ledger and the real layout registry."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.attest.dsse import verify_envelope
from curator.attest.keys import FileSigner
from curator.core.errors import DecisionRefused, IntegrityError, UsageError
from curator.core.models import Finding, Severity, StageResult, Status
from curator.decision.decide import DecisionRequest, assess, decide, push_review
from curator.decision.rules import DecisionRules
from curator.decision.verify import trusted_curators, verify
from curator.registry import open_registry
from curator.registry.interface import Reference
from curator.registry.layout import LayoutRegistry
from curator.review.session import Session
from tests.decision.helpers import (
    curator,
    gate,
    isolated_checklists,
    make_model,
    model_tags,
    open_session,
    reviewed,
)

ERRORED_EVAL = StageResult("eval", Status.ERRORED,
                           (Finding(Severity.HIGH, "stage-errored", "lm-eval crashed"),))


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = open_session(isolated_checklists(tmp_path / "checklists", ["fetch", "eval"]))
    yield s
    s.close()


@pytest.fixture
def ada(session: Session, tmp_path: Path) -> FileSigner:
    return curator(session.workspace, tmp_path / "ada", "Ada Lovelace", "ada@example.org")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return make_model(tmp_path / "tiny")


def _layout(session: Session) -> LayoutRegistry:
    registry = open_registry(session.workspace.registry_dir, session.policy)
    assert isinstance(registry, LayoutRegistry)
    return registry


def _clean_review(session: Session, model: Path) -> str:
    review = reviewed(session, model, only=["fetch"])
    session.ledger.save_result(review.id, StageResult("eval", Status.PASSED, evidence={"acc": "0.5"}))
    return review.id


def test_clean_approval_is_signed_recorded_and_pushed(session: Session, ada: FileSigner, model: Path) -> None:
    rid = _clean_review(session, model)
    assert assess(session, rid).blockers == ()
    registry = _layout(session)
    outcome = decide(session, DecisionRequest(rid, True, "clean scan, card fine"), ada, registry)
    assert outcome.outcome == "approved" and outcome.ref and outcome.ref.startswith("local/tiny:")
    assert session.ledger.get_review(rid).state == "decided"
    event = session.ledger.events(rid, kind="decision")[0]["payload"]
    verified = verify_envelope(event["envelope"].encode(), trusted_curators(session.policy))
    assert verified.statement["subject"][0]["digest"]["sha256"] == outcome.manifest_digest.split(":")[1]
    assert verified.statement["predicate"]["rationale"] == "clean scan, card fine"
    assert [e["kind"] for e in session.ledger.events(rid)][-2:] == ["review_state", "pushed"]
    assert session.ledger.verify().ok
    report = verify(registry, Reference.parse(outcome.ref), gate(session, registry),
                    DecisionRules.from_policy(session.policy))
    assert report.ok, report.problems


def test_blocking_stage_needs_a_waiver_that_is_signed_in(session: Session, ada: FileSigner,
                                                         model: Path) -> None:
    review = reviewed(session, model, only=["fetch"])
    session.ledger.save_result(review.id, ERRORED_EVAL)
    with pytest.raises(DecisionRefused, match="eval errored: lm-eval crashed"):
        decide(session, DecisionRequest(review.id, True, "ok"), ada, _layout(session))
    assert session.ledger.events(review.id, kind="decision") == []
    with pytest.raises(UsageError, match="fetch does not block"):
        decide(session, DecisionRequest(review.id, True, "ok", {"fetch": "x", "eval": "y"}), ada)
    today = dt.date(2026, 11, 22)
    outcome = decide(session, DecisionRequest(review.id, True, "ok", {"eval": "no GPU; scored by hand"}),
                     ada, _layout(session), today=today)
    assert outcome.outcome == "approved"
    statement = json.loads(base64.b64decode(json.loads(
        session.ledger.events(review.id, kind="decision")[0]["payload"]["envelope"])["payload"]))
    assert statement["predicate"]["waivers"] == [{"stage": "eval", "reason": "no GPU; scored by hand",
                                                  "expires": "2027-02-20", "status": "errored"}]


def test_missing_stage_blocks_and_waiver_dates_are_checked(session: Session, ada: FileSigner,
                                                           model: Path) -> None:
    review = reviewed(session, model, only=["fetch"])
    assert [(b.stage, b.status) for b in assess(session, review.id).blockers] == [("eval", "missing")]
    today = dt.date(2026, 11, 22)
    with pytest.raises(UsageError, match="in the past"):
        decide(session, DecisionRequest(review.id, True, "ok", {"eval": "x"}, dt.date(2026, 1, 1)),
               ada, today=today)
    with pytest.raises(UsageError, match="beyond the policy"):
        decide(session, DecisionRequest(review.id, True, "ok", {"eval": "x"}, dt.date(2030, 1, 1)),
               ada, today=today)
    with pytest.raises(UsageError, match="needs a reason"):
        decide(session, DecisionRequest(review.id, True, "ok", {"eval": "  "}), ada, today=today)
    with pytest.raises(UsageError, match="rationale"):
        decide(session, DecisionRequest(review.id, True, "   ", {"eval": "x"}), ada, today=today)


def test_failed_fetch_cannot_be_waived(session: Session, ada: FileSigner, model: Path) -> None:
    review = reviewed(session, model, only=["fetch"])
    fetch = session.ledger.results(review.id)["fetch"]
    session.ledger.save_result(review.id, StageResult("fetch", Status.FAILED, evidence=fetch.evidence))
    session.ledger.save_result(review.id, StageResult("eval", Status.PASSED))
    with pytest.raises(DecisionRefused, match="fetch cannot be waived"):
        decide(session, DecisionRequest(review.id, True, "ok", {"fetch": "trust me"}), ada)


def test_rejection_is_final_and_pushes_nothing(session: Session, ada: FileSigner, model: Path) -> None:
    review = reviewed(session, model, only=["fetch"])
    session.ledger.save_result(review.id, ERRORED_EVAL)
    outcome = decide(session, DecisionRequest(review.id, False, "licence unclear"), ada, _layout(session))
    assert outcome.outcome == "rejected" and outcome.ref is None
    assert model_tags(_layout(session)) == []
    rejected = gate(session, _layout(session)).state.records("rejected")  # a signed state change too
    assert [(r.digest, r.why) for r in rejected] == [(outcome.manifest_digest, "licence unclear")]
    with pytest.raises(DecisionRefused, match="already decided"):
        decide(session, DecisionRequest(review.id, True, "changed my mind", {"eval": "x"}), ada)
    with pytest.raises(DecisionRefused, match="not approved"):
        push_review(session, review.id, _layout(session), signer=ada)


def test_two_approvals_with_separation_of_duties(tmp_path: Path, model: Path) -> None:
    session = open_session(isolated_checklists(tmp_path / "cl", ["fetch"], approvals_required=2))
    try:
        ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
        bob = curator(session.workspace, tmp_path / "bob", "Bob", "bob@example.org")
        cy = curator(session.workspace, tmp_path / "cy", "Cy", "cy@example.org")
        review = reviewed(session, model, opened_by=ada)
        registry = _layout(session)
        with pytest.raises(DecisionRefused, match=r"opened review \w+ and cannot approve"):
            decide(session, DecisionRequest(review.id, True, "mine"), ada, registry)
        first = decide(session, DecisionRequest(review.id, True, "looks right"), bob, registry)
        assert (first.outcome, first.ref, first.approvals) == ("pending", None, 1)
        assert model_tags(registry) == [] and session.ledger.get_review(review.id).state == "open"
        with pytest.raises(DecisionRefused, match="already approved"):
            decide(session, DecisionRequest(review.id, True, "again"), bob, registry)
        second = decide(session, DecisionRequest(review.id, True, "agreed"), cy, registry)
        assert (second.outcome, second.approvals) == ("approved", 2) and second.ref
        trusted = gate(session, registry)
        rules = DecisionRules.from_policy(session.policy)
        report = verify(registry, Reference.parse(second.ref), trusted, rules)
        assert report.ok, report.problems
        assert {d["curator"]["name"] for d in report.decisions} == {"Bob", "Cy"}
    finally:
        session.close()


def test_separation_of_duties_fails_closed_without_an_opener(tmp_path: Path, model: Path) -> None:
    session = open_session(isolated_checklists(tmp_path / "cl", ["fetch"], approvals_required=2))
    try:
        bob = curator(session.workspace, tmp_path / "bob", "Bob", "bob@example.org")
        review = reviewed(session, model)  # opened without a recorded curator
        with pytest.raises(DecisionRefused, match="cannot tell who opened"):
            decide(session, DecisionRequest(review.id, True, "ok"), bob)
    finally:
        session.close()


def test_files_changed_after_review_are_refused_at_push(session: Session, ada: FileSigner,
                                                        model: Path) -> None:
    rid = _clean_review(session, model)
    decide(session, DecisionRequest(rid, True, "ok"), ada, None)  # approved, not pushed yet
    pinned = session.context(session.ledger.get_review(rid)).files_dir / "config.json"
    original = pinned.read_bytes()
    pinned.write_bytes(original.replace(b"gpt2", b"evil"))
    with pytest.raises(IntegrityError, match=r"no longer matches what was reviewed.*curator push"):
        push_review(session, rid, _layout(session), signer=ada)
    assert session.ledger.get_review(rid).state == "decided"  # the decision itself stands
    assert model_tags(_layout(session)) == []  # and no tag points at a partial push
    assert session.ledger.events(rid, kind="push_failed")
    pinned.write_bytes(original)
    pushed = push_review(session, rid, _layout(session), signer=ada)
    assert pushed.ref in {f"{n}:{t}" for n, t, _ in _layout(session).tags()}


def test_the_source_folder_swapped_after_fetch_is_not_what_is_approved(session: Session, ada: FileSigner,
                                                                       model: Path) -> None:
    """Issue #16: fetch copies the folder; a swap of the source afterwards reaches nothing."""
    rid = _clean_review(session, model)
    (model / "config.json").write_bytes(b'{"model_type": "evil"}')
    outcome = decide(session, DecisionRequest(rid, True, "ok"), ada, _layout(session))
    pinned = session.context(session.ledger.get_review(rid)).files_dir / "config.json"
    assert outcome.outcome == "approved" and b"evil" not in pinned.read_bytes()


def test_decide_re_hashes_the_pinned_files_before_signing(session: Session, ada: FileSigner,
                                                          model: Path) -> None:
    rid = _clean_review(session, model)
    pinned = session.context(session.ledger.get_review(rid)).files_dir / "config.json"
    pinned.write_bytes(pinned.read_bytes().replace(b"gpt2", b"evil"))
    with pytest.raises(DecisionRefused, match=r"'config.json' changed since fetch pinned them"):
        decide(session, DecisionRequest(rid, True, "ok"), ada, _layout(session))
    assert session.ledger.get_review(rid).state == "open"
    assert session.ledger.events(rid, kind="decision") == []


def test_a_second_push_uploads_nothing(session: Session, ada: FileSigner, model: Path) -> None:
    rid = _clean_review(session, model)
    decide(session, DecisionRequest(rid, True, "ok"), ada, _layout(session))
    again = push_review(session, rid, _layout(session), signer=ada)
    assert again.uploaded_bytes == 0 and again.skipped_bytes > 0
