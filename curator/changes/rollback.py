"""Rollback: move the production tag back to an earlier approved digest, as a signed decision.

The target is ``--to REF`` or, by default, the artifact that was in production before
the current one. It must be an approved artifact of the same repository and pass the
deploy gate (``curator verify``) as it stands: a rollback never puts into production
something the gate would refuse. The rollback itself is an in-toto statement signed
with the curator's key, attached to the target as a referrer of its own artifact type
(the gate reads only decision referrers, so it never mistakes one for an approval),
and recorded in the ledger with the tag move.

A swap across names (B approved with ``--replaces A:prod``) is rolled back the same way,
naming either side (``curator rollback A`` or ``curator rollback B``): A's approved digest
goes back into production exactly as it was approved and B's production is withdrawn, in one
signed state version, refused when A no longer stands approved, when its bytes fail the gate,
or when either production pointer moved since the swap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curator.attest.dsse import decision_id, sign_statement
from curator.attest.keys import CuratorIdentity, Signer
from curator.attest.statement import in_toto_statement
from curator.core.clock import utc_now
from curator.core.errors import DecisionRefused, UsageError
from curator.decision.history import ApprovedModel, approved_models, find_approved, production_events
from curator.decision.production import promote
from curator.decision.rules import DecisionRules
from curator.registry.artifact import repository_name
from curator.registry.interface import (
    MANIFEST_TYPE,
    NAME_RE,
    Descriptor,
    Reference,
    Registry,
)
from curator.registry.transfer import attach
from curator.state.client import TrustedState
from curator.state.content import SignedState

if TYPE_CHECKING:
    from tuf.api.metadata import Targets

    from curator.ledger.base import LedgerBase
    from curator.review.session import Session
    from curator.state.repository import Published

PREDICATE_TYPE = "https://curator.dev/attestation/rollback/v1"
ROLLBACK_ARTIFACT_TYPE = "application/vnd.curator.rollback.v1+json"


@dataclass(frozen=True)
class RollbackOutcome:
    """What moved where, and the signed decision that moved it."""

    name: str
    ref: str  # the production ref, as a user types it
    from_digest: str
    to: ApprovedModel
    decision_id: str
    curator: CuratorIdentity
    #: the name production came back from: this one, or the other side of a swap across names
    from_name: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ref": self.ref, "from_name": self.from_name or self.name,
                "from_digest": self.from_digest,
                "to_digest": self.to.digest, "to_ref": self.to.ref, "to_review_id": self.to.review_id,
                "decision_id": self.decision_id, "curator": self.curator.to_dict()}


def repository(text: str, namespace: str = "") -> str:
    """A NAME as the user typed it (registry name, or a hub repo id) -> the registry repository name."""
    text = text.strip()
    if NAME_RE.match(text):
        return text
    name = repository_name(text, namespace)
    if not name or not NAME_RE.match(name):
        raise UsageError(f"'{text}' is not a repository name", "pass NAME as 'curator inventory' lists it")
    return name


def choose_target(ledger: LedgerBase, name: str, current: str, to: str | None,
                  state: SignedState | None = None) -> ApprovedModel:
    """``--to`` resolved, or the approved artifact that was in production before ``current``.

    With the signed ``state``, only what it still approves counts: a digest rejected or
    retired since its approval is never a rollback target."""
    if to:
        target = find_approved(ledger, to, name)
        if target.digest == current:
            raise DecisionRefused(f"{target.ref} is already in production", "nothing to roll back")
        if state is not None:
            resolved = state.resolve(name, digest=target.digest)
            if resolved.target is None:
                raise DecisionRefused(f"cannot roll back to {target.ref}: {resolved.message}",
                                      "roll back to another approved artifact (--to REF)")
        return target
    approved = {m.digest: m for m in approved_models(ledger) if m.name == name
                and (state is None or state.resolve(name, digest=m.digest).target is not None)}
    # production history, newest first: the latest digest other than the current one that
    # was not itself rolled back from (a second rollback goes further back, not forward)
    rolled_back: set[str] = set()
    for move in reversed(production_events(ledger, name)):
        if move.action == "rollback" and move.previous:
            rolled_back.add(move.previous)
        for digest in (move.digest, move.previous):
            if digest and digest != current and digest in approved and digest not in rolled_back:
                return approved[digest]
    older = [m for m in approved.values() if m.digest != current and m.digest not in rolled_back]
    if not older:
        raise DecisionRefused(f"{name} has no earlier approved artifact to roll back to",
                              "approve and push an earlier revision first, or pass --to REF")
    return max(older, key=lambda m: m.time)


def rollback_statement(name: str, tag: str, current: str, target: ApprovedModel, curator: CuratorIdentity,
                       rationale: str, from_name: str = "") -> dict[str, Any]:
    """The signed rollback: its subject is the artifact put back into production."""
    return in_toto_statement(name, target.digest, PREDICATE_TYPE, {
        "action": "rollback", "name": name, "tag": tag, "from_name": from_name or name,
        "from_digest": current,
        "to_digest": target.digest, "to_review_id": target.review_id, "to_revision": target.revision,
        "curator": curator.to_dict(), "rationale": rationale, "time": utc_now()})


def attach_rollback(registry: Registry, name: str, subject: str, envelope: bytes) -> str:
    """Attach the signed rollback to the target artifact as a referrer; returns its digest."""
    body, _ = registry.get_manifest(name, subject)
    return attach(registry, name, Descriptor(MANIFEST_TYPE, subject, len(body)), [envelope],
                  ROLLBACK_ARTIFACT_TYPE)[0]


def rollback_rationale(name_text: str, rationale: str) -> str:
    """The rationale signed into a rollback: like a decision's, it cannot be blank."""
    why = rationale.strip()
    if not why:
        raise UsageError(f"rolling back {name_text} needs a rationale",
                         "pass --rationale 'why production goes back'")
    return why


