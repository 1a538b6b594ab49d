"""The decision service, used by both ``curator decide`` and the TUI's decision screen.

assess -> (curator chooses) -> decide: check policy and waivers, sign an in-toto
statement in a DSSE envelope, record it in the ledger atomically (exactly one decision
closes a review), and on final approval push the artifact with its decision(s).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from curator.attest.dsse import decision_id, sign_statement
from curator.attest.keys import CuratorIdentity, Signer, person_of
from curator.attest.statement import DecisionFacts, build_statement
from curator.core.clock import utc_now
from curator.core.errors import CuratorError, DecisionRefused, UsageError
from curator.core.models import Manifest, Review, StageResult, digest_of
from curator.decision.production import promote_pushed
from curator.decision.recheck import Rechecked, recheck_approval, refuse_broken_ledger
from curator.decision.rules import Blocker, DecisionRules, blockers
from curator.decision.swap import SwapRequest, swap_change
from curator.registry import settings
from curator.registry.artifact import (
    model_artifact,
    revision_of,
)
from curator.registry.interface import OnBytes, Registry
from curator.registry.transfer import Pushed, push_model
from curator.review.session import Session


@dataclass(frozen=True)
class Assessment:
    """What the curator sees before deciding: recommendation, why, and what blocks."""

    review: Review
    results: dict[str, StageResult]
    recommendation: str
    why: tuple[str, ...]
    blockers: tuple[Blocker, ...]
    manifest: Manifest | None
    rules: DecisionRules
    approvals: tuple[dict[str, Any], ...] = ()
    opened_by: dict[str, Any] | None = None


def assess(session: Session, review_id: str) -> Assessment:
    """Gather a review's results and judge them against the decision rules."""
    review = session.ledger.get_review(review_id)
    results = session.ledger.results(review_id)
    rules = DecisionRules.from_policy(session.policy)
    stages = session.policy.stages
    why = []
    for name in stages:
        r = results.get(name)
        why.append(f"{name}: {r.status.value}" + (f" ({len(r.findings)} finding(s))" if r.findings else "")
                   if r else f"{name}: not run")
    fetch = results.get("fetch")
    manifest = Manifest.from_list(fetch.evidence["files"]) if fetch and "files" in fetch.evidence else None
    decisions = session.ledger.events(review_id, kind="decision")
    opened = session.ledger.events(review_id, kind="review_opened")
    return Assessment(
        review=review, results=results, recommendation=session.policy.recommend(results), why=tuple(why),
        blockers=tuple(blockers(stages, results, rules)), manifest=manifest, rules=rules,
        approvals=tuple(e["payload"] for e in decisions if e["payload"].get("outcome") == "approved"),
        opened_by=opened[0]["payload"].get("curator") if opened else None)


@dataclass(frozen=True)
class DecisionRequest:
    """What the curator chose: approve or reject, why, and which blockers to waive."""

    review_id: str
    approve: bool
    rationale: str
    waivers: dict[str, str] = field(default_factory=dict)  # stage -> reason
    waive_until: dt.date | None = None
    conditions: tuple[str, ...] = ()
    #: a swap: what it replaces (else found by repo id), why, and how to roll back
    swap: SwapRequest = field(default_factory=SwapRequest)
    #: approve although a newer review or an earlier rejection contradicts it: why (signed in)
    supersede: str = ""


@dataclass(frozen=True)
class DecisionOutcome:
    """The result of ``decide``: the ``decide --json`` document's keys and a bit more."""

    decision_id: str
    outcome: str  # approved | rejected | pending
    ref: str | None
    digest_ref: str | None
    manifest_digest: str
    approvals: int
    approvals_required: int
    curator: CuratorIdentity

    def to_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "outcome": self.outcome, "ref": self.ref,
                "digest_ref": self.digest_ref, "manifest_digest": self.manifest_digest,
                "approvals": self.approvals, "approvals_required": self.approvals_required,
                "curator": self.curator.to_dict()}


