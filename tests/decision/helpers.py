"""Building blocks for decision and registry tests: a sample model, isolated policy, keys, reviews.

Nothing here fakes the thing under test: reviews run the real fetch stage into the real
ledger, keys are real P-256 keys, registries are real (layout folder or docker-registry).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from curator.attest.keys import FileSigner, init_keys, public_key_of
from curator.attest.trust import trust_in_workspace
from curator.core.models import Candidate, Review, StageResult
from curator.core.policy import Policy
from curator.core.workspace import Workspace
from curator.review.session import Session, parse_target

REPO_ROOT = Path(__file__).resolve().parents[2]


def safetensors(n: int, seed: int = 0) -> bytes:
    """A valid safetensors file with one float32 tensor of ``n`` values (header built by hand)."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]}}).encode()
    header += b" " * (-len(header) % 8)
    data = bytes((seed + i * 7) % 251 for i in range(4 * n))
    return struct.pack("<Q", len(header)) + header + data


def make_model(folder: Path, size: int = 1 << 18, seed: int = 0) -> Path:
    """A small clean model folder: weights, config, tokenizer in a subfolder, a card."""
    (folder / "tokenizer").mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(safetensors(size // 4, seed))
    (folder / "config.json").write_text('{"model_type": "gpt2", "n_layer": 2}\n')
    (folder / "tokenizer" / "tokenizer.json").write_text('{"version": "1.0", "model": {}}\n')
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# tiny\n")
    return folder


def isolated_checklists(dest: Path, stages: list[str] | None = None, **decision: Any) -> Path:
    """A copy of checklists/ with the review limited to ``stages`` and decision rules overridden.

    Sets nothing in the environment: pass it to ``Policy.load`` or as CURATOR_CHECKLISTS.
    """
    shutil.copytree(REPO_ROOT / "checklists", dest)
    data = yaml.safe_load((dest / "default.yaml").read_text())
    data["stages"] = stages or ["fetch"]
    data.setdefault("decision", {}).update(decision)
    (dest / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return dest


def curator(ws: Workspace, folder: Path, name: str, email: str) -> FileSigner:
    """A curator's key in ``folder``, trusted by the workspace like 'curator keys init' does."""
    identity = init_keys(folder, name, email)
    trust_in_workspace(ws.keys_dir, identity, public_key_of(folder))
    return FileSigner(folder)


def open_session(checklists: Path) -> Session:
    return Session.open(Workspace.open(os.environ["CURATOR_HOME"]), Policy.load(checklists))


def reviewed(session: Session, folder: Path, opened_by: FileSigner | None = None,
             only: list[str] | None = None) -> Review:
    """A new review of a local folder with the policy's stages (or ``only``) run for real."""
    candidate: Candidate = parse_target(str(folder))
    review = session.ledger.create_review(
        candidate, opened_by=opened_by.identity.to_dict() if opened_by else None)
    session.run(review, only)
    return session.ledger.get_review(review.id)


def save_result(session: Session, review: Review, result: StageResult) -> None:
    session.ledger.save_result(review.id, result)


def cli(*args: str, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process (the environment is inherited, plus ``env``)."""
    return subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, check=False)
