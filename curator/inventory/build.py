"""The inventory: every model in the private registry with its decision, age and status.

Built from a handful of ledger-wide queries (pushes, decisions, quarterly checks and
actions, then each pushed review's stored results) plus one read of the registry's tag
list where the registry can list tags cheaply (the embedded OCI layout). Nothing here
streams blobs: re-verifying bytes is the quarterly review's job.

Status: ``approved``; ``retired`` (a signed quarterly retire); ``needs-re-review`` with
the reasons (waiver expired, older than ``quarterly.max_age_days``, the last quarterly
check failed, a replacement was asked for, the tag is gone or moved, a retire or rejection is
proposed and waits for another curator's signature: the deploy gate admits the model until then).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

from curator.core.clock import iso
from curator.core.events import (
    DecisionMade,
    LedgerEvent,
    ModelRechecked,
    Pushed,
    QuarterlyActionTaken,
    Recorded,
    StateSigned,
)
from curator.core.evidence import ScanEvidence, SignatureEvidence
from curator.core.models import StageResult
from curator.inventory.evidence import ModelEvidence
from curator.inventory.lifecycle import Lifecycle, LifecycleIndex, read_lifecycle

if TYPE_CHECKING:
    from curator.core.models import Review
    from curator.registry.interface import Registry
    from curator.review.session import Session

APPROVED, RETIRED, NEEDS_REVIEW = "approved", "retired", "needs-re-review"
#: columns a user may sort or filter by (CLI ``--sort`` / ``--filter`` and the TUI screen)
COLUMNS = ("ref", "repo_id", "revision", "status", "curator", "approved", "age", "last_check",
           "license", "lineage", "scanners", "waivers", "production", "replaced_by", "conditions",
           "signature", "registry")


@dataclass(frozen=True)
class InventoryEntry:
    """One model in the registry, as the ledger and the registry know it."""

    # DESIGN.md's ``inventory --json`` keys first, in its order
    ref: str
    repo_id: str
    revision: str
    manifest_digest: str  # the OCI manifest digest: what verify and deploy pipelines pin
    decision: dict[str, Any]  # outcome, curator{name,email,keyid}, decision_id, rationale, waivers
    status: str
    reasons: tuple[str, ...]
    name: str
    tag: str
    digest_ref: str
    files_digest: str  # the fetch manifest digest (file list)
    source: str
    endpoint: str | None
    review_id: str
    registry: str
    approved_epoch: float
    age_days: int
    last_check: dict[str, Any] | None = None
    last_action: dict[str, Any] | None = None
    scanners: dict[str, str] = field(default_factory=dict)
    license: str | None = None
    lineage: dict[str, Any] = field(default_factory=dict)
    files: int = 0
    size: int = 0
    requested_revision: str = ""  # what the curator asked for (branch, tag or sha) before pinning
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    #: the model's own signature as the signature stage found it: status, signer, trust decision
    signature: dict[str, Any] = field(default_factory=dict)
    #: a retire or rejection signed by fewer curators than the signed state needs, waiting for a
    #: co-signature: ``{action, proposal, proposed_by, time}`` (the gate still admits the model)
    proposed: dict[str, Any] = field(default_factory=dict)

    @property
    def conditions(self) -> list[str]:
        return list(self.lifecycle.conditions)

    @property
    def replaced_by(self) -> list[str]:
        return [str(r["ref"]) for r in self.lifecycle.replaced_by]

    @property
    def production(self) -> dict[str, Any]:
        """``{tag, ref, digest, current}``: which revision ``NAME:prod`` points at, and is it this one."""
        return self.lifecycle.production

    @property
    def approved_at(self) -> str:
        """When the final approval was recorded (RFC 3339 UTC)."""
        return iso(self.approved_epoch) or ""

    @property
    def curator(self) -> str:
        who = self.decision.get("curator") or {}
        return str(who.get("name", "?"))

    @property
    def waivers(self) -> list[dict[str, Any]]:
        return list(self.decision.get("waivers") or [])

    @property
    def bases(self) -> list[str]:
        return [str(b.get("repo_id")) for b in self.lineage.get("bases", []) if b.get("repo_id")]

    def cell(self, column: str) -> str:
        """The text of one column, as the table shows it and filters match it."""
        values = {
            "ref": self.ref, "repo_id": self.repo_id, "revision": self.revision.split(":")[-1][:12],
            "status": self.status, "curator": self.curator,
            "approved": (iso(self.approved_epoch) or "")[:10], "age": str(self.age_days),
            "last_check": ((self.last_check or {}).get("time") or "never")[:10]
            + (f" {self.last_check['outcome']}" if self.last_check else ""),
            "license": self.license or "?",
            "lineage": ", ".join(self.bases) or "-",
            "scanners": ", ".join(f"{k} {v}" for k, v in sorted(self.scanners.items())) or "-",
            "waivers": ", ".join(f"{w.get('stage')} until {w.get('expires')}" for w in self.waivers) or "-",
            "production": self._production_cell(),
            "replaced_by": ", ".join(self.replaced_by) or "-",
            "conditions": "; ".join(self.conditions) or "-",
            "signature": " ".join(str(v) for v in (self.signature.get("status"), self.signature.get("signer"))
                                  if v) or "not run",
            "registry": self.registry or "-",
        }
        return values[column]

    def _production_cell(self) -> str:
        prod = self.production
        if not prod:
            return "-"
        if prod.get("current"):
            return f"yes ({prod.get('tag')})"
        if not prod.get("digest"):  # withdrawn by a swap across names, or by its rollback
            return f"no: {prod.get('tag')} moved to {str(prod.get('moved_to') or '?').split('@')[0]}"
        return f"no: {prod.get('tag')} is {str(prod.get('digest') or '')[7:19]}"

    def sort_key(self, column: str) -> Any:
        if column == "age":
            return self.age_days
        if column == "approved":
            return self.approved_epoch
        return self.cell(column).lower()

    def to_dict(self) -> dict[str, Any]:
        """The ``inventory --json`` entry (DESIGN.md keys first)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in ("approved_epoch", "lifecycle")}
        data["decision"] = {**self.decision, "time": self.approved_at, "conditions": self.conditions}
        data["reasons"] = list(self.reasons)
        life = self.lifecycle
        data |= {"production": {**self.production, "in_production": bool(self.production.get("current"))},
                 "replaced_by": self.replaced_by, "conditions": self.conditions,
                 "change": life.change, "rollbacks": list(life.rollbacks), "retirement": life.retirement}
        return data


