"""A model's CycloneDX 1.6 ``modelCard``: what the model card (and its config.json) says.

cyclonedx-python-lib (11.x) has no model card type yet, so this builds the JSON object
the 1.6 schema defines (``modelParameters``, ``quantitativeAnalysis``); ``bom.py`` places
it into each component and the tests validate the whole BOM. curator's own verdicts,
measurements and decision are not the card's words: they are ``curator:*`` properties and
``declarations`` (``bom_facts.py``, ``bom_declarations.py``).
"""

from __future__ import annotations

import functools
from typing import Any

from curator.inventory.evidence import ModelEvidence

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


def training_datasets(ev: ModelEvidence) -> list[str]:
    """Dataset ids from the card's ``datasets:`` front matter, as the training-data field recorded it."""
    if ev.get("card") is None:
        return []
    field = ev.card.fields.get("training_data")
    found: list[str] = []
    for item in field.evidence if field is not None else ():
        if item.location == "datasets" and item.kind == "front-matter":
            found += _datasets_in(item.excerpt)
    return found


def _task(ev: ModelEvidence) -> str | None:
    for claim in ev.card.claims:
        if claim.task:
            return claim.task
    kind = ev.eval.model.kind
    return TASK_BY_KIND.get(kind) if kind else None


def claimed_metrics(ev: ModelEvidence) -> list[dict[str, Any]]:
    """The card's own claimed scores (``model-index``); curator's measurements are properties."""
    metrics = []
    for claim in ev.card.claims:
        value, metric = claim.value, claim.metric or claim.metric_name
        if value is None or not metric:
            continue
        item: dict[str, Any] = {"type": str(metric), "value": str(value)}
        where = claim.dataset or claim.dataset_name or claim.task
        if where:
            item["slice"] = str(where)
        metrics.append(item)
    return metrics


def architecture(ev: ModelEvidence) -> dict[str, str]:
    """``config.json``'s model_type and architectures[0], as the card stage read them
    (reviews made before it did: as the eval stage's loader reported them)."""
    found = dict(ev.card.architecture)
    model = ev.eval.model
    if "architecture_family" not in found and model.model_type:
        found["architecture_family"] = model.model_type
    if "model_architecture" not in found and model.architectures:
        found["model_architecture"] = model.architectures[0]
    return found


def model_card(ref: str, ev: ModelEvidence, dataset_refs: list[str]) -> dict[str, Any]:
    """The ``modelCard`` of one model: only what its card (and its config.json) says."""
    params: dict[str, Any] = {}
    task = _task(ev)
    if task:
        params["task"] = task
    arch = architecture(ev)
    if arch.get("architecture_family"):
        params["architectureFamily"] = arch["architecture_family"]
    if arch.get("model_architecture"):
        params["modelArchitecture"] = arch["model_architecture"]
    if dataset_refs:
        params["datasets"] = [{"ref": r} for r in dataset_refs]
    out: dict[str, Any] = {"bom-ref": f"{ref}#model-card"}
    if params:
        out["modelParameters"] = params
    metrics = claimed_metrics(ev)
    if metrics:
        out["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    return out
