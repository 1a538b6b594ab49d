"""Adopted models for export and quarterly tests: real reviews (fetch, scan, card run for real on
local folders), real signed decisions, real pushes into the workspace's OCI layout.

The eval stage's result is recorded as the stage would record it (lm-eval is not what these
tests are about, and a real run needs minutes): scores with standard errors and one checked
card claim.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from curator.attest.keys import FileSigner
from curator.core.models import StageResult, Status
from curator.decision.decide import DecisionRequest, decide
from curator.demo.cards import complete_card
from curator.registry.layout import LayoutRegistry
from curator.review.session import Session
from tests.decision.helpers import isolated_checklists, make_model, reviewed

STAGES = ["fetch", "scan", "card", "eval"]


def checklists(dest: Path, **quarterly: object) -> Path:
    """A checklists copy whose review runs fetch, scan, card and eval; ``quarterly:`` overridden."""
    import yaml

    folder = isolated_checklists(dest, STAGES)
    data = yaml.safe_load((folder / "default.yaml").read_text())
    data.setdefault("quarterly", {}).update({"check_upstream": False, **quarterly})
    (folder / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return folder


def model_folder(folder: Path, name: str, base: str = "acme-labs/tinyllama-base", seed: int = 0,
                 license_id: str = "apache-2.0") -> Path:
    """A small clean model whose card is complete, declares ``base`` and claims acc 0.27."""
    make_model(folder, seed=seed)
    card = complete_card(name, "v1.0", 0.27).replace("acme-labs/tinyllama-base", base)
    (folder / "README.md").write_text(card.replace("license: apache-2.0", f"license: {license_id}"))
    return folder


def eval_result(measured: float = 0.31, stderr: float = 0.02, claimed: float = 0.27,
                verdict: str = "ok") -> StageResult:
    """An eval result shaped like the eval stage's (``curator/stages/eval/__init__.py`` keys)."""
    return StageResult("eval", Status.PASSED, evidence={
        "model": {"kind": "causal", "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"},
        "results": {"curator_basics": {"acc": measured, "acc_stderr": stderr},
                    "curator_completion": {"acc": 0.52, "acc_stderr": 0.03, "acc_norm": 0.55,
                                           "acc_norm_stderr": "N/A"}},
        "claims": [{"task": "text-generation", "dataset": "acme-labs/tiny-mcq", "metric": "acc",
                    "value": claimed, "mapped_task": "curator_basics", "mapped_metric": "acc",
                    "claimed": claimed, "measured": measured, "stderr": stderr,
                    "z": round((claimed - measured) / stderr, 2), "verdict": verdict}],
    }, tool_versions={"lm_eval": "0.4.13"})


@dataclass(frozen=True)
class Adopted:
    review_id: str
    ref: str
    digest: str
    folder: Path


def adopt(session: Session, folder: Path, signer: FileSigner, *, waivers: dict[str, str] | None = None,
          until: dt.date | None = None, evaluated: StageResult | None = None) -> Adopted:
    """Review ``folder`` for real, record its eval, approve it (waiving what blocks) and push it."""
    review = reviewed(session, folder, only=["fetch", "scan", "card"])
    session.ledger.save_result(review.id, evaluated or eval_result())
    results = session.ledger.results(review.id)
    asked = dict(waivers or {})
    for name in STAGES:
        if results[name].status.value in ("failed", "errored") and name not in asked:
            asked[name] = f"{name} accepted for the test"
    outcome = decide(session, DecisionRequest(review.id, True, "fit for internal use", asked, until), signer,
                     LayoutRegistry(session.workspace.registry_dir))
    assert outcome.ref is not None
    return Adopted(review.id, outcome.ref, outcome.manifest_digest, folder)


def blob_path(session: Session, sha256_hex: str) -> Path:
    return session.workspace.registry_dir / "blobs" / "sha256" / sha256_hex


def tamper(path: Path) -> None:
    """Flip one byte of a (read-only) registry blob, same size."""
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