def rollback(session: Session, registry: Registry, name_text: str, signer: Signer, trusted: TrustedState,
             to: str | None, rationale: str, today: dt.date | None = None) -> RollbackOutcome:
    """Put an earlier approved artifact back into production: a signed state change (the
    deploy gate follows it), recorded, and the registry's tag moved to match."""
    from curator.decision.cosign import refuse_second_proposal
    from curator.decision.signed_state import sign_state_change
    from curator.decision.verify import verify
    from curator.registry import settings
    from curator.state import content

    why = rollback_rationale(name_text, rationale)
    rules = DecisionRules.from_policy(session.policy)
    name = repository(name_text, str(settings(session.policy).get("namespace", "")))
    tag = rules.production_tag
    current = trusted.state.production(name)
    refuse_second_proposal(registry, session.policy, session.ledger, "rollback", name)
    swap = swap_to_undo(trusted.state, name, current, to)
    if swap is not None:
        return undo_swap(session, registry, swap, signer, trusted, to, why, today)
    if current is None:
        raise DecisionRefused(f"the signed state of {registry.location} has nothing in production for {name}",
                              "nothing is in production to roll back; approve a model first")
    target = choose_target(session.ledger, name, current, to, trusted.state)
    report = verify(registry, Reference(name, digest=target.digest), trusted, rules, today=today)
    if not report.ok:
        problems = "; ".join(f"{p.code}: {p.message}" for p in report.problems[:3]) or "blobs not checked"
        raise DecisionRefused(f"{target.ref} ({target.digest[:19]}…) fails the deploy gate: {problems}",
                              "roll back to another approved artifact (--to REF), or re-review it")
    envelope = sign_statement(rollback_statement(name, tag, current, target, signer.identity, why), signer)
    did = decision_id(envelope)

    def move(targets: Targets) -> None:
        content.promote(targets, name, target.digest)

    effect = {"kind": "rollback", "name": name, "digest": target.digest,
              "attach": {"subject": target.digest, "artifact_type": ROLLBACK_ARTIFACT_TYPE,
                         "envelope": envelope.decode()},
              "move": {"review_id": target.review_id, "decision_id": did,
                       "curator": signer.identity.to_dict(),
                       "rationale": why}}
    signed = sign_state_change(session, registry, move, [signer], proposal_id=f"rollback-{did[:12]}",
                               effect=effect)
    published_or_refuse(signed, name)
    referrer = attach_rollback(registry, name, target.digest, envelope)
    moved = promote(session, registry, name, target.digest, target.review_id, action="rollback",
                    decision_id=did, curator=signer.identity.to_dict(), rationale=why, referrer=referrer,
                    envelope=envelope.decode())
    return RollbackOutcome(name, moved.ref, current, target, did, signer.identity)


def published_or_refuse(published: Published, name: str) -> None:
    """A rollback the signed state did not publish moved nothing: it is not recorded as a move."""
    if not published.published:
        raise DecisionRefused(
            f"the rollback of {name} is signed by {published.signatures} of the {published.threshold} "
            f"curators the signed state needs: production did not move yet (proposal {published.proposal})",
            "the deploy gate still serves what it served until another curator co-signs it: "
            f"'curator state sign {published.proposal}'")


