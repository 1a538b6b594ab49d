"""Inventory and AI-BOM at the scale of a real organisation: 1,000 adopted models.

Every model is adopted for real: a local folder with its own weights reviewed by the fetch,
scan and card stages, an eval result recorded, a signed approval, a push into the
workspace's OCI layout. Then the real CLI (a fresh process each time, as a user runs it)
is timed: ``curator inventory --json`` and ``curator bom -o FILE``. Target: under 2 s each.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curator.decision.decide import DecisionRequest, decide
from curator.registry.layout import LayoutRegistry
from curator.review.session import parse_target
from tests.decision.helpers import curator, open_session
from tests.export.helpers import checklists, eval_result, model_folder

MODELS = int(os.environ.get("CURATOR_BENCH_MODELS", "1000"))
TARGET_S = 2.0


def _adopt_many(tmp_path: Path) -> Path:
    lists = checklists(tmp_path / "checklists")
    session = open_session(lists)
    signer = curator(session.workspace, session.workspace.keys_dir, "Ada", "ada@example.org")
    registry = LayoutRegistry(session.workspace.registry_dir)
    started = time.perf_counter()
    try:
        for i in range(MODELS):
            folder = model_folder(tmp_path / "models" / f"org{i % 40}" / f"model-{i:04d}", f"model-{i:04d}",
                                  seed=i, license_id=("apache-2.0", "mit", "llama3")[i % 3])
            review = session.ledger.create_review(parse_target(str(folder)))
            session.run(review, ["fetch", "scan", "card"])
            session.ledger.save_result(review.id, eval_result(measured=0.25 + (i % 50) / 500))
            failed = session.ledger.results(review.id)["card"].status.value == "failed"
            decide(session, DecisionRequest(review.id, True, f"bench model {i}", {"card": "bench"} if failed
                                            else {}), signer, registry)
    finally:
        session.close()
    print(f"\nadopted {MODELS} models in {time.perf_counter() - started:.0f} s")
    return lists


def _timed(args: list[str], env: dict[str, str],
           runs: int = 3) -> tuple[float, subprocess.CompletedProcess[str]]:
    times, done = [], None
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True, text=True,
                              env=env, timeout=300, check=False)
        times.append(time.perf_counter() - start)
        assert done.returncode == 0, done.stderr[-2000:]
    assert done is not None
    return statistics.median(times), done


@pytest.mark.slow
def test_inventory_and_bom_of_a_thousand_models(tmp_path: Path) -> None:
    lists = _adopt_many(tmp_path)
    env = {**os.environ, "CURATOR_CHECKLISTS": str(lists)}
    inventory_s, done = _timed(["inventory", "--json"], env)
    models = json.loads(done.stdout)["models"]
    assert len(models) == MODELS and {m["status"] for m in models} == {"approved"}
    bom = tmp_path / "bom.json"
    bom_s, _ = _timed(["bom", "-o", str(bom)], env)
    document = json.loads(bom.read_text())
    assert len(document["components"]) == MODELS
    print(f"curator inventory --json, {MODELS} models: {inventory_s:.2f} s "
          f"(median of 3, target {TARGET_S} s)")
    print(f"curator bom, {MODELS} models: {bom_s:.2f} s, {bom.stat().st_size / 1e6:.1f} MB "
          f"(median of 3, target {TARGET_S} s)")
    assert inventory_s < TARGET_S and bom_s < TARGET_S
