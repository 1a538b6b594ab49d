"""modelaudit: ``modelaudit scan PATH... --no-cache -f json -o out.json``, telemetry off.

It exits 1 on any warning, so its verdict is read from ``issues[].severity``. It hashes every
file it is given three ways, so it only gets targets up to the policy's size cap: big weight
files reach it as the pickles curator extracted from them, or not at all when curator's own
header checks cover the format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from curator.core.models import Finding, Severity
from curator.stages.scan.adapters.base import Scanner, ScannerRun, TargetOutcome
from curator.stages.scan.targets import ScanTarget

BATCH = 200
_ENV = {"PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_COLOR": "1"}
_SEVERITY = {"critical": Severity.CRITICAL, "error": Severity.HIGH, "warning": Severity.LOW,
             "info": Severity.INFO}
#: modelaudit says it could not read something in prose; these are the phrasings it uses
_UNREAD = re.compile(r"unable to read|could not (?:be )?(?:read|parse|open|load|validated)|parse error|"
                     r"parsing (?:stopped|failed)|dependency is unavailable|not installed|"
                     r"coverage is incomplete", re.IGNORECASE)
_POSITION = re.compile(r" \(pos \d+\)$")
#: "(function: __inference__traced_save_180, node: SaveV2)": TF2's own checkpoint functions
_SAVER_PLACE = re.compile(r"\(function: __inference__traced_(?:save|restore)_\d+, node: [^)]*\)")
_SAVER_OPS = ("SaveV2", "RestoreV2", "MergeV2Checkpoints", "ShardedFilename")


class ModelAudit(Scanner):
    name = "modelaudit"
    package = "modelaudit"
    entry = "modelaudit.__main__:_run"
    # no onnx: without the onnx package it reports incomplete coverage on every model
    formats = frozenset({"pickle", "hdf5", "keras", "gguf", "template", "savedmodel"})

    def accepts(self, target: ScanTarget) -> str | None:
        if target.format not in self.formats and target.format != "file":
            return "format not read by this scanner"
        if target.state_dict and self.config.modelaudit_skip_state_dicts:
            return ("a plain torch state dict (only OrderedDict, _rebuild_tensor*, storages, dtypes); "
                    "modelaudit's call-graph analysis of it costs ~0.5 s per callable and decides nothing")
        if target.size > self.config.modelaudit_max_file_bytes:
            return (f"{target.size} bytes is over modelaudit_max_file_bytes "
                    f"({self.config.modelaudit_max_file_bytes}); it hashes whole files three ways")
        return None

    def scan(self, targets: list[ScanTarget], workdir: Path, cancelled: Callable[[], bool]) -> ScannerRun:
        workdir.mkdir(parents=True, exist_ok=True)
        outcomes: dict[str, TargetOutcome] = {}
        seconds, codes, args = 0.0, [], []
        tails: list[str] = []
        for n in range(0, len(targets), BATCH):
            batch = targets[n:n + BATCH]
            out = workdir / f"out{n // BATCH}.json"
            args = [*self.command(), "scan", *(str(t.path.resolve()) for t in batch), "--no-cache",
                    "-f", "json", "-o", str(out)]
            result = self.run_tool(args, cancelled, env=_ENV)
            seconds += result.seconds
            if result.exit_code not in (0, 1, 2) or not out.exists():
                return self.failed_run(targets, result, args, f"exited {result.exit_code} without a report")
            try:
                report = json.loads(out.read_text())
            except ValueError:
                return self.failed_run(targets, result, args, "wrote a report that is not JSON")
            codes.append(result.exit_code)
            tails.extend(result.stderr_tail)
            outcomes.update(self._read(batch, report))
        return ScannerRun(self.name, self.version(), "ok", seconds, max(c or 0 for c in codes or [0]),
                          tuple(tails[-20:]), tuple(args), outcomes)

    def _read(self, batch: list[ScanTarget], report: dict[str, Any]) -> dict[str, TargetOutcome]:
        by_path = {str(t.path.resolve()): t for t in batch}
        ordered = sorted(by_path, key=len, reverse=True)
        findings: dict[str, list[Finding]] = {t.key: [] for t in batch}
        errors: dict[str, str] = {}
        issues = report.get("issues", [])
        for issue in issues if isinstance(issues, list) else []:
            location = _POSITION.sub("", str(issue.get("location") or ""))
            path = next((p for p in ordered
                         if location == p or location.startswith((p + ":", p + " "))), None)
            if path is None:
                continue  # folder-wide notes (licences) name no file
            target = by_path[path]
            level = str(issue.get("severity", "warning")).lower()
            if target.format == "file" and level not in ("critical", "error"):
                continue  # the as-is pass only adds what could block; the routed pass gives the rest
            message = str(issue.get("message", ""))
            if _UNREAD.search(message) and level != "critical":
                errors.setdefault(target.key, f"modelaudit could not read it: {message[:200]}")
            if level in _SEVERITY:
                where = location[len(path):].strip(" :")
                text = f"{where}: {message}" if where else message
                rule = str(issue.get("rule_code") or issue.get("type") or "issue")
                severity = _SEVERITY[level]
                if _SAVER_PLACE.search(where) and message.rstrip().endswith(_SAVER_OPS):
                    # every TF2 SavedModel writes these inside its saver functions; curator's graph
                    # check flags them anywhere else
                    severity, text = Severity.INFO, f"{text} (inside TF's own saver function)"
                findings[target.key].append(self.finding(target, severity, rule, level, text))
        assets = report.get("assets", [])
        listed = {str(a.get("path")) for a in assets if isinstance(a, dict)} if isinstance(assets, list) \
            else set()
        outcomes = {}
        for path, target in by_path.items():
            error = errors.get(target.key)
            if error is None and path not in listed and target.format != "file":
                error = "modelaudit did not list it among the files it scanned"
            outcomes[target.key] = TargetOutcome(tuple(findings[target.key]), error)
        return outcomes
