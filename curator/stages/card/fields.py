"""The five provenance fields, each graded verified | declared | missing with its evidence.

What counts as evidence is data (``checklists/provenance.yaml``); what can *verify* a
field is code: a trusted signature, an approved base model, a hub-run eval.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from typing import Any

from curator.stages.card.parse import ParsedCard
from curator.stages.card.rules import FieldRule, ProvenanceRules
from curator.stages.card.text import MAX_LINE_CHARS, excerpt, has_substance

MAX_EVIDENCE = 8
VERIFIED, DECLARED, MISSING = "verified", "declared", "missing"


@dataclass(frozen=True)
class Evidence:
    """Where in the card (or outside it) a grade comes from, and what it says there."""

    location: str  # a front-matter key path, a heading path, or "signature stage" etc.
    excerpt: str
    kind: str  # front-matter | label | section | prose | signature | ledger | hub-account | hub
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"location": self.location, "excerpt": self.excerpt, "kind": self.kind,
                "line": self.line}


@dataclass
class FieldGrade:
    name: str
    title: str
    status: str = MISSING
    evidence: list[Evidence] = field(default_factory=list)
    #: where the field was expected but held only template placeholders
    placeholders: list[Evidence] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "title": self.title,
                "evidence": [e.to_dict() for e in self.evidence],
                "placeholders": [e.to_dict() for e in self.placeholders], "note": self.note}


@dataclass(frozen=True)
class Verifiers:
    """What outside the card's own words can lift a field to ``verified``."""

    signature: Evidence | None = None  # a trusted, verified signer
    approved_bases: tuple[Evidence, ...] = ()  # one per base model, only if all are approved
    hub_verified_claims: tuple[Evidence, ...] = ()
    repo_owner: str | None = None  # the hub account, for hub candidates
    summaries: dict[str, str] = field(default_factory=dict)  # key -> excerpt override
    hollow: frozenset[str] = frozenset()  # keys present but saying nothing (model-index: [])
    notes: dict[str, str] = field(default_factory=dict)  # field -> why not verified


def _lookup(metadata: dict[str, Any], path: str) -> Any:
    value: Any = metadata
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _yaml_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)[:4 * MAX_LINE_CHARS]


def _from_keys(card: ParsedCard, rule: FieldRule, rules: ProvenanceRules, grade: FieldGrade,
               verifiers: Verifiers) -> None:
    for key in rule.keys:
        value = _lookup(card.metadata, key)
        if value is None:
            continue
        text = _yaml_text(value)
        found = Evidence(key, verifiers.summaries.get(key) or excerpt(f"{key}: {text}"),
                         "front-matter", card.key_lines.get(key))
        if (key in verifiers.hollow or value in ("", [], {})
                or not has_substance(text, rules.placeholders, 1)):
            grade.placeholders.append(found)
        else:
            grade.evidence.append(found)


def _from_labels(card: ParsedCard, rule: FieldRule, rules: ProvenanceRules,
                 grade: FieldGrade) -> None:
    for label in card.labels:
        if not rule.label_matches(label.key):
            continue
        if len(grade.evidence) + len(grade.placeholders) >= 4 * MAX_EVIDENCE:
            return
        section = card.sections[label.section]
        where = f"{section.location} > {label.label}" if section.level else label.label
        said = has_substance(label.value, rules.placeholders, 2)
        target = grade.evidence if said else grade.placeholders
        target.append(Evidence(where, excerpt(f"{label.label}: {said or label.value}"), "label",
                               label.line))


def _from_sections(card: ParsedCard, rule: FieldRule, rules: ProvenanceRules,
                   grade: FieldGrade) -> None:
    for section in card.sections:
        if not section.level or not rule.heading_matches(section.key):
            continue
        if len(grade.evidence) + len(grade.placeholders) >= 4 * MAX_EVIDENCE:
            return
        said = has_substance(card.full_text(section), rules.placeholders, rules.min_chars)
        target = grade.evidence if said else grade.placeholders
        target.append(Evidence(section.location, excerpt(said or "(only template placeholders)"),
                               "section", section.line))


