"""Quarterly flags that read the inventory alone: a name that now looks like another model's, and
an approval over critical findings. Built on real InventoryEntry rows and the shipped policy."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

from curator.core.models import Finding, Severity, StageResult, Status
from curator.core.policy import Policy
from curator.inventory.build import APPROVED, RETIRED, Inventory, InventoryEntry
from curator.quarterly.checks import eval_check, findings_check, lookalike_check
from tests.decision.helpers import REPO_ROOT


def _entry(repo_id: str, status: str = APPROVED,
           waivers: list[dict[str, str]] | None = None) -> InventoryEntry:
    name = repo_id
    return InventoryEntry(
        ref=f"{name}:abc", repo_id=repo_id, revision="a" * 40, manifest_digest="sha256:" + "0" * 64,
        decision={"curator": {"name": "Ada"}, "waivers": waivers or []}, status=status, reasons=(),
        name=name, tag="abc", digest_ref=f"{name}@sha256:" + "0" * 64, files_digest="", source="hub",
        endpoint="http://127.0.0.1:1", review_id=repo_id, registry="reg", approved_epoch=0.0, age_days=1)


def test_a_name_close_to_another_inventory_model_is_flagged() -> None:
    session = SimpleNamespace(policy=Policy.load(REPO_ROOT / "checklists"))
    genuine, impostor = _entry("acme-labs/tinyllama-clean"), _entry("acme-1abs/tinyllama-clean")
    inventory = Inventory((genuine, impostor), "reg", True, "")
    check = lookalike_check(session, impostor, inventory)
    assert check.outcome == "warn" and "acme-labs" in check.message
    # a retired impostor never poisons the genuine name
    retired = Inventory((genuine, dataclasses.replace(impostor, status=RETIRED)), "reg", True, "")
    assert lookalike_check(session, genuine, retired).outcome == "ok"


def test_critical_findings_under_a_waiver_are_listed_with_it(tmp_path: Path) -> None:
    entry = _entry("acme-labs/tinyllama-clean",
                   waivers=[{"stage": "scan", "expires": "2027-01-01", "reason": "reviewed model.pkl"}])
    scan = StageResult("scan", Status.FAILED, findings=(
        Finding(Severity.CRITICAL, "pickle-global", "os.system", tool="picklescan", file="model.pkl"),
        Finding(Severity.LOW, "note", "fine", file="config.json")))
    check = findings_check(entry, {"scan": scan})
    assert check.outcome == "warn"
    assert "critical pickle-global in model.pkl (picklescan)" in check.message
    assert "reviewed model.pkl" in check.message and "config.json" not in check.message
    assert findings_check(entry, {}).outcome == "ok"
    assert eval_check({}).outcome == "warn" and "never ran" in eval_check({}).message
