"""Stage evidence turned into plain rows: what the HTML and Markdown reports lay out.

Each function reads one stage's evidence through its typed reader (``curator.core.evidence``): a
stage that did not run, errored early or predates a key yields empty rows, never a crash.
"""

from __future__ import annotations

from typing import Any

from curator.core.evidence import CardEvidence, EvalEvidence, FetchEvidence, ScanEvidence, SignatureEvidence
from curator.core.evidence.card import CardClaim, CardField
from curator.core.evidence.eval import EvalClaim
from curator.export.approval import ApprovalReport

#: the card stage's five provenance fields, in the order the checklist names them
FIELDS = ("publisher_identity", "training_data", "training_pipeline", "eval_summary", "lineage")
#: z for a two-sided 95% confidence interval
Z95 = 1.96


def manifest_rows(report: ApprovalReport) -> list[dict[str, Any]]:
    """Pinned files: path, size, SHA-256 and how fetch cross-checked it against the hub."""
    ev = FetchEvidence.of(report.results.get("fetch"))
    default = "local" if report.review.candidate.source == "local" else ""
    return [{"path": f.path, "size": f.size, "sha256": f.sha256, "check": ev.checks.get(f.path, default)}
            for f in ev.files]


def file_verdicts(report: ApprovalReport) -> list[dict[str, Any]]:
    """Each file's scan verdict (clean | blocked | unscanned) and format."""
    return [{"path": f.path, "verdict": f.verdict, "format": f.format, "reasons": list(f.reasons)}
            for f in ScanEvidence.of(report.results.get("scan")).files]


def scanners(report: ApprovalReport) -> list[dict[str, Any]]:
    """Findings grouped by the scanner that made them, with its version and run status."""
    result = report.results.get("scan")
    ev = ScanEvidence.of(result)
    runs = ev.scanners
    names: list[str] = ["curator", *runs]
    grouped: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    for finding in (result.findings if result else ()):
        grouped.setdefault(finding.tool, []).append(finding.to_dict())
    out = []
    for name, found in grouped.items():
        run = runs.get(name)
        files = {f.path: f.scanners[name].status for f in ev.files if name in f.scanners}
        status = run.status if run is not None else "ran" if name == "curator" and result else "not run"
        read = [p for p, st in files.items() if st not in NOT_READ]
        nothing_read = not read or (run is not None and run.routed == 0)
        errors = run.errors if run is not None else 0
        if name != "curator" and result is not None and nothing_read and not found and not errors:
            # a scanner that read nothing has nothing to say: "no findings" would read as "clean"
            status = NOTHING_READ
        version = (run.version if run is not None else None) or (result.tool_versions.get(name, "")
                                                                 if result else "")
        out.append({"scanner": name, "version": version, "status": status,
                    "seconds": run.seconds if run is not None else None,
                    "errors": errors, "files": files, "read": read,
                    "findings": found})
    return out


#: a scanner's per-file statuses that mean it never read the file
NOT_READ = ("not-given", "not-run")
NOTHING_READ = "not run (no file of a format it reads)"


def waiver_rows(report: ApprovalReport) -> list[dict[str, Any]]:
    """The final approval's waivers: stage, waived status, reason, expiry and who signed them."""
    return [{"stage": w.get("stage"), "status": w.get("status") or "waived", "reason": w.get("reason"),
             "expires": w.get("expires"), "by": w.get("by")} for w in report.waivers]


def change_rows(report: ApprovalReport) -> list[list[str]]:
    """Swap, production and retirement facts as label/value rows (empty when there are none)."""
    life = report.lifecycle
    rows: list[list[str]] = []
    change = life.change or {}
    replaces = change.get("replaces") or {}
    if replaces:
        rows.append(["replaces", f"{replaces.get('ref')} ({replaces.get('digest')}, review "
                                 f"{replaces.get('review_id')})"])
    if change.get("justification"):
        rows.append(["swap justification", str(change["justification"])])
    if change.get("rollback_plan"):
        rows.append(["rollback plan", str(change["rollback_plan"])])
    rows += [["replaced by", f"{r['ref']} ({r['digest']}) on {r['time']}"] for r in life.replaced_by]
    prod = life.production
    if prod:
        now = prod.get("digest") or prod.get("moved_to")  # moved_to: a swap across names took it
        rows.append(["production", (f"in production: {prod.get('ref')} since {prod.get('since')}"
                                    if prod.get("current") else
                                    f"not in production: {prod.get('ref')} is {now} "
                                    f"(review {prod.get('review_id')})")])
    if life.retirement:
        r = life.retirement
        rows.append(["retired", f"on {r['time']} by {r['curator']}: {r['rationale']}"])
    return rows


