"""Stale stage results: the policy, a tool or the inventory moved after a stage ran."""

from __future__ import annotations

import os
import time
from importlib.metadata import version
from pathlib import Path

from curator.core.models import StageResult, Status
from curator.core.workspace import Workspace
from curator.ledger import open_ledger
from curator.review.staleness import stale_stages


def _policy(folder: Path, when: float) -> Path:
    folder.mkdir()
    for name in ("default.yaml", "publishers.yaml", "curators.yaml"):
        (folder / name).write_text("version: 1\n")
        os.utime(folder / name, (when, when))
    return folder


def _result(stage: str, ran: float, **tools: str) -> StageResult:
    return StageResult(stage, Status.PASSED, tool_versions=tools, started=ran - 1, finished=ran)


def test_fresh_results_are_not_stale(tmp_path: Path) -> None:
    now = time.time()
    policy = _policy(tmp_path / "checklists", now - 100)
    ledger = open_ledger(Workspace.open(tmp_path / "home"))
    try:
        results = {"scan": _result("scan", now - 50, pyyaml=version("pyyaml")),
                   "card": _result("card", now - 50)}
        assert stale_stages(results, policy, ledger, "r1") == []
        # who may approve (curators.yaml) is no input of any stage
        os.utime(policy / "curators.yaml", (now, now))
        assert stale_stages(results, policy, ledger, "r1") == []
    finally:
        ledger.close()


def test_policy_tools_and_inventory_each_make_results_stale(tmp_path: Path) -> None:
    now = time.time()
    policy = _policy(tmp_path / "checklists", now - 100)
    ledger = open_ledger(Workspace.open(tmp_path / "home"))
    try:
        results = {"scan": _result("scan", now - 50, pyyaml="0.0.1", not_a_package="1"),
                   "card": _result("card", now - 50), "eval": _result("eval", now - 50)}
        stale = {s.stage: s.why for s in stale_stages(results, policy, ledger, "r1")}
        assert list(stale) == ["scan"] and f"pyyaml 0.0.1 → {version('pyyaml')}" in stale["scan"]
        ledger.append("pushed", {"ref": "acme/other:v1"}, "r2")  # another model joined the inventory
        ledger.append("pushed", {"ref": "acme/self:v1"}, "r1")  # the review's own push is no change
        stale = {s.stage: s.why for s in stale_stages(results, policy, ledger, "r1")}
        assert set(stale) == {"scan", "card"} and "inventory changed" in stale["card"]
        os.utime(policy / "default.yaml", (now, now))
        stale = {s.stage: s.why for s in stale_stages(results, policy, ledger, "r1")}
        assert set(stale) == {"scan", "card", "eval"}
        assert all("policy" in why and str(policy) in why for why in stale.values())
    finally:
        ledger.close()
