"""Evidence recorded by older versions reads with honest defaults; evidence of the wrong shape is
refused with one line naming the stage, the key's path and what was expected."""

from __future__ import annotations

from typing import Any

import pytest

from curator.core.errors import CuratorError
from curator.core.evidence import (
    READERS,
    CardEvidence,
    EvalEvidence,
    EvidenceError,
    FetchEvidence,
    ScanEvidence,
    SignatureEvidence,
    skip_reason,
)
from curator.core.models import StageResult, Status, pinned_manifest
from tests.readers import reads_fully


@pytest.mark.parametrize("stage", sorted(READERS))
def test_nothing_recorded_reads_as_nothing_known(stage: str) -> None:
    reader = READERS[stage]
    for empty in (None, {}):
        typed = reader.from_evidence(empty)
        assert typed == reader()  # every field at its default: empty, zero or None
    assert reader.of(None) == reader()


def test_fetch_evidence_from_before_checks_and_mismatches_were_recorded() -> None:
    old = {"repo_id": "acme/m", "revision": "main", "commit": "c" * 40, "endpoint": "http://hub",
           "files": [{"path": "a.bin", "size": 3, "sha256": "ab" * 32}],
           "manifest_digest": "sha256:" + "0" * 64}
    fetch = reads_fully(FetchEvidence, old)
    assert fetch.checks == {} and fetch.resumed == {} and fetch.mismatches == ()
    assert fetch.total_bytes == 0  # not recorded: not invented from the files either
    assert fetch.manifest is not None and [f.path for f in fetch.manifest.files] == ["a.bin"]
    # a fetch that never got as far as its file list pins no manifest (not an empty one)
    assert FetchEvidence.from_evidence({"repo_id": "acme/m"}).manifest is None
    assert pinned_manifest({"fetch": StageResult("fetch", Status.FAILED, evidence={"repo_id": "x"})}) is None


def test_scan_evidence_without_voices_policy_or_custom_code() -> None:
    old = {"files": [{"path": "w.bin", "verdict": "blocked", "format": "pickle", "reasons": ["os.system"],
                      "findings": [{"severity": "critical", "code": "pickle-global", "message": "os.system",
                                    "tool": "picklescan", "tool_version": "1.0.5", "file": "w.bin"}]}],
           "counts": {"blocked": 1}}
    scan = reads_fully(ScanEvidence, old)
    [entry] = scan.files
    assert entry.scanners == {} and entry.parts == () and entry.size == 0 and entry.sha256 is None
    assert entry.findings[0].tool == "picklescan" and entry.findings[0].severity.value == "critical"
    assert not scan.policy.recorded and scan.policy.allowed_formats is None and scan.custom_code is None


def test_signature_card_and_eval_evidence_of_an_early_stop() -> None:
    signature = SignatureEvidence.from_evidence({"status": "unsigned", "error": "no model.sig"})
    assert not signature.verified and signature.signer == {} and not signature.trust.recorded
    assert signature.attestations == () and signature.usable_attestations == ()
    card = CardEvidence.from_evidence({"status": "failed", "summary": ["no card"]})
    assert card.fields == {} and not card.claims_recorded and not card.license_recorded
    assert card.card.present and card.card.metadata_readable  # unknown, not claimed absent
    ev = EvalEvidence.from_evidence({"model": {"kind": "causal"}, "reason": "no tokenizer"})
    assert ev.reason == "no tokenizer" and ev.model.kind == "causal" and ev.scores == () and ev.claims == ()
    skipped = StageResult("eval", Status.SKIPPED, evidence={"reason": "scan blocked"})
    assert skip_reason(skipped) == "scan blocked"
    assert skip_reason(StageResult("eval", Status.PASSED)) == "" and skip_reason(None) == ""


WRONG: list[tuple[type[Any], dict[str, Any], str]] = [
    (FetchEvidence, {"files": "a.bin"}, "evidence.files should be a list"),
    (FetchEvidence, {"files": [{"path": 7, "size": 1, "sha256": "x"}]},
     "evidence.files[0].path should be a string"),
    (FetchEvidence, {"files": [{"path": "a", "size": "1", "sha256": "x"}]},
     "evidence.files[0].size should be an integer"),
    (FetchEvidence, {"total_bytes": True}, "evidence.total_bytes should be an integer"),
    (FetchEvidence, {"checks": {"a": 1}}, "evidence.checks should be an object of strings"),
    (ScanEvidence, {"files": ["w.bin"]}, "evidence.files[0] should be an object"),
    (ScanEvidence, {"files": [{"path": "w", "verdict": "clean", "scanners": {"modelscan": "clean"}}]},
     "evidence.files[0].scanners.modelscan should be an object"),
    (ScanEvidence, {"files": [{"path": "w", "findings": [{"severity": "dire", "code": "x"}]}]},
     "evidence.files[0].findings[0].severity should be one of info, low, medium, high, critical"),
    (ScanEvidence, {"custom_code": {"files_to_review": "modeling.py"}},
     "evidence.custom_code.files_to_review should be a list"),
    (SignatureEvidence, {"signer": "someone"}, "evidence.signer should be an object"),
    (SignatureEvidence, {"trust": {"decision": ["expected"]}}, "evidence.trust.decision should be a string"),
    (SignatureEvidence, {"provenance": {"attestations": [{"usable": "yes"}]}},
     "evidence.provenance.attestations[0].usable should be true or false"),
    (CardEvidence, {"fields": {"lineage": {"status": 1}}},
     "evidence.fields.lineage.status should be a string"),
    (CardEvidence, {"claims": [{"value": {"x": 1}}]},
     "evidence.claims[0].value should be a string or a number"),
    (EvalEvidence, {"results": {"tiny_mc": {"acc": [0.5]}}},
     "evidence.results.tiny_mc.acc should be a string or a number"),
    (EvalEvidence, {"claims": [{"z": "high"}]}, "evidence.claims[0].z should be a number"),
]


@pytest.mark.parametrize(("reader", "evidence", "says"), WRONG)
def test_wrong_types_are_refused_with_one_line(reader: type[Any], evidence: dict[str, Any],
                                               says: str) -> None:
    with pytest.raises(EvidenceError) as caught:
        reader.from_evidence(evidence)
    line = caught.value.diagnostics()
    assert isinstance(caught.value, CuratorError) and caught.value.exit_code == 1
    assert "\n" not in line and says in line
    stage = reader.__name__.removesuffix("Evidence").lower()
    assert line.startswith(f"the stored {stage} evidence is not readable: ")
    assert "run the review's" in line  # what to do next


def test_evidence_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(EvidenceError, match="scan evidence is not readable: evidence should be an object"):
        ScanEvidence.from_evidence(["files"])


def test_a_reader_that_drops_a_recorded_value_is_caught_by_the_round_trip() -> None:
    recorded = {"files": [{"path": "a", "size": 1, "sha256": "x"}], "total_bytes": 1, "manifest_digest": "d"}
    reads_fully(FetchEvidence, recorded)
    with pytest.raises(AssertionError, match="does not read"):
        reads_fully(FetchEvidence, {**recorded, "new_key": 1})
    with pytest.raises(AssertionError, match="total_bytes"):
        from tests.readers import same

        same(FetchEvidence.from_evidence({**recorded, "total_bytes": 2}), recorded, "evidence")
