"""The decision service, used by both ``curator decide`` and the TUI's decision screen.

assess -> (curator chooses) -> decide: check policy and waivers, sign an in-toto
statement in a DSSE envelope, record it in the ledger atomically (exactly one decision
closes a review), and on final approval push the artifact with its decision(s).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curator.attest.dsse import decision_id, sign_statement
from curator.attest.keys import CuratorIdentity, Signer
from curator.attest.statement import DecisionFacts, build_statement
from curator.attest.trust import TrustedCurator, load_trusted
from curator.core.clock import utc_now
from curator.core.errors import CuratorError, DecisionRefused, UsageError
from curator.core.events import (
    DecisionMade,
    PushFailed,
    ReviewOpened,
    StateSigned,
    Supersession,
    WaiverGranted,
    curator_name,
)
from curator.core.events import Pushed as PushedEvent
from curator.core.models import Manifest, Review, StageResult, digest_of, pinned_manifest
from curator.decision.production import promote_pushed, record_hand_over
from curator.decision.recheck import Rechecked, recheck_approval, refuse_broken_ledger
from curator.decision.rules import Blocker, DecisionRules, blockers
from curator.decision.separation import opener_people, trusted_person
from curator.decision.swap import SwapRequest, across_names, swap_change
from curator.registry import settings
from curator.registry.artifact import (
    model_artifact,
    revision_of,
)
from curator.registry.interface import OnBytes, Registry
from curator.registry.transfer import Pushed, push_model
from curator.review.session import Session

if TYPE_CHECKING:
    from tuf.api.metadata import Targets

    from curator.state.repository import Published


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
    approvals: tuple[DecisionMade, ...] = ()
    opened_by: dict[str, Any] | None = None
    #: whose signatures count, by key id (the rules and this come from one place: ``assess``)
    trusted: dict[str, TrustedCurator] = field(default_factory=dict)


def assess(session: Session, review_id: str, registry: Registry | None = None) -> Assessment:
    """Gather a review's results and judge them against the decision rules."""
    review = session.ledger.get_review(review_id)
    results = session.ledger.results(review_id)
    rules, trusted = team_rules_for(session, registry)
    # the team's stages and this workspace's: a curator's own checklists add stages, never drop one
    stages = list(dict.fromkeys([*session.policy.stages, *rules.stages]))
    why = []
    for name in stages:
        r = results.get(name)
        why.append(f"{name}: {r.status.value}" + (f" ({len(r.findings)} finding(s))" if r.findings else "")
                   if r else f"{name}: not run")
    manifest = pinned_manifest(results)
    decisions = session.ledger.read(DecisionMade, review_id)
    opened = session.ledger.read(ReviewOpened, review_id)
    return Assessment(
        review=review, results=results, recommendation=session.policy.recommend(results), why=tuple(why),
        blockers=tuple(blockers(stages, results, rules)), manifest=manifest, rules=rules,
        approvals=tuple(e.event for e in decisions if e.event.outcome == "approved"),
        opened_by=opened[0].event.curator if opened else None, trusted=trusted)


def team_rules_for(session: Session,
                   registry: Registry | None = None) -> tuple[DecisionRules, dict[str, TrustedCurator]]:
    """The rules a decision is held to and whose signatures count: the team's signed root (in the
    configured registry's state) where there is one, so a curator's looser local checklists
    cannot publish what the deploy gate would refuse; else this workspace's checklists."""
    from curator.decision.signed_state import team_rules
    from curator.registry import open_registry

    where = registry or open_registry(session.workspace.registry_dir, session.policy)
    team = team_rules(where, session.policy)
    if team is not None:
        return team
    return DecisionRules.from_policy(session.policy), load_trusted(session.policy.directory)


def trusted_curator_keys(session: Session) -> frozenset[str]:
    """The key ids whose signatures count for the team (``team_rules_for``), revoked ones left out:
    the narrow port the signature stage gets to honour a signed forget of a first-seen signer."""
    trusted = team_rules_for(session)[1]
    return frozenset(k for k in trusted if trusted_person(k, trusted) is not None)


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
    #: where the rules this decision was held to came from (the team's signed root, or local)
    rules_source: str = "local checklists"
    #: a rejection the signed state needs more curators for: the proposal waiting for them
    #: (until it is co-signed, the gate still admits the digest if it was approved before)
    proposal: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "outcome": self.outcome, "ref": self.ref,
                "rules_source": self.rules_source,
                "digest_ref": self.digest_ref, "manifest_digest": self.manifest_digest,
                "approvals": self.approvals, "approvals_required": self.approvals_required,
                "curator": self.curator.to_dict(), "proposal": self.proposal}


