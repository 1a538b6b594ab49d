"""modelscan: ``modelscan -p DIR -r json -o out.json`` over symlinks named so its parsers engage.

It picks a parser by extension and skips the rest silently, so every target is linked with
the suffix of the format curator found in it, and any target missing from its
``scanned_files`` counts as unread.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from curator.core.models import Severity
from curator.stages.scan.adapters.base import Scanner, ScannerRun, TargetOutcome, link_targets, owner
from curator.stages.scan.targets import ScanTarget

_SEVERITY = {"CRITICAL": Severity.CRITICAL, "HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM,
             "LOW": Severity.LOW}


class ModelScan(Scanner):
    name = "modelscan"
    package = "modelscan"
    entry = "modelscan.cli:main"
    # no .npy (it crashes under numpy 2) and no .keras (needs tensorflow): curator reads those
    formats = frozenset({"pickle", "hdf5", "savedmodel"})

    def scan(self, targets: list[ScanTarget], workdir: Path, cancelled: Callable[[], bool]) -> ScannerRun:
        names = link_targets(targets, workdir / "in")
        out = workdir / "out.json"
        args = [*self.command(), "-p", str(workdir / "in"), "-r", "json", "-o", str(out)]
        result = self.run_tool(args, cancelled)
        # 0 clean, 1 issues, 2 some errors (listed), 3 nothing scanned: all leave a report to read
        if result.exit_code not in (0, 1, 2, 3) or not out.exists():
            return self.failed_run(targets, result, args, f"exited {result.exit_code} without a report")
        try:
            report = json.loads(out.read_text())
        except ValueError:
            return self.failed_run(targets, result, args, "wrote a report that is not JSON")
        found: dict[str, list[tuple[Severity, str, str]]] = {t.key: [] for t in targets}
        errors: dict[str, str] = {}
        for issue in report.get("issues", []):
            target = owner(names, issue.get("source", ""))
            if target is not None:
                found[target.key].append((_SEVERITY.get(str(issue.get("severity")), Severity.HIGH),
                                          str(issue.get("scanner", "")).rsplit(".", 1)[-1] or "issue",
                                          str(issue.get("description", ""))))
        for error in report.get("errors", []):
            target = owner(names, error.get("source", ""))
            if target is not None:
                errors[target.key] = f"modelscan could not read it: {error.get('description', '?')}"
        scanned = {t.key for s in report.get("summary", {}).get("scanned", {}).get("scanned_files", [])
                   if (t := owner(names, s)) is not None}
        outcomes = {}
        for target in targets:
            error = errors.get(target.key)
            skipped = target.key not in scanned and not found[target.key]
            if error is None and skipped and target.format != "file":
                error = "modelscan skipped it: none of its parsers took the file"
            findings = tuple(self.finding(target, sev, rule, sev.value, text)
                             for sev, rule, text in found[target.key])
            outcomes[target.key] = TargetOutcome(findings, error)
        return ScannerRun(self.name, self.version(), "ok", result.seconds, result.exit_code,
                          result.stderr_tail, tuple(args), outcomes)

