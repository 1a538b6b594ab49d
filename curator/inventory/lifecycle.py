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


def _who(payload: dict[str, Any]) -> str:
    return str((payload.get("curator") or {}).get("name", "?"))


@dataclass
class LifecycleIndex:
    """The ledger's post-approval facts, indexed for ``of``."""

    decisions: dict[str, list[dict[str, Any]]]  # review id -> decision rows
    production: list[dict[str, Any]]  # production rows, chain order
    retirements: dict[str, dict[str, Any]]  # review id -> latest retire row
    swaps: list[dict[str, Any]]  # final approvals that name what they replace

    def of(
        self, review_id: str, name: str, digest: str, registry: str | None = None, ref: str = ""
    ) -> Lifecycle:
        """The lifecycle of ``NAME@digest`` approved in ``review_id`` (in ``registry``, if given)."""
        rows = self.decisions.get(review_id, [])
        approvals = [
            e
            for e in rows
            if e["payload"].get("outcome") == "approved" and e["payload"].get("subject_digest") == digest
        ]
        final = approvals[-1]["payload"] if approvals else {}
        conditions = tuple(str(c) for c in predicate(str(final.get("envelope", ""))).get("conditions", []))
        approvers = tuple(
            {
                **{k: str(v) for k, v in (e["payload"].get("curator") or {}).items()},
                "time": iso(e["time"]),
                "decision_id": e["payload"].get("decision_id"),
            }
            for e in approvals
        )
        change = final.get("change") if isinstance(final.get("change"), dict) else None
        replaced_by = tuple(
            {"ref": s["ref"], "digest": s["digest"], "review_id": s["review_id"], "time": s["time"]}
            for s in self.swaps
            if s["replaces"].get("digest") == digest or s["replaces"].get("review_id") == review_id
        )
        moves = [
            e["payload"] | {"time": e["time"]}
            for e in self.production
            if e["payload"].get("name") == name
            and (registry is None or e["payload"].get("registry") in (None, registry))
        ]
        current = moves[-1] if moves else {}
        production = (
            {
                "tag": current.get("tag"),
                "ref": current.get("ref"),
                "digest": current.get("digest"),
                "review_id": current.get("review_id"),
                "since": iso(current.get("time")),
                # no digest: a swap across names (or its rollback) moved production to another name
                **({} if current.get("digest") else {"moved_to": current.get("by") or current.get("to")}),
                "current": bool(current) and current.get("digest") == digest,
            }
            if current
            else {}
        )
        rollbacks = tuple(
            {
                "time": iso(m["time"]),
                "from": m.get("previous"),
                "to": m.get("digest") or m.get("to"),  # a swap across names rolled back: the other name
                "to_review_id": m.get("review_id"),
                "curator": _who(m),
                "rationale": m.get("rationale", ""),
                "decision_id": m.get("decision_id"),
            }
            for m in moves
            if m.get("action") == "rollback"
        )
        retired = self.retirements.get(review_id)
        retirement = (
            {
                "time": iso(retired["time"]),
                "curator": _who(retired["payload"]),
                "email": (retired["payload"].get("curator") or {}).get("email"),
                "rationale": retired["payload"].get("rationale", ""),
                "action_id": retired["payload"].get("action_id"),
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
            envelope=str(final.get("envelope", "")),
        )


def read_lifecycle(ledger: LedgerBase) -> LifecycleIndex:
    """Replay the ledger once: every reader asks the index, never the rows."""
    decisions: dict[str, list[dict[str, Any]]] = {}
    swaps = []
    for event in ledger.events(kind="decision"):
        decisions.setdefault(event["review_id"], []).append(event)
        p = event["payload"]
        change = p.get("change")
        if (
            p.get("final") == "approved"
            and isinstance(change, dict)
            and isinstance(change.get("replaces"), dict)
        ):
            swaps.append(
                {
                    "replaces": change["replaces"],
                    "digest": p.get("subject_digest"),
                    "ref": f"{p.get('name')}:{p.get('tag')}",
                    "review_id": event["review_id"],
                    "time": iso(event["time"]),
                }
            )
    retirements = {
        e["review_id"]: e
        for e in ledger.events(kind="quarterly_action")
        if e["payload"].get("action") == "retire" and e.get("review_id")
    }
    return LifecycleIndex(decisions, list(ledger.events(kind="production")), retirements, swaps)
