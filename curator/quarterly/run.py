"""The quarterly review: walk every adopted model and check that it still deserves its approval.

Per model: ``verify`` (registry bytes and decision signatures, streamed and hashed, the
deploy gate's own code), ``rescan`` (the registry's bytes with today's scanners, compared
with the verdicts and scanner versions recorded at approval), ``waiver`` (expired or about
to), ``max-age`` (since approval or the last signed keep), ``base-model`` (a declared base
that was retired) and ``upstream`` (newer revision, changed card or license, when the hub
answers within the time limit). A check that crashes is ``errored``: it fails the model,
whatever ``fail_on`` says. Every model's outcome is recorded in the ledger
(``quarterly_check``), and the run itself (``quarterly_run``).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from curator.core.errors import UsageError
from curator.inventory.build import RETIRED, Inventory, InventoryEntry, build_inventory, iso

CHECKS = ("verify", "rescan", "waiver", "max-age", "base-model", "upstream")
KEYS = {"max_age_days", "waiver_warn_days", "rescan", "check_upstream", "upstream_timeout_seconds",
        "retired_base_models", "fail_on"}
#: age warning window before max_age_days is reached
AGE_WARN_DAYS = 30


@dataclass(frozen=True)
class QuarterlySettings:
    """The ``quarterly:`` section of default.yaml, unknown keys refused."""

    max_age_days: int = 365
    waiver_warn_days: int = 30
    rescan: bool = True
    check_upstream: bool = True
    upstream_timeout_seconds: float = 10.0
    retired_base_models: frozenset[str] = frozenset()
    fail_on: frozenset[str] = frozenset({"verify", "rescan", "waiver", "max-age", "base-model"})

    @classmethod
    def from_policy(cls, policy: Any) -> QuarterlySettings:
        section: dict[str, Any] = policy.section("quarterly")
        unknown = set(section) - KEYS
        if unknown:
            raise UsageError(f"checklist section 'quarterly' has unknown keys {', '.join(sorted(unknown))}",
                             f"use only {', '.join(sorted(KEYS))}")
        base = cls()
        fail_on = frozenset(str(x) for x in section.get("fail_on", base.fail_on))
        unknown_checks = sorted(fail_on - set(CHECKS))
        if unknown_checks:
            raise UsageError(f"quarterly.fail_on names unknown checks {', '.join(unknown_checks)}",
                             f"use {', '.join(CHECKS)}")
        return cls(max_age_days=int(section.get("max_age_days", base.max_age_days)),
                   waiver_warn_days=int(section.get("waiver_warn_days", base.waiver_warn_days)),
                   rescan=bool(section.get("rescan", base.rescan)),
                   check_upstream=bool(section.get("check_upstream", base.check_upstream)),
                   upstream_timeout_seconds=float(section.get("upstream_timeout_seconds",
                                                              base.upstream_timeout_seconds)),
                   retired_base_models=frozenset(str(x) for x in section.get("retired_base_models") or []),
                   fail_on=fail_on)


@dataclass(frozen=True)
class Check:
    """One check of one model: ``ok | warn | fail | errored | skipped``."""

    name: str
    outcome: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "outcome": self.outcome, "message": self.message, "details": self.details}


@dataclass(frozen=True)
class ModelResult:
    """A model and its checks; ``outcome`` is ``fail`` when a ``fail_on`` check failed or any errored."""

    entry: InventoryEntry
    checks: tuple[Check, ...]
    fail_on: frozenset[str]

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.outcome == "errored"
                or (c.outcome == "fail" and c.name in self.fail_on)]

    @property
    def outcome(self) -> str:
        if self.failed:
            return "fail"
        return "warn" if any(c.outcome in ("warn", "fail") for c in self.checks) else "ok"

    def to_dict(self) -> dict[str, Any]:
        e = self.entry
        return {"ref": e.ref, "repo_id": e.repo_id, "revision": e.revision,
                "manifest_digest": e.manifest_digest, "review_id": e.review_id, "status": e.status,
                "outcome": self.outcome, "failed": self.failed, "checks": [c.to_dict() for c in self.checks]}


@dataclass
class QuarterlyRun:
    """One walk over the inventory."""

    run_id: str
    today: dt.date
    registry: str
    scanners_now: dict[str, str]
    models: list[ModelResult] = field(default_factory=list)
    skipped_retired: int = 0
    started: float = field(default_factory=time.time)
    finished: float = 0.0

    @property
    def ok(self) -> bool:
        return all(m.outcome != "fail" for m in self.models)

    def counts(self) -> dict[str, int]:
        counts = {"ok": 0, "warn": 0, "fail": 0}
        for m in self.models:
            counts[m.outcome] += 1
        return {**counts, "models": len(self.models), "retired": self.skipped_retired}

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "date": self.today.isoformat(), "registry": self.registry,
                "ok": self.ok, "counts": self.counts(), "scanners_now": self.scanners_now,
                "started": iso(self.started), "seconds": round(self.finished - self.started, 2),
                "models": [m.to_dict() for m in self.models]}


def scanner_versions(policy: Any) -> dict[str, str]:
    """Versions of the scanners the policy runs, as installed today."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in policy.section("scan").get("scanners", []):
        try:
            found[str(name)] = version(str(name))
        except PackageNotFoundError:
            found[str(name)] = "not installed"
    return found


OnModel = Callable[[int, int, ModelResult], None]


def run_quarterly(session: Any, registry: Any, trusted: dict[str, Any], rules: Any, *,
                  today: dt.date | None = None, upstream: bool | None = None, record: bool = True,
                  on_model: OnModel | None = None, cancel: threading.Event | None = None) -> QuarterlyRun:
    """Check every non-retired model of the inventory; record each outcome in the ledger."""
    from curator.quarterly.checks import check_model

    today = today or dt.date.today()
    settings = QuarterlySettings.from_policy(session.policy)
    if upstream is not None:
        settings = replace(settings, check_upstream=upstream)
    inventory: Inventory = build_inventory(session, registry, today)
    run = QuarterlyRun(uuid.uuid4().hex[:12], today, registry.location, scanner_versions(session.policy))
    active = [e for e in inventory.entries if e.status != RETIRED]
    run.skipped_retired = len(inventory.entries) - len(active)
    scratch = Path(tempfile.mkdtemp(prefix=f"quarterly-{run.run_id}-", dir=session.workspace.cache_dir))
    try:
        for n, entry in enumerate(active, 1):
            if cancel is not None and cancel.is_set():
                break
            results = inventory.results.get(entry.review_id, {})
            checks = check_model(session, registry, trusted, rules, settings, inventory, entry, results,
                                 today, scratch / str(n))
            result = ModelResult(entry, tuple(checks), settings.fail_on)
            run.models.append(result)
            if record:
                session.ledger.append("quarterly_check", {
                    "run_id": run.run_id, "ref": entry.ref, "outcome": result.outcome,
                    "failed": result.failed,
                    "checks": [{"name": c.name, "outcome": c.outcome, "message": c.message[:500]}
                               for c in checks]}, entry.review_id)
            if on_model is not None:
                on_model(n, len(active), result)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    run.finished = time.time()
    if record:
        session.ledger.append("quarterly_run", {"run_id": run.run_id, "date": today.isoformat(),
                                                "counts": run.counts(), "scanners_now": run.scanners_now,
                                                "registry": run.registry})
    return run
