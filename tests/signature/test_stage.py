"""The signature stage inside a review: publishers.yaml, trust on first use, outcomes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from curator.core.models import Severity, StageResult, Status
from curator.ledger import Ledger
from tests.signature.helpers import IDENTITY, ISSUER, checklists, review, sigstore_signer

Copy = Callable[[str], Path]


def test_expected_signer_passes_with_the_evidence_the_tui_shows(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [{"match": "ibm", "required": True, "signers": [sigstore_signer()]}])
    result = review(copy_fixture("v1.1.0-sigstore"), "ibm/granite", policy, ledger, tmp_path / "w")
    assert result.status == Status.PASSED, result.findings
    ev = result.evidence
    assert ev["status"] == "verified" and ev["mode"] == "sigstore" and ev["publisher"] == "ibm"
    assert ev["signer"]["identity"] == IDENTITY and ev["signer"]["issuer"] == ISSUER
    assert ev["trust"]["decision"] == "expected" and ev["trust"]["expected"][0]["identity"] == IDENTITY
    assert ev["transparency"]["log_index"] == 598151086
    assert ev["transparency"]["integrated_time_utc"].startswith("2025-10-10")
    assert ev["compared_with"] == "fetch manifest"
    rows = {f["path"]: f for f in ev["files"]}
    assert rows["signme-1"]["state"] == "match"
    assert rows["signme-1"]["signed_sha256"] == rows["signme-1"]["manifest_sha256"]
    assert rows["ignore-me"]["state"] == "ignored" and rows["model.sig"]["state"] == "ignored"
    assert "ignore-me" in ev["ignore_paths"] and "model.sig" in ev["ignore_paths"]
    assert ledger.results(ledger.reviews()[-1].id)["signature"].status == Status.PASSED


def test_wrong_identity_for_a_required_publisher_fails_and_blocks_approval(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [{"match": "ibm", "required": True,
                                           "signers": [sigstore_signer("release-bot@ibm.com")]}])
    result = review(copy_fixture("v1.1.0-sigstore"), "ibm/granite", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED and result.status.blocks
    mismatch = next(f for f in result.findings if f.code == "signer-mismatch")
    assert mismatch.severity == Severity.CRITICAL
    assert IDENTITY in mismatch.message and "release-bot@ibm.com" in mismatch.message
    assert result.evidence["trust"]["decision"] == "mismatch"
    assert result.evidence["status"] == "failed"
    assert policy.recommend({"signature": result}) == "reject"
    from curator.decision.rules import DecisionRules, blockers

    blocking = blockers(["signature"], {"signature": result}, DecisionRules.from_policy(policy))
    assert [(b.stage, b.status) for b in blocking] == [("signature", "failed")]
    assert "release-bot@ibm.com" in blocking[0].summary


def test_unlisted_publisher_is_trusted_on_first_use_then_held_to_it(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [])
    first = review(copy_fixture("v1.1.0-sigstore"), "acme/one", policy, ledger, tmp_path / "w1")
    assert first.status == Status.WARNED
    assert first.evidence["status"] == "verified" and first.evidence["trust"]["decision"] == "tofu-new"
    assert any(f.code == "signer-unknown" and IDENTITY in f.message for f in first.findings)
    seen = ledger.events(kind="signer_seen")
    assert [e["payload"]["publisher"] for e in seen] == ["acme"]
    assert seen[0]["payload"]["signer"]["identity"] == IDENTITY

    second = review(copy_fixture("v1.0.0-sigstore"), "acme/two", policy, ledger, tmp_path / "w2")
    assert second.status == Status.PASSED, second.findings
    assert second.evidence["trust"]["decision"] == "tofu-match"
    assert second.evidence["trust"]["first_seen"]["review_id"] == seen[0]["review_id"]
    assert len(ledger.events(kind="signer_seen")) == 1


def test_rerunning_the_first_review_is_not_its_own_match(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    from curator.core.pipeline import Pipeline
    from curator.core.stage import ReviewContext
    from curator.stages.signature import SignatureStage

    policy = checklists(tmp_path / "cl", [])
    model = copy_fixture("v1.1.0-sigstore")
    first = review(model, "acme/one", policy, ledger, tmp_path / "w1")
    assert first.evidence["trust"]["decision"] == "tofu-new"
    opened = ledger.reviews()[-1]
    ledger.discard_result(opened.id, "signature")
    ctx = ReviewContext(opened.id, opened.candidate, model, tmp_path / "w1", policy, ledger=ledger)
    ctx.results["fetch"] = _fetch_of(model, policy, tmp_path)
    again = Pipeline([SignatureStage()]).run(ctx)["signature"]
    assert again.evidence["trust"]["decision"] == "tofu-new"
    assert len(ledger.events(kind="signer_seen")) == 1


def _fetch_of(model: Path, policy: object, tmp_path: Path) -> StageResult:
    from curator.core.models import Candidate
    from curator.core.pipeline import Pipeline
    from curator.core.stage import ReviewContext
    from curator.stages.fetch import FetchStage

    local = Candidate("acme/one", "local", "local", path=str(model))
    return Pipeline([FetchStage()]).run(ReviewContext("x", local, model, tmp_path, policy))["fetch"]


def test_another_signer_after_first_use_fails_naming_both(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [])
    earlier = {"kind": "sigstore", "identity": "maintainer@acme.example", "issuer": ISSUER}
    ledger.append("signer_seen", {"publisher": "acme", "signer": earlier}, "r-earlier")
    result = review(copy_fixture("v1.1.0-sigstore"), "acme/model", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED
    why = result.evidence["trust"]["why"]
    assert "maintainer@acme.example" in why and IDENTITY in why and "r-earlier" in why
    assert result.evidence["trust"]["decision"] == "mismatch"


def test_a_local_folder_is_never_held_to_a_first_signer(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [])
    result = review(copy_fixture("v1.1.0-sigstore"), "local/v1.1.0-sigstore", policy, ledger,
                    tmp_path / "w", source="local")
    assert result.status == Status.WARNED and result.evidence["trust"]["decision"] == "unknown"
    assert ledger.events(kind="signer_seen") == []


@pytest.mark.parametrize(("required", "status", "code"), [(False, Status.WARNED, "unsigned"),
                                                          (True, Status.FAILED, "unsigned-required")])
def test_unsigned_candidate_warns_or_fails_by_publisher(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger, required: bool, status: Status,
        code: str) -> None:
    policy = checklists(tmp_path / "cl", [{"match": "ibm", "required": required,
                                           "signers": [sigstore_signer()]}])
    model = copy_fixture("v1.1.0-sigstore")
    (model / "model.sig").unlink()
    result = review(model, "ibm/granite", policy, ledger, tmp_path / "w")
    assert result.status == status and result.evidence["status"] == "unsigned"
    assert result.evidence["mode"] == "none"
    assert any(f.code == code and "ibm" in f.message for f in result.findings)


def test_unlisted_publishers_can_be_required_to_sign(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [], require_unlisted=True)
    model = copy_fixture("v1.1.0-sigstore")
    (model / "model.sig").unlink()
    assert review(model, "acme/x", policy, ledger, tmp_path / "w").status == Status.FAILED


def test_an_unreadable_bundle_errors(copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [])
    model = copy_fixture("v1.1.0-sigstore")
    (model / "model.sig").write_text("{\"verificationMaterial\": 5")
    result = review(model, "acme/x", policy, ledger, tmp_path / "w")
    assert result.status == Status.ERRORED and any("model.sig" in f.message for f in result.findings)


def test_a_missing_trust_root_errors_naming_it(copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [])
    (tmp_path / "cl" / "sigstore-trust-config.json").unlink()
    result = review(copy_fixture("v1.1.0-sigstore"), "acme/x", policy, ledger, tmp_path / "w")
    assert result.status == Status.ERRORED
    assert "sigstore-trust-config.json" in result.findings[0].message
    assert "refresh_trust_root" in result.findings[0].message


def test_the_fetch_manifest_not_the_folder_is_what_is_compared(
        copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    """Bytes pinned by fetch differ from the signed ones: restoring the folder later does not help."""
    policy = checklists(tmp_path / "cl", [{"match": "ibm", "signers": [sigstore_signer()]}])
    model = copy_fixture("v1.1.0-sigstore")
    original = (model / "signme-2").read_bytes()
    (model / "signme-2").write_bytes(b"swapped!")

    from curator.core.models import Candidate
    from curator.core.pipeline import Pipeline
    from curator.core.stage import ReviewContext
    from curator.stages.fetch import FetchStage
    from curator.stages.signature import SignatureStage

    opened = ledger.create_review(Candidate("ibm/granite", "main", "hub", commit="d" * 40))
    local = Candidate("ibm/granite", "local", "local", path=str(model))
    fetch = Pipeline([FetchStage()]).run(ReviewContext(opened.id, local, model, tmp_path, policy))["fetch"]
    (model / "signme-2").write_bytes(original)
    ctx = ReviewContext(opened.id, opened.candidate, model, tmp_path, policy, ledger=ledger)
    ctx.results["fetch"] = fetch
    result = Pipeline([SignatureStage()]).run(ctx)["signature"]
    assert result.status == Status.FAILED
    finding = next(f for f in result.findings if f.code == "signed-digest-mismatch")
    assert finding.file == "signme-2" and "fetch manifest" in finding.message
    row = next(f for f in result.evidence["files"] if f["path"] == "signme-2")
    assert row["manifest_sha256"] in finding.message and row["signed_sha256"] in finding.message


def test_a_broken_publishers_file_errors_naming_it(copy_fixture: Copy, tmp_path: Path,
                                                   ledger: Ledger) -> None:
    policy = checklists(tmp_path / "cl", [{"match": "ibm", "requird": True}])
    result = review(copy_fixture("v1.1.0-sigstore"), "ibm/x", policy, ledger, tmp_path / "w")
    assert result.status == Status.ERRORED
    assert "publishers.yaml" in result.findings[0].message and "requird" in result.findings[0].message