def rollback_rows(report: ApprovalReport) -> list[dict[str, Any]]:
    """Every rollback of this model's name: when, who, from which digest to which, why."""
    return [dict(r) for r in report.lifecycle.rollbacks]


def _same_claim(card: CardClaim, checked: EvalClaim) -> bool:
    def value(x: object) -> str:
        number = _number(x)
        return f"{number:.6g}" if number is not None else str(x)

    return (str(card.metric or card.metric_name) == str(checked.metric)
            and value(card.value) == value(checked.value if checked.value is not None else checked.claimed)
            and (card.dataset or card.task) in (checked.dataset, checked.task))


def claims(report: ApprovalReport) -> list[dict[str, Any]]:
    """Every score the card claims, with where it says so and what the eval stage made of it.

    The card and evaluation sections both print these rows, so they cannot disagree: a claim
    the eval stage did not check says why (eval not run, or not mapped to a task).
    """
    checked = list(EvalEvidence.of(report.results.get("eval")).claims)
    eval_ran = "eval" in report.results
    rows = []
    for c in CardEvidence.of(report.results.get("card")).claims:
        match = next((e for e in checked if _same_claim(c, e)), None)
        if match is not None:
            checked.remove(match)
        rows.append(_claim_row(c, match, eval_ran))
    rows += [_claim_row(e, e, eval_ran) for e in checked]  # checked claims the card stage did not list
    return rows


def _claim_row(card: CardClaim | EvalClaim, checked: EvalClaim | None, eval_ran: bool) -> dict[str, Any]:
    measured = _number(checked.measured) if checked else None
    stderr = _number(checked.stderr) if checked else None
    low, high = interval(measured, stderr)
    verdict = (checked.verdict if checked else "") or ("unchecked: eval did not run" if not eval_ran
                                                       else "unchecked: no eval task measures it")
    return {"task": (checked.mapped_task if checked else None) or card.task_name or card.task,
            "metric": (checked.mapped_metric if checked else None) or card.metric or card.metric_name,
            "dataset": card.dataset or card.dataset_name,
            "claimed": _number(card.claimed_or_value), "line": card.line,
            "location": card.location, "measured": measured, "stderr": stderr, "low": low,
            "high": high,
            "verdict": verdict, "reason": checked.reason if checked else None}


def signature(report: ApprovalReport) -> dict[str, Any]:
    """The model signature: status, signer, and the trust decision about the signer."""
    ev = SignatureEvidence.of(report.results.get("signature"))
    trust = ev.trust if ev.trust.recorded else None
    return {"status": ev.status or "not run", "mode": ev.mode, "signer": dict(ev.signer),
            "trust": trust.decision if trust else None, "why": trust.why if trust else None,
            "error": ev.error,
            "publisher": ev.publisher or None, "files": len(ev.files)}


def provenance(report: ApprovalReport) -> list[dict[str, Any]]:
    """The five provenance fields with their status, note and the card excerpts behind them."""
    fields = CardEvidence.of(report.results.get("card")).fields
    rows = []
    for key in FIELDS:
        f = fields.get(key) or CardField()
        rows.append({"field": key, "title": f.title or key.replace("_", " ").capitalize(),
                     "status": f.status, "note": f.note,
                     "excerpts": [{"location": e.location, "excerpt": e.excerpt, "line": e.line}
                                  for e in f.evidence[:4]]})
    return rows


def card_facts(report: ApprovalReport) -> dict[str, Any]:
    """License verdict and declared lineage."""
    ev = CardEvidence.of(report.results.get("card"))
    return {"license": ev.license.id, "license_verdict": ev.license.verdict if ev.license_recorded else None,
            "relation": ev.lineage.relation,
            "bases": [{"repo_id": b.repo_id, "approved": b.approved} for b in ev.lineage.bases]}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def interval(value: float | None, stderr: float | None) -> tuple[float | None, float | None]:
    """A 95% confidence interval from a score and its standard error (None if either is missing)."""
    if value is None or stderr is None:
        return None, None
    return value - Z95 * stderr, value + Z95 * stderr


def eval_claims(report: ApprovalReport) -> list[dict[str, Any]]:
    """Card claims next to curator's measurement: claimed, measured ± stderr, verdict (``claims``)."""
    return claims(report)


def eval_results(report: ApprovalReport) -> list[dict[str, Any]]:
    """Every measured metric with its standard error and 95% interval."""
    rows = []
    for task, metrics in sorted(EvalEvidence.of(report.results.get("eval")).results.items()):
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
