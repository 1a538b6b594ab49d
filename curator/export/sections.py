"""Stage evidence turned into plain rows: what the HTML and Markdown reports lay out.

Each function reads one stage's evidence keys (documented by that stage) defensively: a
stage that did not run, errored early or predates a key yields empty rows, never a crash.
"""

from __future__ import annotations

from typing import Any

from curator.export.approval import ApprovalReport

#: the card stage's five provenance fields, in the order the checklist names them
FIELDS = ("publisher_identity", "training_data", "training_pipeline", "eval_summary", "lineage")
#: z for a two-sided 95% confidence interval
Z95 = 1.96


def evidence(report: ApprovalReport, stage: str) -> dict[str, Any]:
    result = report.results.get(stage)
    return result.evidence if result is not None else {}


def manifest_rows(report: ApprovalReport) -> list[dict[str, Any]]:
    """Pinned files: path, size, SHA-256 and how fetch cross-checked it against the hub."""
    ev = evidence(report, "fetch")
    checks = ev.get("checks") or {}
    return [{"path": f.get("path"), "size": f.get("size"), "sha256": f.get("sha256"),
             "check": checks.get(f.get("path"), "local" if report.review.candidate.source == "local" else "")}
            for f in ev.get("files", [])]


def file_verdicts(report: ApprovalReport) -> list[dict[str, Any]]:
    """Each file's scan verdict (clean | blocked | unscanned) and format."""
    return [{"path": f.get("path"), "verdict": f.get("verdict"), "format": f.get("format"),
             "reasons": f.get("reasons", [])} for f in evidence(report, "scan").get("files", [])]


def scanners(report: ApprovalReport) -> list[dict[str, Any]]:
    """Findings grouped by the scanner that made them, with its version and run status."""
    ev = evidence(report, "scan")
    runs = ev.get("scanners") or {}
    result = report.results.get("scan")
    names: list[str] = ["curator", *runs]
    grouped: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for finding in (result.findings if result else ()):
        grouped.setdefault(finding.tool, []).append(finding.to_dict())
    out = []
    for name, found in grouped.items():
        run = runs.get(name) or {}
        files = {}
        for f in ev.get("files", []):
            status = ((f.get("scanners") or {}).get(name) or {}).get("status")
            if status:
                files[str(f.get("path"))] = status
        out.append({"scanner": name, "version": run.get("version") or (result.tool_versions.get(name, "")
                                                                      if result else ""),
                    "status": run.get("status", "ran" if name == "curator" and result else "not run"),
                    "seconds": run.get("seconds"), "errors": run.get("errors", 0),
                    "files": files, "findings": found})
    return out


def signature(report: ApprovalReport) -> dict[str, Any]:
    """The model signature: status, signer, and the trust decision about the signer."""
    ev = evidence(report, "signature")
    trust = ev.get("trust") or {}
    return {"status": ev.get("status", "not run"), "mode": ev.get("mode"), "signer": ev.get("signer") or {},
            "trust": trust.get("decision"), "why": trust.get("why"), "error": ev.get("error"),
            "publisher": ev.get("publisher"), "files": len(ev.get("files") or [])}


def provenance(report: ApprovalReport) -> list[dict[str, Any]]:
    """The five provenance fields with their status, note and the card excerpts behind them."""
    fields = evidence(report, "card").get("fields") or {}
    rows = []
    for key in FIELDS:
        f = fields.get(key) or {}
        rows.append({"field": key, "title": f.get("title") or key.replace("_", " ").capitalize(),
                     "status": f.get("status", "missing"), "note": f.get("note", ""),
                     "excerpts": [{"location": e.get("location"), "excerpt": e.get("excerpt"),
                                   "line": e.get("line")} for e in (f.get("evidence") or [])[:4]]})
    return rows


def card_facts(report: ApprovalReport) -> dict[str, Any]:
    """License verdict and declared lineage."""
    ev = evidence(report, "card")
    lic = ev.get("license") or {}
    lineage = ev.get("lineage") or {}
    return {"license": lic.get("id"), "license_verdict": lic.get("verdict"),
            "relation": lineage.get("relation"),
            "bases": [{"repo_id": b.get("repo_id"), "approved": b.get("approved")}
                      for b in lineage.get("bases", []) if isinstance(b, dict)]}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def interval(value: float | None, stderr: float | None) -> tuple[float | None, float | None]:
    """A 95% confidence interval from a score and its standard error (None if either is missing)."""
    if value is None or stderr is None:
        return None, None
    return value - Z95 * stderr, value + Z95 * stderr


def eval_claims(report: ApprovalReport) -> list[dict[str, Any]]:
    """Card claims next to curator's measurement: claimed, measured ± stderr, verdict."""
    rows = []
    for c in evidence(report, "eval").get("claims") or []:
        measured, stderr = _number(c.get("measured")), _number(c.get("stderr"))
        low, high = interval(measured, stderr)
        rows.append({"task": c.get("mapped_task") or c.get("task_name") or c.get("task"),
                     "metric": c.get("mapped_metric") or c.get("metric"),
                     "dataset": c.get("dataset"), "claimed": _number(c.get("claimed", c.get("value"))),
                     "measured": measured, "stderr": stderr, "low": low, "high": high,
                     "verdict": c.get("verdict", "unchecked"), "reason": c.get("reason")})
    return rows


def eval_results(report: ApprovalReport) -> list[dict[str, Any]]:
    """Every measured metric with its standard error and 95% interval."""
    rows = []
    for task, metrics in sorted((evidence(report, "eval").get("results") or {}).items()):
        if not isinstance(metrics, dict):
            continue
        for metric, value in sorted(metrics.items()):
            if metric.endswith("_stderr") or _number(value) is None:
                continue
            stderr = _number(metrics.get(f"{metric}_stderr"))
            low, high = interval(_number(value), stderr)
            rows.append({"task": task, "metric": metric, "value": _number(value), "stderr": stderr,
                         "low": low, "high": high})
    return rows


def stage_rows(report: ApprovalReport) -> list[dict[str, Any]]:
    """One line per stage: status, finding count, worst finding, tools."""
    rows = []
    for name in report.stage_order():
        r = report.results.get(name)
        if r is None:
            rows.append({"stage": name, "status": "not run", "findings": 0, "worst": "", "tools": ""})
            continue
        worst = max(r.findings, key=lambda f: f.severity.rank, default=None)
        rows.append({"stage": name, "status": r.status.value, "findings": len(r.findings),
                     "worst": f"{worst.severity.value}: {worst.message}" if worst else "",
                     "tools": ", ".join(f"{k} {v}" for k, v in sorted(r.tool_versions.items()))})
    return rows


def human_size(size: Any) -> str:
    n = float(size or 0)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def fmt(value: float | None, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"
