"""What a state change does in the registry besides the signed state, done once it is effective.

Under a threshold of two, a retire, a rejection or a rollback signed by one curator is only a
proposal: the deploy gate still serves what it served, so the registry's tags, referrers and the
ledger's production moves must not change yet, or the ledger, the inventory and the gate would
disagree. The proposer records the change's *effect* with the proposal (``StateSigned.effect``);
the curator whose co-signature publishes it does the effect, with the proposer's signed envelopes:

- ``attach``: a signed envelope attached to the model as a referrer (``subject``, ``artifact_type``,
  ``envelope``): a retire's signed rejection, a rollback's signed rollback;
- ``delete_tags``: the model's tags a retire removes;
- ``move``: a rollback's production move (``review_id``, ``decision_id``, ``curator``, ``rationale``,
  and undoing a swap across names ``previous`` and ``from_name``);
- ``withdraw``: undoing a swap across names, the other name's production withdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curator.core.errors import UsageError

if TYPE_CHECKING:
    from curator.registry.interface import Registry
    from curator.review.session import Session


@dataclass(frozen=True)
class EffectDone:
    """What the effect changed: the referrer attached, whether the tags went, and a note."""

    referrer: str | None = None
    tag_removed: bool | None = None
    note: str = ""


def apply_effect(session: Session, registry: Registry, effect: dict[str, Any]) -> EffectDone:
    """Do ``effect`` in ``registry`` (and the ledger's production moves) now that its state change
    is published."""
    from curator.registry.interface import MANIFEST_TYPE, Descriptor
    from curator.registry.transfer import attach

    name = str(effect.get("name", ""))
    referrer = None
    found = effect.get("attach")
    if isinstance(found, dict) and found.get("envelope"):
        subject = str(found.get("subject") or effect.get("digest"))
        body, _ = registry.get_manifest(name, subject)
        referrer = attach(registry, name, Descriptor(MANIFEST_TYPE, subject, len(body)),
                          [str(found["envelope"]).encode()], str(found.get("artifact_type")))[0]
    removed: bool | None = None
    note = ""
    for tag in effect.get("delete_tags") or []:
        try:
            removed = registry.delete_tag(name, str(tag))
            note = "" if removed else f"{name}:{tag} was already gone from the registry"
        except UsageError as exc:
            removed = None
            note = f"the tag stays ({exc.diagnostics()}); the signed state makes verify refuse it"
    move = effect.get("move")
    if isinstance(move, dict):
        envelope = str(found["envelope"]) if isinstance(found, dict) and found.get("envelope") else None
        _move(session, registry, name, str(effect.get("digest")), move, referrer, envelope)
    return EffectDone(referrer, removed, note)


def _move(session: Session, registry: Registry, name: str, digest: str, move: dict[str, Any],
          referrer: str | None, envelope: str | None) -> None:
    from curator.decision.production import promote, withdraw

    curator = move.get("curator") if isinstance(move.get("curator"), dict) else None
    promote(session, registry, name, digest, str(move.get("review_id", "")), action="rollback",
            decision_id=move.get("decision_id"), curator=curator, rationale=move.get("rationale"),
            referrer=referrer, envelope=envelope, previous=move.get("previous"),
            from_name=move.get("from_name"))
    other = move.get("withdraw")
    if isinstance(other, dict):
        withdraw(session, registry, str(other.get("name")), str(other.get("review_id", "")), "rollback",
                 previous=other.get("previous"), to=other.get("to"), decision_id=move.get("decision_id"),
                 curator=curator, rationale=move.get("rationale"))
