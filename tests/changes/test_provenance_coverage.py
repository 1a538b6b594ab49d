"""Provenance that says what it covers: the files each attestation names, the weights it must
name before the card's pipeline and lineage count as verified, a base model that contradicts
the card, and a wrong signer graded the same whether it is a key or a keyless identity."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import Severity, StageResult, Status
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


def _model(folder: Path, base_model: str | None = None) -> dict[str, str]:
    revision(folder, 0, "apache-2.0", pipeline=False)
    if base_model:
        card = (folder / "README.md").read_text().replace("---\n", f"---\nbase_model: {base_model}\n", 1)
        (folder / "README.md").write_text(card)
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def _attest(folder: Path, statement: dict[str, Any], key: Path) -> None:
    (folder / ATTESTATION).write_text(json.dumps(dsse(statement, key)) + "\n")


def _run(session: Session, folder: Path) -> tuple[StageResult, StageResult]:
    results = session.ledger.results(reviewed(session, folder).id)
    return results["signature"], results["card"]


def test_an_attestation_of_the_config_alone_verifies_nothing_about_the_weights(
        session: Session, tmp_path: Path, signing: dict[str, Path]) -> None:
    model = tmp_path / "partial"
    digests = _model(model)
    _attest(model, slsa_provenance({"config.json": digests["config.json"]}), signing["builder"])
    signature, card = _run(session, model)
    (attestation,) = signature.evidence["provenance"]["attestations"]
    assert attestation["status"] == "verified" and attestation["trust"]["decision"] == "expected"
    assert attestation["covers"] == ["config.json"]
    assert attestation["weights_not_covered"] == ["model.safetensors"]
    assert not attestation["usable"]
    partial = next(f for f in signature.findings if f.code == "provenance-partial")
    assert "model.safetensors" in partial.message and "config.json" in partial.message
    assert card.evidence["fields"]["training_pipeline"]["status"] == "missing"
    assert card.evidence["fields"]["lineage"]["status"] != "verified"


def test_an_attestation_of_every_weight_file_verifies_and_lists_what_it_covers(
        session: Session, tmp_path: Path, signing: dict[str, Path]) -> None:
    model = tmp_path / "whole"
    digests = _model(model)
    _attest(model, slsa_provenance({"model.safetensors": digests["model.safetensors"]}), signing["builder"])
    signature, card = _run(session, model)
    (attestation,) = signature.evidence["provenance"]["attestations"]
    assert attestation["covers"] == ["model.safetensors"] and attestation["weights_not_covered"] == []
    assert attestation["usable"]
    assert card.evidence["fields"]["training_pipeline"]["status"] == "verified"


def test_an_attested_base_model_that_contradicts_the_card_is_a_lineage_conflict(
        session: Session, tmp_path: Path, signing: dict[str, Path]) -> None:
    model = tmp_path / "conflict"
    digests = _model(model, base_model="acme/tiny-base")
    statement = slsa_provenance({"model.safetensors": digests["model.safetensors"]})
    statement["predicate"]["buildDefinition"]["resolvedDependencies"][1]["uri"] = \
        "https://huggingface.co/evil-org/backdoored-base"
    _attest(model, statement, signing["builder"])
    _, card = _run(session, model)
    conflict = next(f for f in card.findings if f.code == "lineage-conflict")
    assert conflict.severity == Severity.HIGH
    assert "evil-org/backdoored-base" in conflict.message and "acme/tiny-base" in conflict.message
    assert card.evidence["fields"]["lineage"]["status"] != "verified"
    assert card.status == Status.FAILED

    agreeing = tmp_path / "agreeing"
    digests = _model(agreeing, base_model="acme/tiny-base")
    statement = slsa_provenance({"model.safetensors": digests["model.safetensors"]})
    _attest(agreeing, statement, signing["builder"])
    _, card = _run(session, agreeing)
    assert "lineage-conflict" not in {f.code for f in card.findings}
    assert card.evidence["fields"]["lineage"]["status"] == "verified"


def test_a_base_model_named_in_the_build_parameters_counts_too() -> None:
    from curator.stages.signature.slsa import provenance_facts

    statement = slsa_provenance({"model.safetensors": "a" * 64})
    statement["predicate"]["buildDefinition"]["resolvedDependencies"].pop()
    statement["predicate"]["buildDefinition"]["externalParameters"]["base_model"] = "Evil-Org/Backdoored-Base"
    facts = provenance_facts(statement)
    assert facts is not None and facts["base_models"] == ["Evil-Org/Backdoored-Base"]


def test_a_wrong_keyless_identity_and_an_unlisted_key_are_graded_alike(
        tmp_path: Path, signing: dict[str, Path]) -> None:
    if not (SIGNED / "v1.0.0-sigstore").is_dir():
        missing(f"the signed-model fixtures at {SIGNED}", "clone shared/ beside the repository")
    from curator.core.models import FileEntry, Manifest
    from curator.stages.signature.provenance import check_provenance
    from curator.stages.signature.verify import Anchor

    keyless = tmp_path / "keyless"
    keyless.mkdir()
    shutil.copy(SIGNED / "v1.0.0-sigstore" / "model.sig", keyless / "release.sigstore.json")
    someone_else = [Anchor("sigstore", identity="release-bot@acme.example", issuer=ISSUER)]
    wrong_identity = check_provenance(keyless, None, "model.sig", someone_else, TRUST_CONFIG,
                                      "publisher acme", None)

    keyed = tmp_path / "keyed"
    digests = _model(keyed)
    _attest(keyed, slsa_provenance({"model.safetensors": digests["model.safetensors"]}), signing["stranger"])
    manifest = Manifest(tuple(FileEntry(p, (keyed / p).stat().st_size,
                                        hashlib.sha256((keyed / p).read_bytes()).hexdigest())
                              for p in sorted(x.name for x in keyed.iterdir())))
    listed = [Anchor("key", public_key=signing["builder"].with_suffix(".pub"))]
    unlisted_key = check_provenance(keyed, manifest, "model.sig", listed, TRUST_CONFIG, "publisher acme",
                                    None)

    assert [(f.code, f.severity) for f in wrong_identity.findings] == [
        ("provenance-untrusted-signer", Severity.HIGH)]
    assert [(f.code, f.severity) for f in unlisted_key.findings] == [("provenance-invalid", Severity.HIGH)]
    assert IDENTITY in wrong_identity.findings[0].message
    assert wrong_identity.status(Status.PASSED) == unlisted_key.status(Status.PASSED) == Status.FAILED
