"""Stages write their evidence through the same typed class their readers use.

A stage builds the typed value and stores ``to_evidence()``; readers get it back with
``from_evidence``. These tests hold the two directions to each other (a round trip gives the
value back) and to the JSON already in ledgers (the writer gives the very bytes the hand-built
dicts gave, rebuilt here with the expression the stage used before), and a guard fails when a
stage hands a hand-built dict to its ``StageResult`` again.
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from curator.core.evidence.fetch import FetchEvidence, Mismatch, Problem
from curator.core.evidence.scan import CustomCode, ScanEvidence
from curator.core.models import FileEntry, Finding, Manifest, Severity, canonical_json
from curator.stages.scan.adapters.base import ScannerRun, TargetOutcome
from curator.stages.scan.report import MAX_EVIDENCE_FINDINGS, FileReport, ScanReport, Verdict, Voice

COMMIT = "c" * 40
MANIFEST = Manifest((FileEntry("model.safetensors", 12, "ab" * 32), FileEntry("config.json", 3, "cd" * 32)))
MISMATCHES = (
    Mismatch("weights.bin", 9, "ef" * 32, (Problem("sha256-mismatch", "12" * 32, "ef" * 32),
                                            Problem("wrong-commit", COMMIT, "(none)"))),
    Mismatch("big.bin", 70, "", (Problem("file-too-large", limit=64),)),
    Mismatch("blob.txt", 4, "aa" * 32, (Problem("git-sha1-mismatch", "b" * 40, None),)),  # sha1 unknown: null
)

HUB_PIN = FetchEvidence(repo_id="acme/m", revision="main", commit=COMMIT, endpoint="http://127.0.0.1:9")
DOWNLOADED = replace(HUB_PIN, checks={"model.safetensors": "lfs-sha256", "config.json": "git-blob-sha1"},
                     resumed={"model.safetensors": 4}, downloaded=True)
LOCAL_COPIED = FetchEvidence(repo_id="local/m", path="/models/m", copied_to="/home/reviews/r1/files")
LOCAL_IN_PLACE = FetchEvidence(repo_id="local/m", path="/models/m", copied_to=None)

FETCH_CASES = {
    "hub, refused before any file": HUB_PIN.pinned(Manifest(())),
    "hub, downloaded with mismatches": DOWNLOADED.pinned(MANIFEST, MISMATCHES),
    "hub, pin only (older rows)": HUB_PIN,
    "local, copied": LOCAL_COPIED.pinned(MANIFEST),
    "local, hashed in place": LOCAL_IN_PLACE.pinned(MANIFEST),
}


@pytest.mark.parametrize("case", sorted(FETCH_CASES))
def test_fetch_evidence_round_trips(case: str) -> None:
    typed = FETCH_CASES[case]
    stored = json.loads(json.dumps(typed.to_evidence()))  # as the ledger gives it back
    assert FetchEvidence.from_evidence(stored) == typed
    assert set(stored) <= FetchEvidence.KEYS


def _old_fetch(base: dict[str, Any], good: Manifest, bad: list[dict[str, Any]]) -> dict[str, Any]:
    """``FetchStage._result`` before the typed writer (copied from the code it replaced)."""
    return {**base, "files": good.to_list(), "manifest_digest": good.digest, "total_bytes": good.total_size,
            "mismatches": [{"path": o["path"], "size": o["size"], "sha256": o["sha256"],
                            "problems": o["problems"]} for o in bad]}


OLD_PROBLEMS = [
    {"path": "weights.bin", "size": 9, "sha256": "ef" * 32,
     "problems": [{"code": "sha256-mismatch", "expected": "12" * 32, "actual": "ef" * 32},
                  {"code": "wrong-commit", "expected": COMMIT, "actual": "(none)"}]},
    {"path": "big.bin", "size": 70, "sha256": "", "problems": [{"code": "file-too-large", "limit": 64}]},
    {"path": "blob.txt", "size": 4, "sha256": "aa" * 32,
     "problems": [{"code": "git-sha1-mismatch", "expected": "b" * 40, "actual": None}]},
]
OLD_HUB = {"repo_id": "acme/m", "revision": "main", "commit": COMMIT, "endpoint": "http://127.0.0.1:9"}


@pytest.mark.parametrize(("case", "old"), [
    ("hub, refused before any file", _old_fetch(OLD_HUB, Manifest(()), [])),
    ("hub, downloaded with mismatches", _old_fetch(
        {**OLD_HUB, "checks": {"model.safetensors": "lfs-sha256", "config.json": "git-blob-sha1"},
         "resumed": {"model.safetensors": 4}}, MANIFEST, OLD_PROBLEMS)),
    ("local, copied", _old_fetch({"path": "/models/m", "repo_id": "local/m",
                                  "copied_to": "/home/reviews/r1/files"}, MANIFEST, [])),
    ("local, hashed in place", _old_fetch({"path": "/models/m", "repo_id": "local/m", "copied_to": None},
                                          MANIFEST, [])),
])
def test_fetch_writes_the_bytes_the_hand_built_dict_wrote(case: str, old: dict[str, Any]) -> None:
    """Results are hashed into the chain: the same run must store the same JSON (key order too)."""
    assert json.dumps(FETCH_CASES[case].to_evidence()) == json.dumps(old)
    assert canonical_json(FETCH_CASES[case].to_evidence()) == canonical_json(old)


# -- scan ---------------------------------------------------------------------------------------

def _scan_report() -> tuple[ScanReport, Manifest]:
    """A blocked pickle two readers disagree on (one with more findings than the evidence keeps),
    a clean safetensors file, custom code, and two scanner runs (one routed, one crashed)."""
    bad = Finding(Severity.CRITICAL, "pickle-global", "os.system", "model.pkl", "picklescan", "1.0.5")
    many = tuple(Finding(Severity.HIGH, "pickle-global", f"name {i}", "model.pkl", "modelaudit", "0.2")
                 for i in range(MAX_EVIDENCE_FINDINGS + 3))
    files = (
        FileReport("model.pkl", 40, "pickle", Verdict.BLOCKED, ("os.system",), (bad,),
                   {"picklescan": Voice("flagged", (bad,), targets=("model.pkl",)),
                    "modelscan": Voice("clean", targets=("model.pkl",), note="read as a raw pickle"),
                    "modelaudit": Voice("flagged", many, error="", targets=("model.pkl",))},
                   ({"member": "data.pkl", "format": "pickle"},), detail="a raw pickle"),
        FileReport("model.safetensors", 12, "safetensors", Verdict.CLEAN, (), (),
                   {"curator": Voice("clean")}),
        FileReport("extra.bin", 3, "unknown", Verdict.UNSCANNED, ("not read",), (),
                   {"modelscan": Voice("error", error="crashed")}),
    )
    runs = {"picklescan": ScannerRun("picklescan", "1.0.5", "ok", 0.12345, 1, ("x",), ("picklescan", "-p"),
                                     {"model.pkl": TargetOutcome((bad,))}, routed=1),
            "modelscan": ScannerRun("modelscan", "0.8.8", "crashed", 1.0, None, (), ("modelscan",),
                                    {"model.pkl": TargetOutcome(error="parse error")})}
    policy = {"block_severities": ["critical", "high"], "allowed_formats": "any",
              "scanners": ["picklescan", "modelscan"]}
    manifest = Manifest((FileEntry("model.pkl", 40, "aa" * 32),
                         FileEntry("model.safetensors", 12, "bb" * 32)))
    return ScanReport(files, runs, 2.34567, policy, 99), manifest


def _old_scan(report: ScanReport, manifest: Manifest, custom: dict[str, Any] | None) -> dict[str, Any]:
    """The scan stage's evidence before the typed writer (copied from the code it replaced:
    ``ScanReport.evidence``, ``FileReport.evidence``, ``Voice.to_dict``, ``ScannerRun.evidence``
    and the stage's additions)."""
    def voice(v: Voice) -> dict[str, Any]:
        data: dict[str, Any] = {"status": v.status, "targets": list(v.targets),
                                "findings": [f.to_dict() for f in v.findings[:MAX_EVIDENCE_FINDINGS]]}
        if len(v.findings) > MAX_EVIDENCE_FINDINGS:
            data["findings_omitted"] = len(v.findings) - MAX_EVIDENCE_FINDINGS
        if v.error:
            data["error"] = v.error
        if v.note:
            data["note"] = v.note
        return data

    def run(r: ScannerRun) -> dict[str, Any]:
        return {"version": r.version, "status": r.status, "seconds": round(r.seconds, 3),
                "exit_code": r.exit_code, "stderr_tail": list(r.stderr_tail),
                "command": list(r.command), "targets": len(r.outcomes),
                "errors": sum(1 for o in r.outcomes.values() if o.error),
                **({"routed": r.routed} if r.routed is not None else {})}

    evidence = {"files": [{**f.to_json(), "size": f.size, "detail": f.detail,
                           "scanners": {name: voice(v) for name, v in f.voices.items()},
                           "disagreement": f.disagreement, "parts": list(f.parts)[:200]}
                          for f in report.files],
                "counts": report.counts, "scanners": {n: run(r) for n, r in report.runs.items()},
                "disagreements": report.disagreements(), "policy": report.policy,
                "seconds": round(report.seconds, 3), "unpacked_bytes": report.unpacked_bytes}
    digests = {f.path: f.sha256 for f in manifest.files}
    for item in evidence["files"]:
        item["sha256"] = digests.get(item["path"])
    evidence["manifest_digest"] = manifest.digest
    if custom:
        evidence["custom_code"] = custom
    return evidence


