"""Revision diff: what changed between two reviews, or two artifacts in the registry.

A side is a review id (its pinned files and stage results from the ledger) or a REF (the
files named by the registry's manifest, and the stage results of the review that approved
that digest, when this ledger has it). The diff lists files added / removed / changed,
card changes (the five fields, license, base models, claims), scan verdicts and scanner
versions, the signer, and eval scores with their stderr. A changed signer or license is
put at the top as a highlight: those are the changes a swap must never slip through.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curator.core.errors import ReviewNotFound, UsageError
from curator.core.evidence import CardEvidence, EvalEvidence, FetchEvidence, ScanEvidence, SignatureEvidence
from curator.core.models import StageResult
from curator.decision.history import approved_models

if TYPE_CHECKING:
    from curator.ledger.base import LedgerBase
    from curator.registry.interface import Reference, Registry
    from curator.review.session import Session

SIDES = ("a", "b")


@dataclass
class Side:
    """One revision: where it came from, its files and (if known) its stage results."""

    label: str
    repo_id: str
    revision: str
    files: list[dict[str, Any]]  # {path, size, sha256 (hex)}
    results: dict[str, StageResult] = field(default_factory=dict)
    review_id: str | None = None
    artifact_digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "repo_id": self.repo_id, "revision": self.revision,
                "review_id": self.review_id, "artifact_digest": self.artifact_digest,
                "stages": sorted(self.results), "files": len(self.files)}


def review_side(ledger: LedgerBase, review_id: str) -> Side:
    """A side from a review in the ledger (raises ReviewNotFound)."""
    review = ledger.get_review(review_id)
    results = ledger.results(review_id)
    fetch = FetchEvidence.of(results.get("fetch"))
    files = [f.to_dict() for f in fetch.files]
    revision = review.candidate.commit or fetch.manifest_digest
    digest = next((m.digest for m in reversed(approved_models(ledger)) if m.review_id == review_id), None)
    return Side(f"review {review_id}", review.candidate.repo_id, revision, files, results, review_id, digest)


def registry_side(ledger: LedgerBase, registry: Registry, ref: Reference) -> Side:
    """A side from an artifact in the registry; stage results come from the review that approved it."""
    from curator.registry.artifact import read_model
    from curator.registry.interface import sha256_digest

    body, _ = registry.get_manifest(ref.name, ref.reference)
    digest = sha256_digest(body)
    _, layers = read_model(body)
    files = [{"path": layer.path, "size": layer.descriptor.size,
              "sha256": layer.descriptor.digest.split(":", 1)[1]} for layer in layers]
    annotations = json.loads(body).get("annotations") or {}
    model = next((m for m in reversed(approved_models(ledger)) if m.digest == digest), None)
    results = ledger.results(model.review_id) if model else {}
    return Side(registry.describe(ref), str(annotations.get("dev.curator.repo_id", ref.name)),
                str(annotations.get("dev.curator.revision", "")), files, results,
                model.review_id if model else None, digest)


def load_side(session: Session, text: str, registry_url: str | None = None) -> Side:
    """A review id, or a REF resolved in the configured registry (or the one it names)."""
    from curator.registry import resolve

    text = text.strip()
    if text and not any(c in text for c in ":@/"):
        try:
            return review_side(session.ledger, text)
        except ReviewNotFound as exc:
            raise UsageError(f"'{text}' is neither a review id in the ledger nor a REF",
                             "pass a review id or NAME:TAG / NAME@sha256:HEX") from exc
    registry, ref = resolve(text, session.workspace.registry_dir, session.policy, registry_url)
    return registry_side(session.ledger, registry, ref)


# -- the comparison --------------------------------------------------------------------------
def _status(side: Side, stage: str) -> str | None:
    result = side.results.get(stage)
    return result.status.value if result is not None else None


def _pairs(a: dict[str, Any], b: dict[str, Any], label: str) -> list[dict[str, Any]]:
    return [{label: key, "a": a.get(key), "b": b.get(key)} for key in sorted(set(a) | set(b))
            if a.get(key) != b.get(key)]


def findings_diff(a: Side, b: Side, stage: str) -> dict[str, list[dict[str, Any]]]:
    """Findings of ``stage`` only one side has (same code, file and message count as the same)."""
    def keyed(side: Side) -> dict[tuple[str, str, str], dict[str, Any]]:
        result = side.results.get(stage)
        return {(f.code, f.file or "", f.message): f.to_dict() for f in (result.findings if result else ())}

    old, new = keyed(a), keyed(b)
    return {"added": [new[k] for k in sorted(set(new) - set(old))],
            "removed": [old[k] for k in sorted(set(old) - set(new))]}


def files_diff(a: Side, b: Side) -> dict[str, Any]:
    old, new = {f["path"]: f for f in a.files}, {f["path"]: f for f in b.files}
    changed = [{"path": p, "a": {"size": old[p]["size"], "sha256": old[p]["sha256"]},
                "b": {"size": new[p]["size"], "sha256": new[p]["sha256"]}}
               for p in sorted(set(old) & set(new)) if old[p]["sha256"] != new[p]["sha256"]]
    return {"added": [new[p] for p in sorted(set(new) - set(old))],
            "removed": [old[p] for p in sorted(set(old) - set(new))],
            "changed": changed, "unchanged": len(set(old) & set(new)) - len(changed)}


def _card(side: Side) -> dict[str, Any]:
    ev = CardEvidence.of(side.results.get("card"))
    lic = ev.license if ev.license_recorded else None
    claims = {}
    for c in ev.claims:
        key = f"{c.dataset or c.task or '?'} {c.metric or c.metric_name or '?'}"
        claims[key + (f" ({c.n_shot}-shot)" if c.n_shot is not None else "")] = c.value
    return {"fields": {k: v.status for k, v in ev.fields.items()},
            "license": lic.id if lic else None, "license_verdict": lic.verdict if lic else None,
            "bases": sorted(b.repo_id for b in ev.lineage.bases), "claims": claims}


def card_diff(a: Side, b: Side) -> dict[str, Any]:
    ca, cb = _card(a), _card(b)
    same_license = [ca["license"], ca["license_verdict"]] == [cb["license"], cb["license_verdict"]]
    return {"fields": _pairs(ca["fields"], cb["fields"], "field"),
            "license": None if same_license else {"a": ca["license"], "b": cb["license"],
                                                  "a_verdict": ca["license_verdict"],
                                                  "b_verdict": cb["license_verdict"]},
            "base_models": None if ca["bases"] == cb["bases"] else {"a": ca["bases"], "b": cb["bases"]},
            "claims": _pairs(ca["claims"], cb["claims"], "claim"), "findings": findings_diff(a, b, "card")}


def _scanners(side: Side) -> dict[str, str]:
    result = side.results.get("scan")
    found = {name: run.version for name, run in ScanEvidence.runs_of(result).items()}
    return {**(result.tool_versions if result else {}), **found}


def _code_to_review(side: Side) -> list[str]:
    info = ScanEvidence.of(side.results.get("scan")).custom_code
    return list(info.files_to_review) if info is not None else []


def scan_diff(a: Side, b: Side) -> dict[str, Any]:
    va = {f.path: f.verdict for f in ScanEvidence.of(a.results.get("scan")).files}
    vb = {f.path: f.verdict for f in ScanEvidence.of(b.results.get("scan")).files}
    code = [_code_to_review(s) for s in (a, b)]
    return {"status": {"a": _status(a, "scan"), "b": _status(b, "scan")},
            "verdicts": _pairs(va, vb, "path"), "scanners": _pairs(_scanners(a), _scanners(b), "scanner"),
            "custom_code": None if code[0] == code[1] else {"a": code[0], "b": code[1]},
            "findings": findings_diff(a, b, "scan")}


def signer_of(side: Side) -> str | None:
    """The verified signer in one phrase, or None when nothing verified."""
    from curator.stages.signature.trust import signer_label

    ev = SignatureEvidence.of(side.results.get("signature"))
    return signer_label(dict(ev.signer)) if ev.verified and ev.signer else None


def signature_diff(a: Side, b: Side) -> dict[str, Any]:
    sa, sb = signer_of(a), signer_of(b)
    ev = [SignatureEvidence.of(s.results.get("signature")) for s in (a, b)]
    trust = [e.trust.decision if e.trust.recorded else None for e in ev]
    status = [e.status or None for e in ev]
    return {"status": {"a": status[0], "b": status[1]}, "signer": {"a": sa, "b": sb},
            "trust": {"a": trust[0], "b": trust[1]}, "changed": sa != sb or status[0] != status[1]}


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def eval_diff(a: Side, b: Side) -> list[dict[str, Any]]:
    ra, rb = (EvalEvidence.of(s.results.get("eval")).results for s in (a, b))
    rows = []
    for task in sorted(set(ra) | set(rb)):
        ma, mb = ra.get(task) or {}, rb.get(task) or {}
        for metric in sorted(m for m in set(ma) | set(mb) if not str(m).endswith("_stderr")):
            va, vb = _number(ma.get(metric)), _number(mb.get(metric))
            rows.append({"task": task, "metric": metric, "a": ma.get(metric), "b": mb.get(metric),
                         "delta": round(vb - va, 6) if va is not None and vb is not None else None,
                         "a_stderr": ma.get(f"{metric}_stderr"), "b_stderr": mb.get(f"{metric}_stderr")})
    return rows


def highlights(doc: dict[str, Any]) -> list[dict[str, str]]:
    """The changes a curator must see first: signer and license, then new custom code and scan verdicts."""
    out = []
    sig = doc["signature"]
    if sig["changed"]:
        old, new = (sig["signer"][s] or "unsigned/unverified" for s in SIDES)
        out.append({"what": "signer", "message": f"signer changed: {old} → {new}"})
    lic = doc["card"]["license"]
    if lic:
        old, new = (f"{lic[s] or 'none'}" + (f" ({lic[s + '_verdict']})" if lic[s + "_verdict"] else "")
                    for s in SIDES)
        out.append({"what": "license", "message": f"license changed: {old} → {new}"})
    code = doc["scan"]["custom_code"]
    if code and set(code["b"]) - set(code["a"]):
        out.append({"what": "custom-code", "message": "new custom code: " + ", ".join(
            sorted(set(code["b"]) - set(code["a"])))})
    status = doc["scan"]["status"]
    if status["a"] != status["b"]:
        old, new = (status[s] or "not run" for s in SIDES)
        out.append({"what": "scan", "message": f"scan {old} → {new}"})
    return out


def diff(a: Side, b: Side) -> dict[str, Any]:
    """The ``curator diff --json`` document."""
    doc: dict[str, Any] = {"a": a.to_dict(), "b": b.to_dict(), "files": files_diff(a, b),
                           "card": card_diff(a, b), "scan": scan_diff(a, b),
                           "signature": signature_diff(a, b), "eval": eval_diff(a, b)}
    notes = [f"{s} ({side.label}) has no {stage} result" for s, side in zip(SIDES, (a, b), strict=True)
             for stage in ("scan", "signature", "card", "eval") if stage not in side.results]
    if a.repo_id != b.repo_id:
        notes.insert(0, f"different models: {a.repo_id} vs {b.repo_id}")
    return {"highlights": highlights(doc), **doc, "notes": notes}