def decide(session: Session, request: DecisionRequest, signer: Signer, registry: Registry | None = None,
           on_bytes: OnBytes | None = None, today: dt.date | None = None) -> DecisionOutcome:
    """Sign and record one curator's decision; on the final approval, push the artifact."""
    today = today or dt.date.today()
    if not request.rationale.strip():
        raise UsageError("a decision needs a rationale", "pass --rationale 'why you decided this'")
    a = assess(session, request.review_id, registry)
    if a.review.state != "open":
        raise DecisionRefused(f"review {a.review.id} is already decided",
                              "open a new review with --fresh to decide again")
    if a.manifest is None:
        raise DecisionRefused(f"review {a.review.id} has no fetched files to decide on",
                              "run the review (at least the fetch stage) first")
    refuse_broken_ledger(session)
    if request.approve:
        restore_staged(session, a.review, registry)
    me = signer.identity
    person = trusted_person(me.keyid, a.trusted)
    if person is None:  # verify would refuse a decision signed with this key
        raise DecisionRefused(f"{me.label}'s key {me.keyid[:16]} is not a trusted curator key"
                              + (" (revoked)" if me.keyid in a.trusted else ""),
                              "add the entry 'curator keys show' prints to the team's "
                              "checklists/curators.yaml, and sign it into the team's root "
                              "('curator state rotate')")
    name, tag, artifact = model_artifact(session.policy, a.review, a.manifest)
    checked = Rechecked((), a.rules.approvals_required)
    if request.approve:
        checked = recheck_approval(session, a, request.waivers, request.waive_until, request.supersede,
                                   artifact.digest, today)
        opener = a.opened_by or {}
        if a.rules.separation_of_duties and checked.approvals_required > 1:
            if not opener:
                raise DecisionRefused(f"cannot tell who opened review {a.review.id}",
                                      "separation of duties needs it; open a new review with --fresh")
            if opener.get("keyid") == me.keyid or person in opener_people(opener, a.trusted):
                raise DecisionRefused(f"{me.label} opened review {a.review.id} and cannot approve it",
                                      f"separation of duties ({a.rules.source}): another curator "
                                      "must approve")
    elif request.waivers or request.swap.given or request.supersede:
        raise UsageError("--waive, --supersede, --replaces, --justification and --rollback-plan apply to "
                         "approvals", "drop them when rejecting")
    waivers, required = checked.waivers, checked.approvals_required
    if registry is not None:
        _refuse_unpublishable(session, registry, name, artifact.digest,
                              request.approve and not request.supersede)
    change = swap_change(session.ledger, a.rules, a.review.candidate.repo_id, artifact.digest, request.swap,
                         next((p.change for p in reversed(a.approvals) if p.change), None)
                         ) if request.approve else None
    statement = build_statement(DecisionFacts(
        outcome="approved" if request.approve else "rejected", review_id=a.review.id, name=name,
        subject_digest=artifact.digest, candidate=a.review.candidate,
        revision=revision_of(a.review, a.manifest), manifest=a.manifest, results=a.results,
        policy_version=session.policy.version, policy_digest=digest_of(session.policy.data),
        approvals_required=required, waivers=waivers,
        conditions=tuple(c.strip() for c in request.conditions if c.strip()), curator=me,
        rationale=request.rationale.strip(), time=utc_now(), change=change.to_payload() if change else None,
        opened_by=CuratorIdentity.from_dict(a.opened_by) if a.opened_by else None,
        separation_of_duties=a.rules.separation_of_duties, supersedes=checked.supersedes))
    envelope = sign_statement(statement, signer)
    did = decision_id(envelope)
    counted: dict[str, int] = {}

    def judge(state: str, prior: list[DecisionMade]) -> tuple[str, DecisionMade]:
        if state != "open":
            last = prior[-1] if prior else None
            who = curator_name(last.curator, "another curator") if last else "another curator"
            raise DecisionRefused(
                f"review {a.review.id} was just decided ({last.settled if last else state}) by {who}",
                "open a new review with --fresh to decide again")
        # per trusted person: a second key of one curator is not a second approver
        approvers = {trusted_person(p.keyid, a.trusted) for p in prior
                     if p.outcome == "approved" and p.subject_digest == artifact.digest}
        approvers.discard(None)
        if a.rules.separation_of_duties and a.rules.approvals_required > 1:
            # an opener's approval signed under a looser local policy is no approval here
            approvers -= opener_people(a.opened_by, a.trusted)
        if person in approvers:
            raise DecisionRefused(f"{me.label} already approved review {a.review.id}",
                                  f"{required} different curators must approve")
        if request.approve:
            counted["n"] = len(approvers) + 1
            final = "approved" if counted["n"] >= required else "pending"
        else:
            counted["n"], final = len(approvers), "rejected"
        made = DecisionMade(
            outcome=statement["predicate"]["outcome"], final=final, decision_id=did, curator=me.to_dict(),
            name=name, tag=tag, subject_digest=artifact.digest, rationale=request.rationale.strip(),
            waivers=tuple(WaiverGranted(w.stage, w.reason, w.expires, w.status) for w in waivers),
            envelope=envelope.decode(), change=change,
            supersedes=Supersession.from_payload(checked.supersedes) if checked.supersedes else None)
        return ("open" if final == "pending" else "decided"), made

    state = session.ledger.record_decision(a.review.id, judge)
    final = "pending" if state == "open" else ("approved" if request.approve else "rejected")
    pushed, proposal = None, None
    if registry is not None:
        if final == "approved":
            pushed = push_review(session, a.review.id, registry, on_bytes, signer=signer)
        else:
            signed = _sign_decision_state(session, registry, signer, a.review.id, name, artifact.digest,
                                          final, request.rationale.strip())
            proposal = signed.proposal if final == "rejected" and not signed.published else None
    return DecisionOutcome(did, final, pushed.ref if pushed else None, pushed.digest_ref if pushed else None,
                           artifact.digest, counted.get("n", 0), required, me, a.rules.source, proposal)


