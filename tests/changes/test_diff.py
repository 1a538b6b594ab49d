"""The diff's scan, eval and card sections on stage results as the stages record them."""

from __future__ import annotations

from typing import Any

from curator.changes.diff import Side, diff
from curator.core.models import StageResult, Status

FILES = [{"path": "model.safetensors", "size": 10, "sha256": "a" * 64},
         {"path": "config.json", "size": 5, "sha256": "c" * 64}]


def _side(label: str, files: list[dict[str, Any]], acc: float, stderr: float, modelaudit: str,
          verdict: str, code: list[str], bases: list[str]) -> Side:
    scan = StageResult("scan", Status.PASSED if verdict == "clean" else Status.FAILED, evidence={
        "files": [{"path": f["path"], "verdict": verdict if f["path"].endswith(".py") else "clean"}
                  for f in files],
        "scanners": {"modelaudit": {"version": modelaudit}, "picklescan": {"version": "1.0.5"}},
        **({"custom_code": {"files_to_review": code}} if code else {})})
    evaluation = StageResult("eval", Status.PASSED, evidence={
        "results": {"curator_basics": {"acc": acc, "acc_stderr": stderr}}})
    card = StageResult("card", Status.PASSED, evidence={
        "fields": {"lineage": {"status": "declared"}, "training_data": {"status": "declared"}},
        "license": {"id": "apache-2.0", "verdict": "allowed"},
        "lineage": {"bases": [{"repo_id": b} for b in bases]},
        "claims": [{"dataset": "tiny-mcq", "metric": "acc", "value": acc, "n_shot": 0}]})
    return Side(label, "acme/tiny", label, files, {"scan": scan, "eval": evaluation, "card": card})


def test_scan_eval_and_card_changes() -> None:
    old = _side("v1", FILES, 0.25, 0.02, "0.2.54", "clean", [], ["acme/base"])
    new_files = [*FILES, {"path": "modeling_x.py", "size": 3, "sha256": "d" * 64}]
    new = _side("v2", new_files, 0.31, 0.021, "0.2.60", "blocked", ["modeling_x.py"], ["acme/base-v2"])
    doc = diff(old, new)
    assert doc["files"]["added"] == [new_files[2]] and doc["files"]["unchanged"] == 2
    assert doc["scan"]["status"] == {"a": "passed", "b": "failed"}
    assert doc["scan"]["verdicts"] == [{"path": "modeling_x.py", "a": None, "b": "blocked"}]
    assert doc["scan"]["scanners"] == [{"scanner": "modelaudit", "a": "0.2.54", "b": "0.2.60"}]
    (row,) = doc["eval"]
    assert row["task"] == "curator_basics" and row["metric"] == "acc"
    assert row["delta"] == 0.06 and (row["a_stderr"], row["b_stderr"]) == (0.02, 0.021)
    assert doc["card"]["base_models"] == {"a": ["acme/base"], "b": ["acme/base-v2"]}
    assert doc["card"]["claims"] == [{"claim": "tiny-mcq acc (0-shot)", "a": 0.25, "b": 0.31}]
    assert doc["card"]["license"] is None and doc["card"]["fields"] == []
    assert [h["what"] for h in doc["highlights"]] == ["custom-code", "scan"]
    assert doc["notes"] == [f"{s} ({s.replace('a', 'v1').replace('b', 'v2')}) has no signature result"
                            for s in ("a", "b")]
    same = diff(old, old)
    assert same["highlights"] == [] and same["eval"][0]["delta"] == 0.0