@dataclass(frozen=True)
class Inventory:
    entries: tuple[InventoryEntry, ...]
    registry: str
    registry_listed: bool  # False: the registry cannot list tags, so presence was not checked
    generated: str
    #: review id -> its stored stage results, as read while building (the BOM reads card and eval)
    results: dict[str, dict[str, StageResult]] = field(default_factory=dict, repr=False)
    policy_version: str = "unversioned"
    #: review id -> the same results with each stage's typed evidence read once (built, or kept, here)
    evidence: dict[str, ModelEvidence] = field(default_factory=dict, repr=False)

    def evidence_of(self, review_id: str) -> ModelEvidence:
        """One model's typed evidence, read at most once however many readers ask."""
        found = self.evidence.get(review_id)
        if found is None:
            found = self.evidence[review_id] = ModelEvidence(self.results.get(review_id, {}))
        return found

    def counts(self) -> dict[str, int]:
        counts = {APPROVED: 0, NEEDS_REVIEW: 0, RETIRED: 0}
        for e in self.entries:
            counts[e.status] = counts.get(e.status, 0) + 1
        return counts

    def to_dict(self, entries: Iterable[InventoryEntry] | None = None) -> dict[str, Any]:
        """The ``inventory --json`` document, of all entries or of ``entries`` (sorted, filtered)."""
        shown = self.entries if entries is None else entries
        return {"models": [e.to_dict() for e in shown], "counts": self.counts(),
                "registry": self.registry, "registry_listed": self.registry_listed,
                "generated": self.generated}

    def find(self, text: str) -> InventoryEntry:
        """An entry by ref, digest ref, review id or unique repo id; UsageError if none or several."""
        from curator.core.errors import UsageError

        hits = [e for e in self.entries if text in (e.ref, e.digest_ref, e.review_id, e.manifest_digest)]
        hits = hits or [e for e in self.entries if e.repo_id == text and e.status != RETIRED]
        if len(hits) != 1:
            why = "is not in the inventory" if not hits else f"matches {len(hits)} models"
            raise UsageError(f"'{text}' {why}", "pass a REF exactly as 'curator inventory' lists it")
        return hits[0]


