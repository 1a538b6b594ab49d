"""Attacks on provenance attestations through the signature stage: what the reader does not read
is said, never silently dropped (an attestation file longer than the cap, a subject list longer
than the cap)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from curator.core.models import Status
from curator.ledger import Ledger
from curator.stages.signature.provenance import MAX_LINES, MAX_SUBJECTS
from tests.changes.helpers import dsse, slsa_provenance
from tests.signature.helpers import checklists, make_key, make_model, review, sign_with_key

WEIGHTS = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + b"\x03" * 64
ATTESTATION = "provenance.intoto.jsonl"


def _signed(tmp_path: Path, lines: list[dict[str, object]]) -> tuple[Path, object]:
    (tmp_path / "cl").mkdir(exist_ok=True)
    key = make_key(tmp_path / "cl" / "acme.pem")
    model = make_model(tmp_path / "m", {"model.safetensors": WEIGHTS, "config.json": b"{}"})
    (model / ATTESTATION).write_text("".join(json.dumps(dsse(s, key)) + "\n" for s in lines))
    sign_with_key(model, key)
    policy = checklists(tmp_path / "cl", [{"match": "acme", "signers": [{"key": "acme.pub"}]}])
    return model, policy


def test_attestations_past_the_line_cap_are_said_not_dropped(tmp_path: Path, ledger: Ledger) -> None:
    statement = slsa_provenance({"model.safetensors": hashlib.sha256(WEIGHTS).hexdigest()})
    model, policy = _signed(tmp_path, [statement] * (MAX_LINES + 3))
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    [finding] = [f for f in result.findings if f.code == "provenance-not-read"]
    assert finding.file == ATTESTATION and str(MAX_LINES) in finding.message and "3" in finding.message
    assert result.status == Status.WARNED


def test_subjects_past_the_cap_are_said_not_dropped(tmp_path: Path, ledger: Ledger) -> None:
    """The weights named after MAX_SUBJECTS decoys: not read, so not covered, and said so."""
    decoys = {f"decoy-{n}.txt": "0" * 64 for n in range(MAX_SUBJECTS)}
    statement = slsa_provenance({**decoys, "model.safetensors": hashlib.sha256(WEIGHTS).hexdigest()})
    model, policy = _signed(tmp_path, [statement])
    result = review(model, "acme/tiny", policy, ledger, tmp_path / "w")
    codes = {f.code for f in result.findings}
    assert "provenance-not-read" in codes, result.findings
    assert result.evidence["provenance"]["usable"] == 0


@pytest.mark.parametrize(("attestor", "model"), [
    # two different identities whose "identity (issuer X)" phrases read the same
    ({"kind": "sigstore", "identity": "rel@acme.example (issuer https://a.example)", "issuer": "https://b.example"},
     {"kind": "sigstore", "identity": "rel@acme.example", "issuer": "https://a.example) (issuer https://b.example"}),
    # the same identity, another issuer
    ({"kind": "sigstore", "identity": "rel@acme.example", "issuer": "https://evil.example"},
     {"kind": "sigstore", "identity": "rel@acme.example", "issuer": "https://a.example"}),
])
def test_an_attestor_is_the_model_signer_only_field_by_field(tmp_path: Path, attestor: dict[str, str],
                                                             model: dict[str, str]) -> None:
    from curator.stages.signature.provenance import Checker

    checker = Checker([], tmp_path / "trust.json", "publisher acme", model, None)
    assert checker._trust(attestor)[0] == "unknown"
    assert checker._trust(dict(model))[0] == "expected"
