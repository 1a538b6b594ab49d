"""How verified SLSA provenance lifts the card's training pipeline and lineage fields.

Only the signature stage's ``provenance`` evidence (handed over by the pipeline as its
StageResult) for attestations that verified, whose signer is trusted and whose subjects are the
pinned files counts: the card stage never reads attestation files itself, and never imports
the signature stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from curator.core.evidence.signature import Attestation, SignatureEvidence
from curator.core.models import Finding, Severity
from curator.stages.card.fields import MAX_EVIDENCE, VERIFIED, Evidence

if TYPE_CHECKING:
    from curator.core.models import StageResult



def pipeline_excerpt(facts: Mapping[str, Any]) -> str:
    """The training pipeline as the attestation states it, in one line."""
    src = facts.get("source") or {}
    where = f"{src.get('repo') or '?'}@{(src.get('commit') or '?')[:12]}"
    text = f"built by {facts.get('builder') or '?'} from {where}"
    if facts.get("build_type"):
        text += f" ({facts['build_type']})"
    if facts.get("parameters"):
        text += f"; parameters {facts['parameters'][:160]}"
    return text[:240]


def lineage_excerpt(facts: Mapping[str, Any]) -> str:
    deps = facts.get("dependencies") or []
    return ("built from " + ", ".join(d["uri"] for d in deps[:4]))[:240]


def usable_attestations(signature: StageResult | None) -> tuple[Attestation, ...]:
    """Provenance attestations the signature stage verified, trusts and matched to the pinned files,
    every weight file among their subjects."""
    return SignatureEvidence.of(signature).usable_attestations


def lineage_conflicts(card_bases: list[str], signature: StageResult | None, card_name: str) -> list[Finding]:
    """A base model the signed provenance names that the card's base_model does not (high)."""
    named = {b.casefold() for b in card_bases}
    if not named:
        return []
    found = []
    for attestation in usable_attestations(signature):
        other = [b for b in (attestation.facts or {}).get("base_models") or [] if b.casefold() not in named]
        if other:
            found.append(Finding(
                Severity.HIGH, "lineage-conflict",
                f"the signed provenance {attestation.file} says the model was built from "
                f"{', '.join(other)}, but {card_name} names {', '.join(card_bases)} as its base_model: "
                "ask the publisher which is true before trusting either", file=card_name))
    return found


def lift_fields(fields: dict[str, Any], signature: StageResult | None, conflicted: bool = False) -> None:
    """Mark training_pipeline (and lineage, when dependencies are attested and do not contradict
    the card) verified by provenance."""
    for attestation in usable_attestations(signature):
        facts, where = attestation.facts or {}, f"provenance {attestation.file}"
        lifts = [("training_pipeline", pipeline_excerpt(facts))]
        if facts.get("dependencies") and not conflicted:
            lifts.append(("lineage", lineage_excerpt(facts)))
        for name, excerpt in lifts:
            grade = fields.get(name)
            if grade is None:
                continue
            grade.status = VERIFIED
            grade.evidence = [Evidence(where, excerpt, "provenance"), *grade.evidence][:MAX_EVIDENCE]
            grade.note = f"verified by the signed provenance {attestation.file}"
