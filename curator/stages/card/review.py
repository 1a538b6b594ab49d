"""One card examined end to end: parse, grade, claims, license, lineage, look-alike names.

The stage and ``curator card`` both call ``examine``; the evidence it returns is what the
TUI's card panel and the reports show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.evidence.signature import SignatureEvidence
from curator.core.models import Finding, Manifest, Severity, StageResult, Status
from curator.stages.card.claims import Claim, claims_from_model_index
from curator.stages.card.fields import Evidence, FieldGrade, Verifiers, grade_fields
from curator.stages.card.grade import CardSettings, judge
from curator.stages.card.license import LicenseReport, LicenseTable, check_license
from curator.stages.card.lineage import Lineage, read_lineage
from curator.stages.card.lookalike import NearMiss, near_misses, not_ascii
from curator.stages.card.parse import ParsedCard
from curator.stages.card.provenance import lift_fields, lineage_conflicts
from curator.stages.card.rules import ProvenanceRules

TRUSTED_DECISIONS = ("expected", "tofu-match")
MAX_OUTLINE = 300


@dataclass(frozen=True)
class CardInputs:
    """What the card is judged against, besides the card itself."""

    repo_id: str
    source: str  # hub | local
    files: list[str] = field(default_factory=list)
    files_dir: Path | None = None
    manifest: Manifest | None = None
    signature: StageResult | None = None
    approved: dict[str, str] = field(default_factory=dict)  # repo id -> approving review id
    withdrawn: dict[str, str] = field(default_factory=dict)  # repo id -> why it no longer stands approved
    trusted: list[str] = field(default_factory=list)
    inventory: list[str] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)  # found before the card was read


@dataclass
class CardReport:
    """Everything the card stage concluded, and why."""

    status: Status
    reasons: list[str]
    card: ParsedCard
    fields: dict[str, FieldGrade]
    claims: list[Claim]
    license: LicenseReport
    lineage: Lineage
    lookalike: list[NearMiss]
    findings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        """The card stage's evidence; ``curator card --json`` prints it."""
        card = self.card
        outline = [{"location": s.location, "level": s.level, "line": s.line}
                   for s in card.sections if s.level][:MAX_OUTLINE]
        return {
            "status": self.status.value,
            "summary": self.reasons,
            "fields": {name: grade.to_dict() for name, grade in self.fields.items()},
            "claims": [c.to_dict() for c in self.claims],
            "license": self.license.to_dict(),
            "lineage": self.lineage.to_dict(),
            "lookalike": [m.to_dict() for m in self.lookalike],
            "findings": [f.to_dict() for f in self.findings],
            "card": {"path": card.name if card.present else None, "present": card.present,
                     "bytes": card.size, "sha256": card.sha256 or None,
                     "truncated": card.truncated, "front_matter": card.has_front_matter,
                     "metadata_readable": card.metadata_readable,
                     "metadata_keys": sorted(card.metadata)[:100], "outline": outline},
        }


def signature_evidence(result: StageResult | None) -> tuple[Evidence | None, str]:
    """Evidence that a trusted signer published the files, or why there is none."""
    if result is None:
        return None, "no signature stage result"
    evidence = SignatureEvidence.of(result)
    decision = evidence.trust.decision or "none"
    if not evidence.verified:
        return None, f"signature status is {evidence.status or result.status.value}"
    if decision not in TRUSTED_DECISIONS:
        return None, f"the signature verified but its signer is not trusted here ({decision})"
    why = evidence.trust.why or f"signer trusted ({decision})"
    return Evidence("signature stage", why[:240], "signature"), ""


def examine(card: ParsedCard, inputs: CardInputs, settings: CardSettings, rules: ProvenanceRules,
            table: LicenseTable) -> CardReport:
    """Everything the card stage concludes about one parsed card."""
    findings: list[Finding] = list(inputs.problems) + list(card.problems)
    if not card.present:
        findings.append(Finding(Severity.HIGH, "card-missing",
                                f"{inputs.repo_id} has no model card (README.md): none of the "
                                "five provenance fields can be read; ask the publisher for one"))
    claims, claim_problems = claims_from_model_index(card.metadata, card.key_lines, card.name)
    findings.extend(claim_problems)
    lineage = read_lineage(card, rules.fields["lineage"], inputs.repo_id, inputs.approved,
                           inputs.files_dir, inputs.manifest, inputs.withdrawn)
    findings.extend(lineage.findings)
    signed, unsigned_why = signature_evidence(inputs.signature)
    hub_runs = tuple(Evidence(c.location, f"hub-verified: {c.summary()}", "hub", c.line)
                     for c in claims if c.verified and c.has_verify_token)
    summaries = {"model-index": f"{len(claims)} claims: " + "; ".join(
        c.summary() for c in claims[:6]) + ("; …" if len(claims) > 6 else "")} if claims else {}
    not_approved = [b.repo_id for b in lineage.bases if b.approved_by is None]
    verifiers = Verifiers(
        signature=signed, approved_bases=lineage.approved_evidence, hub_verified_claims=hub_runs,
        repo_owner=inputs.repo_id.split("/", 1)[0] if inputs.source == "hub" and "/" in
        inputs.repo_id else None,
        summaries=summaries, hollow=frozenset() if claims else frozenset({"model-index"}),
        notes={"publisher_identity": unsigned_why,
               "lineage": f"not approved in curator: {', '.join(not_approved)}" if not_approved
               else "",
               "eval_summary": "the eval stage measures the claims"})
    fields = grade_fields(card, rules, verifiers)
    conflicts = lineage_conflicts([b.repo_id for b in lineage.bases], inputs.signature, card.name)
    findings.extend(conflicts)
    lift_fields(fields, inputs.signature, bool(conflicts))  # verified SLSA provenance (signature evidence)
    license_report = check_license(card, table, rules.placeholders, settings.license_severity,
                                   inputs.files) if card.present else LicenseReport()
    findings.extend(license_report.findings)
    # a local folder's name is the curator's own choice: nothing to imitate
    misses = [] if inputs.repo_id.startswith("local/") else near_misses(
        inputs.repo_id, inputs.trusted, inputs.inventory,
        settings.max_distance, settings.short_name)
    findings.extend(m.finding() for m in misses)
    odd = not_ascii(inputs.repo_id)
    if odd:
        findings.append(odd)
    status, reasons = judge(fields, findings, settings)
    return CardReport(status, reasons, card, fields, claims, license_report, lineage, misses,
                      findings)
