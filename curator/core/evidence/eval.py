"""The eval stage's evidence, typed: what curator measured, each card claim against it, and how
the model ran (sandbox, settings, child process)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from curator.core.evidence.fields import NO_FACTS, Facts, Fields
from curator.core.models import StageResult

STAGE = "eval"

#: a metric's value as lm-eval reports it: a number, or "N/A" for a stderr it did not compute
Metric = str | float | bool | None


def metrics_of(f: Fields, key: str) -> Mapping[str, Metric]:
    """``{metric: value}``; a list or an object where a value should be is refused."""
    inner = f.obj(key)
    return {name: inner.scalar(name) for name in inner.data}


@dataclass(frozen=True)
class Score:
    """One task of one run (one n-shot): every metric lm-eval reported."""

    task: str
    run: str = ""
    n_shot: int | None = None
    metrics: Mapping[str, Metric] = field(default_factory=lambda: NO_FACTS)
    n_samples: Facts | None = None

    @classmethod
    def read(cls, f: Fields) -> Score:
        samples = f.data.get("n_samples")
        return cls(f.text("task"), f.text("run"), f.opt_integer("n_shot"), metrics_of(f, "metrics"),
                   f.facts("n_samples") if isinstance(samples, Mapping) else None)

    def measured(self) -> dict[str, tuple[float, Metric]]:
        """metric -> (value, its stderr as reported) for every numeric metric but the stderrs."""
        return {name: (value, self.metrics.get(f"{name}_stderr")) for name, value in self.metrics.items()
                if not name.endswith("_stderr") and isinstance(value, int | float)
                and not isinstance(value, bool)}


@dataclass(frozen=True)
class EvalClaim:
    """A card claim as the eval stage judged it (``verdict`` "" if it never got that far)."""

    task: str | None = None
    task_name: str | None = None
    dataset: str | None = None
    dataset_name: str | None = None
    metric: str | None = None
    metric_name: str | None = None
    value: str | float | bool | None = None
    n_shot: int | None = None
    location: str = ""
    line: int | None = None
    mapped_task: str | None = None
    mapped_metric: str | None = None
    verdict: str = ""  # consistent | gap | not-reproduced | understated | unchecked
    reason: str | None = None
    claimed: float | None = None
    measured: float | None = None
    stderr: float | None = None
    z: float | None = None
    measured_n_shot: int | None = None
    notes: tuple[str, ...] = ()
    judged: bool = False  # the stage compared it ("claimed" recorded)
    data: Facts = field(default_factory=lambda: NO_FACTS)  # the claim as recorded, for ``eval --json``

    @classmethod
    def read(cls, f: Fields) -> EvalClaim:
        return cls(
            f.opt_text("task"), f.opt_text("task_name"), f.opt_text("dataset"), f.opt_text("dataset_name"),
            f.opt_text("metric"),
            f.opt_text("metric_name"), f.scalar("value"), f.opt_integer("n_shot"), f.text("location"),
            f.opt_integer("line"), f.opt_text("mapped_task"), f.opt_text("mapped_metric"), f.text("verdict"),
            f.opt_text("reason"), f.opt_number("claimed"), f.opt_number("measured"), f.opt_number("stderr"),
            f.opt_number("z"), f.opt_integer("measured_n_shot"), f.texts("notes"), "claimed" in f.data,
            f.frozen())

    @property
    def claimed_or_value(self) -> str | float | bool | None:
        """The number the stage read from the claim, else the claim's value as written."""
        return self.claimed if self.judged else self.value


@dataclass(frozen=True)
class EvalTask:
    """A task of the plan: where it came from, and whether it ran."""

    task: str
    source: str | None = None
    status: str | None = None  # ran | unavailable; None while only planned
    reason: str | None = None
    config_sha256: str | None = None

    @classmethod
    def read(cls, f: Fields) -> EvalTask:
        return cls(f.text("task"), f.opt_text("source"), f.opt_text("status"), f.opt_text("reason"),
                   f.opt_text("config_sha256"))


@dataclass(frozen=True)
class EvalModel:
    """What the loader found in the files (kind, architectures, weights) before anything ran."""

    kind: str | None = None
    model_type: str | None = None
    architectures: tuple[str, ...] = ()
    weights: Mapping[str, str] = field(default_factory=lambda: NO_FACTS)
    manifest_digest: str | None = None
    recorded: bool = False

    @classmethod
    def read(cls, f: Fields) -> EvalModel:
        return cls(f.opt_text("kind"), f.opt_text("model_type"), f.texts("architectures"),
                   f.str_map("weights"),
                   f.opt_text("manifest_digest"), bool(f.data))


@dataclass(frozen=True)
class EvalEvidence:
    """Measured scores, claims against them, and the run's walls and settings."""

    reason: str | None = None  # why nothing was measured (a skipped stage)
    model: EvalModel = EvalModel()
    settings: Facts = field(default_factory=lambda: NO_FACTS)
    sandbox: Facts = field(default_factory=lambda: NO_FACTS)
    child: Facts = field(default_factory=lambda: NO_FACTS)
    child_stderr_tail: tuple[str, ...] = ()
    tasks: tuple[EvalTask, ...] = ()
    scores: tuple[Score, ...] = ()
    results: Mapping[str, Mapping[str, Metric]] = field(default_factory=lambda: NO_FACTS)
    claims: tuple[EvalClaim, ...] = ()
    claims_source: str | None = None
    versions: Facts = field(default_factory=lambda: NO_FACTS)
    requests: Facts = field(default_factory=lambda: NO_FACTS)
    cache: Facts = field(default_factory=lambda: NO_FACTS)
    cache_entries: Facts = field(default_factory=lambda: NO_FACTS)
    wall_seconds: float | None = None
    load_seconds: float | None = None

    KEYS = frozenset({"reason", "model", "settings", "sandbox", "child", "tasks", "scores", "results",
                      "claims",
                      "claims_source", "versions", "model_info", "requests", "cache", "wall_seconds",
                      "load_seconds"})

    @classmethod
    def from_evidence(cls, evidence: object) -> EvalEvidence:
        """The one place the eval stage's evidence dict is read."""
        f = Fields(evidence, STAGE)
        results = f.obj("results")
        child = f.obj("child")
        cache = f.obj("cache")
        return cls(
            reason=f.opt_text("reason"), model=EvalModel.read(f.obj("model")), settings=f.facts("settings"),
            sandbox=f.facts("sandbox"), child=f.facts("child"), child_stderr_tail=child.texts("stderr_tail"),
            tasks=tuple(EvalTask.read(t) for t in f.objs("tasks")),
            scores=tuple(Score.read(s) for s in f.objs("scores")),
            results={key: metrics_of(results, key) for key in results.data},
            claims=tuple(EvalClaim.read(c) for c in f.objs("claims")),
            claims_source=f.opt_text("claims_source"),
            versions=f.facts("versions"), requests=f.facts("requests"), cache=f.facts("cache"),
            cache_entries=cache.facts("entries"), wall_seconds=f.opt_number("wall_seconds"),
            load_seconds=f.opt_number("load_seconds"))

    @classmethod
    def of(cls, result: StageResult | None) -> EvalEvidence:
        return cls.from_evidence(result.evidence if result is not None else None)