E = TypeVar("E", bound=LedgerEvent)


def _latest_by_review(events: Iterable[Recorded[E]]) -> dict[str, Recorded[E]]:
    latest: dict[str, Recorded[E]] = {}
    for event in events:  # chain order: later ones win
        if event.review_id:
            latest[event.review_id] = event
    return latest


def scanners_of(scan: StageResult | None) -> dict[str, str]:
    """Scanner name -> version, as a scan result recorded them."""
    if scan is None:
        return {}
    found = {name: run.version for name, run in ScanEvidence.runs_of(scan).items()}
    return {**scan.tool_versions, **found}


def _card_facts(model: ModelEvidence) -> tuple[str | None, dict[str, Any]]:
    if model.get("card") is None:
        return None, {}
    ev = model.card
    bases = [{"repo_id": b.repo_id, "approved": b.approved} for b in ev.lineage.bases]
    return ev.license.id, {"relation": ev.lineage.relation, "bases": bases}


def registry_tags(registry: Registry) -> dict[str, str] | None:
    """``NAME:TAG -> digest`` for a registry that lists tags cheaply; None otherwise."""
    lister = getattr(registry, "tags", None)
    if lister is None:
        return None
    return {f"{name}:{tag}": digest for name, tag, digest in lister() if not tag.startswith("sha256-")}


def build_inventory(session: Session, registry: Registry | None = None,
                    today: dt.date | None = None) -> Inventory:
    """Every pushed, approved model of the workspace's ledger, with its status today."""
    ledger = session.ledger
    today = today or dt.date.today()
    settings = session.policy.section("quarterly")
    max_age = int(settings.get("max_age_days", 365))
    reviews = {r.id: r for r in ledger.reviews()}
    where = registry.location if registry is not None else None
    # a push to another registry is that registry's: it neither adds to nor hides from this one
    pushes = _latest_by_review(e for e in ledger.read(Pushed)
                               if where is None or e.event.registry in (None, where))
    life = read_lifecycle(ledger)
    decisions: dict[str | None, list[Recorded[DecisionMade]]] = {}
    for event in ledger.read(DecisionMade):
        decisions.setdefault(event.review_id, []).append(event)
    checks = _latest_by_review(ledger.read(ModelRechecked))
    actions = _latest_by_review(ledger.read(QuarterlyActionTaken))
    tags = registry_tags(registry) if registry is not None else None
    by_ref: dict[str, InventoryEntry] = {}
    adopted = []
    for review_id, push in sorted(pushes.items(), key=lambda kv: kv[1].seq):
        final = [e for e in decisions.get(review_id, []) if e.event.final == "approved"]
        if review_id in reviews and final:
            adopted.append((review_id, push, final[-1]))
    loaded = ledger.results_of(review_id for review_id, _, _ in adopted)  # one read, not one per model
    read: dict[str, ModelEvidence] = {}
    for review_id, push, last in adopted:
        read[review_id] = ModelEvidence(loaded.setdefault(review_id, {}))
        entry = _entry(read[review_id], reviews[review_id], push, last, decisions[review_id],
                       checks.get(review_id), actions.get(review_id), tags, today, max_age, life)
        by_ref[entry.ref] = entry  # a later push of the same ref replaced the earlier one
    entries = tuple(sorted(by_ref.values(), key=lambda e: e.ref))
    if registry is not None:
        entries = tuple(_as_signed(entries, registry, session))
    return Inventory(entries, registry.location if registry is not None else "", tags is not None,
                     iso(dt.datetime.now(dt.UTC).timestamp()) or "",
                     {e.review_id: loaded[e.review_id] for e in entries}, session.policy.version,
                     {e.review_id: read[e.review_id] for e in entries})