def _matches(card: ParsedCard, rule: FieldRule) -> list[tuple[int, re.Match[str]]]:
    """(line index, match) of the field's patterns, first match per line, in line order."""
    text, offsets = card.searchable()
    found: dict[int, re.Match[str]] = {}
    for pattern in rule.patterns:
        for match in pattern.finditer(text):
            # a leading \s may start the match on the line before the text it found
            matched = match.group()
            start = match.start() + len(matched) - len(matched.lstrip())
            index = bisect.bisect_right(offsets, start) - 1
            found.setdefault(index, match)
            if len(found) >= 4 * MAX_EVIDENCE:
                break
    return sorted(found.items(), key=lambda item: item[0])


def _from_patterns(card: ParsedCard, rule: FieldRule, grade: FieldGrade) -> None:
    starts = [s.start for s in card.sections]
    for index, _ in _matches(card, rule):
        section = card.sections[max(0, bisect.bisect_right(starts, index) - 1)]
        grade.evidence.append(Evidence(section.location,
                                       excerpt(card.lines[index][:MAX_LINE_CHARS]), "prose",
                                       card.line_of(index)))


def pattern_groups(card: ParsedCard, rule: FieldRule, prefix: str) -> list[tuple[str, int]]:
    """Named groups starting with ``prefix`` that the field's patterns capture, with lines."""
    return [(value, card.line_of(index)) for index, match in _matches(card, rule)
            for name, value in match.groupdict().items() if name.startswith(prefix) and value]


def grade_field(card: ParsedCard, rule: FieldRule, rules: ProvenanceRules,
                verifiers: Verifiers) -> FieldGrade:
    """One field's grade: the card's own evidence, then whatever can verify it."""
    grade = FieldGrade(rule.name, rule.title)
    _from_keys(card, rule, rules, grade, verifiers)
    _from_sections(card, rule, rules, grade)
    _from_labels(card, rule, rules, grade)
    _from_patterns(card, rule, grade)
    if rule.repo_owner_counts and verifiers.repo_owner:
        grade.evidence.append(Evidence("hub account", excerpt(
            f"published by the hub account '{verifiers.repo_owner}'"), "hub-account"))
    grade.evidence = grade.evidence[:MAX_EVIDENCE]
    grade.placeholders = grade.placeholders[:MAX_EVIDENCE]
    if grade.evidence:
        grade.status = DECLARED
    lifted: list[Evidence] = []
    if "signature" in rule.verified_by and verifiers.signature:
        lifted = [verifiers.signature]
    elif "approved-base" in rule.verified_by and verifiers.approved_bases:
        lifted = list(verifiers.approved_bases)
    elif "hub-token" in rule.verified_by and verifiers.hub_verified_claims:
        lifted = list(verifiers.hub_verified_claims)
    if lifted:
        grade.status = VERIFIED
        grade.evidence = lifted + grade.evidence[: MAX_EVIDENCE - len(lifted)]
    grade.note = _note(grade, rule, verifiers)
    return grade


def _note(grade: FieldGrade, rule: FieldRule, verifiers: Verifiers) -> str:
    """One sentence a curator reads next to the grade."""
    if grade.status == MISSING:
        if grade.placeholders:
            first = grade.placeholders[0]
            line = f" (line {first.line})" if first.line else ""
            return f"only placeholders or empty values at {first.location}{line}"
        return "nothing in the card says it"
    why_not = verifiers.notes.get(rule.name, "")
    if grade.status == DECLARED:
        return f"the card says it; nothing checked it{': ' + why_not if why_not else ''}"
    return "checked outside the card"


def grade_fields(card: ParsedCard, rules: ProvenanceRules,
                 verifiers: Verifiers) -> dict[str, FieldGrade]:
    """All five fields, in checklist order."""
    return {name: grade_field(card, rule, rules, verifiers) for name, rule in rules.fields.items()}