CUSTOM = CustomCode(({"path": "modeling_x.py", "codes": ["custom-code-python"], "imports": ["os"]},),
                    ("modeling_x.py",), "failed", None)
CUSTOM_OLD = {"files": [{"path": "modeling_x.py", "codes": ["custom-code-python"], "imports": ["os"]}],
              "files_to_review": ["modeling_x.py"], "status_without": "failed", "transformers": None}


@pytest.mark.parametrize("custom", [False, True])
def test_scan_writes_the_bytes_the_hand_built_dicts_wrote(custom: bool) -> None:
    report, manifest = _scan_report()
    typed = replace(report.evidence(manifest), custom_code=CUSTOM if custom else None)
    old = _old_scan(report, manifest, CUSTOM_OLD if custom else None)
    assert json.dumps(typed.to_evidence()) == json.dumps(old)  # the very bytes, key order included
    assert typed.files[0].scanners["modelaudit"].findings_omitted == 3


@pytest.mark.parametrize("policy", [
    {"block_severities": ["critical"], "allowed_formats": ["safetensors"], "scanners": []}, {}])
def test_scan_evidence_round_trips(policy: dict[str, Any]) -> None:
    report, manifest = _scan_report()
    typed = replace(replace(report, policy=policy).evidence(manifest), custom_code=CUSTOM)
    stored = json.loads(json.dumps(typed.to_evidence()))
    assert ScanEvidence.from_evidence(stored) == typed
    assert set(stored) <= ScanEvidence.KEYS
    assert typed.policy.recorded is bool(policy)


