"""The lead's quarterly decisions: keep, replace or retire a model, each signed like any decision.

The action is an in-toto Statement (predicate ``quarterly-action/v1``) about the model's
OCI manifest digest, in a DSSE envelope signed with the curator's key, recorded in the
ledger (``quarterly_action``). A retire is a signed state change (the digest leaves the
approved set and is recorded as retired: who, when, why); it also attaches a signed
*rejected* decision to the model and removes its tag. ``curator verify`` refuses it as
"retired on DATE by WHO: REASON". Where the team's root needs more signatures than the lead's,
the retire is a proposal: the gate still admits the model, the inventory says the retire is
proposed, and the rejection and the tag's removal wait for the co-signature that publishes it
(``curator state sign``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curator.core.errors import DecisionRefused, UsageError
from curator.core.events import QuarterlyActionTaken
from curator.inventory.build import RETIRED, InventoryEntry

if TYPE_CHECKING:
    from curator.attest.keys import Signer
    from curator.ledger.base import LedgerBase
    from curator.registry.interface import Registry
    from curator.review.session import Session


ACTIONS = ("keep", "replace", "retire")
PREDICATE_TYPE = "https://curator.dev/attestation/quarterly-action/v1"


@dataclass(frozen=True)
class ActionRequest:
    """What the lead chose for one model, and why."""

    action: str  # keep | replace | retire
    rationale: str
    replacement: str = ""  # replace: what should take its place (a repo id, revision or note)


@dataclass(frozen=True)
class ActionOutcome:
    action_id: str
    action: str
    ref: str
    curator: dict[str, str]
    rejection_id: str | None = None  # retire: the signed rejected decision attached in the registry
    tag_removed: bool | None = None
    note: str = ""
    #: a retire signed by fewer curators than the signed state needs: the proposal waiting for them
    proposal: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"action_id": self.action_id, "action": self.action, "ref": self.ref, "curator": self.curator,
                "rejection_id": self.rejection_id, "tag_removed": self.tag_removed, "note": self.note,
                "proposal": self.proposal, "effective": self.proposal is None}


def _validate(statement: dict[str, Any]) -> None:
    from google.protobuf import json_format  # type: ignore[import-untyped]
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    proto = json_format.ParseDict(statement, statement_pb2.Statement())  # type: ignore[attr-defined]
    Statement.copy_from_pb(proto).validate()


def action_statement(entry: InventoryEntry, request: ActionRequest, curator: dict[str, str],
                     last_check: dict[str, Any] | None, time: str) -> dict[str, Any]:
    """The signed record of one quarterly action (an in-toto Statement v1 dict)."""
    from curator.attest.statement import in_toto_statement

    built = in_toto_statement(entry.name, entry.manifest_digest, PREDICATE_TYPE, {
        "action": request.action, "ref": entry.ref, "review_id": entry.review_id,
        "decision_id": entry.decision.get("decision_id"), "repo_id": entry.repo_id,
        "revision": entry.revision, "rationale": request.rationale,
        "replacement": request.replacement, "last_check": last_check or {},
        "curator": curator, "time": time})
    _validate(built)
    return built


def _refuse(entry: InventoryEntry, request: ActionRequest) -> None:
    if request.action not in ACTIONS:
        raise UsageError(f"'{request.action}' is not a quarterly action", f"choose from {', '.join(ACTIONS)}")
    if not request.rationale.strip():
        raise UsageError("a quarterly action needs a rationale", "pass --rationale 'why'")
    if entry.status == RETIRED:
        raise DecisionRefused(f"{entry.ref} is already retired", "nothing left to decide for it")
    if request.action == "keep":
        check = entry.last_check
        if check is None:
            raise DecisionRefused(f"{entry.ref} has not been checked yet",
                                  "run 'curator quarterly --headless' first, then keep it")
        blocking = {"verify", "waiver"} & set(check.get("failed") or [])
        if blocking:
            raise DecisionRefused(f"{entry.ref} failed {', '.join(sorted(blocking))} in its last check: the "
                                  "deploy gate refuses it whatever a keep says",
                                  "retire or replace it, or re-review it with 'curator review ... --fresh'")


def _retire_in_registry(session: Session, entry: InventoryEntry, rationale: str, signer: Signer,
                        registry: Registry) -> tuple[str, bytes, bool | None, str, str | None]:
    """Sign the retirement into the registry's state; once it is effective (now, or when a second
    curator co-signs its proposal) attach a signed rejection to the model and remove its tag."""
    from curator.attest.dsse import decision_id, sign_statement
    from curator.attest.statement import DecisionFacts, build_statement
    from curator.core.clock import utc_now
    from curator.core.models import digest_of
    from curator.decision.cosign import refuse_second_proposal
    from curator.decision.decide import assess
    from curator.decision.effects import apply_effect
    from curator.decision.signed_state import removal, sign_state_change
    from curator.registry.artifact import DECISION_ARTIFACT_TYPE, model_artifact
    from curator.state.content import RETIRED as RETIRED_STATE

    a = assess(session, entry.review_id)
    if a.manifest is None:
        raise DecisionRefused(f"review {entry.review_id} has no manifest", "the ledger record is incomplete")
    name, tag, artifact = model_artifact(session.policy, a.review, a.manifest)
    if artifact.digest != entry.manifest_digest:
        raise DecisionRefused(f"{entry.ref}'s review no longer rebuilds the approved manifest "
                              f"({artifact.digest} is not {entry.manifest_digest})", "check the ledger")
    refuse_second_proposal(registry, session.policy, session.ledger, "retire", name, artifact.digest)
    statement = build_statement(DecisionFacts(
        outcome="rejected", review_id=a.review.id, name=name, subject_digest=artifact.digest,
        candidate=a.review.candidate, revision=a.review.candidate.commit or a.manifest.digest,
        manifest=a.manifest, results=a.results, policy_version=session.policy.version,
        policy_digest=digest_of(session.policy.data), approvals_required=a.rules.approvals_required,
        waivers=(), conditions=(), curator=signer.identity,
        rationale=f"retired in the quarterly review: {rationale.strip()}", time=utc_now()))
    envelope = sign_statement(statement, signer)
    rejection_id = decision_id(envelope)
    # the signed state first: it is what every gate reads; the referrer and the tag follow it,
    # and only once it is effective
    retirement = removal(name, artifact.digest, RETIRED_STATE, signer, rationale.strip(), session.policy)
    effect = {"kind": "retire", "name": name, "digest": artifact.digest, "delete_tags": [tag],
              "attach": {"subject": artifact.digest, "artifact_type": DECISION_ARTIFACT_TYPE,
                         "envelope": envelope.decode()}}
    published = sign_state_change(session, registry, retirement, [signer],
                                  proposal_id=f"retire-{rejection_id}", effect=effect)
    if not published.published:
        note = (f"retire proposed: signed by {published.signatures} of the {published.threshold} curators "
                f"the signed state needs; 'curator verify {entry.ref}' still passes until another curator "
                f"runs 'curator state sign {published.proposal}'")
        return rejection_id, envelope, None, note, published.proposal
    done = apply_effect(session, registry, effect)
    return rejection_id, envelope, done.tag_removed, done.note, None


def record_action(session: Session, entry: InventoryEntry, request: ActionRequest, signer: Signer,
                  registry: Registry) -> ActionOutcome:
    """Sign and record one quarterly action; a retire also changes the registry (first)."""
    from curator.attest.dsse import decision_id, sign_statement
    from curator.core.clock import utc_now

    _refuse(entry, request)
    me = signer.identity.to_dict()
    statement = action_statement(entry, request, me, entry.last_check, utc_now())
    envelope = sign_statement(statement, signer)
    action_id = decision_id(envelope)
    rejection_id, rejection, removed, note, proposal = None, None, None, "", None
    if request.action == "retire":
        rejection_id, rejection, removed, note, proposal = _retire_in_registry(
            session, entry, request.rationale, signer, registry)
    session.ledger.record(QuarterlyActionTaken(
        action_id=action_id, action=request.action, ref=entry.ref, name=entry.name, tag=entry.tag,
        digest=entry.manifest_digest, repo_id=entry.repo_id, rationale=request.rationale.strip(),
        replacement=request.replacement, curator=me, envelope=envelope.decode(), rejection_id=rejection_id,
        rejection_envelope=rejection.decode() if rejection else None, tag_removed=removed,
        registry=registry.location if registry is not None else None), entry.review_id)
    return ActionOutcome(action_id, request.action, entry.ref, me, rejection_id, removed, note, proposal)


def retirement(ledger: LedgerBase, registry_location: str, name: str, tag: str) -> str | None:
    """Why NAME:TAG is gone from this registry, if a quarterly retire removed it:
    "retired on DATE by WHO: REASON" (None when the ledger knows no such retire)."""
    import datetime as dt

    for row in reversed(ledger.read(QuarterlyActionTaken)):
        p = row.event
        if (p.action, p.name, p.tag) == ("retire", name, tag) and p.registry in (None, registry_location):
            day = dt.datetime.fromtimestamp(row.time, dt.UTC).date().isoformat()
            who = (p.curator or {}).get("name", "an unknown curator")
            return f"retired on {day} by {who}: {p.rationale}"
    return None