def _as_signed(entries: Iterable[InventoryEntry], registry: Registry,
               session: Session) -> Iterable[InventoryEntry]:
    """The entries as the registry's signed state has them, where it has one: a digest it records
    as retired or rejected is retired (with who, when and why), and one it does not list as
    approved needs a re-review whatever the ledger says."""
    from curator.core.errors import CuratorError
    from curator.decision.cosign import pending_removals
    from curator.decision.signed_state import anchor_path, current_state
    from curator.state.content import target_path

    if not anchor_path(session.policy).is_file():
        yield from entries
        return
    try:
        state = current_state(registry, session.policy)
    except CuratorError as exc:
        for entry in entries:
            why = f"the registry's signed state cannot be read: {exc.message}"
            yield replace(entry, status=NEEDS_REVIEW, reasons=(*entry.reasons, why))
        return
    approved = state.approved()
    pending = pending_removals(session, registry)
    for entry in entries:
        path = target_path(entry.name, entry.manifest_digest)
        record = state.record(entry.name, entry.manifest_digest)
        if record is not None:
            yield replace(entry, status=RETIRED, reasons=(f"signed state: {record.line}",))
        elif path not in approved and entry.status != RETIRED:
            yield replace(entry, status=NEEDS_REVIEW, reasons=(
                *entry.reasons, f"not in {registry.location}'s signed state of approved models"))
        elif path in approved and (path in pending or entry.status == RETIRED):
            # the deploy gate admits it: whatever the ledger signed, it is not retired yet
            yield _proposed(entry, pending.get(path), registry.location)
        else:
            yield entry


def _proposed(entry: InventoryEntry, pending: tuple[str, StateSigned, float] | None,
              where: str) -> InventoryEntry:
    if pending is None:
        why = f"a retire is recorded in the ledger, but {where}'s signed state still approves it"
        return replace(entry, status=NEEDS_REVIEW, reasons=(*entry.reasons, why))
    kind, event, when = pending
    who = event.signed_by or "a curator"
    day = (iso(when) or "")[:10]
    why = (f"{kind} proposed by {who} on {day}, waiting for another curator's signature "
           f"('curator state sign {event.proposal}'); the deploy gate admits it until then")
    reasons = tuple(r for r in entry.reasons if "no longer in the registry" not in r)
    return replace(entry, status=NEEDS_REVIEW, reasons=(*reasons, why),
                   proposed={"action": kind, "proposal": event.proposal, "proposed_by": who,
                             "time": iso(when)})


def _entry(model: ModelEvidence, review: Review, push: Recorded[Pushed],
           final: Recorded[DecisionMade], decided: list[Recorded[DecisionMade]],
           check: Recorded[ModelRechecked] | None,
           action: Recorded[QuarterlyActionTaken] | None, tags: dict[str, str] | None, today: dt.date,
           max_age: int, life: LifecycleIndex) -> InventoryEntry:
    p, d = push.event, final.event
    results = model.results
    fetch = model.fetch
    license_id, lineage = _card_facts(model)
    c = review.candidate
    approvers = [e.event.curator for e in decided if e.event.outcome == "approved"
                 and e.event.subject_digest == d.subject_digest]
    decision = {"outcome": "approved", "curator": {} if d.curator is None else d.curator,
                "decision_id": d.decision_id, "rationale": d.rationale,
                "waivers": [w.to_payload() for w in d.waivers],
                "approvers": approvers}
    act = action.event if action else None
    clock = final.time
    if act and act.action == "keep":
        clock = max(clock, action.time if action else clock)
    age = (today - dt.datetime.fromtimestamp(clock, dt.UTC).date()).days
    reasons = _reasons(p, d, check, action, tags, today, age, max_age)
    status = RETIRED if act and act.action == "retire" else (NEEDS_REVIEW if reasons else APPROVED)
    ref = p.ref
    name, _, tag = ref.rpartition(":")
    name = d.name or name
    sig = results.get("signature")
    return InventoryEntry(
        ref=ref, name=name, tag=d.tag or tag, digest_ref=p.digest_ref, manifest_digest=p.digest,
        files_digest=fetch.manifest_digest, repo_id=c.repo_id, revision=c.commit or fetch.manifest_digest,
        source=c.source, endpoint=c.endpoint, review_id=review.id, registry=p.registry or "",
        decision=decision, approved_epoch=final.time, age_days=age, status=status,
        reasons=tuple(reasons) if status != RETIRED else (),
        last_check={"time": iso(check.time), "outcome": check.event.outcome, "run_id": check.event.run_id,
                    "failed": list(check.event.failed)} if check else None,
        last_action={"action": act.action, "time": iso(action.time if action else None),
                     "curator": {} if act.curator is None else act.curator, "rationale": act.rationale,
                     "action_id": act.action_id} if act else None,
        scanners=scanners_of(results.get("scan")), license=license_id, lineage=lineage,
        files=len(fetch.files), size=sum(f.size for f in fetch.files), requested_revision=c.revision,
        lifecycle=life.of(review.id, name, p.digest, p.registry or None),
        signature=signature_state(sig))


