"""The signed state must not dominate the deploy gate: ``verify`` of one model in a registry
whose signed state lists 1,000 approved models, against hashing that model's bytes.

The state is real: 1,000 targets (``NAME@sha256:…`` with length, hash and the decision facts
of a real approval) signed into one targets version with python-tuf, in the workspace's OCI
layout, next to one model approved for real (decide -> push -> signed state change). Each
run starts from an empty TUF client folder, so it walks the whole client workflow (root,
timestamp, snapshot, targets) before it streams and hashes the blobs.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from pathlib import Path
from typing import Any

from curator.decision.decide import DecisionRequest, decide
from curator.decision.rules import DecisionRules
from curator.decision.signed_state import sign_state_change, trusted_state
from curator.decision.verify import verify
from curator.registry.interface import Reference
from curator.registry.layout import LayoutRegistry
from curator.state import content
from tests.decision.helpers import curator, isolated_checklists, make_model, open_session, reviewed

MODELS = int(os.environ.get("CURATOR_BENCH_STATE_MODELS", "1000"))
MODEL_MB = int(os.environ.get("CURATOR_BENCH_STATE_MODEL_MB", "256"))


def _hash_files(folder: Path) -> float:
    start = time.perf_counter()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        with open(path, "rb") as fh:
            hashlib.file_digest(fh, "sha256")
    return time.perf_counter() - start


def test_verify_in_a_1000_model_state_vs_hashing_the_model(tmp_path: Path) -> None:
    session = open_session(isolated_checklists(tmp_path / "checklists", ["fetch"]))
    try:
        ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
        registry = LayoutRegistry(session.workspace.registry_dir)
        model = make_model(tmp_path / "tiny", size=MODEL_MB << 20)
        review = reviewed(session, model)
        outcome = decide(session, DecisionRequest(review.id, True, "bench"), ada, registry)
        assert outcome.ref
        custom: dict[str, Any] = dict(
            gate(session, registry).state.approved()[f"local/tiny@{outcome.manifest_digest}"]
            .unrecognized_fields["custom"])

        def many(targets: Any) -> None:
            for i in range(MODELS - 1):
                digest = "sha256:" + hashlib.sha256(f"model {i}".encode()).hexdigest()
                content.approve(targets, f"org{i % 40}/model-{i:04d}", digest, 1200 + i, f"{i:012x}",
                                custom, True)

        sign_state_change(session, registry, many, [ada], "bench")
        rules = DecisionRules.from_policy(session.policy)
        ref = Reference.parse(outcome.ref)
        state_s, verify_s, hash_s = [], [], []
        for run in range(3):
            hash_s.append(_hash_files(model))
            start = time.perf_counter()
            trusted = trusted_state(registry, session.policy, tmp_path / f"state-{run}")
            state_s.append(time.perf_counter() - start)
            assert len(trusted.state.approved()) == MODELS
            report = verify(registry, ref, trusted, rules)
            verify_s.append(time.perf_counter() - start)
            assert report.ok, report.problems
    finally:
        session.close()
    state, total, hashing = (statistics.median(x) for x in (state_s, verify_s, hash_s))
    print(f"\nsigned state with {MODELS} models: TUF client workflow {state * 1000:.0f} ms; "
          f"verify of one {MODEL_MB} MiB model {total:.2f} s; hashing its bytes {hashing:.2f} s; "
          f"state / hashing = {state / hashing:.2f}, verify / hashing = {total / hashing:.2f}")
    # the state must not dominate: reading and checking it costs less than hashing the model once
    assert state < hashing


def gate(session: Any, registry: Any) -> Any:
    return trusted_state(registry, session.policy, session.workspace.home / "state")