def _refuse_unpublishable(session: Session, registry: Registry, name: str, digest: str,
                          approve: bool) -> None:
    """Before anything is signed: the registry has a signed state this curator can change,
    and an approval is not of a digest the state retired or rejected (it never comes back,
    unless the approval signs why it supersedes that: ``--supersede``)."""
    from curator.decision.signed_state import current_state

    state = current_state(registry, session.policy)
    record = state.record(name, digest)
    if approve and record is not None:
        raise DecisionRefused(f"{name}@{digest} was {record.line}",
                              "a retired or rejected artifact is never approved again; review a new revision")


def _sign_decision_state(session: Session, registry: Registry, signer: Signer, review_id: str, name: str,
                         digest: str, final: str, rationale: str) -> Published:
    """A pending approval proposes the next signed state; a rejection publishes (or proposes)
    the digest's removal, so a later rejection wins over an earlier approval."""
    from curator.decision.signed_state import removal, sign_state_change
    from curator.state.content import REJECTED

    try:
        if final == "pending":
            return sign_state_change(session, registry, approval_change(session, review_id, registry),
                                     [signer], proposal_id=review_id)
        else:
            rejection = removal(name, digest, REJECTED, signer, rationale, session.policy)
            return sign_state_change(session, registry, rejection, [signer],
                                     proposal_id=f"reject-{review_id}",
                              effect={"kind": "reject", "name": name, "digest": digest})
    except CuratorError as exc:
        raise type(exc)(exc.message, (exc.advice + "; " if exc.advice else "")
                        + f"the decision is recorded in the ledger, not yet in {registry.location}'s "
                        "signed state") from exc


def approval_change(session: Session, review_id: str, registry: Registry) -> Callable[[Targets], None]:
    """The signed state change of approving ``review_id``: the target with its decision facts,
    and production moved to it unless it was approved already (a re-push).

    Built only from the review's first approval, so the proposal a first curator signs and
    the change a second one expects are the same bytes."""
    from curator.decision.signed_state import current_state
    from curator.state import content

    a = assess(session, review_id)
    if a.manifest is None:
        raise DecisionRefused(f"review {review_id} has no fetched files", "re-run the review")
    name, tag, artifact = model_artifact(session.policy, a.review, a.manifest)
    first = next(p for p in a.approvals if p.subject_digest == artifact.digest)
    statement = _statement_of(first.envelope)
    custom = {"review_id": review_id, "repo_id": a.review.candidate.repo_id,
              "revision": revision_of(a.review, a.manifest), "decisions": [first.decision_id],
              "approvers": [first.curator], "approvals_required": a.rules.approvals_required,
              "waivers": [w.to_payload() for w in first.waivers],
              "conditions": statement.get("conditions", []),
              "time": statement.get("time", ""),
              **({"supersedes": statement["supersedes"]} if statement.get("supersedes") else {})}
    current = current_state(registry, session.policy)
    production = content.target_path(name, artifact.digest) not in current.approved()
    length = len(artifact.manifest)
    change = first.change
    other = across_names(session.ledger, change, name) if production else None

    def apply(targets: Targets) -> None:
        content.approve(targets, name, artifact.digest, length, tag, custom, production)
        if other is not None and change is not None:
            content.hand_over(targets, other.name, other.digest, name, artifact.digest,
                              str((first.curator or {}).get("name", "?")), str(statement.get("time", "")),
                              change.justification)

    return apply


def _statement_of(envelope: str) -> dict[str, Any]:
    import base64

    try:
        predicate = json.loads(base64.b64decode(json.loads(envelope)["payload"]))["predicate"]
        return predicate if isinstance(predicate, dict) else {}
    except (ValueError, KeyError, TypeError):
        return {}