def decide(session: Session, request: DecisionRequest, signer: Signer, registry: Registry | None = None,
           on_bytes: OnBytes | None = None, today: dt.date | None = None) -> DecisionOutcome:
    """Sign and record one curator's decision; on the final approval, push the artifact."""
    today = today or dt.date.today()
    if not request.rationale.strip():
        raise UsageError("a decision needs a rationale", "pass --rationale 'why you decided this'")
    a = assess(session, request.review_id)
    if a.review.state != "open":
        raise DecisionRefused(f"review {a.review.id} is already decided",
                              "open a new review with --fresh to decide again")
    if a.manifest is None:
        raise DecisionRefused(f"review {a.review.id} has no fetched files to decide on",
                              "run the review (at least the fetch stage) first")
    refuse_broken_ledger(session)
    name, tag, artifact = model_artifact(session.policy, a.review, a.manifest)
    me = signer.identity
    checked = Rechecked((), a.rules.approvals_required)
    if request.approve:
        checked = recheck_approval(session, a, request.waivers, request.waive_until, request.supersede,
                                   artifact.digest, today)
        opener = a.opened_by or {}
        if a.rules.separation_of_duties and checked.approvals_required > 1:
            if not opener:
                raise DecisionRefused(f"cannot tell who opened review {a.review.id}",
                                      "separation of duties needs it; open a new review with --fresh")
            if opener.get("keyid") == me.keyid or person_of(str(opener.get("email", ""))) == me.person:
                raise DecisionRefused(f"{me.label} opened review {a.review.id} and cannot approve it",
                                      "separation of duties: another curator must approve")
    elif request.waivers or request.swap.given or request.supersede:
        raise UsageError("--waive, --supersede, --replaces, --justification and --rollback-plan apply to "
                         "approvals", "drop them when rejecting")
    waivers, required = checked.waivers, checked.approvals_required
    change = swap_change(session.ledger, a.rules, a.review.candidate.repo_id, artifact.digest, request.swap,
                         next((p["change"] for p in reversed(a.approvals) if p.get("change")), None)
                         ) if request.approve else None
    statement = build_statement(DecisionFacts(
        outcome="approved" if request.approve else "rejected", review_id=a.review.id, name=name,
        subject_digest=artifact.digest, candidate=a.review.candidate,
        revision=revision_of(a.review, a.manifest), manifest=a.manifest, results=a.results,
        policy_version=session.policy.version, policy_digest=digest_of(session.policy.data),
        approvals_required=required, waivers=waivers,
        conditions=tuple(c.strip() for c in request.conditions if c.strip()), curator=me,
        rationale=request.rationale.strip(), time=utc_now(), change=change, supersedes=checked.supersedes))
    envelope = sign_statement(statement, signer)
    did = decision_id(envelope)
    counted: dict[str, int] = {}

    def judge(state: str, prior: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
        if state != "open":
            last = prior[-1] if prior else {}
            who = last.get("curator", {}).get("name", "another curator")
            raise DecisionRefused(
                f"review {a.review.id} was just decided ({last.get('final', state)}) by {who}",
                "open a new review with --fresh to decide again")
        approvers = {person_of(str(p["curator"]["email"])) for p in prior
                     if p.get("outcome") == "approved" and p.get("subject_digest") == artifact.digest}
        if me.person in approvers:
            raise DecisionRefused(f"{me.label} already approved review {a.review.id}",
                                  f"{required} different curators must approve")
        if request.approve:
            counted["n"] = len(approvers) + 1
            final = "approved" if counted["n"] >= required else "pending"
        else:
            counted["n"], final = len(approvers), "rejected"
        payload = {"decision_id": did, "outcome": statement["predicate"]["outcome"], "final": final,
                   "curator": me.to_dict(), "name": name, "tag": tag, "subject_digest": artifact.digest,
                   "rationale": request.rationale.strip(), "waivers": [w.to_dict() for w in waivers],
                   "envelope": envelope.decode(), **({"change": change} if change else {}),
                   **({"supersedes": checked.supersedes} if checked.supersedes else {})}
        return ("open" if final == "pending" else "decided"), payload

    state = session.ledger.record_decision(a.review.id, judge)
    final = "pending" if state == "open" else ("approved" if request.approve else "rejected")
    pushed = None
    if final == "approved" and registry is not None:
        pushed = push_review(session, a.review.id, registry, on_bytes)
    return DecisionOutcome(did, final, pushed.ref if pushed else None, pushed.digest_ref if pushed else None,
                           artifact.digest, counted.get("n", 0), required, me)


def approval_envelopes(session: Session, review_id: str) -> tuple[str, list[bytes]]:
    """The subject digest and signed approvals of a review whose final decision is approved."""
    events = [e["payload"] for e in session.ledger.events(review_id, kind="decision")]
    if not events or events[-1].get("final") != "approved":
        state = events[-1].get("final") if events else "undecided"
        raise DecisionRefused(f"review {review_id} is not approved ({state})",
                              "only approved reviews are pushed; see 'curator decide'")
    subject = events[-1]["subject_digest"]
    approvals = [e["envelope"].encode() for e in events
                 if e.get("outcome") == "approved" and e.get("subject_digest") == subject]
    return subject, approvals


def push_review(session: Session, review_id: str, registry: Registry,
                on_bytes: OnBytes | None = None) -> Pushed:
    """Push an approved review's files and signed approvals; recorded in the ledger."""
    subject, envelopes = approval_envelopes(session, review_id)
    a = assess(session, review_id)
    if a.manifest is None:
        raise DecisionRefused(f"review {review_id} has no fetched files", "re-run the review")
    name, tag, artifact = model_artifact(session.policy, a.review, a.manifest)
    if artifact.digest != subject:
        raise DecisionRefused(f"review {review_id}'s files changed since it was approved "
                              f"({artifact.digest} is not the approved {subject})",
                              "open a new review with --fresh")
    files_dir = session.context(a.review).files_dir
    workers = int(settings(session.policy).get("parallel_blobs", 4))
    try:
        pushed = push_model(registry, name, tag, artifact, files_dir, envelopes, on_bytes, workers)
    except CuratorError as exc:
        session.ledger.append("push_failed", {"registry": registry.location, "error": exc.diagnostics()},
                              review_id)
        raise type(exc)(exc.message, (exc.advice + "; " if exc.advice else "")
                        + f"the decision is recorded: retry with 'curator push {review_id}'") from exc
    session.ledger.append("pushed", {"ref": pushed.ref, "digest_ref": pushed.digest_ref,
                                     "digest": pushed.digest, "registry": registry.location,
                                     "uploaded_bytes": pushed.uploaded_bytes,
                                     "skipped_bytes": pushed.skipped_bytes}, review_id)
    promote_pushed(session, registry, name, pushed.digest, review_id)
    return pushed


def decision_summary(payload: dict[str, Any]) -> str:
    """One line for a recorded decision event (for lists and the TUI)."""
    return (f"{payload.get('outcome')} by {payload.get('curator', {}).get('name', '?')} "
            f"({payload.get('decision_id')}): {json.dumps(payload.get('rationale', ''))}")
