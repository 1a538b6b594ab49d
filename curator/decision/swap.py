"""Swap decisions: approving a candidate that replaces an inventory model is a change-control event.

A candidate replaces an inventory model when the curator says so (``--replaces REF``) or
when an artifact of the same repo id is already approved and pushed. Such an approval must
carry what ``decision.swap_requires`` lists (a justification and a rollback plan by
default); both, and what is replaced, are signed into the decision as its ``change``.

When the replaced model has another name (``--replaces A:prod``), the approval hands A's
production over to the new model in the same signed state version (``across_names``), and
``curator rollback`` can hand it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from curator.core.errors import DecisionRefused, UsageError
from curator.core.events import DecisionMade, ProductionMoved, ReplacedModel, SwapChange
from curator.decision.history import ApprovedModel, approved_models, find_approved, production_events
from curator.decision.rules import DecisionRules

if TYPE_CHECKING:
    from curator.decision.decide import Assessment
    from curator.ledger.base import LedgerBase
    from curator.review.session import Session

FLAGS = {"justification": "--justification", "rollback_plan": "--rollback-plan"}


@dataclass(frozen=True)
class SwapRequest:
    """What the curator said about a swap (all optional until policy requires them)."""

    replaces: str | None = None
    justification: str = ""
    rollback_plan: str = ""

    @property
    def given(self) -> bool:
        return bool(self.replaces or self.justification.strip() or self.rollback_plan.strip())


def replaced_model(ledger: LedgerBase, repo_id: str, digest: str,
                   replaces: str | None) -> ApprovedModel | None:
    """The inventory model a candidate (its artifact ``digest``) replaces, if any."""
    if replaces:
        model = find_approved(ledger, replaces)
        if model.digest == digest:
            raise UsageError(f"--replaces {replaces} is this very artifact ({digest[:19]}…)",
                             "name the model it replaces, or drop --replaces")
        return model
    same = [m for m in approved_models(ledger) if m.repo_id == repo_id and m.digest != digest]
    return same[-1] if same else None


def swap_change(ledger: LedgerBase, rules: DecisionRules, repo_id: str, digest: str, request: SwapRequest,
                earlier: SwapChange | None = None) -> SwapChange | None:
    """The ``change`` a decision signs in, or None when it is not a swap and nothing was said.

    ``earlier`` is the change an earlier approval of the same review recorded: a second
    approver signs the same change without having to repeat it. Raises DecisionRefused
    when a swap lacks what the policy requires.
    """
    if earlier and not request.given:
        return earlier
    model = replaced_model(ledger, repo_id, digest, request.replaces)
    if model is None and not request.given:
        return None
    values = {"justification": request.justification.strip(), "rollback_plan": request.rollback_plan.strip()}
    if model is not None:
        missing = [FLAGS[f] for f in sorted(rules.swap_requires) if not values[f]]
        if missing:
            raise DecisionRefused(
                f"approving {repo_id} replaces {model.ref} ({model.digest[:19]}…, review {model.review_id}): "
                f"a swap needs {' and '.join(missing)}",
                "say why the change is worth it and how to go back, e.g. --justification 'fixes X' "
                "--rollback-plan 'curator rollback NAME'; 'curator diff' shows what changed")
    replaced = ReplacedModel(model.review_id, model.repo_id, model.revision, model.ref, model.digest) \
        if model else None
    return SwapChange(replaced, values["justification"], values["rollback_plan"])


def swap_target(session: Session, assessment: Assessment) -> ApprovedModel | None:
    """The inventory model approving this assessed review would replace (same repo id), if any."""
    from curator.registry.artifact import model_artifact

    if assessment.manifest is None:
        return None
    _, _, artifact = model_artifact(session.policy, assessment.review, assessment.manifest)
    return replaced_model(session.ledger, assessment.review.candidate.repo_id, artifact.digest, None)


def across_names(ledger: LedgerBase, change: SwapChange | None, name: str) -> ApprovedModel | None:
    """The model of another name a signed ``change`` replaces (its production is handed over
    to ``name``), if it still stands approved; None for a swap within one name or no swap."""
    replaces = change.replaces if change else None
    if replaces is None:
        return None
    found = [m for m in approved_models(ledger)
             if m.digest == replaces.digest and m.review_id == replaces.review_id]
    return found[-1] if found and found[-1].name != name else None


def standing_swap(ledger: LedgerBase, review_id: str) -> ApprovedModel | None:
    """The model of another name whose production this review's final approval took over, while
    the ledger's record of production moves says it still holds it (what a rollback would undo)."""
    finals = [e.event for e in ledger.read(DecisionMade, review_id) if e.event.final == "approved"]
    if not finals:
        return None
    name, digest = finals[-1].name or "", finals[-1].subject_digest or ""
    other = across_names(ledger, finals[-1].change, name)
    if other is None:
        return None
    moves = production_events(ledger, other.name)
    last = moves[-1] if moves else None
    return other if last and last.action == "replaced" and last.by == f"{name}@{digest}" else None


def replaceable(ledger: LedgerBase, name: str) -> list[ApprovedModel]:
    """The models of other names than ``name`` a candidate could take production from (a swap
    across names): each name's production now, by the ledger's record of production moves, while
    it stands approved; sorted by name."""
    now: dict[str, ProductionMoved] = {}
    for moved in ledger.read(ProductionMoved):
        now[moved.event.name] = moved.event
    approved = {(m.name, m.digest): m for m in approved_models(ledger)}
    held = [approved.get((n, moved.digest)) for n, moved in now.items() if n != name and moved.digest]
    return sorted((m for m in held if m is not None), key=lambda m: m.name)


def swap_choices(session: Session, assessment: Assessment) -> list[ApprovedModel]:
    """The production models of other names an approval of this open review could replace."""
    from curator.registry import settings
    from curator.registry.artifact import repository_name

    if assessment.review.state != "open":
        return []
    namespace = str(settings(session.policy).get("namespace", ""))
    return replaceable(session.ledger, repository_name(assessment.review.candidate.repo_id, namespace))
