"""The second curator's half of a state change: ``curator state show`` lists the proposals that
wait, ``curator state sign ID`` co-signs one and, once it is published, does what it does in the
registry (``effects.py``).

What a proposal changes is read from its signed bytes against the published state, never from
its id or from what the ledger says it was. An approval is co-signed by approving its review
(``curator decide``), which signs the co-signer's own decision into the review too.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curator.core.clock import iso
from curator.core.errors import CuratorError, DecisionRefused, IntegrityError
from curator.core.events import StateSigned
from curator.decision.effects import EffectDone, apply_effect
from curator.state.proposals import Proposal, proposal_ids, read_proposal

if TYPE_CHECKING:
    from curator.attest.keys import Signer
    from curator.core.policy import Policy
    from curator.ledger.base import LedgerBase
    from curator.registry.interface import Registry
    from curator.review.session import Session
    from curator.state.repository import Published


@dataclass(frozen=True)
class CoSigned:
    """A co-signature: the proposal as it was shown, whether it is now published, what it did."""

    proposal: Proposal
    published: Published
    done: EffectDone

    def to_dict(self) -> dict[str, Any]:
        return {**self.proposal.to_dict(), "published": self.published.published,
                "signatures": self.published.signatures, "threshold": self.published.threshold,
                "targets_version": self.published.version, "referrer": self.done.referrer,
                "tag_removed": self.done.tag_removed, "note": self.done.note}


def waiting(registry: Registry, policy: Policy, ledger: LedgerBase | None = None) -> list[Proposal]:
    """Every proposal the registry holds that is not published, as it stands now (with when and
    by whom it was proposed, where ``ledger`` recorded it)."""
    from curator.decision.signed_state import anchor_path
    from curator.state.client import read_anchor
    from curator.state.repository import load_current
    from curator.state.store import StateStore

    store = StateStore(registry)
    current = load_current(store, read_anchor(anchor_path(policy)))
    found = []
    for proposal_id in proposal_ids(store):
        try:
            proposal = read_proposal(store, proposal_id, current)
        except CuratorError as exc:
            proposal = Proposal(proposal_id, 0, current.targets.signed.version, (), (),
                                current.root.signed.roles["targets"].threshold, False,
                                f"unreadable: {exc.message}")
        if proposal is not None:
            found.append(_from_ledger(ledger, registry, proposal) if ledger is not None else proposal)
    return found


def _proposed(ledger: LedgerBase, registry: Registry, proposal_id: str) -> tuple[float, StateSigned] | None:
    """The ledger's record of the proposal being made (when, by whom, with what effect)."""
    for row in reversed(ledger.read(StateSigned)):
        e = row.event
        if e.proposal == proposal_id and e.registry == registry.location and not e.published:
            return row.time, e
    return None


def _from_ledger(ledger: LedgerBase, registry: Registry, proposal: Proposal) -> Proposal:
    made = _proposed(ledger, registry, proposal.id)
    if made is None:
        return dataclasses.replace(proposal, extra={"proposed_at": None, "proposed_by": None})
    when, event = made
    who = event.signed_by or None
    return dataclasses.replace(proposal, extra={"proposed_at": iso(when), "proposed_by": who})


def find(session: Session, registry: Registry, text: str) -> Proposal:
    """A waiting proposal by its id, the review or decision id it carries, or ``NAME@DIGEST``."""
    text = text.strip()
    proposals = waiting(registry, session.policy, session.ledger)
    hits = [p for p in proposals if p.id == text]
    hits = hits or [p for p in proposals if p.id in (f"reject-{text}", f"retire-{text}")
                    or (len(text) >= 12 and p.id == f"rollback-{text[:12]}")
                    or any(text in (f"{c.name}@{c.digest}", c.digest) for c in p.changes)]
    if len(hits) != 1:
        why = "matches no waiting proposal" if not hits else f"matches {len(hits)} proposals"
        raise DecisionRefused(f"'{text}' {why} in {registry.location}",
                              "'curator state show' lists the proposals that wait, with their ids")
    return hits[0]


