"""What a scan concluded, per file and overall, in the shapes the CLI, the stage and the TUI read."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from curator.core.evidence.scan import Disagreement, ScanEvidence, ScannedFile, ScanPolicy
from curator.core.evidence.scan import Voice as VoiceEvidence
from curator.core.models import Finding, Manifest, Severity, Status
from curator.stages.scan.adapters.base import ScannerRun

MAX_EVIDENCE_FINDINGS = 50


class Verdict(StrEnum):
    """A file's verdict: ``unscanned`` means it can carry code and was not fully read; it blocks."""

    CLEAN = "clean"
    BLOCKED = "blocked"
    UNSCANNED = "unscanned"


@dataclass(frozen=True)
class Voice:
    """What one reader (curator's checks or a scanner) said about one file."""

    status: str  # flagged | warned | clean | error | not-given | not-run
    findings: tuple[Finding, ...] = ()
    error: str | None = None
    targets: tuple[str, ...] = ()
    note: str | None = None

    def evidence(self) -> VoiceEvidence:
        """As recorded: the first findings, and how many more there were."""
        return VoiceEvidence(self.status, self.targets, self.findings[:MAX_EVIDENCE_FINDINGS],
                             max(0, len(self.findings) - MAX_EVIDENCE_FINDINGS), self.error or None,
                             self.note or None)


@dataclass(frozen=True)
class FileReport:
    """One file: its format, verdict and why, and each reader's say (for the triage table)."""

    path: str
    size: int
    format: str
    verdict: Verdict
    reasons: tuple[str, ...]
    findings: tuple[Finding, ...]  # low and above, from every reader
    voices: dict[str, Voice]
    parts: tuple[dict[str, Any], ...] = ()
    detail: str = ""

    @property
    def disagreement(self) -> dict[str, list[str]] | None:
        """Readers that saw the same file and reached different verdicts, if any."""
        flagged = sorted(n for n, v in self.voices.items() if v.status == "flagged")
        clean = sorted(n for n, v in self.voices.items() if v.status in ("clean", "warned"))
        return {"flagged_by": flagged, "clean_by": clean} if flagged and clean else None

    def to_json(self) -> dict[str, Any]:
        """The ``curator scan --json`` shape: ``{path, verdict, findings[]}`` plus a few extras."""
        return {"path": self.path, "verdict": self.verdict.value, "format": self.format,
                "findings": [f.to_dict() for f in self.findings], "reasons": list(self.reasons)}

    def evidence(self, sha256: str | None) -> ScannedFile:
        """As recorded, with the pinned digest of its bytes (None for a file the manifest lacks)."""
        split = self.disagreement
        return ScannedFile(
            path=self.path, verdict=self.verdict.value, format=self.format, size=self.size, sha256=sha256,
            detail=self.detail, reasons=self.reasons, findings=self.findings,
            scanners={name: voice.evidence() for name, voice in self.voices.items()},
            disagreement=Disagreement("", tuple(split["flagged_by"]), tuple(split["clean_by"]))
            if split else None,
            parts=tuple(MappingProxyType(dict(p)) for p in self.parts[:200]))


@dataclass(frozen=True)
class ScanReport:
    """Every file's report and every scanner's run."""

    files: tuple[FileReport, ...]
    runs: dict[str, ScannerRun]
    seconds: float = 0.0
    policy: dict[str, Any] = field(default_factory=dict)
    unpacked_bytes: int = 0

    @property
    def status(self) -> Status:
        """failed if any file is blocked, errored if any is unscanned, warned on lesser findings."""
        verdicts = {f.verdict for f in self.files}
        if Verdict.BLOCKED in verdicts:
            return Status.FAILED
        if Verdict.UNSCANNED in verdicts:
            return Status.ERRORED
        if any(f.findings for f in self.files):
            return Status.WARNED
        return Status.PASSED

    @property
    def counts(self) -> dict[str, int]:
        return {v.value: sum(1 for f in self.files if f.verdict == v) for v in Verdict}

    def summary(self, names_shown: int = 5) -> str:
        """One line for people: "3 files: 2 clean, 1 blocked, 0 unscanned — blocked: model.pkl"."""
        counts = self.counts
        line = (f"{len(self.files)} file{'' if len(self.files) == 1 else 's'}: "
                + ", ".join(f"{counts[v.value]} {v.value}" for v in Verdict))
        for verdict in (Verdict.BLOCKED, Verdict.UNSCANNED):
            paths = [f.path for f in self.files if f.verdict == verdict]
            if paths:
                more = f" and {len(paths) - names_shown} more" if len(paths) > names_shown else ""
                line += f" — {verdict.value}: {', '.join(paths[:names_shown])}{more}"
        return line

    @property
    def tool_versions(self) -> dict[str, str]:
        return {name: run.version for name, run in self.runs.items()}

    def findings(self) -> list[Finding]:
        """Every finding of every file, plus one per unscanned file saying why (stage findings)."""
        out = [f for report in self.files for f in report.findings]
        for report in self.files:
            if report.verdict == Verdict.UNSCANNED:
                out.append(Finding(Severity.HIGH, "file-unscanned",
                                   f"{report.path} can carry code and was not fully read: "
                                   + "; ".join(report.reasons[:3]), file=report.path))
        return out

    def disagreements(self) -> list[dict[str, Any]]:
        return [{"file": f.path, **d} for f in self.files if (d := f.disagreement) is not None]

    def to_json(self) -> dict[str, Any]:
        """``curator scan --json``: ``files[{path, verdict, findings[]}]``, status, scanners."""
        return {"status": self.status.value, "counts": self.counts,
                "files": [f.to_json() for f in self.files],
                "scanners": {n: {"version": r.version, "status": r.status} for n, r in self.runs.items()},
                "disagreements": self.disagreements()}

    def evidence(self, manifest: Manifest) -> ScanEvidence:
        """The stage's evidence: per-file voices, per-scanner runs, versions, disagreements."""
        policy = self.policy
        formats = policy.get("allowed_formats", "any")
        return ScanEvidence(
            files=tuple(f.evidence(e.sha256 if (e := manifest.get(f.path)) else None) for f in self.files),
            counts=self.counts, scanners={n: r.evidence() for n, r in self.runs.items()},
            disagreements=tuple(Disagreement(d["file"], tuple(d["flagged_by"]), tuple(d["clean_by"]))
                                for d in self.disagreements()),
            policy=ScanPolicy(tuple(policy.get("block_severities", ())),
                                       None if formats == "any" else tuple(formats),
                                       tuple(policy.get("scanners", ())), bool(policy)),
            seconds=round(self.seconds, 3), unpacked_bytes=self.unpacked_bytes,
            manifest_digest=manifest.digest)
