"""Which of a review's stage results are stale: the world they judged has moved since they ran.

Three things move under a finished stage: the policy (any checklist file changed after it
ran), its tools (a scanner or verifier recorded in ``tool_versions`` is now another version)
and the inventory (a model pushed, promoted or retired after the card stage, whose lineage
and look-alike checks read it). A stale result is still shown; the decision screen says so
and offers to run those stages again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from curator.core.events import ProductionMoved, Pushed, QuarterlyActionTaken
from curator.core.models import StageResult

if TYPE_CHECKING:
    from curator.ledger.base import LedgerBase

#: ledger events that change what the inventory holds
INVENTORY_EVENTS = (Pushed.KIND, ProductionMoved.KIND, QuarterlyActionTaken.KIND)
#: stages that read the inventory (approved bases, protected names)
READS_INVENTORY = ("card",)
#: checklist files no stage reads (who may approve is verify's business, not the evidence's)
NOT_STAGE_INPUTS = frozenset({"curators.yaml", "root.json"})


@dataclass(frozen=True)
class Stale:
    """One stage whose result predates a change, and which change."""

    stage: str
    why: str


def _when(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def policy_changed_at(directory: Path) -> float:
    """When any file of the checklists folder last changed (0 when it cannot be read)."""
    try:
        return max((p.stat().st_mtime for p in directory.rglob("*")
                    if p.is_file() and p.name not in NOT_STAGE_INPUTS), default=0.0)
    except OSError:
        return 0.0


def installed_version(name: str) -> str | None:
    try:
        return version(name)
    except (PackageNotFoundError, ValueError):
        return None


def stale_stages(results: dict[str, StageResult], policy_dir: Path, ledger: LedgerBase,
                 review_id: str) -> list[Stale]:
    """Every stage result of ``review_id`` older than the policy, its tools or the inventory."""
    changed = policy_changed_at(policy_dir)
    inventory = [e for kind in INVENTORY_EVENTS for e in ledger.events(kind=kind)
                 if e.get("review_id") != review_id]
    found = []
    for name, result in results.items():
        ran = result.finished or result.started
        if not ran:
            continue
        if changed > ran:
            found.append(Stale(name, f"the policy in {policy_dir} changed on {_when(changed)}, after it ran"))
            continue
        moved = [f"{tool} {was} → {now}" for tool, was in result.tool_versions.items()
                 if (now := installed_version(tool)) is not None and now != was]
        if moved:
            found.append(Stale(name, f"its tools changed since it ran: {', '.join(moved)}"))
            continue
        later = [e for e in inventory if float(e.get("time") or 0) > ran]
        if name in READS_INVENTORY and later:
            when = _when(float(later[-1]["time"]))
            found.append(Stale(name, f"the inventory changed on {when}, after it ran"))
    return found
