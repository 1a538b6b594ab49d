"""Fail-closed verdicts: any blocking finding from any reader blocks; anything unread leaves it unscanned."""

from __future__ import annotations

from curator.core.models import Finding, Severity
from curator.stages.scan.adapters.base import ScannerRun
from curator.stages.scan.config import ScanConfig
from curator.stages.scan.report import FileReport, Verdict, Voice
from curator.stages.scan.targets import FileExam, ScanTarget


def judge_file(exam: FileExam, runs: dict[str, ScannerRun], config: ScanConfig) -> FileReport:
    """One file's verdict from curator's own exam and every scanner's outcome on its targets."""
    voices = {"curator": _own_voice(exam, config)}
    unread = list(exam.unread)
    for name, run in runs.items():
        voices[name] = _scanner_voice(exam.targets, run, config)
        if voices[name].status == "error":
            unread.append(f"{name}: {voices[name].error}")
    findings = tuple(f for v in voices.values() for f in v.findings if f.severity != Severity.INFO)
    blocking = [f for f in findings if config.blocks(f.severity)]
    if blocking:
        verdict, reasons = Verdict.BLOCKED, tuple(f"{f.tool}: {f.message}" for f in blocking[:5])
    elif unread:
        verdict, reasons = Verdict.UNSCANNED, tuple(unread)
    else:
        verdict, reasons = Verdict.CLEAN, ()
    return FileReport(exam.path, exam.size, exam.format, verdict, reasons, findings, voices,
                      tuple(exam.parts), exam.detail)


def _own_voice(exam: FileExam, config: ScanConfig) -> Voice:
    findings = tuple(_pinned(f, exam.path) for f in exam.findings)
    status = _status(findings, config)
    if exam.unread and status != "flagged":
        return Voice("error", findings, "; ".join(exam.unread[:3]), note=exam.detail)
    return Voice(status, findings, note=exam.detail)


def _scanner_voice(targets: list[ScanTarget], run: ScannerRun, config: ScanConfig) -> Voice:
    mine = [t for t in targets if t.key in run.outcomes]
    if not mine:
        reasons = sorted({run.skipped[t.key] for t in targets if t.key in run.skipped})
        if run.status == "missing":
            return Voice("not-run", note=f"{run.name} is not installed")
        return Voice("not-given", note="; ".join(reasons) or "no content of a format it reads")
    outcomes = [run.outcomes[t.key] for t in mine]
    findings = tuple(f for o in outcomes for f in o.findings)
    failed = [t for t in mine if run.outcomes[t.key].error]
    # a scanner that cannot parse what curator's own reader read completely leaves a note, not a hole
    errors = [f"{t.label}: {run.outcomes[t.key].error}" for t in failed if t.covered_by is None]
    notes = [f"{t.label}: {run.outcomes[t.key].error} (covered by {t.covered_by})" for t in failed
             if t.covered_by is not None and t.format != "file"]
    status = _status(findings, config)
    labels = tuple(t.label for t in mine)
    if errors and status != "flagged":
        return Voice("error", findings, "; ".join(errors[:3]), labels)
    return Voice(status, findings, None, labels, "; ".join(notes[:3]) or None)


def _status(findings: tuple[Finding, ...], config: ScanConfig) -> str:
    if any(config.blocks(f.severity) for f in findings):
        return "flagged"
    if any(f.severity != Severity.INFO for f in findings):
        return "warned"
    return "clean"


def _pinned(finding: Finding, path: str) -> Finding:
    """Curator's own findings name the candidate file they are about."""
    if finding.file:
        return finding
    return Finding(finding.severity, finding.code, finding.message, finding.tool, finding.tool_version, path)
