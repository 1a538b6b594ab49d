"""The one interface every stage implements, and what a running stage can see."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from curator.core.events import LedgerEvent, Recorded
from curator.core.models import Candidate, Manifest, StageResult, Status, pinned_manifest
from curator.core.progress import Progress
from curator.core.standing import Standings

if TYPE_CHECKING:
    from curator.core.policy import Policy


E = TypeVar("E", bound=LedgerEvent)


class ReviewLedger(Protocol):
    """The part of the ledger a running review uses (``curator.ledger.LedgerBase`` is one)."""

    def results(self, review_id: str) -> dict[str, StageResult]: ...

    def save_result(self, review_id: str, result: StageResult) -> None: ...

    def record(self, event: LedgerEvent, review_id: str | None = None) -> int: ...

    def read_kinds(self, *kinds: type[LedgerEvent],
                   review_id: str | None = None) -> list[Recorded[LedgerEvent]]: ...

    def read(self, kind: type[E], review_id: str | None = None) -> list[Recorded[E]]: ...


@dataclass
class ReviewContext:
    """What a stage may read: the candidate, its folder, policy, earlier results."""

    review_id: str
    candidate: Candidate
    files_dir: Path  # the candidate's files (downloaded copy, or the local folder itself)
    work_dir: Path  # the review's own scratch and evidence folder
    policy: Policy  # curator.core.policy.Policy
    results: dict[str, StageResult] = field(default_factory=dict)
    ledger: ReviewLedger | None = None  # stored results; first-seen signers (trust on first use)
    #: where each model stands (approved, retired, rejected): lineage and look-alike names
    standings: Standings = field(default_factory=Standings)
    #: key ids of the team's trusted curators: only their signed forget resets a first-seen signer
    curators: frozenset[str] = frozenset()

    @property
    def manifest(self) -> Manifest | None:
        """The manifest the fetch stage pinned, once it has run."""
        return pinned_manifest(self.results)


class Stage(abc.ABC):
    """One step of a review. ``run`` returns a result; it raises only ``Cancelled``.

    Anything else it raises is turned into an ``errored`` result by the pipeline,
    so a crash can never pass a candidate.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    #: stages whose result must be passed or warned before this one may run
    requires: ClassVar[tuple[str, ...]] = ("fetch",)

    @abc.abstractmethod
    def run(self, ctx: ReviewContext, progress: Progress) -> StageResult:
        """Examine the candidate and return what was found."""

    def skipped(self, reason: str) -> StageResult:
        """A result saying this stage did not run, and why."""
        return StageResult(stage=self.name, status=Status.SKIPPED, evidence={"reason": reason})
