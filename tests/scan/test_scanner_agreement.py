"""Never drop a finding: what modelaudit, picklescan and modelscan say at critical, run by hand on each
corpus file, curator's verdict must carry.

Each scanner runs here exactly as a person would run it, on the corpus as written (no curator
routing, no renaming). A file one of them flags critical must come out of ``curator scan``
blocked or unscanned, or, for a benign file where the scanner's critical is one of its known
false alarms, carry that very finding in curator's report, re-graded by a ``tool_severity``
rule of the shipped policy (which states the reason in its comment).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from curator.core.policy import Policy
from tests.scan import corpus

Criticals = dict[str, set[tuple[str, str]]]  # corpus-relative file -> {(tool, rule)}
BIN = Path(sys.executable).parent
_PICKLESCAN = re.compile(r"^(?P<path>.+?)(?::\S+)?: dangerous import '(?P<what>[^']+)' FOUND$")
#: TF2 saver ops inside TF's own saver functions: modelaudit calls them critical in every SavedModel;
#: curator's adapter grades them info there (and its own graph check flags them anywhere else)
_TF_SAVER = re.compile(r"__inference__traced_(save|restore)_\d+.*(SaveV2|RestoreV2|MergeV2Checkpoints)")


def _owner(root: Path, location: str, files: list[str]) -> str | None:
    rel = location[len(str(root)) + 1:] if location.startswith(str(root)) else location
    return next((f for f in sorted(files, key=len, reverse=True)
                 if rel == f or rel.startswith((f + ":", f + " "))), None)


@pytest.fixture(scope="module")
def direct(corpus_root: Path, samples: dict[str, corpus.Sample], tmp_path_factory: pytest.TempPathFactory
           ) -> Criticals:
    """Each scanner's critical findings on the corpus, run by hand."""
    files = sorted(p.relative_to(corpus_root).as_posix() for p in corpus_root.rglob("*") if p.is_file())
    out = tmp_path_factory.mktemp("direct")
    found: Criticals = defaultdict(set)
    env = {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_COLOR": "1"}
    subprocess.run([str(BIN / "modelaudit"), "scan", str(corpus_root), "--no-cache", "-f", "json", "-o",
                    str(out / "ma.json")], env=env, capture_output=True, timeout=900, check=False)
    for issue in json.loads((out / "ma.json").read_text())["issues"]:
        owner = _owner(corpus_root, str(issue.get("location") or ""), files)
        if issue.get("severity") == "critical" and owner:
            rule = str(issue.get("rule_code") or issue.get("type"))
            found[owner].add(("modelaudit", "tf-saver" if _TF_SAVER.search(
                f"{issue.get('location')} {issue.get('message')}") else rule))
    subprocess.run([str(BIN / "modelscan"), "-p", str(corpus_root), "-r", "json", "-o", str(out / "ms.json")],
                   capture_output=True, timeout=900, check=False, cwd=corpus_root)
    for issue in json.loads((out / "ms.json").read_text()).get("issues", []):
        owner = _owner(corpus_root, str(issue.get("source", "")), files)
        if issue.get("severity") == "CRITICAL" and owner:
            found[owner].add(("modelscan", str(issue.get("scanner", "")).rsplit(".", 1)[-1]))
    # picklescan gives up on the whole run at the first 7-Zip file: one run per sample folder
    for folder in sorted({"/".join(s.path.split("/")[:2]) for s in samples.values()}):
        done = subprocess.run([str(BIN / "picklescan"), "-p", str(corpus_root / folder)], capture_output=True,
                              text=True, timeout=300, check=False)
        for line in done.stdout.splitlines():
            if (m := _PICKLESCAN.match(line)) and (owner := _owner(corpus_root, m["path"], files)):
                found[owner].add(("picklescan", "dangerous"))
    assert found, "the scanners flagged nothing at all: they did not run"
    return found


def test_no_critical_finding_of_a_scanner_is_dropped(direct: Criticals, scanned: dict[str, Any],
                                                     samples: dict[str, corpus.Sample]) -> None:
    regraded = {tool: set(rules) for tool, rules in
                (Policy.load().section("scan").get("tool_severity") or {}).items()}
    regraded.setdefault("modelaudit", set()).add("tf-saver")
    malicious = {s.path for s in samples.values() if s.expected != corpus.CLEAN}
    dropped = []
    for path, flagged in sorted(direct.items()):
        report = scanned["by_path"].get(path)
        assert report is not None, f"{path}: flagged by {sorted(flagged)} but missing from curator's report"
        if report["verdict"] in ("blocked", "unscanned"):
            continue
        for tool, rule in sorted(flagged):
            # a known false alarm on a benign file: re-graded by the policy, never silently dropped
            carried = rule == "tf-saver" or any(f["code"] == f"{tool}:{rule}" for f in report["findings"])
            if path in malicious or not (rule in regraded.get(tool, set()) and carried):
                dropped.append(f"{path}: {tool} {rule} critical, curator says {report['verdict']}")
    assert not dropped, "\n".join(dropped)


def test_every_malicious_sample_a_scanner_flags_is_blocked(direct: Criticals, scanned: dict[str, Any],
                                                           samples: dict[str, corpus.Sample]) -> None:
    flagged = [s for s in samples.values() if s.expected != corpus.CLEAN and s.path in direct]
    assert len(flagged) >= 40  # the anchors catch most of the corpus by themselves
    assert all(scanned["by_path"][s.path]["verdict"] in ("blocked", "unscanned") for s in flagged)
