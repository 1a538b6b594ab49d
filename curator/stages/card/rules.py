"""``checklists/provenance.yaml`` as typed rules; a bad file is a usage error naming it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from curator.core.errors import UsageError
from curator.stages.card.text import heading_key, phrase_in

PROVENANCE_FILE = "provenance.yaml"
FIELDS = ("publisher_identity", "training_data", "training_pipeline", "eval_summary", "lineage")
VERIFIERS = {"signature", "approved-base", "hub-token"}
FIELD_KEYS = {"title", "keys", "headings", "exclude_headings", "labels", "patterns",
              "verified_by", "repo_owner_counts"}


@dataclass(frozen=True)
class FieldRule:
    """What counts as evidence for one provenance field."""

    name: str
    title: str
    keys: tuple[str, ...]
    headings: tuple[tuple[str, bool], ...]  # (phrase, must be the whole heading)
    exclude_headings: tuple[str, ...]
    labels: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    verified_by: frozenset[str]
    repo_owner_counts: bool = False

    def heading_matches(self, key: str) -> bool:
        """Does a heading (already reduced with ``heading_key``) count for this field?"""
        if any(phrase_in(p, key) for p in self.exclude_headings):
            return False
        return any(key == p if whole else phrase_in(p, key) for p, whole in self.headings)

    def label_matches(self, key: str) -> bool:
        return any(key == p for p in self.labels)


@dataclass(frozen=True)
class ProvenanceRules:
    placeholders: tuple[str, ...]
    min_chars: int
    fields: dict[str, FieldRule]

    @classmethod
    def load(cls, directory: Path) -> ProvenanceRules:
        """Read and check provenance.yaml from the checklists folder."""
        from curator.core.policy import load_yaml

        where = directory / PROVENANCE_FILE
        data = load_yaml(PROVENANCE_FILE, directory)
        if not isinstance(data, dict) or not isinstance(data.get("fields"), dict):
            raise UsageError(f"checklist {where} must be a mapping with a 'fields' mapping",
                             "fix the file")
        fields = data["fields"]
        if set(fields) != set(FIELDS):
            raise UsageError(f"checklist {where} must define exactly the fields {', '.join(FIELDS)}",
                             f"it defines {', '.join(map(str, fields)) or 'none'}: fix the file")
        return cls(
            placeholders=tuple(str(p) for p in _strings(data.get("placeholders"), where,
                                                        "placeholders")),
            min_chars=int(data.get("min_chars", 12)),
            fields={name: _field(name, fields[name], where) for name in FIELDS},
        )


def _strings(value: object, where: Path, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise UsageError(f"checklist {where}: '{what}' must be a list of strings", "fix the file")
    return [str(v) for v in value]


def _field(name: str, spec: object, where: Path) -> FieldRule:
    if not isinstance(spec, dict):
        raise UsageError(f"checklist {where}: field '{name}' must be a mapping", "fix the file")
    unknown = set(spec) - FIELD_KEYS
    if unknown:
        raise UsageError(f"checklist {where}: field '{name}' has unknown keys "
                         f"{', '.join(sorted(map(str, unknown)))}",
                         f"use only {', '.join(sorted(FIELD_KEYS))}")
    verifiers = set(_strings(spec.get("verified_by"), where, f"{name}.verified_by"))
    if verifiers - VERIFIERS:
        raise UsageError(f"checklist {where}: field '{name}' has unknown verified_by "
                         f"{', '.join(sorted(verifiers - VERIFIERS))}",
                         f"use only {', '.join(sorted(VERIFIERS))}")
    patterns = []
    for raw in _strings(spec.get("patterns"), where, f"{name}.patterns"):
        try:
            patterns.append(re.compile(raw, re.M))
        except re.error as exc:
            raise UsageError(f"checklist {where}: field '{name}' pattern {raw!r} is not a valid "
                             f"regular expression ({exc})", "fix the file") from exc
    headings = []
    for phrase in _strings(spec.get("headings"), where, f"{name}.headings"):
        whole = phrase.startswith("=")
        headings.append((heading_key(phrase[1:] if whole else phrase), whole))
    return FieldRule(
        name=name,
        title=str(spec.get("title") or name.replace("_", " ").capitalize()),
        keys=tuple(_strings(spec.get("keys"), where, f"{name}.keys")),
        headings=tuple(headings),
        exclude_headings=tuple(heading_key(p) for p in
                               _strings(spec.get("exclude_headings"), where, f"{name}.exclude")),
        labels=tuple(heading_key(p) for p in _strings(spec.get("labels"), where, f"{name}.labels")),
        patterns=tuple(patterns),
        verified_by=frozenset(verifiers),
        repo_owner_counts=bool(spec.get("repo_owner_counts", False)),
    )
