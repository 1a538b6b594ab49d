"""Lineage: which models this one derives from, how, and whether curator approved them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.models import Finding, Manifest, Severity
from curator.stages.card.fields import Evidence, pattern_groups
from curator.stages.card.parse import ParsedCard
from curator.stages.card.rules import FieldRule
from curator.stages.card.text import excerpt

RELATIONS = ("finetune", "adapter", "merge", "quantized")
ADAPTER_CONFIG = "adapter_config.json"
MAX_CONFIG_BYTES = 64 * 1024
_REPO_ID = re.compile(r"^[\w.-]{1,96}(?:/[\w.-]{1,96})?$")
_HUB_URL = re.compile(r"huggingface\.co/([\w.-]{1,96}/[\w.-]{1,96})")
_ORG_NAME = re.compile(r"\b([\w.-]{1,96}/[\w.-]{1,96})\b")


def approvals(ledger: Any) -> dict[str, str]:
    """Approved models still in the inventory: repo id -> the review that approved it.

    A decided review whose latest decision says ``approved``, unless it was retired since
    (a quarterly ``retire``) or its artifact was rejected later (``decide --reject`` of the
    same digest): a withdrawn model no longer vouches for a base model, nor is it a name
    others are held to as look-alikes.
    """
    if ledger is None:
        return {}
    latest: dict[str, dict[str, Any]] = {}
    rejected: dict[str, int] = {}  # subject digest -> seq of its latest rejection
    for event in ledger.events(kind="decision"):
        payload = event.get("payload") or {}
        if event.get("review_id"):
            latest[event["review_id"]] = {**payload, "seq": event["seq"]}
        if payload.get("outcome") == "rejected" and payload.get("subject_digest"):
            rejected[str(payload["subject_digest"])] = int(event["seq"])
    withdrawn = {e["review_id"] for e in ledger.events(kind="quarterly_action")
                 if (e.get("payload") or {}).get("action") == "retire"}
    found: dict[str, str] = {}
    for review in ledger.reviews():
        payload = latest.get(review.id)
        if review.state != "decided" or not payload or payload.get("outcome") != "approved":
            continue
        if review.id in withdrawn or rejected.get(str(payload.get("subject_digest")), 0) > payload["seq"]:
            continue
        found[review.candidate.repo_id] = review.id
    return found


def approved_models(ledger: Any) -> set[str]:
    """Repo ids curator has approved: the inventory, as far as the ledger knows."""
    return set(approvals(ledger))


@dataclass
class Base:
    repo_id: str
    location: str
    line: int | None
    source: str  # front-matter | label | prose | adapter_config.json
    approved_by: str | None = None  # review id

    def to_dict(self) -> dict[str, Any]:
        return {"repo_id": self.repo_id, "location": self.location, "line": self.line,
                "source": self.source, "approved": self.approved_by is not None,
                "approved_by": self.approved_by}


@dataclass
class Lineage:
    relation: str | None = None
    inferred_relation: str | None = None
    bases: list[Base] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def approved_evidence(self) -> tuple[Evidence, ...]:
        """One piece of evidence per base, only when every base is approved."""
        if not self.bases or any(b.approved_by is None for b in self.bases):
            return ()
        return tuple(Evidence(f"ledger review {b.approved_by}",
                              f"base model {b.repo_id} is approved (review {b.approved_by})",
                              "ledger") for b in self.bases)

    def to_dict(self) -> dict[str, Any]:
        return {"relation": self.relation, "inferred_relation": self.inferred_relation,
                "bases": [b.to_dict() for b in self.bases]}


def _repo_ids(value: str) -> list[str]:
    url = _HUB_URL.findall(value)
    return url or _ORG_NAME.findall(value) or ([value.strip()] if _REPO_ID.match(value.strip()) else [])


def _adapter_base(files_dir: Path | None, manifest: Manifest | None) -> str | None:
    """``base_model_name_or_path`` of a PEFT adapter (plain JSON, size-capped)."""
    if files_dir is None or (manifest is not None and manifest.get(ADAPTER_CONFIG) is None):
        return None
    path = files_dir / ADAPTER_CONFIG
    try:
        if not path.is_file() or path.stat().st_size > MAX_CONFIG_BYTES:
            return None
        data = json.loads(path.read_bytes()[:MAX_CONFIG_BYTES])
    except (OSError, ValueError, RecursionError):
        return None
    base = data.get("base_model_name_or_path") if isinstance(data, dict) else None
    return base.strip() if isinstance(base, str) and base.strip() else None


def read_lineage(card: ParsedCard, rule: FieldRule, repo_id: str, approved: dict[str, str],
                 files_dir: Path | None = None, manifest: Manifest | None = None) -> Lineage:
    """Bases from the front matter, labels, prose and adapter config, each with its status."""
    lineage = Lineage()
    name = card.name
    approved = {repo.lower(): review for repo, review in approved.items()}

    def add(repo: str, location: str, line: int | None, source: str) -> None:
        repo = repo.strip()
        if repo and all(b.repo_id.lower() != repo.lower() for b in lineage.bases):
            lineage.bases.append(Base(repo, location, line, source, approved.get(repo.lower())))

    declared = card.metadata.get("base_model")
    items = declared if isinstance(declared, list) else [] if declared is None else [declared]
    for i, item in enumerate(items[:50]):
        where = f"base_model[{i}]" if isinstance(declared, list) else "base_model"
        if isinstance(item, str) and item.strip():
            add(item, where, card.key_lines.get(where), "front-matter")
        else:
            lineage.findings.append(Finding(Severity.LOW, "base-model-unreadable",
                                            f"{name}: {where} is not a model id ({excerpt(str(item), 80)})"
                                            ": read the card's lineage by hand", file=name))
    for label in card.labels:
        if rule.label_matches(label.key):
            for repo in _repo_ids(label.value):
                add(repo, f"{card.sections[label.section].location} > {label.label}", label.line,
                    "label")
    for repo, line in pattern_groups(card, rule, "base"):
        add(repo, f"line {line}", line, "prose")
    adapter = _adapter_base(files_dir, manifest)
    if adapter:
        lineage.inferred_relation = "adapter"
        if lineage.bases and all(b.repo_id.lower() != adapter.lower() for b in lineage.bases):
            lineage.findings.append(Finding(
                Severity.MEDIUM, "lineage-mismatch",
                f"{ADAPTER_CONFIG} names base model {adapter}, but the card says "
                f"{', '.join(b.repo_id for b in lineage.bases)}: ask the publisher which is right",
                file=ADAPTER_CONFIG))
        add(adapter, ADAPTER_CONFIG, None, ADAPTER_CONFIG)
    _relation(card, lineage)
    _judge_bases(lineage, repo_id, name)
    return lineage


def _relation(card: ParsedCard, lineage: Lineage) -> None:
    relation = card.metadata.get("base_model_relation")
    if relation is None:
        return
    text = str(relation).strip().lower()
    lineage.relation = text[:40]
    if text not in RELATIONS:
        lineage.findings.append(Finding(
            Severity.LOW, "base-model-relation-unknown",
            f"{card.name}: base_model_relation '{excerpt(str(relation), 40)}' is none of "
            f"{', '.join(RELATIONS)}: read how the model derives from its base", file=card.name))
    if not lineage.bases:
        lineage.findings.append(Finding(
            Severity.LOW, "base-model-relation-without-base",
            f"{card.name}: base_model_relation is set but no base_model is named: "
            "ask the publisher which model this derives from", file=card.name))


def _judge_bases(lineage: Lineage, repo_id: str, name: str) -> None:
    for base in lineage.bases:
        where = f"{base.location}" + (f", line {base.line}" if base.line else "")
        if base.repo_id.lower() == repo_id.lower():
            lineage.findings.append(Finding(
                Severity.LOW, "base-model-is-itself",
                f"{name}: {where} names the candidate itself as its base: the lineage is unknown",
                file=name))
        elif not _REPO_ID.match(base.repo_id) or ("/" not in base.repo_id and "." in base.repo_id):
            lineage.findings.append(Finding(
                Severity.LOW, "base-model-not-a-repo-id",
                f"{name}: base model '{excerpt(base.repo_id, 80)}' ({where}) is not a hub repo id "
                "(a local path?): the lineage cannot be traced", file=name))
        elif base.approved_by is None:
            lineage.findings.append(Finding(
                Severity.MEDIUM, "base-model-not-approved",
                f"base model {base.repo_id} ({where}) is not approved in curator's ledger: "
                "review it first, or accept the risk with a waiver", file=name))
