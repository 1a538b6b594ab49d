"""The scan findings of a review as SARIF 2.1.0 (one run per scanner), for GitHub code scanning
and any other SARIF consumer.

Levels follow severity (critical/high -> error, medium -> warning, low/info -> note);
``security-severity`` lets GitHub rank them. Every file the scan saw is an artifact with
its SHA-256, so a result points at exact bytes, not just a name.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import quote

from curator.core.models import Finding, Severity
from curator.core.text import shown
from curator.export import sections
from curator.export.approval import ApprovalReport

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


def _run(tool: str, version: str, findings: list[Finding], artifacts: list[dict[str, Any]],
         report: ApprovalReport, status: str) -> dict[str, Any]:
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
        if f.file:
            location: dict[str, Any] = {"uri": uri(f.file)}
            if uri(f.file) in index:
                location["index"] = index[uri(f.file)]
            result["locations"] = [{"physicalLocation": {"artifactLocation": location}}]
        results.append(result)
    c = report.review.candidate
    driver: dict[str, Any] = {"name": tool, "rules": rule_list}
    if version:
        driver["version"] = version
    return {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"curator/scan/{c.repo_id}/{report.review.id}"},
        "invocations": [{"executionSuccessful": status not in ("errored", "crashed", "timeout", "failed"),
                         "properties": {"status": status}}],
        "artifacts": artifacts,
        "results": results,
        "properties": {"review_id": report.review.id, "repo_id": c.repo_id,
                       "revision": c.commit or c.revision},
    }


def sarif_document(report: ApprovalReport) -> dict[str, Any]:
    """The SARIF log: one run per scanner that the scan stage used or that reported a finding."""
    result = report.results.get("scan")
    files = sections.evidence(report, "scan").get("files", [])
    artifacts = [{"location": {"uri": uri(str(f.get("path")))}, "length": int(f.get("size") or 0),
                  **({"hashes": {"sha-256": f["sha256"]}} if f.get("sha256") else {})} for f in files]
    runs = []
    for sc in sections.scanners(report):
        tool = sc["scanner"]
        found = [x for x in (result.findings if result else ()) if x.tool == tool]
        version = sc["version"] or (curator_version() if tool == "curator" else "")
        runs.append(_run(tool, str(version), found, artifacts, report, str(sc["status"])))
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": runs}


def render(report: ApprovalReport) -> str:
    return json.dumps(sarif_document(report), indent=2, ensure_ascii=False) + "\n"