@dataclass(frozen=True)
class SwapToUndo:
    """A swap across names the signed state records: ``restore@digest`` was replaced by ``taken_by@by``."""

    restore: str
    digest: str
    taken_by: str
    by: str


def swap_to_undo(state: SignedState, name: str, current: str | None, to: str | None) -> SwapToUndo | None:
    """The swap across names rolling back ``name`` undoes: ``name``'s production was handed to
    another name, or (without ``--to``) ``name`` holds the production it took over from one."""
    replaced = state.replaced(name)
    if current is None and replaced:
        taken_by, _, by = str(replaced.get("by", "")).partition("@")
        return SwapToUndo(name, str(replaced.get("digest")), taken_by, by)
    took = state.replaces(name)
    if to is None and took and current is not None and took.get("by") == current:
        return SwapToUndo(str(took.get("name")), str(took.get("digest")), name, current)
    return None


def undo_swap(session: Session, registry: Registry, swap: SwapToUndo, signer: Signer, trusted: TrustedState,
              to: str | None, why: str, today: dt.date | None = None) -> RollbackOutcome:
    """Hand production back to the model a swap across names replaced, exactly as approved."""
    from curator.decision.production import withdraw
    from curator.decision.signed_state import sign_state_change
    from curator.decision.verify import verify
    from curator.state import content

    rules = DecisionRules.from_policy(session.policy)
    tag = rules.production_tag
    if to:
        target = choose_target(session.ledger, swap.restore, swap.by, to, trusted.state)
    else:
        target = find_approved(session.ledger, f"{swap.restore}@{swap.digest}", swap.restore)
        resolved = trusted.state.resolve(swap.restore, digest=target.digest)
        if resolved.target is None:
            raise DecisionRefused(f"cannot roll back to {target.ref}: {resolved.message}",
                                  "roll back to another approved artifact (--to REF)")
    report = verify(registry, Reference(swap.restore, digest=target.digest), trusted, rules, today=today)
    if not report.ok:
        problems = "; ".join(f"{p.code}: {p.message}" for p in report.problems[:3]) or "blobs not checked"
        raise DecisionRefused(f"{target.ref} ({target.digest[:19]}…) fails the deploy gate: {problems}",
                              "roll back to another approved artifact (--to REF), or re-review it")
    statement = rollback_statement(swap.restore, tag, swap.by, target, signer.identity, why, swap.taken_by)
    envelope = sign_statement(statement, signer)
    did = decision_id(envelope)
    when = str(statement["predicate"]["time"])

    def move(targets: Targets) -> None:
        content.undo_swap(targets, swap.restore, target.digest, swap.taken_by, swap.by,
                          signer.identity.name, when, why, tag)

    withdrawn = None
    if trusted.state.production(swap.taken_by) == swap.by:
        took = [m.review_id for m in approved_models(session.ledger)
                if m.name == swap.taken_by and m.digest == swap.by]
        withdrawn = {"name": swap.taken_by, "review_id": took[-1] if took else target.review_id,
                     "previous": swap.by, "to": content.target_path(swap.restore, target.digest)}
    effect = {"kind": "rollback", "name": swap.restore, "digest": target.digest,
              "attach": {"subject": target.digest, "artifact_type": ROLLBACK_ARTIFACT_TYPE,
                         "envelope": envelope.decode()},
              "move": {"review_id": target.review_id, "decision_id": did,
                       "curator": signer.identity.to_dict(),
                       "rationale": why, "previous": swap.by, "from_name": swap.taken_by,
                       **({"withdraw": withdrawn} if withdrawn else {})}}
    published_or_refuse(sign_state_change(session, registry, move, [signer],
                                          proposal_id=f"rollback-{did[:12]}", effect=effect), swap.restore)
    referrer = attach_rollback(registry, swap.restore, target.digest, envelope)
    who = signer.identity.to_dict()
    moved = promote(session, registry, swap.restore, target.digest, target.review_id, action="rollback",
                    decision_id=did, curator=who, rationale=why, referrer=referrer,
                    envelope=envelope.decode(), previous=swap.by, from_name=swap.taken_by)
    if trusted.state.production(swap.taken_by) == swap.by:
        took = [m.review_id for m in approved_models(session.ledger)
                if m.name == swap.taken_by and m.digest == swap.by]
        withdraw(session, registry, swap.taken_by, took[-1] if took else target.review_id, "rollback",
                 previous=swap.by, to=content.target_path(swap.restore, target.digest), decision_id=did,
                 curator=who, rationale=why)
    return RollbackOutcome(swap.restore, moved.ref, swap.by, target, did, signer.identity, swap.taken_by)
