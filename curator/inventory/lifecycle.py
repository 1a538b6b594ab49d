"""What happened to each approved artifact after its approval, in one place: who approved it
(with key ids) and under which conditions, what it replaced and what replaced it, whether
it is in production, the rollbacks of its name, and its retirement.

This is the one projection the inventory, the AI-BOM and the reports read. Today it replays
the ledger (``decision``, ``production`` and ``quarterly_action`` rows); when the registry's
signed state carries the same facts, only ``read_lifecycle`` changes.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from curator.core.clock import iso
from curator.core.events import DecisionMade, ProductionMoved, QuarterlyActionTaken, Recorded

if TYPE_CHECKING:
    from curator.ledger.base import LedgerBase


@dataclass(frozen=True)
class Lifecycle:
    """One approved artifact's life: approvals, swap, production, rollbacks, retirement."""

    approvers: tuple[dict[str, Any], ...] = ()  # {name, email, keyid, time, decision_id}
    conditions: tuple[str, ...] = ()
    change: dict[str, Any] | None = None  # {replaces{ref, digest, review_id}, justification, rollback_plan}
    replaced_by: tuple[dict[str, Any], ...] = ()  # {ref, digest, review_id, time}
    production: dict[str, Any] = field(default_factory=dict)  # {tag, ref, digest, review_id, current}
    rollbacks: tuple[dict[str, Any], ...] = ()  # the name's rollbacks {time, from, to, curator, rationale}
    rolled_back_from: bool = False  # a rollback moved production away from this artifact
    retirement: dict[str, Any] | None = None  # {time, curator, rationale, action_id}
    envelope: str = field(default="", repr=False)  # the final approval's DSSE envelope, as signed

    def to_dict(self) -> dict[str, Any]:
        return {
            "approvers": list(self.approvers),
            "conditions": list(self.conditions),
            "change": self.change,
            "replaced_by": list(self.replaced_by),
            "production": self.production,
            "rollbacks": list(self.rollbacks),
            "rolled_back_from": self.rolled_back_from,
            "retirement": self.retirement,
        }


def predicate(envelope: str) -> dict[str, Any]:
    """The predicate of a decision envelope recorded in the ledger (the ledger's chain vouches for it)."""
    try:
        data = json.loads(base64.b64decode(json.loads(envelope)["payload"]))
    except (ValueError, KeyError, TypeError):
        return {}
    found = data.get("predicate") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else {}


def _who(curator: dict[str, Any] | None) -> str:
    return str((curator or {}).get("name", "?"))


@dataclass
class LifecycleIndex:
    """The ledger's post-approval facts, indexed for ``of``."""

    decisions: dict[str | None, list[Recorded[DecisionMade]]]  # review id -> decision rows
    production: list[Recorded[ProductionMoved]]  # production rows, chain order
    retirements: dict[str, Recorded[QuarterlyActionTaken]]  # review id -> latest retire row
    swaps: list[dict[str, Any]]  # final approvals that name what they replace
    #: name -> its production rows, chain order (each model asks for its name's, not every row)
    by_name: dict[str, list[Recorded[ProductionMoved]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_name = {}
        for row in self.production:
            self.by_name.setdefault(row.event.name, []).append(row)

    def of(
        self, review_id: str, name: str, digest: str, registry: str | None = None, ref: str = ""
    ) -> Lifecycle:
        """The lifecycle of ``NAME@digest`` approved in ``review_id`` (in ``registry``, if given)."""
        rows = self.decisions.get(review_id, [])
        approvals = [e for e in rows if e.event.outcome == "approved" and e.event.subject_digest == digest]
        final = approvals[-1].event if approvals else None
        envelope = final.envelope if final else ""
        conditions = tuple(str(c) for c in predicate(envelope).get("conditions", []))
        approvers = tuple(
            {
                **{k: str(v) for k, v in (e.event.curator or {}).items()},
                "time": iso(e.time),
                "decision_id": e.event.decision_id,
            }
            for e in approvals
        )
        change = final.change.to_payload() if final and final.change else None
        replaced_by = tuple(
            {"ref": s["ref"], "digest": s["digest"], "review_id": s["review_id"], "time": s["time"]}
            for s in self.swaps
            if s["replaces"].get("digest") == digest or s["replaces"].get("review_id") == review_id
        )
        moves = [
            e
            for e in self.by_name.get(name, ())
            if registry is None or e.event.registry in (None, registry)
        ]
        current = moves[-1] if moves else None
        production = (
            {
                "tag": current.event.tag,
                "ref": current.event.ref,
                "digest": current.event.digest,
                "review_id": current.event.review_id,
                "since": iso(current.time),
                # no digest: a swap across names (or its rollback) moved production to another name
                **({} if current.event.digest else {"moved_to": current.event.by or current.event.to}),
                "current": current.event.digest == digest,
            }
            if current
            else {}
        )
        rollbacks = tuple(
            {
                "time": iso(m.time),
                "from": m.event.previous,
                "to": m.event.digest or m.event.to,  # a swap across names rolled back: the other name
                "to_review_id": m.event.review_id,
                "curator": _who(m.event.curator),
                "rationale": m.event.rationale or "",
                "decision_id": m.event.decision_id,
            }
            for m in moves
            if m.event.action == "rollback"
        )
        retired = self.retirements.get(review_id)
        retirement = (
            {
                "time": iso(retired.time),
                "curator": _who(retired.event.curator),
                "email": (retired.event.curator or {}).get("email"),
                "rationale": retired.event.rationale,
                "action_id": retired.event.action_id,
            }
            if retired
            else None
        )
        return Lifecycle(
            approvers=approvers,
            conditions=conditions,
            change=change,
            replaced_by=replaced_by,
            production=production,
            rollbacks=rollbacks,
            rolled_back_from=any(r["from"] == digest for r in rollbacks),
            retirement=retirement,
            envelope=envelope,
        )


def read_lifecycle(ledger: LedgerBase) -> LifecycleIndex:
    """Replay the ledger once: every reader asks the index, never the rows."""
    decisions: dict[str | None, list[Recorded[DecisionMade]]] = {}
    swaps = []
    for row in ledger.read(DecisionMade):
        decisions.setdefault(row.review_id, []).append(row)
        p = row.event
        if p.final == "approved" and p.change is not None and p.change.replaces is not None:
            swaps.append(
                {
                    "replaces": p.change.replaces.to_payload(),
                    "digest": p.subject_digest,
                    "ref": f"{p.name}:{p.tag}",
                    "review_id": row.review_id,
                    "time": iso(row.time),
                }
            )
    retirements = {
        e.review_id: e for e in ledger.read(QuarterlyActionTaken)
        if e.event.action == "retire" and e.review_id
    }
    return LifecycleIndex(decisions, ledger.read(ProductionMoved), retirements, swaps)
