"""Quarterly results: one check, one model's checks, one run over the inventory."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

from curator.core.clock import iso
from curator.inventory.build import InventoryEntry


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
                "outcome": self.outcome, "failed": self.failed, "checks": [c.to_dict() for c in self.checks],
                "proposed": e.proposed or None}


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
