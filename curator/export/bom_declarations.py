"""CycloneDX 1.6 ``declarations`` and ``definitions``: the curator's signed decision as a claim
backed by evidence.

``definitions.standards`` names the team's policy (one requirement per review stage).
For each model, ``declarations`` holds one claim per stage (its status, findings and
waiver) and one for the approval (the rationale), backed by evidence: each stage's result
and the signed decision itself (the DSSE envelope as an attachment, and where the
registry keeps it). An attestation by the approving curator maps each stage requirement
to its claim with a conformance score (1 passed, 0.5 warned or waived, 0 otherwise). The
affirmation lists every approver with their key id.
"""

from __future__ import annotations

import base64
from typing import Any

from curator.core.models import StageResult
from curator.inventory.build import InventoryEntry

POLICY_REF = "curator-policy"
ENVELOPE_TYPE = "application/vnd.dsse.envelope.v1+json"
SCORE = {"passed": 1.0, "warned": 0.5, "skipped": 0.0, "failed": 0.0, "errored": 0.0}


def requirement_ref(stage: str) -> str:
    return f"{POLICY_REF}:{stage}"


def assessor_ref(keyid: str) -> str:
    return f"curator-assessor:{keyid}"


def decision_location(entry: InventoryEntry) -> str:
    """Where the signed decision lives: the registry's referrers of the approved manifest."""
    registry = entry.registry
    if "://" in registry:
        return f"{registry.rstrip('/')}/v2/{entry.name}/referrers/{entry.manifest_digest}"
    return f"oci:{registry}:{entry.name}@{entry.manifest_digest}"


def definitions(stages: list[str], policy_version: str) -> Any:
    """The team's policy as a standard whose requirements are the review stages."""
    from cyclonedx.model.definition import Definitions, Requirement, Standard

    return Definitions(
        standards=[
            Standard(
                bom_ref=POLICY_REF,
                name="curator review policy",
                version=policy_version,
                description="checklists/default.yaml: each stage a candidate must pass (or have waived) "
                "before approval",
                requirements=[
                    Requirement(
                        bom_ref=requirement_ref(s),
                        identifier=s,
                        title=f"{s} stage",
                        text=f"the {s} stage passed, or a curator signed a waiver for it",
                    )
                    for s in stages
                ],
            )
        ]
    )


def _stage_claim(
    entry: InventoryEntry, ref: str, name: str, result: StageResult
) -> tuple[dict[str, Any], dict[str, Any]]:
    waiver = next((w for w in entry.waivers if w.get("stage") == name), None)
    worst = max(result.findings, key=lambda f: f.severity.rank, default=None)
    said = f"{name} {result.status.value}, {len(result.findings)} finding(s)" + (
        f", worst {worst.severity.value}: {worst.message}"[:300] if worst else ""
    )
    evidence = {
        "bom-ref": f"{ref}#evidence:{name}",
        "propertyName": f"curator:stage:{name}",
        "description": said,
        "data": [
            {"name": f"{name} result", "contents": {"url": f"urn:curator:review:{entry.review_id}:{name}"}}
        ],
    }
    claim: dict[str, Any] = {
        "bom-ref": f"{ref}#claim:{name}",
        "target": ref,
        "predicate": f"the {name} stage passed"
        if not waiver
        else f"the {name} stage's blocking result is accepted by a signed waiver",
        "evidence": [evidence["bom-ref"], f"{ref}#evidence:decision"],
    }
    if waiver:
        claim["reasoning"] = (
            f"waived by {entry.curator} until {waiver.get('expires')}: {waiver.get('reason')}"
        )
        claim["counterEvidence"] = [evidence["bom-ref"]]
        claim["evidence"] = [f"{ref}#evidence:decision"]
    return claim, evidence


