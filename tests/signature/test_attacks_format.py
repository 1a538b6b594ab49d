"""Attacks with the signature file itself: hostile formats, and Sigstore bundles stripped of the
transparency-log proof that makes an offline verification mean something. Every one is refused
with one line naming the file, never a traceback, never a pass."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import Status
from curator.ledger import Ledger
from tests.signature.helpers import checklists, cli, make_key, make_model, review, sigstore_args

Copy = Callable[[str], Path]
SIGSTORE = "v1.1.0-sigstore"
DEEP = 200_000


def _edit(sig: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    bundle = json.loads(sig.read_text())
    edit(bundle)
    sig.write_text(json.dumps(bundle))


def _nested_payload(bundle: dict[str, Any]) -> None:
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(b"[" * DEEP + b"]" * DEEP).decode()


def _refused(model: Path) -> dict[str, Any]:
    run = cli("signature", model, *sigstore_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 1, (run.out, run.err)
    assert "Traceback" not in run.err, run.err
    doc: dict[str, Any] = run.json
    assert doc["status"] == "failed" and "model.sig" in doc["error"] and "\n" not in doc["error"]
    return doc


HOSTILE = {
    "nested-arrays": b"[" * DEEP + b"]" * DEEP,
    "nested-objects": b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    "not-utf8": b'{"verificationMaterial": "\xff\xfe"}',
    "nul": b'{"mediaType": "x\x00"}',
    "a-list": b"[1, 2, 3]",
    "huge-number": b'{"verificationMaterial": {"tlogEntries": [{"logIndex": ' + b"9" * 5000 + b"}]}}",
}


@pytest.mark.parametrize("what", sorted(HOSTILE))
def test_a_hostile_signature_file_is_refused_in_one_line(copy_fixture: Copy, what: str) -> None:
    model = copy_fixture(SIGSTORE)
    (model / "model.sig").write_bytes(HOSTILE[what])
    _refused(model)


def test_a_deeply_nested_signed_payload_is_refused(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    _edit(model / "model.sig", _nested_payload)
    _refused(model)


def test_a_signature_file_far_larger_than_any_signature_is_not_read(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    with (model / "model.sig").open("wb") as fh:  # sparse: big on paper, nothing on disk
        fh.truncate(1 << 34)
    doc = _refused(model)
    assert "larger than any model signature" in doc["error"]


def test_a_hostile_signature_in_a_review_blocks_with_one_finding(copy_fixture: Copy, tmp_path: Path,
                                                                  ledger: Ledger) -> None:
    """Through the stage: the review is blocked by a finding naming the file, not by a crash."""
    model = copy_fixture(SIGSTORE)
    (model / "model.sig").write_bytes(b"[" * DEEP + b"]" * DEEP)
    result = review(model, "acme/tiny", checklists(tmp_path / "cl", []), ledger, tmp_path / "w")
    assert result.status == Status.ERRORED
    assert [f.code for f in result.findings] == ["signature-unreadable"]
    assert "model.sig" in result.findings[0].message and "crashed" not in result.findings[0].message


@pytest.mark.parametrize("what", ["nested-arrays", "nested-objects", "not-utf8"])
def test_a_hostile_attestation_fails_the_stage_it_does_not_crash_it(tmp_path: Path, ledger: Ledger,
                                                                   what: str) -> None:
    from tests.signature.helpers import sign_with_key

    (tmp_path / "cl").mkdir()
    key = make_key(tmp_path / "cl" / "acme.pem")
    model = make_model(tmp_path / "m", {"model.safetensors": b"\x00" * 16,
                                        "provenance.intoto.jsonl": HOSTILE[what]})
    sign_with_key(model, key)
    policy = checklists(tmp_path / "cl", [{"match": "acme", "signers": [{"key": "acme.pub"}]}])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED, result.findings
    [finding] = [f for f in result.findings if f.code == "provenance-unreadable"]
    assert finding.file == "provenance.intoto.jsonl"


# -- the transparency log: offline verification still needs its proof ------------------------
def test_a_bundle_with_no_log_entry_is_refused(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    _edit(model / "model.sig", lambda b: b["verificationMaterial"].update(tlogEntries=[]))
    doc = _refused(model)
    assert "log entry" in doc["error"]


def test_a_bundle_whose_log_entry_lost_its_inclusion_proof_is_refused(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    _edit(model / "model.sig", lambda b: b["verificationMaterial"]["tlogEntries"][0].pop("inclusionProof"))
    doc = _refused(model)
    assert "inclusionProof" in doc["error"]


def test_a_log_checkpoint_that_was_edited_is_refused(copy_fixture: Copy) -> None:
    def edit(bundle: dict[str, Any]) -> None:
        proof = bundle["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
        lines = proof["checkpoint"]["envelope"].split("\n")
        lines[1] = str(int(lines[1]) + 1)  # claim a bigger tree than the log signed
        proof["checkpoint"]["envelope"] = "\n".join(lines)

    model = copy_fixture(SIGSTORE)
    _edit(model / "model.sig", edit)
    _refused(model)


def test_an_inclusion_proof_for_another_entry_is_refused(copy_fixture: Copy, signed: Path) -> None:
    """The log entry of another real signature, pasted in: it proves that one, not this one."""
    other = json.loads((signed / "v1.0.1-sigstore" / "model.sig").read_text())
    model = copy_fixture(SIGSTORE)
    _edit(model / "model.sig", lambda b: b["verificationMaterial"].update(
        tlogEntries=other["verificationMaterial"]["tlogEntries"]))
    _refused(model)


def test_an_integrated_time_without_its_promise_is_not_shown_as_the_logs(copy_fixture: Copy) -> None:
    """Without the signed entry timestamp the integrated time is the bundle's word only."""
    model = copy_fixture(SIGSTORE)

    def edit(bundle: dict[str, Any]) -> None:
        entry = bundle["verificationMaterial"]["tlogEntries"][0]
        entry.pop("inclusionPromise")
        entry["integratedTime"] = "4102444800"  # 2100-01-01, claimed by nobody

    _edit(model / "model.sig", edit)
    run = cli("signature", model, *sigstore_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 0, run.err  # the inclusion proof alone still proves the entry is in the log
    log = run.json["transparency"]
    assert log["time_signed_by_log"] is False and log["integrated_time_utc"] is None
