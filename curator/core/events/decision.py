"""Events of deciding and publishing: decisions, pushes, production moves, signed state
versions and ledger checkpoints."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from curator.core.events.codec import OMIT_EMPTY, LedgerEvent, Record


@dataclass(frozen=True)
class WaiverGranted(Record):
    """A waiver signed into a decision: this stage's blocking ``status`` accepted, for a reason,
    until ``expires`` (an ISO date, inclusive). Rows written before ``status`` read it as ""."""

    stage: str
    reason: str = ""
    expires: str = ""
    status: str = ""


@dataclass(frozen=True)
class ReplacedModel(Record):
    """The inventory model a swap replaces, as it stood approved when the swap was signed."""

    review_id: str = ""
    repo_id: str = ""
    revision: str = ""
    ref: str = ""
    digest: str = ""


@dataclass(frozen=True)
class SwapChange(Record):
    """A swap's change-control facts: what it replaces (null when the curator described a
    change without one standing approved), why, and how to go back."""

    replaces: ReplacedModel | None = None
    justification: str = ""
    rollback_plan: str = ""


@dataclass(frozen=True)
class Contradicted(Record):
    """A newer review of the same revision, or a rejection, that an approval overrode."""

    kind: str  # newer-review | rejected
    review_id: str = ""
    text: str = ""


@dataclass(frozen=True)
class Supersession(Record):
    """Why an approval overrides what contradicts it, and what that is."""

    reason: str
    over: tuple[Contradicted, ...] = ()


@dataclass(frozen=True)
class DecisionMade(LedgerEvent):
    """One curator's signed decision on a review (``decision``).

    ``outcome`` is what this curator signed (approved / rejected); ``final`` what the review
    became with it (approved, rejected, or pending while more approvals are needed). Rows of
    curators that did not record ``final`` read it as None: ``settled`` falls back to ``outcome``.
    """

    KIND: ClassVar[str] = "decision"
    outcome: str
    final: str | None = None
    decision_id: str = ""
    curator: dict[str, Any] | None = None
    name: str = ""
    tag: str = ""
    subject_digest: str | None = None
    rationale: str = ""
    waivers: tuple[WaiverGranted, ...] = ()
    envelope: str = ""
    #: a swap's change-control facts (what it replaces, why, how to roll back)
    change: SwapChange | None = field(default=None, metadata=OMIT_EMPTY)
    #: the newer review or earlier rejection this approval overrides, and why
    supersedes: Supersession | None = field(default=None, metadata=OMIT_EMPTY)

    @property
    def settled(self) -> str:
        """What the review became with this decision (``final``, else ``outcome`` on old rows)."""
        return self.final if self.final is not None else self.outcome

    @property
    def keyid(self) -> str:
        """The key id of the curator who signed it ("" when not recorded)."""
        return str((self.curator or {}).get("keyid", ""))


@dataclass(frozen=True)
class Pushed(LedgerEvent):
    """An approved review's artifact and signed decisions were pushed to a registry."""

    KIND: ClassVar[str] = "pushed"
    ref: str
    digest_ref: str = ""
    digest: str = ""
    registry: str | None = None
    uploaded_bytes: int = 0
    skipped_bytes: int = 0


@dataclass(frozen=True)
class PushFailed(LedgerEvent):
    """A push of an approved review failed (the decision stands; the push can be retried)."""

    KIND: ClassVar[str] = "push_failed"
    registry: str
    error: str


@dataclass(frozen=True)
class ProductionMoved(LedgerEvent):
    """The production tag moved (``production``): ``promote`` after an approval's push,
    ``rollback`` back to an earlier approved digest (with its signed rollback), ``replaced``
    when a swap across names took the name's production (no digest)."""

    KIND: ClassVar[str] = "production"
    action: str
    name: str
    tag: str
    ref: str = ""
    digest: str = ""
    previous: str | None = None
    registry: str | None = None
    review_id: str | None = None
    decision_id: str | None = field(default=None, metadata=OMIT_EMPTY)
    curator: dict[str, Any] | None = field(default=None, metadata=OMIT_EMPTY)
    rationale: str | None = field(default=None, metadata=OMIT_EMPTY)
    #: the digest of the signed rollback attached to the target as a referrer
    referrer: str | None = field(default=None, metadata=OMIT_EMPTY)
    envelope: str | None = field(default=None, metadata=OMIT_EMPTY)
    #: a swap across names (action ``replaced``, no digest): the ``NAME@sha256:…`` that took
    #: this name's production
    by: str | None = field(default=None, metadata=OMIT_EMPTY)
    #: the rollback of a swap across names (no digest): where production went back to
    to: str | None = field(default=None, metadata=OMIT_EMPTY)
    #: a rollback that undid a swap across names: the name production came back from
    from_name: str | None = field(default=None, metadata=OMIT_EMPTY)


@dataclass(frozen=True)
class StateSigned(LedgerEvent):
    """A version of the registry's signed state was signed, proposed or published (``state``)."""

    KIND: ClassVar[str] = "state"
    registry: str
    targets_version: int
    published: bool
    proposal: str | None = None
    signatures: int = 0
    threshold: int = 0
    curators: tuple[dict[str, Any], ...] = ()
    #: a proposal's registry and ledger side effects, done once it is published (a co-signature):
    #: ``kind`` (retire | reject | rollback | approve) and what they need (signed envelopes, tags)
    effect: dict[str, Any] | None = field(default=None, metadata=OMIT_EMPTY)

    @property
    def signed_by(self) -> str:
        """The signing curators' names, as people read them ("" when none was recorded)."""
        return ", ".join(str(c.get("name", "?")) for c in self.curators)


@dataclass(frozen=True)
class CheckpointSigned(LedgerEvent):
    """A curator signed the ledger's head into a registry (``checkpoint``)."""

    KIND: ClassVar[str] = "checkpoint"
    rows: int
    head: str
    checkpoint_id: str = ""
    ref: str = ""
    #: older curators did not record it: their checkpoints are matched by ``ref``
    registry: str | None = None
    curator: dict[str, Any] | None = None