def _publish_approval(session: Session, review_id: str, registry: Registry, signer: Signer) -> None:
    """Sign the approval into the registry's state: co-sign this review's proposal if a first
    approver made one, else sign (and publish, at threshold) a new version."""
    from curator.decision.signed_state import cosign_state_change, current_state, sign_state_change
    from curator.state.content import target_path

    a = assess(session, review_id)
    if a.manifest is not None:
        name, _tag, artifact = model_artifact(session.policy, a.review, a.manifest)
        if target_path(name, artifact.digest) in current_state(registry, session.policy).approved():
            return  # a re-push: the signed state already approves it
    change = approval_change(session, review_id, registry)
    proposed = [e.event for e in session.ledger.read(StateSigned)
                if e.event.proposal == review_id and e.event.registry == registry.location]
    if proposed and not proposed[-1].published:
        published = cosign_state_change(session, registry, review_id, change, [signer])
    else:
        published = sign_state_change(session, registry, change, [signer], proposal_id=review_id)
    if not published.published:  # e.g. the first approval was recorded with --no-push
        raise DecisionRefused(
            f"the approval of review {review_id} is signed by {published.signatures} of the "
            f"{published.threshold} curators the signed state needs: it waits as proposal {review_id}",
            "the deploy gate refuses it until it is published; open a new review with --fresh and "
            "approve it with the registry reachable each time")


def approval_envelopes(session: Session, review_id: str) -> tuple[str, list[bytes]]:
    """The subject digest and signed approvals of a review whose final decision is approved."""
    events = [e.event for e in session.ledger.read(DecisionMade, review_id)]
    if not events or events[-1].final != "approved" or events[-1].subject_digest is None:
        state = events[-1].final if events else "undecided"
        raise DecisionRefused(f"review {review_id} is not approved ({state})",
                              "only approved reviews are pushed; see 'curator decide'")
    subject = events[-1].subject_digest
    approvals = [e for e in events if e.outcome == "approved" and e.subject_digest == subject]
    a = assess(session, review_id)
    if a.rules.separation_of_duties and a.rules.approvals_required > 1:
        # the opener's own approval (signed under a looser local policy) was not counted: not pushed
        barred = opener_people(a.opened_by, a.trusted)
        approvals = [e for e in approvals
                     if trusted_person(e.keyid, a.trusted) not in barred]
    return subject, [e.envelope.encode() for e in approvals]


def restore_staged(session: Session, review: Review, registry: Registry | None) -> None:
    """A review another curator opened: its pinned files from the team's staging, re-hashed."""
    from curator.review.staging import restore_files, staging_enabled

    if staging_enabled(session.policy):
        restore_files(session, review, registry)


def push_review(session: Session, review_id: str, registry: Registry,
                on_bytes: OnBytes | None = None, *, signer: Signer) -> Pushed:
    """Push an approved review's files and signed approvals, then sign the approval into the
    registry's state; recorded in the ledger."""
    subject, envelopes = approval_envelopes(session, review_id)
    a = assess(session, review_id)
    if a.manifest is None:
        raise DecisionRefused(f"review {review_id} has no fetched files", "re-run the review")
    name, tag, artifact = model_artifact(session.policy, a.review, a.manifest)
    if artifact.digest != subject:
        raise DecisionRefused(f"review {review_id}'s files changed since it was approved "
                              f"({artifact.digest} is not the approved {subject})",
                              "open a new review with --fresh")
    restore_staged(session, a.review, registry)
    files_dir = session.context(a.review).files_dir
    workers = int(settings(session.policy).get("parallel_blobs", 4))
    try:
        pushed = push_model(registry, name, tag, artifact, files_dir, envelopes, on_bytes, workers)
    except CuratorError as exc:
        session.ledger.record(PushFailed(registry.location, exc.diagnostics()), review_id)
        raise type(exc)(exc.message, (exc.advice + "; " if exc.advice else "")
                        + f"the decision is recorded: retry with 'curator push {review_id}'") from exc
    session.ledger.record(PushedEvent(pushed.ref, pushed.digest_ref, pushed.digest, registry.location,
                                      pushed.uploaded_bytes, pushed.skipped_bytes), review_id)
    try:
        _publish_approval(session, review_id, registry, signer)
    except CuratorError as exc:
        raise type(exc)(exc.message, (exc.advice + "; " if exc.advice else "")
                        + "the model is pushed but not in the signed state: "
                        f"retry with 'curator push {review_id}'"
                        ) from exc
    if promote_pushed(session, registry, name, pushed.digest, review_id) is not None:
        record_hand_over(session, registry, name, pushed.digest, review_id)
    return pushed


def decision_summary(decision: DecisionMade) -> str:
    """One line for a recorded decision event (for lists and the TUI)."""
    return (f"{decision.outcome} by {(decision.curator or {}).get('name', '?')!s} "
            f"({decision.decision_id}): {json.dumps(decision.rationale)}")
