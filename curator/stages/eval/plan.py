"""What one eval runs (baseline tasks + the card's claims at their n-shot) and what it found."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.models import Finding, Severity
from curator.stages.eval.claims import (
    VERDICT_SEVERITY,
    ClaimMap,
    Judgement,
    Mapping,
    claimed_value,
    gap_explanations,
)
from curator.stages.eval.tasks import TaskRef, resolve_tasks

DEFAULT_RUN = "default"
CLAIM_KEYS = ("task", "task_name", "dataset", "dataset_name", "config", "split", "metric",
              "metric_name", "value", "n_shot", "verified", "location", "line", "source")


def run_key(n_shot: int | None) -> str:
    return DEFAULT_RUN if n_shot is None else f"{n_shot}-shot"


def result_key(task: str, run: str) -> str:
    """``TASK`` for the task's default n-shot, ``TASK@5-shot`` for a claim's own n-shot."""
    return task if run == DEFAULT_RUN else f"{task}@{run}"


@dataclass
class Plan:
    """Tasks to resolve, runs grouped by n-shot, and each claim with its mapping."""

    refs: list[TaskRef]
    runs: list[dict[str, Any]]
    claims: list[dict[str, Any]] = field(default_factory=list)
    mappings: dict[int, Mapping] = field(default_factory=dict)  # claim index -> mapping


def make_plan(baseline: list[str], claims: list[dict[str, Any]], claim_map: ClaimMap | None,
              evals_dir: Path, out_dir: Path, restrict_claims: bool = False) -> Plan:
    """Baseline tasks at their default n-shot, plus one run per claimed n-shot.

    ``restrict_claims`` (the CLI's ``--task``) keeps claim checks to the tasks asked for.
    """
    wanted: dict[str, set[int | None]] = {}
    refs = resolve_tasks(baseline, evals_dir, out_dir)
    for ref in refs:
        wanted.setdefault(ref.name, set()).add(None)
    rows: list[dict[str, Any]] = []
    mappings: dict[int, Mapping] = {}
    for index, claim in enumerate(claims):
        row = {k: claim.get(k) for k in CLAIM_KEYS if k in claim}
        mapped = claim_map.map(claim) if claim_map else "claim checks are off (eval.check_claims)"
        if isinstance(mapped, str):
            row.update(verdict="unchecked", reason=mapped)
        elif restrict_claims and mapped.task not in wanted:
            row.update(verdict="unchecked", mapped_task=mapped.task,
                       reason=f"task {mapped.task} was not asked for (add --task {mapped.task})")
        else:
            mappings[index] = mapped
            row.update(mapped_task=mapped.task, mapped_metric=mapped.metric)
            wanted.setdefault(mapped.task, set()).add(mapped.n_shot)
        rows.append(row)
    known = {r.name for r in refs}
    extra = [t for t in wanted if t not in known]
    refs += resolve_tasks(extra, evals_dir, out_dir) if extra else []
    # a claim at the task's own n-shot is measured by the default run, not a second one
    defaults = {r.name: r.default_shots for r in refs}
    for index, mapped in list(mappings.items()):
        if mapped.n_shot is not None and mapped.n_shot == defaults.get(mapped.task):
            mappings[index] = Mapping(mapped.task, mapped.metric, None)
            wanted[mapped.task].discard(mapped.n_shot)
            wanted[mapped.task].add(None)
    by_run: dict[str, dict[str, Any]] = {}
    for task, shots in wanted.items():
        for n_shot in sorted(shots, key=lambda s: -1 if s is None else s):
            key = run_key(n_shot)
            by_run.setdefault(key, {"key": key, "tasks": [], "num_fewshot": n_shot})["tasks"].append(task)
    return Plan(refs, list(by_run.values()), rows, mappings)


def check_claims(plan: Plan, rows: dict[str, dict[str, Any]], unavailable: dict[str, str],
                 judgement: Judgement, settings: dict[str, Any], has_chat_template: bool,
                 harness: str) -> list[Finding]:
    """Judge every mapped claim against its measured row; fills ``plan.claims`` in place."""
    findings: list[Finding] = []
    for index, claim in enumerate(plan.claims):
        mapping = plan.mappings.get(index)
        if mapping is None:
            continue
        row = rows.get(result_key(mapping.task, run_key(mapping.n_shot)))
        measured = (row or {}).get("metrics", {}).get(mapping.metric)
        claimed, how = claimed_value(claim, mapping.metric)
        if row is None or not isinstance(measured, int | float) or claimed is None:
            if claimed is None:
                why = how
            elif row is None:
                why = unavailable.get(mapping.task) or f"task {mapping.task} did not run"
            else:
                why = f"lm-eval reported no {mapping.metric} for {mapping.task}"
            claim.update(verdict="unchecked", reason=why)
        else:
            stderr = row["metrics"].get(f"{mapping.metric}_stderr")
            stderr = stderr if isinstance(stderr, int | float) else None
            verdict, z = judgement.verdict(claimed, float(measured), stderr)
            claim.update(verdict=verdict, claimed=claimed, claimed_read=how, measured=measured,
                         stderr=stderr, z=round(z, 2), measured_n_shot=row.get("n_shot"),
                         notes=gap_explanations(claim, mapping, row, settings, has_chat_template, harness))
        severity = VERDICT_SEVERITY.get(claim["verdict"])
        if severity is not None and severity != Severity.INFO:
            findings.append(_claim_finding(claim, mapping, severity, judgement, harness))
    unchecked = [c for c in plan.claims if c.get("verdict") == "unchecked"]
    if unchecked:
        findings.append(Finding(Severity.INFO, "claims-unchecked",
                                f"{len(unchecked)} card claim(s) could not be checked: "
                                + "; ".join(sorted({str(c.get('reason')) for c in unchecked}))[:600],
                                tool="lm-eval", tool_version=harness))
    return findings


def _claim_finding(claim: dict[str, Any], mapping: Mapping, severity: Severity,
                   judgement: Judgement, harness: str) -> Finding:
    shots = f"{claim.get('measured_n_shot')}-shot"
    what = f"{mapping.task} {mapping.metric} ({shots})"
    stderr = claim.get("stderr")
    plus = f" ± {stderr:.4f}" if isinstance(stderr, float) else ""
    head = {"not-reproduced": f"card claims {claim['claimed']:.4f} but curator measured",
            "gap": f"card claims {claim['claimed']:.4f}, above curator's",
            "understated": f"card claims only {claim['claimed']:.4f}, curator measured"}[claim["verdict"]]
    limit = (judgement.fail_sigma if claim["verdict"] != "gap" else judgement.warn_sigma)
    return Finding(severity, f"claim-{claim['verdict']}",
                   f"{what}: {head} {claim['measured']:.4f}{plus} "
                   f"({claim['z']:+.1f} stderr, limit {limit:g}); at {claim.get('location')}; "
                   f"check: {'; '.join(claim.get('notes', [])[:2])}",
                   tool="lm-eval", tool_version=harness)