def signature_state(result: StageResult | None) -> dict[str, Any]:
    """The model signature's status, signer and trust decision (``{}`` when the stage did not run)."""
    if result is None:
        return {}
    ev = SignatureEvidence.of(result)
    label = ", ".join(f"{k}={v}" for k, v in sorted(ev.signer.items()))
    return {"status": ev.status or result.status.value, "signer": label,
            "trust": ev.trust.decision if ev.trust.recorded else None, "mode": ev.mode}


def _reasons(push: Pushed, decision: DecisionMade, check: Recorded[ModelRechecked] | None,
             action_event: Recorded[QuarterlyActionTaken] | None, tags: dict[str, str] | None, today: dt.date,
             age: int, max_age: int) -> list[str]:
    reasons = []
    action = action_event.event if action_event else None
    for waiver in decision.waivers:
        if dt.date.fromisoformat(waiver.expires) < today:
            reasons.append(f"waiver for {waiver.stage} expired on {waiver.expires}")
    if age > max_age:
        reasons.append(f"approved {age} days ago (policy max {max_age})")
    # a signed keep or replace after the failed check answers it
    if check and check.event.outcome == "fail" and (action_event is None or check.seq > action_event.seq):
        reasons.append("the last quarterly check failed: " + ", ".join(check.event.failed))
    if action and action.action == "replace":
        reasons.append("replacement asked for: " + action.rationale)
    if tags is not None:
        ref = push.ref
        if ref not in tags:
            reasons.append(f"{ref} is no longer in the registry")
        elif tags[ref] != push.digest:
            reasons.append(f"{ref} now points at {tags[ref]}, not the approved {push.digest}")
    return reasons


def sort_entries(entries: Iterable[InventoryEntry], column: str,
                 reverse: bool = False) -> list[InventoryEntry]:
    """Entries ordered by one of ``COLUMNS``."""
    from curator.core.errors import UsageError

    if column not in COLUMNS:
        raise UsageError(f"cannot sort by '{column}'", f"choose from {', '.join(COLUMNS)}")
    return sorted(entries, key=lambda e: e.sort_key(column), reverse=reverse)


def filter_entries(entries: Iterable[InventoryEntry], spec: str) -> list[InventoryEntry]:
    """``COLUMN=TEXT`` keeps entries whose column contains TEXT; plain TEXT searches every column."""
    from curator.core.errors import UsageError

    column, sep, text = spec.partition("=")
    if sep and column.strip() in COLUMNS:
        needle = text.strip().lower()
        return [e for e in entries if needle in e.cell(column.strip()).lower()]
    if sep:
        raise UsageError(f"cannot filter by '{column}'", f"choose from {', '.join(COLUMNS)}")
    needle = spec.strip().lower()
    return [e for e in entries if any(needle in e.cell(c).lower() for c in COLUMNS)]


def merge_inventories(inventories: list[Inventory]) -> Inventory:
    """One inventory over several registries: every row keeps its own registry."""
    if len(inventories) == 1:
        return inventories[0]
    entries = tuple(sorted((e for inv in inventories for e in inv.entries),
                           key=lambda e: (e.ref, e.registry)))
    results = {k: v for inv in inventories for k, v in inv.results.items()}
    evidence = {k: v for inv in inventories for k, v in inv.evidence.items()}
    return Inventory(entries, ", ".join(inv.registry for inv in inventories),
                     all(inv.registry_listed for inv in inventories),
                     max((inv.generated for inv in inventories), default=""), results,
                     inventories[0].policy_version if inventories else "unversioned", evidence)
