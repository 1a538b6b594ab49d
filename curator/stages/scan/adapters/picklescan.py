"""picklescan: no JSON output, so its log lines are the verdict; a missing summary means it crashed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from curator.core.models import Severity
from curator.stages.scan.adapters.base import Scanner, ScannerRun, TargetOutcome, link_targets, owner
from curator.stages.scan.targets import ScanTarget

# paths are curator's own links (.../<key>/<name>); the scratch folder may hold spaces
_FOUND = re.compile(r"^(?P<path>.+?): (?P<level>dangerous|suspicious) "
                    r"import '(?P<module>\S+) (?P<name>[^']+)' FOUND")
_UNREAD = re.compile(r"^(?:ERROR: parsing pickle in (?P<a>.+?)|"
                     r"WARNING: could not parse (?P<b>.+?) as pickle):? (?P<why>.*)$")
_SCANNED = re.compile(r"^Scanned files: (\d+)$", re.MULTILINE)


class PickleScan(Scanner):
    name = "picklescan"
    package = "picklescan"
    entry = "picklescan.cli:main"
    formats = frozenset({"pickle"})

    def accepts(self, target: ScanTarget) -> str | None:
        if target.format == "file" and target.sniffed in ("7z", "rar"):
            # without py7zr it raises on the first 7z file and loses the whole run's results
            return "picklescan aborts its whole run on 7-Zip/RAR files it cannot open"
        return super().accepts(target)

    def scan(self, targets: list[ScanTarget], workdir: Path, cancelled: Callable[[], bool]) -> ScannerRun:
        names = link_targets(targets, workdir / "in")
        args = [*self.command(), "-p", str(workdir / "in")]
        result = self.run_tool(args, cancelled)
        text = result.stdout + "\n" + result.stderr
        summary = _SCANNED.search(text)
        if result.exit_code not in (0, 1, 2) or summary is None or "Unhandled exception" in text:
            return self.failed_run(targets, result, args, "crashed before its summary")
        found: dict[str, list[tuple[Severity, str, str]]] = {t.key: [] for t in targets}
        errors: dict[str, str] = {}
        for line in text.splitlines():
            if (m := _FOUND.match(line)) and (t := owner(names, m["path"])):
                # "dangerous" is picklescan's deny-list hit; "suspicious" only appears with --strict
                severity = Severity.CRITICAL if m["level"] == "dangerous" else Severity.MEDIUM
                found[t.key].append((severity, m["level"], f"{m['level']} import {m['module']}.{m['name']}"))
            elif (m := _UNREAD.match(line)) and (t := owner(names, m["a"] or m["b"])):
                # picklescan reports "could not parse" and carries on as if clean: it did not read it
                errors[t.key] = f"picklescan could not parse it: {m['why'][:200]}"
        scanned = int(summary.group(1))
        routed = sum(1 for t in targets if t.format != "file")
        outcomes = {}
        for target in targets:
            error = errors.get(target.key)
            if error is None and scanned < routed and not found[target.key] and target.format != "file":
                error = f"picklescan scanned {scanned} of {len(targets)} files; this may be one it skipped"
            findings = tuple(self.finding(target, sev, level, level, text)
                             for sev, level, text in found[target.key])
            outcomes[target.key] = TargetOutcome(findings, error)
        return ScannerRun(self.name, self.version(), "ok", result.seconds, result.exit_code,
                          result.stderr_tail, tuple(args), outcomes)
