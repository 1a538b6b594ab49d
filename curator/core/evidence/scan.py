"""The scan stage's evidence, typed: every file's verdict and each reader's say, every scanner run.

The stage builds a ``ScanEvidence`` and stores ``to_evidence()``; readers get it back with
``from_evidence``: one class holds both directions, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from curator.core.evidence.fields import NO_FACTS, EvidenceError, Facts, Fields
from curator.core.models import Finding, Severity, StageResult

STAGE = "scan"


def findings_of(f: Fields, key: str) -> tuple[Finding, ...]:
    """Recorded findings (``Finding.to_dict`` shape); an unknown severity is refused."""
    out = []
    for item in f.objs(key):
        severity = item.text("severity")
        try:
            level = Severity(severity)
        except ValueError:
            raise item.fail("severity", "one of " + ", ".join(s.value for s in Severity)) from None
        out.append(Finding(level, item.text("code"), item.text("message"), item.text("tool", "curator"),
                           item.text("tool_version"), item.opt_text("file")))
    return tuple(out)


@dataclass(frozen=True)
class Disagreement:
    """Readers that saw the same file and reached different verdicts."""

    file: str
    flagged_by: tuple[str, ...]
    clean_by: tuple[str, ...]

    @classmethod
    def read(cls, f: Fields) -> Disagreement:
        return cls(f.text("file"), f.texts("flagged_by"), f.texts("clean_by"))

    def to_evidence(self) -> dict[str, Any]:
        """The run's list names the file; a file's own entry does not (``file`` is "")."""
        return {**({"file": self.file} if self.file else {}), "flagged_by": list(self.flagged_by),
                "clean_by": list(self.clean_by)}


@dataclass(frozen=True)
class Voice:
    """What one reader (curator's checks or a scanner) said about one file."""

    status: str = "not-run"  # flagged | warned | clean | error | not-given | not-run
    targets: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    findings_omitted: int = 0
    error: str | None = None
    note: str | None = None

    @classmethod
    def read(cls, f: Fields) -> Voice:
        return cls(f.text("status", "not-run"), f.texts("targets"), findings_of(f, "findings"),
                   f.integer("findings_omitted"), f.opt_text("error"), f.opt_text("note"))

    def to_evidence(self) -> dict[str, Any]:
        return {"status": self.status, "targets": list(self.targets),
                "findings": [x.to_dict() for x in self.findings],
                **({"findings_omitted": self.findings_omitted} if self.findings_omitted else {}),
                **({"error": self.error} if self.error else {}), **({"note": self.note} if self.note else {})}


@dataclass(frozen=True)
class ScannedFile:
    """One file: its verdict (clean | blocked | unscanned) and why, each reader's say, its parts."""

    path: str
    verdict: str
    format: str = ""
    size: int = 0
    sha256: str | None = None
    detail: str = ""
    reasons: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    scanners: Mapping[str, Voice] = field(default_factory=lambda: NO_FACTS)
    disagreement: Disagreement | None = None
    parts: tuple[Facts, ...] = ()  # what the unpacking found inside (open facts, shown as they are)

    @classmethod
    def read(cls, f: Fields) -> ScannedFile:
        disagreement = f.opt_obj("disagreement")
        return cls(
            path=f.text("path"), verdict=f.text("verdict"), format=f.text("format"), size=f.integer("size"),
            sha256=f.opt_text("sha256"), detail=f.text("detail"), reasons=f.texts("reasons"),
            findings=findings_of(f, "findings"),
            scanners={name: Voice.read(v) for name, v in f.named_objs("scanners").items()},
            disagreement=Disagreement.read(disagreement) if disagreement is not None else None,
            parts=tuple(p.frozen() for p in f.objs("parts")))

    def to_evidence(self) -> dict[str, Any]:
        return {"path": self.path, "verdict": self.verdict, "format": self.format,
                "findings": [x.to_dict() for x in self.findings], "reasons": list(self.reasons),
                "size": self.size, "detail": self.detail,
                "scanners": {name: voice.to_evidence() for name, voice in self.scanners.items()},
                "disagreement": self.disagreement.to_evidence() if self.disagreement else None,
                "parts": [dict(p) for p in self.parts], "sha256": self.sha256}


@dataclass(frozen=True)
class ScannerRun:
    """One external scanner's run over the files routed to it."""

    status: str = ""
    version: str = ""
    seconds: float = 0.0
    exit_code: int | None = None
    stderr_tail: tuple[str, ...] = ()
    command: tuple[str, ...] = ()
    targets: int = 0
    errors: int = 0
    routed: int | None = None

    @classmethod
    def read(cls, f: Fields) -> ScannerRun:
        return cls(f.text("status"), f.text("version"), f.number("seconds"), f.opt_integer("exit_code"),
                   f.texts("stderr_tail"), f.texts("command"), f.integer("targets"), f.integer("errors"),
                   f.opt_integer("routed"))

    def to_evidence(self) -> dict[str, Any]:
        return {"version": self.version, "status": self.status, "seconds": self.seconds,
                "exit_code": self.exit_code, "stderr_tail": list(self.stderr_tail),
                "command": list(self.command), "targets": self.targets, "errors": self.errors,
                **({"routed": self.routed} if self.routed is not None else {})}

    @property
    def finished(self) -> bool:
        return self.status in ("ok", "idle")


@dataclass(frozen=True)
class ScanPolicy:
    """What the policy made the scan block on; ``allowed_formats`` None means any format."""

    block_severities: tuple[str, ...] = ()
    allowed_formats: tuple[str, ...] | None = None
    scanners: tuple[str, ...] = ()
    recorded: bool = False

    @classmethod
    def read(cls, f: Fields) -> ScanPolicy:
        raw = f.data.get("allowed_formats")
        allowed = None if raw is None or raw == "any" else f.texts("allowed_formats")
        return cls(f.texts("block_severities"), allowed, f.texts("scanners"), bool(f.data))

    def to_evidence(self) -> dict[str, Any]:
        if not self.recorded:
            return {}
        return {"block_severities": list(self.block_severities),
                "allowed_formats": "any" if self.allowed_formats is None else list(self.allowed_formats),
                "scanners": list(self.scanners)}


@dataclass(frozen=True)
class CustomCode:
    """Code shipped with the model; a custom-code waiver must name every file to review."""

    files: tuple[Facts, ...] = ()  # {path, codes, references, ...}: shown by the code viewer as they are
    files_to_review: tuple[str, ...] = ()
    status_without: str = ""  # what the scan would say if custom code were not counted
    transformers: str | None = None

    @classmethod
    def read(cls, f: Fields) -> CustomCode:
        files = f.objs("files")
        for entry in files:
            entry.text("path")
        return cls(tuple(e.frozen() for e in files), f.texts("files_to_review"), f.text("status_without"),
                   f.opt_text("transformers"))

    def to_evidence(self) -> dict[str, Any]:
        return {"files": [dict(e) for e in self.files], "files_to_review": list(self.files_to_review),
                "status_without": self.status_without, "transformers": self.transformers}


@dataclass(frozen=True)
class ScanEvidence:
    """Every file's verdict, every scanner run, and where scanners disagree."""

    files: tuple[ScannedFile, ...] = ()
    counts: Mapping[str, int] = field(default_factory=lambda: NO_FACTS)
    scanners: Mapping[str, ScannerRun] = field(default_factory=lambda: NO_FACTS)
    disagreements: tuple[Disagreement, ...] = ()
    policy: ScanPolicy = ScanPolicy()
    seconds: float = 0.0
    unpacked_bytes: int = 0
    manifest_digest: str = ""
    custom_code: CustomCode | None = None

    KEYS = frozenset({"files", "counts", "scanners", "disagreements", "policy", "seconds", "unpacked_bytes",
                      "manifest_digest", "custom_code"})

    @classmethod
    def from_evidence(cls, evidence: object) -> ScanEvidence:
        """The one place the scan stage's evidence dict is read."""
        f = Fields(evidence, STAGE)
        custom = f.opt_obj("custom_code")
        return cls(
            files=tuple(ScannedFile.read(e) for e in f.objs("files")), counts=f.int_map("counts"),
            scanners=_runs(f),
            disagreements=tuple(Disagreement.read(d) for d in f.objs("disagreements")),
            policy=ScanPolicy.read(f.obj("policy")), seconds=f.number("seconds"),
            unpacked_bytes=f.integer("unpacked_bytes"), manifest_digest=f.text("manifest_digest"),
            custom_code=CustomCode.read(custom) if custom is not None else None)

    def to_evidence(self) -> dict[str, Any]:
        """The dict the ledger stores: the one place the scan stage's evidence is written."""
        return {"files": [f.to_evidence() for f in self.files], "counts": dict(self.counts),
                "scanners": {name: run.to_evidence() for name, run in self.scanners.items()},
                "disagreements": [d.to_evidence() for d in self.disagreements],
                "policy": self.policy.to_evidence(), "seconds": self.seconds,
                "unpacked_bytes": self.unpacked_bytes, "manifest_digest": self.manifest_digest,
                **({"custom_code": self.custom_code.to_evidence()} if self.custom_code is not None else {})}

    @classmethod
    def of(cls, result: StageResult | None) -> ScanEvidence:
        return cls.from_evidence(result.evidence if result is not None else None)

    @staticmethod
    def runs_of(result: StageResult | None) -> Mapping[str, ScannerRun]:
        """Only the scanner runs (what the inventory lists for a thousand models, without every file)."""
        return _runs(Fields(result.evidence if result is not None else None, STAGE))

    def file(self, path: str) -> ScannedFile | None:
        return next((f for f in self.files if f.path == path), None)



def _runs(f: Fields) -> Mapping[str, ScannerRun]:
    return {name: ScannerRun.read(r) for name, r in f.named_objs("scanners").items()}


__all__ = ["CustomCode", "Disagreement", "EvidenceError", "ScanEvidence", "ScanPolicy", "ScannedFile",
           "ScannerRun", "Voice", "findings_of"]
