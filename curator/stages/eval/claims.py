"""Card claims against measured scores: map each claim to an lm-eval task and metric, judge it.

The mapping is data (``checklists/evals/claim-map.yaml``). A claim is judged by how many
measured standard errors separate it from what curator measured; the judgement comes
with the settings that could explain a gap, so a curator can tell a lie from a setup
difference.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.core.errors import UsageError
from curator.core.models import Severity
from curator.core.policy import load_yaml

#: metrics lm-eval reports as fractions in [0, 1]; cards often give them in percent
FRACTION_METRICS = {"acc", "acc_norm", "exact_match", "mc1", "mc2", "f1", "em", "bleu_acc", "rouge1_acc"}


def _norm(text: object) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).lower()).strip() if text is not None else ""


@dataclass(frozen=True)
class Mapping:
    """Where a claim is measured: an lm-eval task, a metric and the n-shot to run."""

    task: str
    metric: str
    n_shot: int | None


@dataclass(frozen=True)
class ClaimMap:
    """The mapping table, read once per run."""

    tasks: tuple[dict[str, Any], ...]
    metrics: dict[str, str]

    @classmethod
    def load(cls, directory: Path) -> ClaimMap:
        data = load_yaml("evals/claim-map.yaml", directory)
        if not isinstance(data, dict) or not isinstance(data.get("tasks"), list):
            raise UsageError(f"{directory / 'evals/claim-map.yaml'} must have a 'tasks' list",
                             "restore the file shipped with curator")
        metrics = {_norm(k): str(v) for k, v in (data.get("metrics") or {}).items()}
        return cls(tuple(t for t in data["tasks"] if isinstance(t, dict) and t.get("task")), metrics)

    def _task_for(self, claim: dict[str, Any]) -> dict[str, Any] | None:
        dataset = _norm(claim.get("dataset"))
        config = _norm(claim.get("config"))
        labels = " | ".join(_norm(claim.get(k)) for k in ("dataset_name", "task_name", "dataset"))
        for entry in self.tasks:
            datasets = {_norm(d) for d in entry.get("datasets") or []}
            configs = {_norm(c) for c in entry.get("configs") or []}
            names = [_norm(n) for n in entry.get("names") or []]
            if dataset and dataset in datasets and (not configs or config in configs):
                return entry
            if any(n and n in labels for n in names):
                return entry
        return None

    def map(self, claim: dict[str, Any]) -> Mapping | str:
        """The task and metric for a claim, or why it cannot be checked."""
        entry = self._task_for(claim)
        what = claim.get("dataset") or claim.get("dataset_name") or claim.get("task_name") or "?"
        if entry is None:
            return f"no lm-eval task known for dataset '{what}' (add it to evals/claim-map.yaml)"
        raw = claim.get("metric") or claim.get("metric_name")
        said = [_norm(raw), _norm(claim.get("metric_name"))]
        own = entry.get("metrics")
        if isinstance(own, dict):  # this task's own names, e.g. truthfulqa's mc2 -> acc
            table = {_norm(k): str(v) for k, v in own.items()}
            metric = next((table[s] for s in said if s in table), None)
            allowed = list(table.values())
        else:
            metric = next((self.metrics[s] for s in said if s in self.metrics), None)
            allowed = [str(m) for m in own or []]
        if metric is None or (allowed and metric not in allowed):
            return f"metric '{raw}' of '{what}' has no lm-eval equivalent for task {entry['task']}"
        n_shot = claim.get("n_shot")
        return Mapping(str(entry["task"]), metric, n_shot if isinstance(n_shot, int) else None)


def claimed_value(claim: dict[str, Any], metric: str) -> tuple[float | None, str]:
    """The claim as a number on lm-eval's scale, and how it was read."""
    value = claim.get("value")
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%"))
        except ValueError:
            return None, f"value '{value}' is not a number"
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None, "the claim has no value"
    if metric in FRACTION_METRICS and 1.0 < float(value) <= 100.0:
        return float(value) / 100.0, "read as a percentage"
    return float(value), ""


@dataclass(frozen=True)
class Judgement:
    """Thresholds in measured standard errors (policy ``eval.claims``)."""

    fail_sigma: float = 3.0
    warn_sigma: float = 2.0
    min_stderr: float = 0.01

    @classmethod
    def from_policy(cls, cfg: dict[str, Any]) -> Judgement:
        return cls(float(cfg.get("fail_sigma", 3.0)), float(cfg.get("warn_sigma", 2.0)),
                   float(cfg.get("min_stderr", 0.01)))

    def verdict(self, claimed: float, measured: float, stderr: float | None) -> tuple[str, float]:
        """``consistent | gap | not-reproduced | understated`` and the z-score used."""
        se = max(stderr if isinstance(stderr, int | float) else 0.0, self.min_stderr)
        z = (claimed - measured) / se
        if not math.isfinite(z) or not math.isfinite(se):  # NaN compares false: never "consistent"
            return "not-reproduced", z
        if z > self.fail_sigma:
            return "not-reproduced", z
        if z > self.warn_sigma:
            return "gap", z
        if z < -self.fail_sigma:
            return "understated", z
        return "consistent", z


VERDICT_SEVERITY = {"not-reproduced": Severity.HIGH, "gap": Severity.MEDIUM,
                    "understated": Severity.LOW, "unchecked": Severity.INFO}


def gap_explanations(claim: dict[str, Any], mapping: Mapping, row: dict[str, Any],
                     settings: dict[str, Any], has_chat_template: bool, harness: str) -> list[str]:
    """Settings that can explain a difference between the card and curator's measurement."""
    notes = []
    if claim.get("n_shot") is None:
        notes.append(f"the card gives no n-shot; measured {row.get('n_shot')}-shot")
    metrics = row.get("metrics", {})
    other = "acc_norm" if mapping.metric == "acc" else "acc" if mapping.metric == "acc_norm" else None
    if other and other in metrics:
        notes.append(f"{other} (the other accuracy) measured {metrics[other]:.4f}")
    if has_chat_template and not settings.get("apply_chat_template"):
        notes.append("measured without the model's chat template (lm-eval's default)")
    samples = row.get("n_samples") or {}
    if samples and samples.get("effective") != samples.get("original"):
        notes.append(f"measured on {samples.get('effective')} of {samples.get('original')} samples (limit)")
    notes.append(f"lm-eval {harness}, dtype {settings.get('dtype')}, batch size {settings.get('batch_size')};"
                 " the card may come from another harness or version")
    return notes
