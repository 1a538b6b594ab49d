"""The approval report of one review, gathered from the ledger: what every format renders.

The decision's signature is checked again here (against the trusted curator keys), and
the ledger's hash chain is walked, so the report says whether the record it prints is
still intact, not just what it says.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curator.core.clock import iso
from curator.core.events import DecisionMade, Pushed, QuarterlyActionTaken
from curator.core.evidence import FetchEvidence
from curator.core.models import Review, StageResult
from curator.inventory.lifecycle import Lifecycle

if TYPE_CHECKING:
    from curator.review.session import Session

REPORT_VERSION = "1"


@dataclass(frozen=True)
class DecisionRecord:
    """One signed decision on the review, with the result of checking its signature."""

    decision_id: str
    outcome: str  # approved | rejected
    final: str  # approved | rejected | pending
    curator: dict[str, Any]
    time: str | None
    rationale: str
    waivers: tuple[dict[str, Any], ...]
    conditions: tuple[str, ...]
    seq: int
    hash: str
    #: status (verified | untrusted-key | revoked-key | forged-decision ...) and message
    signature: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "outcome": self.outcome, "final": self.final,
                "curator": self.curator, "time": self.time, "rationale": self.rationale,
                "waivers": list(self.waivers), "conditions": list(self.conditions),
                "ledger": {"seq": self.seq, "hash": self.hash}, "signature": self.signature}


@dataclass(frozen=True)
class ApprovalReport:
    """A review, its evidence, its decisions and where they sit in the ledger."""

    generated: str
    review: Review
    results: dict[str, StageResult]
    stages: tuple[str, ...]
    policy_version: str
    recommendation: str
    decisions: tuple[DecisionRecord, ...]
    pushed: dict[str, Any] | None
    chain: dict[str, Any]
    actions: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    #: what happened after approval: swap, production, rollbacks of the name, retirement
    lifecycle: Lifecycle = field(default_factory=Lifecycle)

    @property
    def revision(self) -> str:
        """The pinned revision: a hub commit, or a local folder's file-list digest."""
        c = self.review.candidate
        return c.commit or FetchEvidence.of(self.results.get("fetch")).manifest_digest or c.revision

    @property
    def final(self) -> str:
        """The review's outcome: the last decision's final state, or ``undecided``."""
        return self.decisions[-1].final if self.decisions else "undecided"

    @property
    def signatures_ok(self) -> bool:
        return bool(self.decisions) and all(d.signature["status"] == "verified" for d in self.decisions)

    @property
    def waivers(self) -> tuple[dict[str, Any], ...]:
        """The final approval's waivers, each with who signed it (``by``)."""
        approvals = [d for d in self.decisions if d.outcome == "approved"]
        if not approvals:
            return ()
        who = approvals[-1].curator
        return tuple({**w, "by": f"{who.get('name')} <{who.get('email')}>"} for w in approvals[-1].waivers)

    @property
    def conditions(self) -> tuple[str, ...]:
        approvals = [d for d in self.decisions if d.outcome == "approved"]
        return approvals[-1].conditions if approvals else ()

    def stage_order(self) -> list[str]:
        """Policy stages first, then any other stage that ran."""
        return list(self.stages) + sorted(set(self.results) - set(self.stages))

    def to_dict(self) -> dict[str, Any]:
        """The ``report --format json`` document."""
        c = self.review.candidate
        return {
            "report_version": REPORT_VERSION, "generated": self.generated,
            "review_id": self.review.id, "state": self.review.state,
            "candidate": {"repo_id": c.repo_id, "revision": self.revision,
                          "requested_revision": c.revision, "source": c.source, "endpoint": c.endpoint,
                          "path": c.path},
            "outcome": self.final, "recommendation": self.recommendation,
            "policy_version": self.policy_version,
            "decisions": [d.to_dict() for d in self.decisions],
            "signatures_ok": self.signatures_ok, "waivers": list(self.waivers),
            "conditions": list(self.conditions), "lifecycle": self.lifecycle.to_dict(),
            "pushed": self.pushed, "ledger": self.chain, "quarterly_actions": list(self.actions),
            "files": [f.to_dict() for f in FetchEvidence.of(self.results.get("fetch")).files],
            "stages": {name: {"status": self.results[name].status.value,
                              "findings": [f.to_dict() for f in self.results[name].findings],
                              "tool_versions": self.results[name].tool_versions,
                              "evidence": self.results[name].evidence}
                       for name in self.stage_order() if name in self.results},
        }


def _statement(envelope: str) -> dict[str, Any]:
    """The unverified payload of an envelope (shown only next to its signature's verdict)."""
    try:
        data = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    except (ValueError, KeyError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _signature(envelope: str, trusted: dict[str, Any]) -> dict[str, str]:
    from curator.attest.dsse import EnvelopeProblem, verify_envelope

    try:
        verified = verify_envelope(envelope.encode(), trusted)
    except EnvelopeProblem as exc:
        return {"status": exc.code, "message": exc.message}
    return {"status": "verified", "message": f"signed by {verified.signer.identity.label}, "
            f"key {verified.signer.keyid[:16]} (trusted, from {verified.signer.source or 'trust file'})"}


def build_report(session: Session, review_id: str, trusted: dict[str, Any]) -> ApprovalReport:
    """Gather one review's report from the ledger; raises ReviewNotFound for an unknown id."""
    ledger = session.ledger
    review = ledger.get_review(review_id)
    results = ledger.results(review_id)
    decisions = []
    decided = ledger.read(DecisionMade, review_id)
    for event in decided:
        p = event.event
        predicate = _statement(p.envelope).get("predicate", {})
        decisions.append(DecisionRecord(
            decision_id=p.decision_id, outcome=p.outcome, final=str(p.final), curator=dict(p.curator or {}),
            time=iso(event.time), rationale=p.rationale, waivers=tuple(w.to_payload() for w in p.waivers),
            conditions=tuple(str(c) for c in predicate.get("conditions", [])), seq=event.seq,
            hash=event.hash, signature=_signature(p.envelope, trusted)))
    pushes = ledger.read(Pushed, review_id)
    last_push = pushes[-1].event if pushes else None
    pushed = {**pushes[-1].event.to_payload(), "time": iso(pushes[-1].time), "seq": pushes[-1].seq} \
        if pushes else None
    actions = tuple(e.event.unsigned | {"time": iso(e.time), "seq": e.seq}
                    for e in ledger.read(QuarterlyActionTaken, review_id))
    chain = ledger.verify().to_dict()
    approved = [e.event for e in decided if e.event.outcome == "approved"]
    life = Lifecycle()
    if approved:
        from curator.inventory.lifecycle import read_lifecycle

        last = approved[-1]
        life = read_lifecycle(ledger).of(review_id, last.name, str(last.subject_digest or ""),
                                         (last_push.registry if last_push else None) or None)
    return ApprovalReport(
        generated=iso(time.time()) or "", review=review, results=results,
        stages=tuple(session.policy.stages), policy_version=session.policy.version,
        recommendation=session.policy.recommend(results), decisions=tuple(decisions), pushed=pushed,
        chain=chain, actions=actions, lifecycle=life)
