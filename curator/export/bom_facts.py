"""What an AI-BOM says about one adopted model beyond its identity: curator's facts as
``curator:*`` properties (the namespace is documented in docs/bom.md), the pinned files as
``file`` components with their scan verdicts, the card's datasets as ``data`` components,
and the scan findings as CycloneDX vulnerabilities (a waived one carries the waiver as its
analysis).
"""

from __future__ import annotations

from typing import Any

from curator.core.evidence.scan import ScannedFile
from curator.core.models import Finding, Severity
from curator.inventory.build import InventoryEntry
from curator.inventory.evidence import ModelEvidence

#: scan findings at or above this severity go into the BOM as vulnerabilities
FINDING_FLOOR = Severity.LOW


def _approver(a: dict[str, Any]) -> str:
    return f"{a.get('name')} <{a.get('email')}> key {a.get('keyid')} at {a.get('time')}"


def lifecycle_properties(entry: InventoryEntry) -> list[tuple[str, str]]:
    """Approvals, conditions, swap, production, rollbacks, retirement, signature state."""
    life = entry.lifecycle
    props = [("curator:registry", entry.registry)]
    props += [("curator:approver", _approver(a)) for a in life.approvers]
    props += [("curator:condition", c) for c in life.conditions]
    sig = entry.signature
    props += [("curator:signature:status", str(sig.get("status") or "not run"))]
    if sig.get("signer"):
        props.append(("curator:signature:signer", str(sig["signer"])))
    if sig.get("trust"):
        props.append(("curator:signature:trust", str(sig["trust"])))
    change = life.change or {}
    replaces = change.get("replaces") or {}
    if replaces:
        props.append(("curator:swap:replaces", f"{replaces.get('ref')} ({replaces.get('digest')})"))
    if change.get("justification"):
        props.append(("curator:swap:justification", str(change["justification"])))
    if change.get("rollback_plan"):
        props.append(("curator:swap:rollback_plan", str(change["rollback_plan"])))
    props += [("curator:replaced_by", f"{r['ref']} ({r['digest']}) on {r['time']}") for r in life.replaced_by]
    prod = life.production
    if prod:
        props += [
            ("curator:production", "true" if prod.get("current") else "false"),
            ("curator:production:ref", f"{prod.get('ref')} -> {prod.get('digest') or prod.get('moved_to')}"),
        ]
    props += [
        ("curator:rollback", f"{r['time']} by {r['curator']}: {r['from']} -> {r['to']}: {r['rationale']}")
        for r in life.rollbacks
    ]
    if life.rolled_back_from:
        props.append(("curator:rolled_back_from", "true"))
    if life.retirement:
        r = life.retirement
        props += [
            ("curator:retired:time", str(r["time"])),
            ("curator:retired:by", str(r["curator"])),
            ("curator:retired:reason", str(r["rationale"])),
        ]
    return props


def waiver_properties(entry: InventoryEntry) -> list[tuple[str, str]]:
    return [
        (
            f"curator:waiver:{w.get('stage')}",
            f"waived by {entry.curator} until {w.get('expires')}: {w.get('reason')}",
        )
        for w in entry.waivers
    ]


def eval_properties(model: ModelEvidence) -> list[tuple[str, str]]:
    """curator's own measurements, and each card claim against them (the card's words are in modelCard)."""
    eval_ = model.get("eval")
    if eval_ is None:
        return [("curator:eval", "not run")]
    props = [("curator:eval", eval_.status.value)]
    ev = model.eval
    for task, values in sorted(ev.results.items()):
        for metric, value in sorted(values.items()):
            if metric.endswith("_stderr") or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            stderr = values.get(f"{metric}_stderr")
            err = (
                f" ± {stderr:.4g}" if isinstance(stderr, int | float) and not isinstance(stderr, bool) else ""
            )
            props.append((f"curator:measured:{task}:{metric}", f"{value:.6g}{err}"))
    for claim in ev.claims:
        props.append(
            (
                f"curator:claim:{claim.mapped_task or claim.task}:{claim.mapped_metric or claim.metric}",
                f"card claims {claim.claimed_or_value}, "
                f"curator measured {claim.measured}: "
                f"{claim.verdict or 'unchecked'}",
            )
        )
    return props


def _scan_files(ev: ModelEvidence) -> dict[str, ScannedFile]:
    return {f.path: f for f in ev.scan.files}


#: a reader's per-file statuses that mean it never read the file (scan stage ``Voice``)
NOT_READ = ("not-given", "not-run")


def _scanned_by(scan_file: ScannedFile | None, versions: dict[str, str]) -> list[str]:
    """``NAME VERSION: STATUS`` of each reader that read this file."""
    voices = scan_file.scanners if scan_file is not None else {}
    return [
        f"{name} {versions.get(name, '?')}: {voice.status}"
        for name, voice in sorted(voices.items())
        if voice.status not in NOT_READ
    ]


