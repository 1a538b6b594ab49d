"""The verify gate against both registries (OCI layout and a real docker-registry): the approved
artifact passes, and every tamper case makes `curator verify` exit 1 naming its reason."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from curator.attest.dsse import sign_statement
from curator.attest.keys import FileSigner, init_keys
from curator.core.policy import Policy
from curator.decision.decide import DecisionOutcome, DecisionRequest, assess, decide
from curator.decision.rules import DecisionRules
from curator.decision.verify import pull, verify
from curator.registry.artifact import DECISION_ARTIFACT_TYPE, build_decision, model_artifact
from curator.registry.interface import INDEX_TYPE, MANIFEST_TYPE, Descriptor, Reference, fallback_tag
from curator.registry.transfer import push_model
from curator.review.session import Session
from tests.decision.helpers import (
    cli,
    curator,
    gate,
    isolated_checklists,
    make_model,
    open_session,
    reviewed,
    rotate,
    state_for,
)
from tests.registry.conftest import Backend


@dataclass
class Approved:
    backend: Backend
    session: Session
    ada: FileSigner
    outcome: DecisionOutcome
    checklists: Path
    name: str
    tag: str
    model: Path

    @property
    def cli_ref(self) -> str:
        if self.backend.distribution:
            return f"{self.backend.distribution.host}/{self.name}:{self.tag}"
        return f"oci:{self.backend.registry.location}:{self.name}:{self.tag}"

    @property
    def subject(self) -> Descriptor:
        body, _ = self.backend.registry.get_manifest(self.name, self.outcome.manifest_digest)
        return Descriptor(MANIFEST_TYPE, self.outcome.manifest_digest, len(body))

    def envelope(self) -> bytes:
        event = self.session.ledger.events(kind="decision")[-1]
        return str(event["payload"]["envelope"]).encode()

    def statement(self) -> dict[str, Any]:
        return dict(json.loads(base64.b64decode(json.loads(self.envelope())["payload"])))

    def file_digest(self, path: str) -> str:
        files = self.statement()["predicate"]["files"]
        return "sha256:" + next(f["sha256"] for f in files if f["path"] == path)

    def gate(self) -> tuple[int, dict[str, object]]:
        done = cli("verify", self.cli_ref, "--json", env={"CURATOR_CHECKLISTS": str(self.checklists)})
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, json.loads(done.stdout)

    def replace_decision(self, envelopes: list[bytes], subject: Descriptor | None = None) -> None:
        """Swap the attached decision(s) for others, as someone with registry write access could."""
        registry = self.backend.registry
        decision = build_decision(envelopes, subject or self.subject)
        for descriptor, data in decision.blobs:
            registry.push_blob(self.name, descriptor.digest, descriptor.size, data)
        registry.put_manifest(self.name, decision.manifest, MANIFEST_TYPE, decision.digest)
        entry = Descriptor(MANIFEST_TYPE, decision.digest, len(decision.manifest),
                           artifact_type=DECISION_ARTIFACT_TYPE)
        index = {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [entry.to_dict()]}
        registry.put_manifest(self.name, json.dumps(index).encode(), INDEX_TYPE,
                              fallback_tag(self.outcome.manifest_digest))


@pytest.fixture
def approved(backend: Backend, tmp_path: Path) -> Iterator[Approved]:
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch"])
    session = open_session(checklists)
    ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
    state_for(backend.registry, session.workspace)
    model = make_model(tmp_path / "tiny", size=3 << 20)
    review = reviewed(session, model)
    outcome = decide(session, DecisionRequest(review.id, True, "clean"), ada, backend.registry)
    assert outcome.ref
    # a remote ref is HOST/NAME:TAG; the layout's is NAME:TAG
    ref = Reference.parse(outcome.ref.split("/", 1)[1] if backend.distribution else outcome.ref)
    yield Approved(backend, session, ada, outcome, checklists, ref.name, ref.tag or "", model)
    session.close()


def _signed(statement: dict[str, Any], signer: FileSigner, **predicate: object) -> bytes:
    edited = json.loads(json.dumps(statement))
    edited["predicate"].update(predicate)
    return sign_statement(edited, signer)


def test_approved_artifact_passes(approved: Approved) -> None:
    code, report = approved.gate()
    assert code == 0 and report["ok"] and report["manifest_digest"] == approved.outcome.manifest_digest


def test_tampered_blob(approved: Approved) -> None:
    blob = approved.backend.blob_file(approved.file_digest("model.safetensors"))
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[-100] ^= 0xFF  # same size, one byte different
    blob.write_bytes(bytes(data))
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "tampered-blob"
    assert "model.safetensors" in report["problems"][0]["message"]


def test_edited_decision_is_forged(approved: Approved) -> None:
    doc = json.loads(approved.envelope())
    statement = approved.statement()
    statement["predicate"]["rationale"] = "edited after signing"
    doc["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    approved.replace_decision([json.dumps(doc).encode()])
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "forged-decision"


def test_decision_signed_with_an_untrusted_key(approved: Approved, tmp_path: Path) -> None:
    init_keys(tmp_path / "mallory", "Mallory", "mallory@example.org")
    mallory = FileSigner(tmp_path / "mallory")
    approved.replace_decision([_signed(approved.statement(), mallory, curator=mallory.identity.to_dict())])
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "untrusted-key"


def test_rejected_decision(approved: Approved) -> None:
    approved.replace_decision([_signed(approved.statement(), approved.ada, outcome="rejected",
                                       rationale="licence withdrawn")])
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "rejected"
    assert "licence withdrawn" in report["problems"][0]["message"]


def test_deleted_referrer(approved: Approved) -> None:
    approved.backend.delete_tag(approved.name, fallback_tag(approved.outcome.manifest_digest))
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "no-decision"


def test_revoked_key(approved: Approved, tmp_path: Path) -> None:
    # the team revokes Ada's key (curators.yaml + 'state rotate', signed by Ada and Bob):
    # the root no longer lists it, so the decisions it signed are no evidence any more
    init_keys(tmp_path / "bob", "Bob", "bob@example.org")
    bob = FileSigner(tmp_path / "bob")
    (approved.checklists / "curators.yaml").write_text(yaml.safe_dump({"curators": [
        {"name": "Ada", "email": "ada@example.org", "public_key": approved.ada.public_key_pem,
         "revoked": "2026-11-01"},
        {"name": "Bob", "email": "bob@example.org", "public_key": bob.public_key_pem}]}))
    rotate(approved.backend.registry, Policy.load(approved.checklists), [approved.ada, bob])
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "untrusted-key", report


def test_decision_moved_to_another_manifest(approved: Approved) -> None:
    # a different model pushed under the same tag, with the genuine decision re-attached to it
    (approved.model / "extra.py").write_text("import os\nos.system('true')\n")
    other = reviewed(approved.session, approved.model)
    genuine = approved.envelope()
    manifest = assess(approved.session, other.id).manifest
    assert manifest is not None
    _name, _tag, artifact = model_artifact(approved.session.policy, other, manifest)
    assert artifact.digest != approved.outcome.manifest_digest
    push_model(approved.backend.registry, approved.name, approved.tag, artifact, approved.model,
               [genuine])  # the first model's genuine decision, attached to the new manifest
    code, report = approved.gate()
    # the registry's tag moved without a signed change: refused, naming both digests
    assert code == 1 and report["reason"] == "tag-mismatch", report
    assert artifact.digest in report["problems"][0]["message"]
    assert approved.outcome.manifest_digest in report["problems"][0]["message"]


def test_expired_waiver_fails_the_gate(approved: Approved) -> None:
    waived = _signed(approved.statement(), approved.ada,
                     waivers=[{"stage": "eval", "reason": "no GPU", "expires": "2026-12-31",
                               "status": "errored"}])
    approved.replace_decision([waived])
    trusted = gate(approved.session, approved.backend.registry)
    rules = DecisionRules.from_policy(approved.session.policy)
    ref = Reference(approved.name, tag=approved.tag)
    assert verify(approved.backend.registry, ref, trusted, rules, today=dt.date(2026, 12, 31)).ok
    late = verify(approved.backend.registry, ref, trusted, rules, today=dt.date(2027, 1, 1))
    assert [p.code for p in late.problems] == ["waiver-expired"]


def test_pull_is_all_or_nothing(approved: Approved, tmp_path: Path) -> None:
    trusted = gate(approved.session, approved.backend.registry)
    rules = DecisionRules.from_policy(approved.session.policy)
    ref = Reference(approved.name, tag=approved.tag)
    good = pull(approved.backend.registry, ref, tmp_path / "good", trusted, rules)
    assert good.ok and (tmp_path / "good" / "tokenizer" / "tokenizer.json").is_file()
    blob = approved.backend.blob_file(approved.file_digest("README.md"))
    blob.chmod(0o644)
    blob.write_bytes(b"X" * blob.stat().st_size)
    bad = pull(approved.backend.registry, ref, tmp_path / "bad", trusted, rules)
    assert not bad.ok and bad.problems[0].code == "tampered-blob"
    assert not (tmp_path / "bad").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bad")]
