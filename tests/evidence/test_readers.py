"""Evidence the stages really write reads back in full through each stage's typed reader.

Each test runs real stages on a folder built here (a pickle with a harmless ``os.system('true')``
payload, a modeling file, a card with claims and a base model, a real signed fixture, a signed
SLSA provenance) and checks the reader against the recorded JSON key by key (``tests/readers.py``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.evidence import CardEvidence, FetchEvidence, ScanEvidence, SignatureEvidence
from curator.core.models import Severity
from curator.ledger import Ledger
from curator.review.session import Session
from tests.changes.helpers import checklists, dsse, key_publisher, keys, revision, slsa_provenance
from tests.decision.helpers import open_session, reviewed
from tests.readers import reads_fully
from tests.scan.pickles import os_system_call
from tests.signature.helpers import IDENTITY, SIGNED, review, sigstore_signer
from tests.signature.helpers import checklists as signature_checklists

CARD = """---
license: apache-2.0
base_model: acme-labs/tinyllama-base
datasets: [acme/clean-corpus]
model-index:
- name: tiny
  results:
  - task: {type: text-generation}
    dataset: {name: ARC Challenge, type: ai2_arc}
    metrics:
    - {type: acc_norm, value: 61.2, name: normalized accuracy}
---
# tiny

Developed by: Acme Labs

## Training data

Trained on the acme/clean-corpus dataset of public-domain English text.
"""


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = open_session(checklists(tmp_path / "checklists", ["fetch", "scan", "card"]))
    yield s
    s.close()


def test_fetch_scan_and_card_evidence_read_back_in_full(session: Session, tmp_path: Path) -> None:
    folder = revision(tmp_path / "model", 0, "apache-2.0")
    (folder / "README.md").write_text(CARD)
    (folder / "pytorch_model.bin").write_bytes(os_system_call())
    (folder / "modeling_tiny.py").write_text("import os\nos.system('true')\n")
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "auto_map": {"AutoModel": "modeling_tiny.M"}}))

    results = session.ledger.results(reviewed(session, folder).id)

    fetch = reads_fully(FetchEvidence, results["fetch"].evidence)
    on_disk = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert {f.path: f.sha256 for f in fetch.files} == on_disk
    assert fetch.manifest is not None and fetch.manifest.digest == fetch.manifest_digest
    assert fetch.is_local and fetch.total_bytes == sum(f.size for f in fetch.files)

    scan = reads_fully(ScanEvidence, results["scan"].evidence)
    pickled = scan.file("pytorch_model.bin")
    assert pickled is not None and pickled.verdict == "blocked"
    assert pickled.sha256 == on_disk["pytorch_model.bin"]
    assert any(f.severity.rank >= Severity.HIGH.rank for f in pickled.findings)
    assert "curator" in pickled.scanners and pickled.scanners["curator"].status == "flagged"
    assert scan.custom_code is not None and scan.custom_code.files_to_review == ("modeling_tiny.py",)
    assert scan.manifest_digest == fetch.manifest_digest and set(scan.scanners) == set(scan.policy.scanners)
    assert sum(scan.counts.values()) == len(scan.files) == len(fetch.files)

    card = reads_fully(CardEvidence, results["card"].evidence)
    assert [b.repo_id for b in card.lineage.bases] == ["acme-labs/tinyllama-base"]
    assert card.license.id == "apache-2.0" and card.license.verdict == "allowed"
    [claim] = card.claims
    assert (claim.metric, claim.value, claim.dataset) == ("acc_norm", 61.2, "ai2_arc")
    assert card.fields["training_data"].status in ("declared", "verified")
    assert card.card.path == "README.md" and card.card.sha256 == on_disk["README.md"]


def test_signature_evidence_reads_back_in_full(tmp_path: Path) -> None:
    model = tmp_path / "signed"
    shutil.copytree(SIGNED / "v1.1.0-sigstore", model)
    for path in [model, *model.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    policy = signature_checklists(tmp_path / "cl", [{"match": "ibm", "required": True,
                                                     "signers": [sigstore_signer()]}])
    ledger = Ledger(tmp_path / "ledger.db")
    try:
        result = review(model, "ibm/granite", policy, ledger, tmp_path / "work")
    finally:
        ledger.close()

    signature = reads_fully(SignatureEvidence, result.evidence)
    assert signature.verified and signature.mode == "sigstore" and signature.signer["identity"] == IDENTITY
    assert signature.trust.decision == "expected" and signature.trust.expected[0]["identity"] == IDENTITY
    assert signature.transparency is not None and signature.transparency["log_index"] == 598151086
    assert signature.publisher_rule is not None and signature.publisher_rule.required
    states = {f.path: f.state for f in signature.files}
    assert states["signme-1"] == "match" and states["model.sig"] == "ignored"
    assert all(f.signed == f.now for f in signature.files if f.state == "match")


def test_provenance_attestations_read_back_in_full(tmp_path: Path) -> None:
    signing = keys(tmp_path / "builder-keys", "builder")
    publisher = key_publisher("local/*", signing["builder"].with_suffix(".pub"))
    session = open_session(checklists(tmp_path / "checklists", ["fetch", "signature", "card"], [publisher]))
    try:
        folder = revision(tmp_path / "model", 0, "apache-2.0", pipeline=False)
        digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
        envelope = dsse(slsa_provenance(digests), signing["builder"])
        (folder / "provenance.intoto.jsonl").write_text(json.dumps(envelope) + "\n")
        results = session.ledger.results(reviewed(session, folder).id)
    finally:
        session.close()

    signature = reads_fully(SignatureEvidence, results["signature"].evidence)
    raw = results["signature"].evidence["provenance"]["attestations"]
    assert len(signature.attestations) == len(raw) == 1
    [attestation] = signature.attestations
    assert attestation.file == "provenance.intoto.jsonl" and attestation.usable
    assert attestation.facts == raw[0]["facts"] and signature.usable_attestations == (attestation,)
    assert len(attestation.subjects) == len(digests)
    card = reads_fully(CardEvidence, results["card"].evidence)
    assert card.fields["training_pipeline"].status == "verified"
