"""Events of the quarterly review: each run, each model's checks, each signed action."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from curator.core.events.codec import LedgerEvent


@dataclass(frozen=True)
class QuarterlyRunFinished(LedgerEvent):
    """One quarterly run finished: its date, counts and the scanners it ran with."""

    KIND: ClassVar[str] = "quarterly_run"
    run_id: str
    date: str = ""
    counts: dict[str, int] | None = None
    scanners_now: dict[str, Any] | None = None
    registry: str | None = None


@dataclass(frozen=True)
class ModelRechecked(LedgerEvent):
    """One model's checks in a quarterly run; ``failed`` names the checks that fail it."""

    KIND: ClassVar[str] = "quarterly_check"
    run_id: str
    ref: str = ""
    outcome: str = ""
    failed: tuple[str, ...] = ()
    checks: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class QuarterlyActionTaken(LedgerEvent):
    """A signed keep / replace / retire of an adopted model; a retire carries the signed
    rejection it published."""

    KIND: ClassVar[str] = "quarterly_action"
    action: str
    action_id: str = ""
    ref: str = ""
    name: str = ""
    tag: str = ""
    digest: str | None = None
    repo_id: str = ""
    rationale: str = ""
    replacement: str | None = None
    curator: dict[str, Any] | None = None
    envelope: str = ""
    rejection_id: str | None = None
    rejection_envelope: str | None = None
    tag_removed: bool | None = None
    registry: str | None = None

    @property
    def unsigned(self) -> dict[str, Any]:
        """The payload without its envelopes: what reports show of it."""
        return {k: v for k, v in self.to_payload().items() if not k.endswith("envelope")}
