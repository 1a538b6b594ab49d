"""A model's CycloneDX 1.6 ``modelCard``, from the card and eval stages' evidence.

cyclonedx-python-lib (11.x) has no model card type yet, so this builds the JSON object
the 1.6 schema defines (``modelParameters``, ``quantitativeAnalysis``, ``considerations``);
``bom.py`` places it into each component and the tests validate the whole BOM.
"""

from __future__ import annotations

import functools
from typing import Any

from curator.core.models import StageResult
from curator.export.sections import Z95

#: eval stage's model kinds -> the hub's task names
TASK_BY_KIND = {"causal": "text-generation", "seq2seq": "text2text-generation"}


@functools.lru_cache(maxsize=4096)
def _datasets_in(excerpt: str) -> tuple[str, ...]:
    """``datasets: [...]`` as the card stage quoted it; many models quote the same line."""
    import yaml

    try:
        value = yaml.load(excerpt, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return ()
    names = value.get("datasets") if isinstance(value, dict) else None
    if isinstance(names, str):
        names = [names]
    return tuple(str(n) for n in names or [] if isinstance(n, str | int | float))


def training_datasets(card: StageResult | None) -> list[str]:
    """Dataset ids from the card's ``datasets:`` front matter, as the training-data field recorded it."""
    if card is None:
        return []
    field = ((card.evidence.get("fields") or {}).get("training_data") or {})
    found: list[str] = []
    for item in field.get("evidence") or []:
        if item.get("location") == "datasets" and item.get("kind") == "front-matter":
            found += _datasets_in(str(item.get("excerpt", "")))
    return found


def _task(card: StageResult | None, eval_: StageResult | None) -> str | None:
    for claim in (card.evidence.get("claims") or []) if card else []:
        if claim.get("task"):
            return str(claim["task"])
    kind = ((eval_.evidence.get("model") or {}).get("kind")) if eval_ else None
    return TASK_BY_KIND.get(str(kind)) if kind else None


def performance_metrics(eval_: StageResult | None) -> list[dict[str, Any]]:
    """curator's own measurements, each with its 95% confidence interval when lm-eval gave a stderr."""
    metrics = []
    for task, values in sorted(((eval_.evidence.get("results") or {}) if eval_ else {}).items()):
        if not isinstance(values, dict):
            continue
        for metric, value in sorted(values.items()):
            if metric.endswith("_stderr") or isinstance(value, bool) or not isinstance(value, int | float):
                continue
            item: dict[str, Any] = {"type": f"{metric}", "value": f"{value:.6g}", "slice": task}
            stderr = values.get(f"{metric}_stderr")
            if isinstance(stderr, int | float) and not isinstance(stderr, bool):
                item["confidenceInterval"] = {"lowerBound": f"{value - Z95 * stderr:.6g}",
                                              "upperBound": f"{value + Z95 * stderr:.6g}"}
            metrics.append(item)
    return metrics


def considerations(entry: Any, results: dict[str, StageResult]) -> dict[str, Any]:
    """What a deployer must know: conditions of use, waived stages, warnings the curator accepted."""
    uses = [f"approved by {entry.curator} on {entry.approved_at[:10]} "
            f"(decision {entry.decision.get('decision_id')}): {entry.decision.get('rationale', '')}"]
    limits = [f"{w.get('stage')} {w.get('status') or 'blocked'}, waived until {w.get('expires')}: "
              f"{w.get('reason')}" for w in entry.waivers]
    for name in ("signature", "card", "eval"):
        r = results.get(name)
        if r is not None and r.status.value in ("warned", "failed", "errored"):
            limits += [f"{name}: {f.message}"[:400] for f in r.findings if f.severity.rank >= 2][:3]
    tradeoffs = []
    eval_ = results.get("eval")
    for claim in (eval_.evidence.get("claims") or []) if eval_ else []:
        if claim.get("verdict") in ("gap", "not-reproduced"):
            metric = claim.get("mapped_metric") or claim.get("metric")
            task = claim.get("mapped_task") or claim.get("task")
            tradeoffs.append(f"card claims {claim.get('claimed')} {metric} on {task}; "
                             f"curator measured {claim.get('measured')}")
    out: dict[str, Any] = {"useCases": uses}
    if limits:
        out["technicalLimitations"] = limits
    if tradeoffs:
        out["performanceTradeoffs"] = tradeoffs
    return out


def model_card(entry: Any, results: dict[str, StageResult]) -> dict[str, Any]:
    """The ``modelCard`` object of one inventory entry."""
    card, eval_ = results.get("card"), results.get("eval")
    params: dict[str, Any] = {}
    task = _task(card, eval_)
    if task:
        params["task"] = task
    model = (eval_.evidence.get("model") or {}) if eval_ else {}
    if model.get("model_type"):
        params["architectureFamily"] = str(model["model_type"])
    if model.get("architectures"):
        params["modelArchitecture"] = str(model["architectures"][0])
    datasets = training_datasets(card)
    if datasets:
        params["datasets"] = [{"type": "dataset", "name": name} for name in datasets]
    out: dict[str, Any] = {"bom-ref": f"{entry.ref}#model-card"}
    if params:
        out["modelParameters"] = params
    metrics = performance_metrics(eval_)
    if metrics:
        out["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    out["considerations"] = considerations(entry, results)
    return out
