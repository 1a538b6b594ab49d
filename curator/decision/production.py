"""The production tag: ``NAME:<decision.production_tag>`` (``NAME:prod`` by default).

Each approved revision keeps its own tag (the pinned revision's first 12 hex), so the
registry keeps every approved artifact. The production tag names the one a deploy
pulls: every final approval's push moves it to the new artifact (a swap), and
``curator rollback`` moves it back to an earlier approved digest. Each move is a
``production`` event in the ledger (action ``promote`` or ``rollback``; ``replaced`` when a
swap across names took the tag's production away, with no digest, and the tag is deleted).
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from curator.core.errors import NotInRegistry, UsageError
from curator.core.events import ProductionMoved, Pushed
from curator.decision.rules import DecisionRules
from curator.registry.interface import MANIFEST_TYPE, Reference, Registry, sha256_digest

if TYPE_CHECKING:
    from curator.core.policy import Policy
    from curator.review.session import Session


def production_tag(policy: Policy) -> str:
    """The production tag the policy names (``decision.production_tag``)."""
    return DecisionRules.from_policy(policy).production_tag


def in_production(registry: Registry, name: str, tag: str) -> str | None:
    """The manifest digest ``NAME:TAG`` points at, or None when there is no such tag."""
    try:
        body, _ = registry.get_manifest(name, tag)
    except NotInRegistry:
        return None
    return sha256_digest(body)


def promote(session: Session, registry: Registry, name: str, digest: str, review_id: str,
            action: str = "promote", *, decision_id: str | None = None,
            curator: dict[str, Any] | None = None, rationale: str | None = None, referrer: str | None = None,
            envelope: str | None = None, previous: str | None = None,
            from_name: str | None = None) -> ProductionMoved:
    """Point the production tag at ``digest`` (already in the registry) and record the move;
    a rollback also records what it signed (its decision id, curator, rationale, referrer, envelope)
    and, undoing a swap across names, the name production came back from and what it held
    (``from_name``, ``previous``)."""
    tag = production_tag(session.policy)
    body, _ = registry.get_manifest(name, digest)
    was = in_production(registry, name, tag)
    registry.put_manifest(name, body, MANIFEST_TYPE, tag)
    event = ProductionMoved(action, name, tag, registry.describe(Reference(name, tag=tag)), digest,
                            previous or was, registry.location, review_id, decision_id, curator, rationale,
                            referrer, envelope, from_name=from_name)
    # a registry-wide event (the tag is the repository's, not one review's): no review id on the row
    session.ledger.record(event)
    return event


def promote_pushed(session: Session, registry: Registry, name: str, digest: str,
                   review_id: str) -> ProductionMoved | None:
    """After a push is recorded: a review's first push moves the production tag (the newest
    approval goes to production); pushing an earlier approval again does not, since moving
    production back is a rollback, signed as such. Nothing in production yet: it always moves."""
    pushes = session.ledger.read(Pushed, review_id)
    if len(pushes) > 1 and in_production(registry, name, production_tag(session.policy)) is not None:
        return None
    return promote(session, registry, name, digest, review_id)


def withdraw(session: Session, registry: Registry, name: str, review_id: str, action: str, *,
             previous: str | None = None, by: str | None = None, to: str | None = None,
             decision_id: str | None = None, curator: dict[str, Any] | None = None,
             rationale: str | None = None) -> ProductionMoved:
    """Nothing of ``name`` is in production any more (a swap across names, or its rollback):
    delete the registry's production tag where it can, and record the move with no digest."""
    tag = production_tag(session.policy)
    was = in_production(registry, name, tag)
    # where the registry cannot delete tags, the tag stays: the signed state is what the deploy
    # gate reads, and it refuses NAME:prod
    with contextlib.suppress(UsageError):
        registry.delete_tag(name, tag)
    event = ProductionMoved(action, name, tag, registry.describe(Reference(name, tag=tag)), "",
                            previous or was, registry.location, review_id, decision_id, curator, rationale,
                            by=by, to=to)
    session.ledger.record(event)
    return event


def record_hand_over(session: Session, registry: Registry, name: str, digest: str, review_id: str) -> None:
    """After ``name@digest`` went into production: the name whose production the signed state
    handed over to it (a swap across names) loses its production tag too, recorded."""
    from curator.decision.signed_state import current_state
    from curator.state.content import target_path

    state = current_state(registry, session.policy)
    took = state.replaces(name)
    if not took or took.get("by") != digest:
        return
    other = str(took.get("name"))
    replaced = state.replaced(other) or {}
    if replaced.get("by") == target_path(name, digest):
        withdraw(session, registry, other, review_id, "replaced", previous=replaced.get("digest"),
                 by=target_path(name, digest), rationale=str(replaced.get("why", "")))
