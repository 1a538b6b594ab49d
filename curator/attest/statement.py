"""The decision as an in-toto Statement v1: what was approved, on which evidence, by whom.

The statement is built as a plain dict (in-toto-attestation's protobuf route turns
integers into floats) and checked against the in-toto schema before it is signed.
Its subject is the OCI manifest digest of the model artifact: the exact bytes a
deploy pipeline pulls.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from curator.attest.keys import CuratorIdentity
from curator.core.models import Candidate, Manifest, StageResult, digest_of

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://curator.dev/attestation/decision/v1"
OUTCOMES = ("approved", "rejected")


@dataclass(frozen=True)
class Waiver:
    """A signed override: this stage's blocking status is accepted, for a reason, until a date."""

    stage: str
    reason: str
    expires: str  # ISO date, inclusive
    status: str = ""  # the status that was waived (failed, errored, missing)

    def expired(self, today: dt.date) -> bool:
        return dt.date.fromisoformat(self.expires) < today

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Waiver:
        return cls(stage=str(data["stage"]), reason=str(data["reason"]),
                   expires=str(data["expires"]), status=str(data.get("status", "")))


@dataclass(frozen=True)
class DecisionFacts:
    """Everything a decision statement records, gathered by the decision service."""

    outcome: str
    review_id: str
    name: str  # registry repository name the artifact goes to
    subject_digest: str  # sha256:<hex> of the OCI model manifest
    candidate: Candidate
    revision: str
    manifest: Manifest
    results: dict[str, StageResult]
    policy_version: str
    policy_digest: str
    approvals_required: int
    waivers: tuple[Waiver, ...]
    conditions: tuple[str, ...]
    curator: CuratorIdentity
    rationale: str
    time: str  # RFC 3339 UTC
    #: a swap: which inventory model this replaces, why, and how to roll back (curator.decision.swap)
    change: dict[str, Any] | None = None
    #: who opened the review, and whether the opener may not approve it: checked again by verify
    opened_by: CuratorIdentity | None = None
    separation_of_duties: bool = False
    #: an approval over a newer review or an earlier rejection: why, and over what (--supersede)
    supersedes: dict[str, Any] | None = None


def in_toto_statement(name: str, digest: str, predicate_type: str,
                      predicate: dict[str, Any]) -> dict[str, Any]:
    """An in-toto Statement v1 about one subject (``digest`` as ``sha256:HEX`` or bare hex): the
    one shape every signed curator record (decision, quarterly action, rollback, ledger
    checkpoint) takes."""
    algo, _, hexdigest = digest.rpartition(":")
    return {"_type": STATEMENT_TYPE, "subject": [{"name": name, "digest": {algo or "sha256": hexdigest}}],
            "predicateType": predicate_type, "predicate": predicate}


def build_statement(facts: DecisionFacts) -> dict[str, Any]:
    """The in-toto Statement v1 dict for one curator's decision."""
    if facts.outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {facts.outcome!r}")
    stages = {
        name: {"status": r.status.value, "evidence_digest": digest_of(r.evidence),
               "result_digest": r.digest, "findings": len(r.findings)}
        for name, r in sorted(facts.results.items())
    }
    tools: dict[str, str] = {}
    for r in facts.results.values():
        tools.update(r.tool_versions)
    built = in_toto_statement(facts.name, facts.subject_digest, PREDICATE_TYPE, {
            "outcome": facts.outcome,
            "review_id": facts.review_id,
            "candidate": facts.candidate.to_dict(),
            "revision": facts.revision,
            "manifest_digest": facts.manifest.digest,
            "files": facts.manifest.to_list(),
            "stages": stages,
            "tool_versions": dict(sorted(tools.items())),
            "policy": {"version": facts.policy_version, "digest": facts.policy_digest,
                       "approvals_required": facts.approvals_required,
                       "separation_of_duties": facts.separation_of_duties},
            "waivers": [w.to_dict() for w in facts.waivers],
            "conditions": list(facts.conditions),
            "curator": facts.curator.to_dict(),
            "rationale": facts.rationale,
            "time": facts.time,
        })
    if facts.change is not None:
        built["predicate"]["change"] = facts.change
    if facts.opened_by is not None:
        built["predicate"]["opened_by"] = facts.opened_by.to_dict()
    if facts.supersedes is not None:
        built["predicate"]["supersedes"] = facts.supersedes
    validate(built)
    return built


def validate(statement: dict[str, Any]) -> None:
    """Schema check with in-toto-attestation; raises ValueError naming what is wrong."""
    from google.protobuf import json_format  # type: ignore[import-untyped]
    from in_toto_attestation.v1 import statement_pb2
    from in_toto_attestation.v1.statement import Statement

    try:
        proto = json_format.ParseDict(statement, statement_pb2.Statement())  # type: ignore[attr-defined]
    except json_format.ParseError as exc:
        raise ValueError(f"not an in-toto Statement v1 ({exc})") from exc
    Statement.copy_from_pb(proto).validate()
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise ValueError(f"predicate type {statement.get('predicateType')!r} is not a curator decision")


@dataclass(frozen=True)
class Decision:
    """A decision statement read back: the fields the gate and the reports look at."""

    outcome: str
    review_id: str
    subject_name: str
    subject_digest: str
    curator: CuratorIdentity
    rationale: str
    time: str
    waivers: tuple[Waiver, ...]
    conditions: tuple[str, ...]
    files: tuple[dict[str, Any], ...]
    approvals_required: int
    policy_version: str
    change: dict[str, Any] | None = None
    opened_by: CuratorIdentity | None = None
    separation_of_duties: bool = False
    #: each stage's status as signed (stage name -> passed | warned | failed | errored | skipped)
    stages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_statement(cls, statement: dict[str, Any]) -> Decision:
        """Parse a statement; raises ValueError if it is not a well-formed curator decision."""
        validate(statement)
        try:
            subject = statement["subject"][0]
            algo, hexdigest = next(iter(subject["digest"].items()))
            p = statement["predicate"]
            outcome = str(p["outcome"])
            if outcome not in OUTCOMES:
                raise ValueError(f"unknown outcome {outcome!r}")
            return cls(
                outcome=outcome, review_id=str(p["review_id"]), subject_name=str(subject["name"]),
                subject_digest=f"{algo}:{hexdigest}",
                curator=CuratorIdentity.from_dict(p["curator"]), rationale=str(p["rationale"]),
                time=str(p["time"]), waivers=tuple(Waiver.from_dict(w) for w in p["waivers"]),
                conditions=tuple(str(c) for c in p.get("conditions", [])),
                files=tuple(p["files"]),
                approvals_required=int(p["policy"]["approvals_required"]),
                policy_version=str(p["policy"]["version"]),
                change=p["change"] if isinstance(p.get("change"), dict) else None,
                opened_by=CuratorIdentity.from_dict(p["opened_by"]) if p.get("opened_by") else None,
                separation_of_duties=p["policy"].get("separation_of_duties") is True,
                stages={str(k): str(v.get("status", "")) if isinstance(v, dict) else ""
                        for k, v in (p.get("stages") or {}).items()})
        except (KeyError, TypeError, StopIteration, AttributeError) as exc:
            raise ValueError(f"decision statement is missing a field ({exc!r})") from exc
