"""Opening and running reviews: the one service both the CLI and the TUI call."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.core.errors import UsageError
from curator.core.evidence.fetch import FetchEvidence
from curator.core.models import Candidate, Finding, Review, StageResult, Status
from curator.core.pipeline import Pipeline
from curator.core.policy import Policy
from curator.core.progress import Observer
from curator.core.stage import ReviewContext
from curator.core.workspace import Workspace
from curator.ledger import LedgerBase, open_ledger
from curator.ledger.standings import standings
from curator.stages import STAGES, build_stages

REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


def parse_target(target: str, revision: str | None = None, endpoint: str | None = None,
                 name: str | None = None, publisher: str | None = None) -> Candidate:
    """A local folder if ``target`` exists on disk, else a hub repo id ``ORG/NAME``.

    A folder is ``local/<folder>`` unless the curator names it (``name`` ORG/NAME, or
    ``publisher`` ORG): then the publisher's rules (signers, look-alikes) hold it like a hub repo.
    """
    path = Path(target).expanduser()
    if path.exists():
        if not path.is_dir():
            raise UsageError(f"{target} is a file, not a model folder",
                             "pass the folder that holds the model's files")
        if revision or endpoint:
            raise UsageError(f"{target} is a local folder: --revision and --endpoint apply to hub repos",
                             "drop them, or pass ORG/NAME")
        path = path.resolve()
        return Candidate(repo_id=_local_name(path, name, publisher), revision="local", source="local",
                         path=str(path))
    if name or publisher:
        raise UsageError(f"--name and --publisher apply to local folders; {target} is not one",
                         "drop them: a hub repo's id names it already")
    if not REPO_ID_RE.match(target):
        raise UsageError(f"'{target}' is neither an existing folder nor a hub repo id",
                         "pass ORG/NAME (e.g. acme/model) or the path of a model folder")
    return Candidate(repo_id=target, revision=revision or "main", source="hub", endpoint=endpoint)


def _local_name(path: Path, name: str | None, publisher: str | None) -> str:
    """The repo id a local folder is reviewed as."""
    if name is not None and not REPO_ID_RE.match(name):
        raise UsageError(f"--name {name!r} is not ORG/NAME", "pass e.g. --name acme-labs/tinyllama")
    if publisher is not None and not re.fullmatch(r"[A-Za-z0-9][\w.\-]*", publisher):
        raise UsageError(f"--publisher {publisher!r} is not an organisation name",
                         "pass e.g. --publisher acme-labs")
    if name and publisher and name.split("/", 1)[0] != publisher:
        raise UsageError(f"--name {name} is not published by --publisher {publisher}",
                         f"pass --name {publisher}/{name.split('/', 1)[1]}, or drop --publisher")
    if name:
        return name
    return f"{publisher or 'local'}/{path.name}"


def parse_only(value: str | None) -> list[str] | None:
    """``--only fetch,scan`` as stage names; an empty or unknown name is a usage error."""
    if value is None:
        return None
    names = [s.strip() for s in value.split(",")]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise UsageError(f"--only {value!r}: {', '.join(map(repr, unknown))} is not a stage",
                         f"choose from {', '.join(STAGES)}")
    return names


@dataclass
class Session:
    """An open workspace: ledger and policy, for as long as a command or the TUI runs."""

    workspace: Workspace
    ledger: LedgerBase
    policy: Policy
    #: key ids of the team's trusted curators (whose signed forget resets a first-seen signer); the
    #: layers above set the team's signed root's, else this workspace's curators.yaml holds
    curators: frozenset[str] | None = None

    @classmethod
    def open(cls, workspace: Workspace, policy: Policy | None = None) -> Session:
        policy = policy or Policy.load()
        return cls(workspace, open_ledger(workspace, policy), policy)

    def close(self) -> None:
        self.ledger.close()

    def open_review(self, candidate: Candidate, fresh: bool = False) -> Review:
        """Pin the candidate, then resume its open review or start a new one."""
        if candidate.source == "hub":
            from curator.stages.fetch.hub import pin

            candidate = pin(candidate)
        existing = None if fresh else self._find_open(candidate)
        if existing:
            return existing
        from curator.attest.keys import current_identity

        return self.ledger.create_review(candidate,
                                         opened_by=current_identity(self.workspace.keys_dir))

    def name_check(self, candidate: Candidate) -> list[Finding]:
        """Look-alike findings from the repo id alone: shown before anything is downloaded."""
        from curator.stages.card import name_check

        return name_check(candidate, self.policy, standings(self.ledger))

    def _find_open(self, candidate: Candidate) -> Review | None:
        for review in reversed(self.ledger.reviews()):
            c = review.candidate
            same = (c.source, c.repo_id, c.commit, c.path, c.endpoint) == (
                candidate.source, candidate.repo_id, candidate.commit, candidate.path, candidate.endpoint)
            if review.state == "open" and same:
                return review
        return None

    def files_dir(self, review_id: str) -> Path:
        """Where a review's pinned files are: a local folder's too (fetch copies it here, so later
        stages read the pinned bytes)."""
        return self.workspace.review_dir(review_id) / "files"

    def context(self, review: Review) -> ReviewContext:
        c = review.candidate
        work_dir = self.workspace.review_dir(review.id)
        return ReviewContext(review_id=review.id, candidate=c, files_dir=self.files_dir(review.id),
                             work_dir=work_dir, policy=self.policy, ledger=self.ledger,
                             standings=standings(self.ledger), curators=self.trusted_curators())

    def trusted_curators(self) -> frozenset[str]:
        """The key ids set by the caller, else the unrevoked curators of this workspace's checklists."""
        if self.curators is None:
            from curator.attest.trust import load_trusted

            team = load_trusted(self.policy.directory)
            self.curators = frozenset(k for k, c in team.items() if not c.revoked)
        return self.curators

    def stage_names(self, only: list[str] | None = None) -> list[str]:
        names = self.policy.stages
        if only:
            unknown = [s for s in only if s not in STAGES]
            if unknown:
                raise UsageError(f"unknown stage(s) {', '.join(unknown)} in --only",
                                 f"choose from {', '.join(STAGES)}")
            names = [s for s in names if s in only] or only
        return names

    def run(self, review: Review, only: list[str] | None = None,
            observers: list[Observer] | None = None,
            cancel: threading.Event | None = None, unsandboxed: bool = False) -> dict[str, StageResult]:
        """Run the review's unfinished stages (all policy stages, or just ``only``).

        In a team (``registry.staging``), a review another curator opened first gets its
        pinned files from staging, and a fresh fetch is staged before the other stages run.
        """
        from curator.review.staging import restore_files, stage_review, staging_enabled

        names = self.stage_names(only)
        if staging_enabled(self.policy):
            restore_files(self, review)
            if "fetch" in names:
                Pipeline(build_stages(["fetch"]), observers or []).run(self.context(review), cancel)
                stage_review(self, review)
        pipeline = Pipeline(build_stages(names, unsandboxed=unsandboxed), observers or [])
        return pipeline.run(self.context(review), cancel)


def review_document(review: Review, results: dict[str, StageResult], policy: Policy) -> dict[str, Any]:
    """The ``review --json`` document, keys as DESIGN.md's CLI contract says."""
    c = review.candidate
    fetch = FetchEvidence.of(results.get("fetch"))
    revision = c.commit or fetch.manifest_digest or None
    return {
        "review_id": review.id,
        "candidate": {"repo_id": c.repo_id, "revision": revision, "requested_revision": c.revision,
                      "source": c.source, "endpoint": c.endpoint, "path": c.path},
        "files": [f.to_dict() for f in fetch.files],
        "stages": {name: {"status": r.status.value, "findings": [f.to_dict() for f in r.findings],
                          "evidence": r.evidence}
                   for name, r in results.items()},
        "recommendation": policy.recommend(results),
        "policy_version": policy.version,
    }


def exit_code(results: dict[str, StageResult]) -> int:
    """0 when no stage failed or errored, else 1 (the check says no)."""
    return 1 if any(r.status in (Status.FAILED, Status.ERRORED) for r in results.values()) else 0