def file_components(entry: InventoryEntry, ev: ModelEvidence, ref: str) -> list[dict[str, Any]]:
    """The pinned files as nested ``file`` components: SHA-256, scan verdict, finding counts, scanners.

    Plain CycloneDX JSON rather than library objects: the library hashes a component by
    walking all of its nested components, which made a thousand models take seconds.
    """
    scan = ev.get("scan")
    scanned = _scan_files(ev)
    counts: dict[str, dict[str, int]] = {}
    for f in scan.findings if scan else ():
        if f.file:
            by = counts.setdefault(f.file, {})
            by[f.severity.value] = by.get(f.severity.value, 0) + 1
    out = []
    for pinned in ev.fetch.files:
        path = pinned.path
        seen = scanned.get(path)
        props = [
            {
                "name": "curator:scan:verdict",
                "value": seen.verdict
                if seen
                else ("not scanned" if scan is None else "unscanned"),
            }
        ]
        if seen and seen.format:
            props.append({"name": "curator:scan:format", "value": seen.format})
        found = counts.get(path, {})
        props.append({"name": "curator:scan:findings", "value": str(sum(found.values()))})
        props += [
            {"name": f"curator:scan:findings:{sev}", "value": str(n)} for sev, n in sorted(found.items())
        ]
        props += [
            {"name": "curator:scan:scanned_by", "value": s} for s in _scanned_by(seen, entry.scanners)
        ]
        out.append(
            {
                "type": "file",
                "bom-ref": f"{ref}#file:{path}",
                "name": path,
                "hashes": [{"alg": "SHA-256", "content": pinned.sha256}],
                "properties": props,
            }
        )
    return out


def dataset_url(name: str, entry: InventoryEntry) -> str | None:
    """Where a dataset named by the card lives: the card's own URL, or the hub's dataset page."""
    if name.startswith(("https://", "http://")):
        return name
    if entry.source == "hub" and entry.endpoint and "/" in name and " " not in name:
        return f"{entry.endpoint.rstrip('/')}/datasets/{name}"
    return None


def data_components(entry: InventoryEntry, datasets: list[str], ref: str) -> list[dict[str, Any]]:
    """The card's datasets as ``data`` components (the model card refers to them by bom-ref)."""
    out = []
    for name in dict.fromkeys(datasets):
        data: dict[str, Any] = {"type": "dataset", "name": name}
        url = dataset_url(name, entry)
        component: dict[str, Any] = {
            "type": "data",
            "bom-ref": dataset_ref(ref, name),
            "name": name,
            "data": [data],
        }
        if url:
            data["contents"] = {"url": url}
            component["externalReferences"] = [{"type": "distribution", "url": url}]
        component["properties"] = [{"name": "curator:source", "value": "model card datasets"}]
        out.append(component)
    return out


def dataset_ref(ref: str, name: str) -> str:
    return f"{ref}#dataset:{name}"


def vulnerabilities(entry: InventoryEntry, ev: ModelEvidence, ref: str) -> list[Any]:
    """Scan findings as library Vulnerability objects affecting their file; waived ones with the waiver."""
    from cyclonedx.model import Property
    from cyclonedx.model.impact_analysis import ImpactAnalysisResponse, ImpactAnalysisState
    from cyclonedx.model.vulnerability import (
        BomTarget,
        Vulnerability,
        VulnerabilityAnalysis,
        VulnerabilityRating,
        VulnerabilityScoreSource,
        VulnerabilitySeverity,
        VulnerabilitySource,
    )

    scan = ev.get("scan")
    if scan is None:
        return []
    waiver = next((w for w in entry.waivers if w.get("stage") == "scan"), None)
    files = {f.path for f in ev.fetch.files}
    found: list[Finding] = [f for f in scan.findings if f.severity.rank >= FINDING_FLOOR.rank]
    out = []
    for n, f in enumerate(found):
        analysis = (
            VulnerabilityAnalysis(
                state=ImpactAnalysisState.EXPLOITABLE,
                responses=[ImpactAnalysisResponse.WILL_NOT_FIX],
                detail=f"waived by {entry.curator} until {waiver.get('expires')}: {waiver.get('reason')}",
            )
            if waiver
            else None
        )
        target = f"{ref}#file:{f.file}" if f.file in files else ref
        out.append(
            Vulnerability(
                bom_ref=f"{ref}#finding:{n}",
                id=f.code,
                source=VulnerabilitySource(name=f.tool),
                ratings=[
                    VulnerabilityRating(
                        severity=VulnerabilitySeverity(f.severity.value),
                        method=VulnerabilityScoreSource.OTHER,
                    )
                ],
                description=f.message[:2000],
                affects=[BomTarget(ref=target)],
                analysis=analysis,
                properties=[
                    Property(name="curator:scanner", value=f"{f.tool} {f.tool_version}".strip()),
                    Property(name="curator:waived", value="true" if waiver else "false"),
                ],
            )
        )
    return out
