"""The production tag: ``NAME:<decision.production_tag>`` (``NAME:prod`` by default).

Each approved revision keeps its own tag (the pinned revision's first 12 hex), so the
registry keeps every approved artifact. The production tag names the one a deploy
pulls: every final approval's push moves it to the new artifact (a swap), and
``curator rollback`` moves it back to an earlier approved digest. Each move is a
``production`` event in the ledger (action ``promote`` or ``rollback``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curator.core.errors import NotInRegistry
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
            envelope: str | None = None) -> ProductionMoved:
    """Point the production tag at ``digest`` (already in the registry) and record the move;
    a rollback also records what it signed (its decision id, curator, rationale, referrer, envelope)."""
    tag = production_tag(session.policy)
    body, _ = registry.get_manifest(name, digest)
    previous = in_production(registry, name, tag)
    registry.put_manifest(name, body, MANIFEST_TYPE, tag)
    event = ProductionMoved(action, name, tag, registry.describe(Reference(name, tag=tag)), digest, previous,
                            registry.location, review_id, decision_id, curator, rationale, referrer, envelope)
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
