"""Domain records: frozen dataclasses, JSON-friendly through ``to_dict``/``from_dict``."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


def canonical_json(value: object) -> bytes:
    """The one serialisation used for every digest: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def digest_of(value: object) -> str:
    """``sha256:<hex>`` of a JSON-serialisable value's canonical form."""
    return "sha256:" + hashlib.sha256(canonical_json(value)).hexdigest()


class Status(StrEnum):
    """Outcome of one stage."""

    PASSED = "passed"
    WARNED = "warned"
    FAILED = "failed"
    ERRORED = "errored"
    SKIPPED = "skipped"

    @property
    def blocks(self) -> bool:
        """Failed and errored stages block approval unless waived."""
        return self in (Status.FAILED, Status.ERRORED)


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Candidate:
    """What is being reviewed: a hub repo at a revision, or a local folder.

    ``revision`` is what the user asked for; ``commit`` is what it was pinned to
    (a 40-hex git sha for a hub repo, ``sha256:<manifest digest>`` for a folder).
    """

    repo_id: str
    revision: str
    source: str  # "hub" | "local"
    endpoint: str | None = None
    path: str | None = None
    commit: str | None = None

    @property
    def label(self) -> str:
        pin = (self.commit or self.revision)[:12]
        return f"{self.repo_id}@{pin}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(**data)


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    sha256: str  # hex, no prefix

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Manifest:
    """Every file of a candidate with its size and SHA-256, sorted by path."""

    files: tuple[FileEntry, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(sorted(self.files, key=lambda f: f.path)))

    @property
    def digest(self) -> str:
        """``sha256:<hex>`` over the canonical JSON of the file list."""
        return digest_of([f.to_dict() for f in self.files])

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    def get(self, path: str) -> FileEntry | None:
        return next((f for f in self.files if f.path == path), None)

    def to_list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self.files]

    @classmethod
    def from_list(cls, data: list[dict[str, Any]]) -> Manifest:
        return cls(tuple(FileEntry(**item) for item in data))


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    tool: str = "curator"
    tool_version: str = ""
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{**data, "severity": Severity(data["severity"])})


@dataclass(frozen=True)
class StageResult:
    """What one stage concluded, with the evidence a curator and a report need."""

    stage: str
    status: Status
    findings: tuple[Finding, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    tool_versions: dict[str, str] = field(default_factory=dict)
    started: float = 0.0
    finished: float = 0.0

    @property
    def seconds(self) -> float:
        return max(0.0, self.finished - self.started)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "status": self.status.value,
            "findings": [f.to_dict() for f in self.findings],
            "evidence": self.evidence,
            "tool_versions": self.tool_versions,
            "started": self.started,
            "finished": self.finished,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageResult:
        return cls(
            stage=data["stage"],
            status=Status(data["status"]),
            findings=tuple(Finding.from_dict(f) for f in data.get("findings", [])),
            evidence=data.get("evidence", {}),
            tool_versions=data.get("tool_versions", {}),
            started=data.get("started", 0.0),
            finished=data.get("finished", 0.0),
        )

    @property
    def digest(self) -> str:
        return digest_of(self.to_dict())


@dataclass(frozen=True)
class Review:
    """One review of one pinned candidate; its stage results live in the ledger."""

    id: str
    candidate: Candidate
    created: float
    state: str = "open"  # open | decided

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "candidate": self.candidate.to_dict(),
                "created": self.created, "state": self.state}


def pinned_manifest(results: Mapping[str, StageResult]) -> Manifest | None:
    """The manifest a review's fetch stage pinned (its evidence ``files``), once it has run."""
    from curator.core.evidence.fetch import FetchEvidence  # the reader imports these models

    fetch = results.get("fetch")
    return FetchEvidence.of(fetch).manifest if fetch is not None else None
