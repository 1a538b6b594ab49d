"""What the ledger says was approved, pushed and put in production: the inventory seen by change control."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curator.core.errors import DecisionRefused, UsageError
from curator.core.events import DecisionMade, ProductionMoved, Pushed, Recorded
from curator.core.standing import Standing
from curator.ledger.standings import standings

if TYPE_CHECKING:
    from curator.ledger.base import LedgerBase


@dataclass(frozen=True)
class ApprovedModel:
    """One approved, pushed artifact (a review whose final decision is ``approved``)."""

    review_id: str
    repo_id: str
    revision: str
    name: str  # registry repository name
    tag: str
    ref: str  # as pushed: NAME:TAG, or HOST/NAME:TAG for a remote registry
    digest_ref: str
    digest: str  # OCI manifest digest
    registry: str
    time: float  # when the push was recorded

    def matches(self, text: str) -> bool:
        """Is ``text`` this model's ref, digest ref, digest, review id or NAME:TAG?"""
        return text in (self.ref, self.digest_ref, self.digest, self.review_id, f"{self.name}:{self.tag}",
                        f"{self.name}@{self.digest}")

    def to_dict(self) -> dict[str, Any]:
        return {"review_id": self.review_id, "repo_id": self.repo_id, "revision": self.revision,
                "ref": self.ref, "digest": self.digest}


def approved_models(ledger: LedgerBase) -> list[ApprovedModel]:
    """Every approved and pushed artifact that still stands approved (never retired, nor rejected
    afterwards), oldest push first (a re-push counts as the latest)."""
    return [model for model, standing in _pushed(ledger) if standing.approved]


def _pushed(ledger: LedgerBase) -> list[tuple[ApprovedModel, Standing]]:
    """Every artifact pushed after a final approval, with where it stands now."""
    standing = standings(ledger)
    reviews = {r.id: r for r in ledger.reviews()}
    finals: dict[str | None, DecisionMade] = {}
    for decided in ledger.read(DecisionMade):
        if decided.event.final == "approved":
            finals[decided.review_id] = decided.event
    latest: dict[str, Recorded[Pushed]] = {}
    for pushed in ledger.read(Pushed):
        latest[str(pushed.review_id)] = pushed
    found = []
    for review_id, row in sorted(latest.items(), key=lambda kv: kv[1].seq):
        decision, review, p = finals.get(review_id), reviews.get(review_id), row.event
        if decision is None or review is None or decision.subject_digest != p.digest:
            continue
        now = standing.of_review(review_id)
        if now is None:
            continue
        found.append((ApprovedModel(
            review_id=review_id, repo_id=review.candidate.repo_id,
            revision=review.candidate.commit or decision.tag, name=decision.name, tag=decision.tag,
            ref=p.ref, digest_ref=p.digest_ref, digest=p.digest, registry=p.registry or "",
            time=row.time), now))
    return found


def find_approved(ledger: LedgerBase, text: str, name: str | None = None) -> ApprovedModel:
    """The one approved model ``text`` names (optionally inside repository ``name``)."""
    named = [(m, s) for m, s in _pushed(ledger) if m.matches(text) and (name is None or m.name == name)]
    hits = [m for m, s in named if s.approved]
    if named and not hits:
        raise DecisionRefused(f"{named[-1][0].ref} is no longer approved: {named[-1][1].describe()}",
                              "pick a model that stands approved, as 'curator inventory' shows")
    if not hits:
        hits = [m for m in [in_production_now(ledger, text)] if m and (name is None or m.name == name)]
    if not hits:
        where = f" of {name}" if name else ""
        raise UsageError(f"'{text}' is not an approved model{where} in this workspace's ledger",
                         "pass a REF (NAME:TAG, NAME@sha256:HEX) or review id, as 'curator inventory' shows")
    return hits[-1]


def in_production_now(ledger: LedgerBase, ref: str) -> ApprovedModel | None:
    """The approved model the production tag ``ref`` (NAME:prod) points at, from the ledger's
    record of production moves (promotions and rollbacks); None if it names no production tag."""
    moves = [e.event for e in ledger.read(ProductionMoved)
             if ref in (f"{e.event.name}:{e.event.tag}", e.event.ref)]
    if not moves:
        return None
    now = moves[-1]
    hits = [m for m in approved_models(ledger) if m.digest == now.digest and m.name == now.name]
    return hits[-1] if hits else None


def production_events(ledger: LedgerBase, name: str) -> list[ProductionMoved]:
    """Every move of ``name``'s production tag (promotions and rollbacks), in chain order."""
    return [e.event for e in ledger.read(ProductionMoved) if e.event.name == name]
