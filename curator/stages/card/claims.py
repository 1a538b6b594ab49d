"""The card's ``model-index`` as claims the eval stage can check: task, dataset, metric, value.

Read tolerantly: cards in the wild put dicts where lists belong, numbers in strings and
percent signs in values. Whatever cannot be read is a finding with its key path.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from curator.core.models import Finding, Severity

MAX_CLAIMS = 1000
_SHOT = re.compile(r"(?i)\b(\d{1,3})[- ]?shots?\b")
_ZERO_SHOT = re.compile(r"(?i)\bzero[- ]?shot\b")
_NUMBER = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(%?)\s*$")


@dataclass(frozen=True)
class Claim:
    """One reported score. ``verified`` is the card's own flag (the hub ran it), not curator's."""

    task: str | None
    task_name: str | None
    dataset: str | None
    dataset_name: str | None
    config: str | None
    split: str | None
    metric: str | None
    metric_name: str | None
    value: float | str | None
    n_shot: int | None
    verified: bool
    has_verify_token: bool
    source: dict[str, str] | None
    location: str
    line: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        """``arc_challenge acc_norm=61.2 (25-shot)``: one claim in a few words."""
        shots = f" ({self.n_shot}-shot)" if self.n_shot is not None else ""
        what = self.dataset or self.dataset_name or self.task or "?"
        return f"{what} {self.metric or self.metric_name or '?'}={self.value}{shots}"


def _text(value: object) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return text[:200] or None


def _number(value: object) -> float | str | None:
    """Numbers stay numbers; "85.3" and "85.3%" become 85.3; anything else stays its text."""
    if isinstance(value, bool) or value is None:
        return None if value is None else str(value)
    if isinstance(value, int | float):
        return float(value)
    text = _text(value)
    if text is None:
        return None
    match = _NUMBER.match(text)
    return float(match.group(1)) if match else text


def _shots(*sources: object) -> int | None:
    """``num_few_shot`` from args, or "5-shot" / "zero-shot" in a name."""
    for source in sources:
        if isinstance(source, dict):
            for key in ("num_few_shot", "n_shot", "num_fewshot", "fewshot", "shots"):
                raw = source.get(key)
                if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 10_000:
                    return raw
                if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) < 5:
                    return int(raw)
        elif isinstance(source, str):
            if _ZERO_SHOT.search(source):
                return 0
            match = _SHOT.search(source)
            if match:
                return int(match.group(1))
    return None


def _mapping(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: object) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def claims_from_model_index(metadata: dict[str, Any], key_lines: dict[str, int],
                            name: str) -> tuple[list[Claim], list[Finding]]:
    """Every metric of every result of every model in ``model-index``, with its key path."""
    claims: list[Claim] = []
    problems: list[Finding] = []
    index = metadata.get("model-index")
    if index is None:
        return claims, problems

    def unreadable(path: str, why: str) -> None:
        if len(problems) < 20:
            line = key_lines.get(path)
            where = f" line {line}" if line else ""
            problems.append(Finding(
                Severity.LOW, "claim-unreadable",
                f"{name}{where}: model-index entry '{path}' {why}; that claim cannot be checked: "
                "compare the card's prose with the eval stage's scores by hand", file=name))

    if not isinstance(index, list | dict):
        unreadable("model-index", "is not a list of models")
    for m, model in enumerate(_as_list(index)):
        mpath = f"model-index[{m}]" if isinstance(index, list) else "model-index"
        results = model.get("results") if isinstance(model, dict) else None
        if not isinstance(results, list | dict):
            unreadable(mpath, "has no 'results' list")
            continue
        for r, result in enumerate(_as_list(results)):
            rpath = f"{mpath}.results[{r}]" if isinstance(results, list) else f"{mpath}.results"
            if not isinstance(result, dict):
                unreadable(rpath, "is not a mapping")
                continue
            task = _mapping(result.get("task"))
            dataset = _mapping(result.get("dataset"))
            source = _mapping(result.get("source")) or None
            metrics = result.get("metrics")
            if not isinstance(metrics, list | dict) or not metrics:
                unreadable(rpath, "has no 'metrics'")
                continue
            for k, metric in enumerate(_as_list(metrics)):
                kpath = f"{rpath}.metrics[{k}]" if isinstance(metrics, list) else f"{rpath}.metrics"
                if not isinstance(metric, dict) or "value" not in metric:
                    unreadable(kpath, "has no value")
                    continue
                if len(claims) >= MAX_CLAIMS:
                    unreadable(kpath, f"is past the first {MAX_CLAIMS} claims")
                    return claims, problems
                claims.append(Claim(
                    task=_text(task.get("type")), task_name=_text(task.get("name")),
                    dataset=_text(dataset.get("type")), dataset_name=_text(dataset.get("name")),
                    config=_text(dataset.get("config")), split=_text(dataset.get("split")),
                    metric=_text(metric.get("type")), metric_name=_text(metric.get("name")),
                    value=_number(metric.get("value")),
                    n_shot=_shots(metric.get("args"), dataset.get("args"), dataset.get("name"),
                                  metric.get("name"), task.get("name")),
                    verified=metric.get("verified") is True,
                    has_verify_token=bool(_text(metric.get("verifyToken"))),
                    source=({k: v for k in ("name", "url") if (v := _text(source.get(k)))}
                            or None) if source else None,
                    location=kpath, line=key_lines.get(kpath)))
    return claims, problems