def _decision_evidence(entry: InventoryEntry, ref: str, location: str) -> dict[str, Any]:
    who = entry.decision.get("curator") or {}
    data: list[dict[str, Any]] = [{"name": "registry referrer", "contents": {"url": location}}]
    if entry.lifecycle.envelope:
        data.insert(
            0,
            {
                "name": f"signed decision {entry.decision.get('decision_id')}",
                "contents": {
                    "attachment": {
                        "contentType": ENVELOPE_TYPE,
                        "encoding": "base64",
                        "content": base64.b64encode(entry.lifecycle.envelope.encode()).decode(),
                    }
                },
            },
        )
    out: dict[str, Any] = {
        "bom-ref": f"{ref}#evidence:decision",
        "propertyName": "curator:decision",
        "description": f"curator decision {entry.decision.get('decision_id')}: a DSSE envelope over an "
        f"in-toto statement, signed by {who.get('name')} (key {who.get('keyid')}); "
        "check it with 'curator verify'",
        "data": data,
        "created": entry.approved_at,
    }
    if who.get("name"):
        out["author"] = {
            "name": str(who["name"]),
            **({"email": str(who["email"])} if who.get("email") else {}),
        }
    expiries = sorted(str(w.get("expires")) for w in entry.waivers if w.get("expires"))
    if expiries:
        out["expires"] = f"{expiries[0]}T00:00:00Z"
    return out


def model_declarations(
    entry: InventoryEntry, results: dict[str, StageResult], ref: str, location: str
) -> dict[str, list[dict[str, Any]]]:
    """Claims, evidence and the attestation of one model."""
    claims, evidence = [], [_decision_evidence(entry, ref, location)]
    mapping = []
    for name, result in results.items():
        claim, ev = _stage_claim(entry, ref, name, result)
        claims.append(claim)
        evidence.append(ev)
        waived = any(w.get("stage") == name for w in entry.waivers)
        score = (
            0.5
            if waived and result.status.value in ("failed", "errored")
            else SCORE.get(result.status.value, 0.0)
        )
        mapping.append(
            {
                "requirement": requirement_ref(name),
                "claims": [claim["bom-ref"]],
                "conformance": {"score": score, "rationale": claim.get("reasoning") or claim["predicate"]},
            }
        )
    approval = {
        "bom-ref": f"{ref}#claim:approval",
        "target": ref,
        "predicate": "approved for use from the private registry"
        + (" under conditions: " + "; ".join(entry.conditions) if entry.conditions else ""),
        "reasoning": str(entry.decision.get("rationale", "")),
        "evidence": [f"{ref}#evidence:decision"],
    }
    claims.append(approval)
    keyid = str((entry.decision.get("curator") or {}).get("keyid", "unknown"))
    attestation = {
        "summary": f"{entry.ref} approved by {entry.curator} on {entry.approved_at}: "
        f"{entry.decision.get('rationale', '')}",
        "assessor": assessor_ref(keyid),
        "map": mapping,
    }
    return {"claims": claims, "evidence": evidence, "attestations": [attestation]}


def declarations(
    per_model: list[dict[str, list[dict[str, Any]]]], entries: list[InventoryEntry]
) -> dict[str, Any]:
    """The BOM's ``declarations``: every model's claims and evidence, the assessors and the affirmation."""
    out: dict[str, Any] = {"assessors": [], "attestations": [], "claims": [], "evidence": []}
    for part in per_model:
        for key in ("attestations", "claims", "evidence"):
            out[key] += part[key]
    seen: dict[str, dict[str, Any]] = {}
    signatories = []
    for entry in entries:
        final_key = str((entry.decision.get("curator") or {}).get("keyid", "unknown"))
        people = list(entry.lifecycle.approvers) or [dict(entry.decision.get("curator") or {})]
        for who in people:
            keyid = str(who.get("keyid") or "unknown")
            if keyid in seen:
                continue
            contact = {
                "name": str(who.get("name", "?")),
                **({"email": str(who["email"])} if who.get("email") else {}),
            }
            seen[keyid] = {
                "bom-ref": assessor_ref(keyid),
                "thirdParty": False,
                "organization": {"name": f"curator {who.get('name', '?')}", "contact": [contact]},
            }
            signatories.append(
                {
                    "name": str(who.get("name", "?")),
                    "role": f"curator, signing key {keyid}",
                    "organization": {"name": f"curator {who.get('name', '?')}", "contact": [contact]},
                    "externalReference": {"type": "attestation", "url": decision_location(entry)},
                }
            )
        if final_key not in seen:
            seen[final_key] = {
                "bom-ref": assessor_ref(final_key),
                "thirdParty": False,
                "organization": {"name": f"curator {entry.curator}"},
            }
    out["assessors"] = list(seen.values())
    out = {k: v for k, v in out.items() if v}
    if signatories:
        out["affirmation"] = {
            "statement": "Each model listed was approved by the curators named here; each "
            "approval is a DSSE envelope signed with the key id shown.",
            "signatories": signatories,
        }
    return out
