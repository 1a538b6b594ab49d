"""The fetch stage's evidence, typed: what was pinned, every file kept, every file refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
            checks=f.str_map("checks"), resumed=f.int_map("resumed"), recorded_files=f.has("files"))

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
