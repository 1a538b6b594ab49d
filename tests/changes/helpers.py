"""Building blocks for change-control tests: revisions of a model, signed for real; policies;
DSSE envelopes made here. Nothing is mocked: stages, ledger, registry and keys are real."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.decision.helpers import REPO_ROOT, remember_checklists, safetensors
from tests.signature.helpers import make_key, sign_with_key

CARD = """---
license: {license}
datasets: [acme/clean-corpus]
---
# tiny

Developed by: Acme Labs

## Training data

Trained on the acme/clean-corpus dataset of public-domain English text.
{pipeline}"""
PIPELINE = """
## Training procedure

Two epochs of next-token prediction with AdamW, learning rate 3e-4, batch size 32.
"""


def revision(folder: Path, seed: int, license: str, key: Path | None = None, pipeline: bool = True) -> Path:
    """A small model folder: weights (``seed`` picks the bytes), config, card; signed with ``key``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(safetensors(4096 + 64 * seed, seed))
    (folder / "config.json").write_text('{"model_type": "gpt2", "n_layer": 2}\n')
    (folder / "README.md").write_text(CARD.format(license=license, pipeline=PIPELINE if pipeline else ""))
    if key is not None:
        sign_with_key(folder, key)
    return folder


def files_of(folder: Path) -> dict[str, bytes]:
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in paths}


def keys(folder: Path, *names: str) -> dict[str, Path]:
    """Fresh P-256 signing keys (private PEM; the public one is next to it as ``.pub``)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: make_key(folder / f"{name}.key") for name in names}


def checklists(dest: Path, stages: list[str], publishers: list[dict[str, Any]] | None = None,
               scan: dict[str, Any] | None = None, **decision: Any) -> Path:
    """A copy of checklists/ with these stages, publishers, scan and decision settings."""
    shutil.copytree(REPO_ROOT / "checklists", dest)
    data = yaml.safe_load((dest / "default.yaml").read_text())
    data["stages"] = stages
    data.setdefault("decision", {}).update(decision)
    data["scan"] = {**data["scan"], **(scan or {})}
    (dest / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (dest / "publishers.yaml").write_text(yaml.safe_dump({"version": 1, "publishers": publishers or []}))
    return remember_checklists(dest)


def key_publisher(match: str, *public_keys: Path) -> dict[str, Any]:
    """A publishers.yaml entry trusting these public keys (absolute paths work as well)."""
    return {"match": match, "required": False, "signers": [{"key": str(k)} for k in public_keys]}


def dsse(statement: dict[str, Any], private_key: Path) -> dict[str, Any]:
    """A DSSE envelope over an in-toto statement, signed with a P-256 key (as in-toto tools make them)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    payload = json.dumps(statement).encode()
    payload_type = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)
    key = serialization.load_pem_private_key(private_key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = key.sign(pae, ec.ECDSA(hashes.SHA256()))
    return {"payloadType": payload_type, "payload": base64.b64encode(payload).decode(),
            "signatures": [{"keyid": "", "sig": base64.b64encode(signature).decode()}]}


def slsa_provenance(subjects: dict[str, str], builder: str = "https://github.com/acme/trainer/runner@v1",
                    commit: str = "a" * 40) -> dict[str, Any]:
    """A SLSA v1 provenance statement about ``subjects`` (name -> sha256 hex)."""
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": n, "digest": {"sha256": d}} for n, d in subjects.items()],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": "https://acme.example/training/v1",
                "externalParameters": {"workflow": {"repository": "https://github.com/acme/train",
                                                    "ref": "refs/heads/main", "path": "train.yaml"},
                                       "epochs": 2, "learning_rate": "3e-4"},
                "resolvedDependencies": [
                    {"uri": "git+https://github.com/acme/train@refs/heads/main",
                     "digest": {"gitCommit": commit}},
                    {"uri": "https://huggingface.co/acme/tiny-base", "digest": {"sha256": "b" * 64}}],
            },
            "runDetails": {"builder": {"id": builder}, "metadata": {"invocationId": "run-42"}},
        },
    }