# -- the guard ----------------------------------------------------------------------------------

STAGES = Path(__file__).resolve().parents[2] / "curator" / "stages"
#: stages whose evidence is still a hand-built dict (the typed readers read it; their writers are
#: to come): converting one means deleting it here, and the guard then holds it
HAND_BUILT = {"signature", "card", "eval"}


def _hand_built(tree: ast.AST) -> list[int]:
    """``StageResult(..., evidence=X)`` where X is not ``something.to_evidence()``."""
    found = []
    for node in ast.walk(tree):
        name = getattr(node.func, "id", getattr(node.func, "attr", "")) if isinstance(node, ast.Call) else ""
        if isinstance(node, ast.Call) and name == "StageResult":
            given = [k.value for k in node.keywords if k.arg == "evidence"] + node.args[3:4]
            for value in given:
                if not (isinstance(value, ast.Call) and getattr(value.func, "attr", "") == "to_evidence"):
                    found.append(node.lineno)
    return found


def test_typed_stages_do_not_hand_build_their_evidence() -> None:
    offenders = []
    for folder in sorted(p for p in STAGES.iterdir() if p.is_dir() and (p / "__init__.py").is_file()):
        if folder.name in HAND_BUILT:
            continue
        for path in sorted(folder.rglob("*.py")):
            offenders += [f"{path.relative_to(STAGES)}:{line}"
                          for line in _hand_built(ast.parse(path.read_text(encoding="utf-8")))]
    assert offenders == []


def test_the_guard_sees_a_hand_built_dict() -> None:
    sample = ast.parse('StageResult(stage="x", status=s, evidence={"a": 1})\n'
                       'StageResult("x", s, (), evidence)\n'
                       'StageResult(stage="x", status=s, evidence=typed.to_evidence())\n')
    assert _hand_built(sample) == [1, 2]


def test_every_hand_built_stage_exists() -> None:
    """The list of stages still to convert names real stages (a renamed one is not skipped silently)."""
    assert {p.name for p in STAGES.iterdir() if p.is_dir()} >= HAND_BUILT
