"""The fetch stage's evidence, typed: what was pinned, every file kept, every file refused.

The stage builds a ``FetchEvidence`` and stores ``to_evidence()``; readers get it back with
``from_evidence``: one class holds both directions, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from curator.core.evidence.fields import NO_FACTS, Fields
from curator.core.models import FileEntry, Manifest, StageResult

STAGE = "fetch"


@dataclass(frozen=True)
class Problem:
    """Why one file was not kept: ``sha256-mismatch`` with what the hub said and what came."""

    code: str
    expected: str | float | bool | None = None
    actual: str | float | bool | None = None
    limit: int | None = None

    @classmethod
    def read(cls, f: Fields) -> Problem:
        return cls(f.text("code"), f.scalar("expected"), f.scalar("actual"), f.opt_integer("limit"))

    def to_evidence(self) -> dict[str, Any]:
        """A cap problem records its limit; a comparison what was expected and what came (even null)."""
        if self.limit is not None:
            return {"code": self.code, "limit": self.limit}
        return {"code": self.code, "expected": self.expected, "actual": self.actual}


@dataclass(frozen=True)
class Mismatch:
    """A file that differs from what the hub declared (it was not kept)."""

    path: str
    size: int
    sha256: str
    problems: tuple[Problem, ...]

    @classmethod
    def read(cls, f: Fields) -> Mismatch:
        return cls(f.text("path"), f.integer("size"), f.text("sha256"),
                   tuple(Problem.read(p) for p in f.objs("problems")))

    def to_evidence(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256,
                "problems": [p.to_evidence() for p in self.problems]}


@dataclass(frozen=True)
class FetchEvidence:
    """A hub pin (``commit``, ``endpoint``) or a local folder (``path``), and the manifest."""

    repo_id: str = ""
    revision: str | None = None
    commit: str | None = None
    endpoint: str | None = None
    path: str | None = None  # a local folder
    copied_to: str | None = None
    files: tuple[FileEntry, ...] = ()
    manifest_digest: str = ""
    total_bytes: int = 0
    mismatches: tuple[Mismatch, ...] = ()
    checks: Mapping[str, str] = field(default_factory=lambda: NO_FACTS)  # path -> how it was checked
    resumed: Mapping[str, int] = field(default_factory=lambda: NO_FACTS)  # path -> resumed from byte
    recorded_files: bool = False  # whether the stage got as far as writing its file list
    downloaded: bool = False  # whether a hub download ran (``checks`` and ``resumed`` recorded)

    #: every key the stage writes; a round-trip test holds the stage to it
    KEYS = frozenset({"repo_id", "revision", "commit", "endpoint", "path", "copied_to", "files",
                      "manifest_digest", "total_bytes", "mismatches", "checks", "resumed"})

    @classmethod
    def from_evidence(cls, evidence: object) -> FetchEvidence:
        """The one place the fetch stage's evidence dict is read."""
        f = Fields(evidence, STAGE)
        files = tuple(FileEntry(e.text("path"), e.integer("size"), e.text("sha256")) for e in f.objs("files"))
        return cls(
            repo_id=f.text("repo_id"), revision=f.opt_text("revision"), commit=f.opt_text("commit"),
            endpoint=f.opt_text("endpoint"), path=f.opt_text("path"), copied_to=f.opt_text("copied_to"),
            files=files, manifest_digest=f.text("manifest_digest"), total_bytes=f.integer("total_bytes"),
            mismatches=tuple(Mismatch.read(m) for m in f.objs("mismatches")),
            checks=f.str_map("checks"), resumed=f.int_map("resumed"), recorded_files=f.has("files"),
            downloaded=f.has("checks"))

    def to_evidence(self) -> dict[str, Any]:
        """The dict the ledger stores: the one place the fetch stage's evidence is written.

        A hub pin writes revision, commit and endpoint; a local folder its path and where it was
        copied (null when hashed in place); a stage refused before its download writes no checks,
        one refused before any file no file list."""
        out: dict[str, Any]
        if self.is_local:  # in the order the stage always wrote them: the stored bytes stay the same
            out = {"path": self.path, "repo_id": self.repo_id, "copied_to": self.copied_to}
        else:
            out = {"repo_id": self.repo_id, "revision": self.revision, "commit": self.commit,
                   "endpoint": self.endpoint}
        if self.downloaded:
            out |= {"checks": dict(self.checks), "resumed": dict(self.resumed)}
        if self.recorded_files:
            out |= {"files": [f.to_dict() for f in self.files], "manifest_digest": self.manifest_digest,
                    "total_bytes": self.total_bytes, "mismatches": [m.to_evidence() for m in self.mismatches]}
        return out

    def pinned(self, manifest: Manifest, refused: tuple[Mismatch, ...] = ()) -> FetchEvidence:
        """This pin with its file list recorded: the manifest kept and the files refused."""
        return replace(self, files=manifest.files, manifest_digest=manifest.digest,
                       total_bytes=manifest.total_size, mismatches=refused, recorded_files=True)

    @classmethod
    def of(cls, result: StageResult | None) -> FetchEvidence:
        """A result's evidence; no result reads as evidence with nothing recorded."""
        return cls.from_evidence(result.evidence if result is not None else None)

    @property
    def is_local(self) -> bool:
        return self.path is not None

    @property
    def manifest(self) -> Manifest | None:
        """The pinned manifest, once the stage wrote its file list."""
        return Manifest(self.files) if self.recorded_files else None
