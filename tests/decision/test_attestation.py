"""Decision statements and DSSE envelopes: in-toto shaped, bound to the bytes, forgery fails."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from curator.attest.dsse import EnvelopeProblem, pae, sign_statement, verify_envelope
from curator.attest.keys import FileSigner, init_keys
from curator.attest.statement import PREDICATE_TYPE, Decision, DecisionFacts, Waiver, build_statement
from curator.attest.trust import TrustedCurator, load_trusted
from curator.core.models import Candidate, FileEntry, Finding, Manifest, Severity, StageResult, Status


def _signer(root: Path, name: str) -> FileSigner:
    init_keys(root / name, name.title(), f"{name}@example.org")
    return FileSigner(root / name)


def _trust(*signers: FileSigner, revoked: str | None = None) -> dict[str, TrustedCurator]:
    return {s.keyid: TrustedCurator(s.identity.name, s.identity.email, s.keyid, s.public_key_pem, revoked)
            for s in signers}


def _facts(signer: FileSigner, outcome: str = "approved") -> DecisionFacts:
    manifest = Manifest((FileEntry("model.safetensors", 5_000_000_000, "ab" * 32),
                         FileEntry("config.json", 20, "cd" * 32)))
    scan = StageResult("scan", Status.FAILED, (Finding(Severity.HIGH, "x", "pickle imports os"),),
                       {"files": 2}, {"modelscan": "0.8.8"})
    return DecisionFacts(
        outcome=outcome, review_id="r1", name="acme/tiny", subject_digest="sha256:" + "ef" * 32,
        candidate=Candidate("acme/tiny", "main", "hub", commit="1" * 40), revision="1" * 40,
        manifest=manifest, results={"scan": scan}, policy_version="2026.11-1",
        policy_digest="sha256:" + "00" * 32, approvals_required=1,
        waivers=(Waiver("scan", "false positive, checked by hand", "2027-01-31", "failed"),),
        conditions=("internal use only",), curator=signer.identity, rationale="fine",
        time="2026-11-22T00:00:00Z")


def test_statement_is_in_toto_v1_and_carries_the_evidence(tmp_path: Path) -> None:
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    signer = _signer(tmp_path, "ada")
    statement = build_statement(_facts(signer))
    # an independent reader (in-toto-attestation's own parser) accepts it
    Statement.copy_from_pb(json_format.ParseDict(statement, statement_pb2.Statement())).validate()
    assert statement["subject"] == [{"name": "acme/tiny", "digest": {"sha256": "ef" * 32}}]
    assert statement["predicateType"] == PREDICATE_TYPE
    p = statement["predicate"]
    assert p["files"][1] == {"path": "model.safetensors", "size": 5_000_000_000, "sha256": "ab" * 32}
    assert isinstance(p["files"][1]["size"], int)  # never turned into a float
    assert p["stages"]["scan"]["status"] == "failed"
    assert p["stages"]["scan"]["evidence_digest"].startswith("sha256:")
    assert p["tool_versions"] == {"modelscan": "0.8.8"}
    assert p["waivers"][0]["expires"] == "2027-01-31" and p["conditions"] == ["internal use only"]
    assert p["curator"]["keyid"] == signer.keyid and p["policy"]["approvals_required"] == 1


def test_envelope_round_trip(tmp_path: Path) -> None:
    signer = _signer(tmp_path, "ada")
    envelope = sign_statement(build_statement(_facts(signer)), signer)
    verified = verify_envelope(envelope, _trust(signer))
    decision = Decision.from_statement(verified.statement)
    assert decision.outcome == "approved" and decision.curator == signer.identity
    assert decision.waivers[0].stage == "scan"
    doc = json.loads(envelope)
    assert doc["payloadType"] == "application/vnd.in-toto+json"
    assert doc["signatures"][0]["keyid"] == signer.keyid


def _edit(envelope: bytes, change: dict[str, object]) -> bytes:
    doc = json.loads(envelope)
    statement = json.loads(base64.b64decode(doc["payload"]))
    statement["predicate"].update(change)
    doc["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    return json.dumps(doc).encode()


def test_any_edit_to_the_decision_is_forgery(tmp_path: Path) -> None:
    signer = _signer(tmp_path, "ada")
    envelope = sign_statement(build_statement(_facts(signer, "rejected")), signer)
    with pytest.raises(EnvelopeProblem) as caught:
        verify_envelope(_edit(envelope, {"outcome": "approved"}), _trust(signer))
    assert caught.value.code == "forged-decision"


def test_untrusted_key_is_refused(tmp_path: Path) -> None:
    ada, mallory = _signer(tmp_path, "ada"), _signer(tmp_path, "mallory")
    envelope = sign_statement(build_statement(_facts(mallory)), mallory)
    with pytest.raises(EnvelopeProblem) as caught:
        verify_envelope(envelope, _trust(ada))
    assert caught.value.code == "untrusted-key"
    assert mallory.identity.keyid[:16] in caught.value.message  # which key, and how to trust it
    assert "'curator keys show'" in caught.value.message and "curators.yaml" in caught.value.message


def test_claiming_a_trusted_keyid_with_another_key_is_forgery(tmp_path: Path) -> None:
    ada, mallory = _signer(tmp_path, "ada"), _signer(tmp_path, "mallory")
    statement = build_statement(_facts(ada))
    payload = json.dumps(statement).encode()
    sig = mallory.sign(pae("application/vnd.in-toto+json", payload))
    envelope = json.dumps({"payload": base64.b64encode(payload).decode(),
                           "payloadType": "application/vnd.in-toto+json",
                           "signatures": [{"keyid": ada.keyid, "sig": base64.b64encode(sig).decode()}]})
    with pytest.raises(EnvelopeProblem) as caught:
        verify_envelope(envelope.encode(), _trust(ada))
    assert caught.value.code == "forged-decision"


def test_revoked_key_is_refused(tmp_path: Path) -> None:
    ada = _signer(tmp_path, "ada")
    envelope = sign_statement(build_statement(_facts(ada)), ada)
    with pytest.raises(EnvelopeProblem) as caught:
        verify_envelope(envelope, _trust(ada, revoked="2026-11-01"))
    assert caught.value.code == "revoked-key"


def test_unsigned_and_garbage_envelopes(tmp_path: Path) -> None:
    ada = _signer(tmp_path, "ada")
    doc = json.loads(sign_statement(build_statement(_facts(ada)), ada))
    doc["signatures"] = []
    with pytest.raises(EnvelopeProblem) as caught:
        verify_envelope(json.dumps(doc).encode(), _trust(ada))
    assert caught.value.code == "unsigned-decision"
    with pytest.raises(EnvelopeProblem):
        verify_envelope(b"not json", _trust(ada))


def test_team_file_trust_is_what_verify_uses(tmp_path: Path) -> None:
    ada = _signer(tmp_path, "ada")
    (tmp_path / "curators.yaml").write_text(
        "curators:\n  - name: Ada\n    email: ada@example.org\n    public_key: |\n"
        + "".join(f"      {line}\n" for line in ada.public_key_pem.splitlines()))
    envelope = sign_statement(build_statement(_facts(ada)), ada)
    assert verify_envelope(envelope, load_trusted(tmp_path)).signer.keyid == ada.keyid
