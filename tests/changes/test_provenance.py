"""A signed in-toto SLSA provenance made here verifies, is checked against the pinned files and
lifts the card's training pipeline and lineage to verified; a tampered one, one about other
bytes, or one signed by a key the publisher does not list fails the signature stage."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import StageResult, Status
from curator.review.session import Session
from tests.changes.helpers import checklists, dsse, key_publisher, keys, revision, slsa_provenance
from tests.decision.helpers import open_session, reviewed
from tests.needs import missing
from tests.signature.helpers import IDENTITY, ISSUER, SIGNED, TRUST_CONFIG

ATTESTATION = "provenance.intoto.jsonl"


@pytest.fixture
def signing(tmp_path: Path) -> dict[str, Path]:
    return keys(tmp_path / "builder-keys", "builder", "stranger")


@pytest.fixture
def session(tmp_path: Path, signing: dict[str, Path]) -> Iterator[Session]:
    publisher = key_publisher("local/*", signing["builder"].with_suffix(".pub"))
    s = open_session(checklists(tmp_path / "checklists", ["fetch", "signature", "card"], [publisher]))
    yield s
    s.close()


def _model(folder: Path) -> tuple[Path, dict[str, str]]:
    """A model whose card says nothing about its training pipeline."""
    revision(folder, 0, "apache-2.0", pipeline=False)
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    return folder, digests


def _attest(folder: Path, statement: dict[str, Any], key: Path, tamper: bool = False) -> None:
    envelope = dsse(statement, key)
    if tamper:  # the builder field rewritten after signing
        payload = json.loads(base64.b64decode(envelope["payload"]))
        payload["predicate"]["runDetails"]["builder"]["id"] = "https://evil.example/runner"
        envelope["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    (folder / ATTESTATION).write_text(json.dumps(envelope) + "\n")


def _run(session: Session, folder: Path) -> tuple[StageResult, StageResult]:
    review = reviewed(session, folder)
    results = session.ledger.results(review.id)
    return results["signature"], results["card"]


def test_signed_provenance_verifies_and_lifts_the_pipeline(session: Session, tmp_path: Path,
                                                           signing: dict[str, Path]) -> None:
    plain, digests = _model(tmp_path / "plain")
    _, card = _run(session, plain)
    assert card.evidence["fields"]["training_pipeline"]["status"] == "missing"
    assert card.evidence["fields"]["lineage"]["status"] == "missing"

    model, digests = _model(tmp_path / "attested")
    _attest(model, slsa_provenance({"model.safetensors": digests["model.safetensors"],
                                    "config.json": digests["config.json"]}), signing["builder"])
    signature, card = _run(session, model)
    (attestation,) = signature.evidence["provenance"]["attestations"]
    assert attestation["status"] == "verified" and attestation["usable"], attestation
    assert attestation["trust"]["decision"] == "expected"
    assert {s["state"] for s in attestation["subjects"]} == {"match"}
    facts = attestation["facts"]
    assert facts["builder"] == "https://github.com/acme/trainer/runner@v1"
    assert facts["source"] == {"repo": "https://github.com/acme/train", "commit": "a" * 40}
    assert '"epochs": 2' in facts["parameters"]
    assert signature.status == Status.WARNED  # the model itself is unsigned: that still only warns
    pipeline = card.evidence["fields"]["training_pipeline"]
    assert pipeline["status"] == "verified" and pipeline["evidence"][0]["kind"] == "provenance"
    assert "acme/train@aaaaaaaaaaaa" in pipeline["evidence"][0]["excerpt"]
    lineage = card.evidence["fields"]["lineage"]
    assert lineage["status"] == "verified" and "acme/tiny-base" in lineage["evidence"][0]["excerpt"]


@pytest.mark.parametrize("case", ["tampered", "other-bytes", "unlisted-key"])
def test_a_bad_attestation_fails_and_lifts_nothing(session: Session, tmp_path: Path, signing: dict[str, Path],
                                                   case: str) -> None:
    model, digests = _model(tmp_path / case)
    subject = "0" * 64 if case == "other-bytes" else digests["model.safetensors"]
    key = signing["stranger"] if case == "unlisted-key" else signing["builder"]
    _attest(model, slsa_provenance({"model.safetensors": subject}), key, tamper=case == "tampered")
    signature, card = _run(session, model)
    expected = "provenance-subject-mismatch" if case == "other-bytes" else "provenance-invalid"
    assert signature.status == Status.FAILED
    assert expected in {f.code for f in signature.findings}
    assert not signature.evidence["provenance"]["attestations"][0]["usable"]
    assert card.evidence["fields"]["training_pipeline"]["status"] == "missing"


def test_a_sigstore_bundle_verifies_offline_and_a_tampered_one_fails(tmp_path: Path) -> None:
    """A real keyless bundle (a DSSE in-toto statement) against the shipped trust root, no network."""
    if not (SIGNED / "v1.0.0-sigstore").is_dir():
        missing(f"the signed-model fixtures at {SIGNED}", "clone shared/ beside the repository")
    from curator.stages.signature.provenance import check_provenance
    from curator.stages.signature.verify import Anchor

    bundle = tmp_path / "release.sigstore.json"
    shutil.copy(SIGNED / "v1.0.0-sigstore" / "model.sig", bundle)
    anchors = [Anchor("sigstore", identity=IDENTITY, issuer=ISSUER)]
    report = check_provenance(tmp_path, None, "model.sig", anchors, TRUST_CONFIG, "publisher ibm", None)
    (attestation,) = report.attestations
    assert attestation["status"] == "verified" and attestation["signer"]["identity"] == IDENTITY
    assert attestation["trust"]["decision"] == "expected"
    assert attestation["predicate_type"] == "https://model_signing/signature/v1.0"  # not provenance
    assert not attestation["usable"]
    doc = json.loads(bundle.read_text())
    statement = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    statement["subject"][0]["name"] = "something-else"
    doc["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    bundle.write_text(json.dumps(doc))
    tampered = check_provenance(tmp_path, None, "model.sig", anchors, TRUST_CONFIG, "publisher ibm", None)
    assert [f.code for f in tampered.findings] == ["provenance-invalid"]
    assert tampered.status(Status.PASSED) == Status.FAILED
