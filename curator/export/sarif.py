"""A review's findings as SARIF 2.1.0, for GitHub code scanning and any other SARIF consumer:
one run per scanner, plus one for the card stage and one for the signature stage.

Levels follow severity (critical/high -> error, medium -> warning, low/info -> note);
``security-severity`` lets GitHub rank them. Every file the review pinned is an artifact
with its SHA-256, so a result points at exact bytes, not just a name. Locations are
relative to the model root (``uriBaseId`` ``MODELROOT``, which ``originalUriBaseIds``
resolves to the pinned revision on the hub, or the local folder); a card result carries
the card line (``region``) when the card stage knows it.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from curator.core.evidence import CardEvidence, FetchEvidence, ScanEvidence, SignatureEvidence
from curator.core.evidence.scan import ScannedFile
from curator.core.models import FileEntry, Finding, Severity
from curator.core.text import shown
from curator.export import sections
from curator.export.approval import ApprovalReport

ROOT = "MODELROOT"
SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVEL = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning",
         Severity.LOW: "note", Severity.INFO: "note"}
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5",
                     Severity.LOW: "3.0", Severity.INFO: "0.0"}


def curator_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("curator")
    except PackageNotFoundError:
        return "0.0.0"


def message(value: object) -> str:
    """SARIF message text: plain, one line, and no embedded link (``[text](id)`` is a link in SARIF)."""
    return re.sub(r"([\\\[\]])", r"\\\1", shown(value))


def uri(path: str) -> str:
    """A file's relative path as a URI reference: spaces, '#', '?' and the like percent-encoded."""
    return quote(path, safe="/")


def _rule(finding: Finding) -> dict[str, Any]:
    return {"id": finding.code, "name": finding.code.split(":")[-1],
            "shortDescription": {"text": message(finding.code)},
            "defaultConfiguration": {"level": LEVEL[finding.severity]},
            "properties": {"tags": ["security", "ml-model"],
                           "security-severity": SECURITY_SEVERITY[finding.severity]}}


def model_root(report: ApprovalReport) -> str:
    """The absolute URI the model's relative paths resolve against (ends with '/')."""
    from pathlib import Path

    c = report.review.candidate
    if c.source == "hub" and c.endpoint:
        revision = quote(c.commit or c.revision)
        return f"{c.endpoint.rstrip('/')}/{quote(c.repo_id, safe='/')}/resolve/{revision}/"
    if c.path:
        return Path(c.path).resolve().as_uri().rstrip("/") + "/"
    return f"urn:curator:review:{report.review.id}/"


def _run(tool: str, version: str, findings: list[Finding], artifacts: list[dict[str, Any]],
         report: ApprovalReport, status: str, lines: dict[str, int] | None = None,
         default_file: str | None = None) -> dict[str, Any]:
    index = {a["location"]["uri"]: i for i, a in enumerate(artifacts)}
    rules: dict[str, int] = {}
    rule_list: list[dict[str, Any]] = []
    results = []
    for f in findings:
        if f.code not in rules:
            rules[f.code] = len(rule_list)
            rule_list.append(_rule(f))
        result: dict[str, Any] = {
            "ruleId": f.code, "ruleIndex": rules[f.code], "level": LEVEL[f.severity],
            "message": {"text": message(f.message)},
            "partialFingerprints": {"curatorFinding/v1": hashlib.sha256(
                f"{tool}\0{f.code}\0{f.file}\0{f.message}".encode()).hexdigest()},
            "properties": {"severity": f.severity.value},
        }
        where = f.file or default_file
        if where:
            location: dict[str, Any] = {"uri": uri(where), "uriBaseId": ROOT}
            if uri(where) in index:
                location["index"] = index[uri(where)]
            physical: dict[str, Any] = {"artifactLocation": location}
            line = (lines or {}).get(f.code)
            if line:
                physical["region"] = {"startLine": int(line)}
            result["locations"] = [{"physicalLocation": physical}]
        results.append(result)
    c = report.review.candidate
    driver: dict[str, Any] = {"name": tool, "rules": rule_list}
    if version:
        driver["version"] = version
    return {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"curator/{tool}/{c.repo_id}/{report.review.id}"},
        "originalUriBaseIds": {ROOT: {"uri": model_root(report),
                                      "description": {"text": "the model root, as pinned by the review"}}},
        "invocations": [{"executionSuccessful": status not in ("errored", "crashed", "timeout", "failed"),
                         "properties": {"status": status}}],
        "artifacts": artifacts,
        "results": results,
        "properties": {"review_id": report.review.id, "repo_id": c.repo_id,
                       "revision": c.commit or c.revision},
    }


def card_results(report: ApprovalReport) -> tuple[list[Finding], dict[str, int], str | None]:
    """The card stage's findings, plus one per provenance field it could not verify and one per
    claim the eval stage did not reproduce, each with the card line where one is known."""
    card = report.results.get("card")
    if card is None:
        return [], {}, None
    path = CardEvidence.of(card).card.path or "README.md"
    findings = list(card.findings)
    lines: dict[str, int] = {}
    for row in sections.provenance(report):
        if row["status"] == "verified":
            continue
        code = f"card-field-{row['status']}:{row['field']}"
        severity = Severity.MEDIUM if row["status"] == "missing" else Severity.LOW
        findings.append(Finding(severity, code, f"{row['title']}: {row['status']}. {row['note']}".strip(),
                                tool="curator-card", file=path))
        line = next((e["line"] for e in row["excerpts"] if e.get("line")), None)
        if line:
            lines[code] = int(line)
    for n, c in enumerate(sections.claims(report)):
        if c["verdict"] in ("gap", "not-reproduced"):
            code = f"card-claim-{c['verdict']}:{n}"
            findings.append(Finding(Severity.MEDIUM, code, f"the card claims {c['metric']} {c['claimed']} on "
                                    f"{c['dataset'] or c['task']}; curator measured {c['measured']}",
                                    tool="curator-card", file=path))
            if c["line"]:
                lines[code] = int(c["line"])
    return findings, lines, str(path)


def sarif_document(report: ApprovalReport) -> dict[str, Any]:
    """The SARIF log: one run per scanner the scan stage used or that reported a finding, then the
    card and signature stages' runs (when they ran)."""
    result = report.results.get("scan")
    scanned = {f.path: f for f in ScanEvidence.of(result).files}
    pinned: list[FileEntry | ScannedFile] = [*FetchEvidence.of(report.results.get("fetch")).files]
    pinned = pinned or list(scanned.values())
    artifacts = [{"location": {"uri": uri(f.path), "uriBaseId": ROOT}, "length": f.size,
                  **({"hashes": {"sha-256": f.sha256}} if f.sha256 else {})} for f in pinned]
    runs = []
    for sc in sections.scanners(report):
        tool = sc["scanner"]
        found = [x for x in (result.findings if result else ()) if x.tool == tool]
        version = sc["version"] or (curator_version() if tool == "curator" else "")
        runs.append(_run(tool, str(version), found, artifacts, report, str(sc["status"])))
    card = report.results.get("card")
    if card is not None:
        found, lines, path = card_results(report)
        runs.append(_run("curator-card", curator_version(), found, artifacts, report, card.status.value,
                         lines, path))
    signature = report.results.get("signature")
    if signature is not None:
        sig_file = SignatureEvidence.of(signature).signature_file or None
        runs.append(_run("curator-signature", curator_version(), list(signature.findings), artifacts, report,
                         signature.status.value, None, sig_file))
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": runs}


def render(report: ApprovalReport) -> str:
    return json.dumps(sarif_document(report), indent=2, ensure_ascii=False) + "\n"