def co_sign(session: Session, registry: Registry, text: str, signer: Signer) -> CoSigned:
    """Add ``signer``'s signature to the proposal ``text`` names; at the threshold it is published
    and its effect done. Refused (nothing signed) when it is tampered, stale, an approval, or
    already signed by this curator, or when ``signer`` is not a curator of the team's root."""
    from curator.decision.signed_state import cosign_state_change, current_state

    proposal = find(session, registry, text)
    if proposal.problem:
        raise IntegrityError(f"proposal {proposal.id} is {proposal.problem}",
                             "nothing was signed; ask its proposer to propose the change again")
    if proposal.stale:
        raise DecisionRefused(
            f"proposal {proposal.id} is stale: it changes targets v{proposal.base}, but the signed state "
            f"is at v{current_state(registry, session.policy).version} now",
            "nothing was signed; the change must be proposed again (run the command that proposed it)")
    if proposal.action == "approve":
        review = next((c.detail.split(",")[0].removeprefix("review ") for c in proposal.changes
                       if c.action == "approve"), proposal.id)
        raise DecisionRefused(f"proposal {proposal.id} approves {proposal.changes[0].name}: an approval "
                              "is co-signed by approving its review",
                              f"run 'curator decide {review} --approve --rationale ...'")
    _not_behind(session, registry)
    made = _proposed(session.ledger, registry, proposal.id)
    effect = made[1].effect if made is not None else None
    published = cosign_state_change(session, registry, proposal.id, None, [signer], effect)
    done = EffectDone()
    if published.published and effect:
        try:
            done = apply_effect(session, registry, effect)
        except CuratorError as exc:  # the signed state is published: the gate follows it already
            done = EffectDone(note=f"published, but the registry's side of the change failed "
                                   f"({exc.diagnostics()}): the deploy gate follows the signed state")
    return CoSigned(proposal, published, done)


def refuse_second_proposal(registry: Registry, policy: Policy, ledger: LedgerBase, action: str, name: str,
                           digest: str | None = None) -> None:
    """A second curator who asks for a change that already waits co-signs that proposal instead:
    two one-signature proposals of the same change would never reach the threshold. (A rollback
    of a swap across names moves two names: either one names it.)"""
    moves = ("rollback", "withdraw") if action == "rollback" else (action,)
    for proposal in waiting(registry, policy, ledger):
        if proposal.stale or proposal.problem:
            continue
        if any(c.action in moves and c.name == name and digest in (None, c.digest) for c in proposal.changes):
            who = proposal.extra.get("proposed_by") or "another curator"
            raise DecisionRefused(f"a {action} of {name} is already proposed by {who} "
                                  f"(proposal {proposal.id})",
                                  f"co-sign it with 'curator state sign {proposal.id}'")


def _not_behind(session: Session, registry: Registry) -> None:
    """Refused when the registry serves a targets version older than one this ledger saw
    published there (a replayed timestamp): co-signing on it would drop what came after."""
    from curator.decision.signed_state import current_state, refuse_if_behind, seen_published

    refuse_if_behind(current_state(registry, session.policy).version,
                     seen_published(session.ledger, registry), registry)


def pending_removals(session: Session, registry: Registry) -> dict[str, tuple[str, StateSigned, float]]:
    """``NAME@DIGEST`` -> (retire | reject, the proposal's ledger record, when) for each removal
    proposed in this registry and not yet published, as the ledger knows them."""
    rows = session.ledger.read(StateSigned)
    published = {e.event.proposal for e in rows
                 if e.event.published and e.event.registry == registry.location}
    found: dict[str, tuple[str, StateSigned, float]] = {}
    for row in rows:
        e = row.event
        effect = e.effect or {}
        if (e.registry == registry.location and not e.published and e.proposal not in published
                and effect.get("kind") in ("retire", "reject")):
            found[f"{effect.get('name')}@{effect.get('digest')}"] = (str(effect["kind"]), e, row.time)
    return found
