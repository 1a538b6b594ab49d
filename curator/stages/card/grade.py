"""The ``card:`` section of default.yaml, and how it turns grades and findings into a status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from curator.core.errors import UsageError
from curator.core.models import Finding, Severity, Status
from curator.stages.card.fields import DECLARED, VERIFIED, FieldGrade
from curator.stages.card.rules import FIELDS

SECTION_KEYS = {"max_card_bytes", "passed", "warned", "required", "fail_at", "warn_at", "license",
                "lookalike"}
_ORDER = (Status.PASSED, Status.WARNED, Status.FAILED)


@dataclass(frozen=True)
class Bar:
    """How many fields must be present (declared or verified), and how many verified."""

    present: int
    verified: int

    def met(self, present: int, verified: int) -> bool:
        return present >= self.present and verified >= self.verified


@dataclass(frozen=True)
class CardSettings:
    max_card_bytes: int = 1 << 20
    passed: Bar = Bar(3, 0)
    warned: Bar = Bar(1, 0)
    required: tuple[str, ...] = ()
    fail_at: Severity = Severity.HIGH
    warn_at: Severity = Severity.MEDIUM
    license_severity: dict[str, str] = field(default_factory=dict)
    max_distance: int = 2
    short_name: int = 5

    @classmethod
    def from_section(cls, section: dict[str, Any]) -> CardSettings:
        """Checked settings; anything malformed is a usage error naming the key."""
        def bad(key: str, what: str) -> UsageError:
            return UsageError(f"checklist default.yaml: card.{key} must be {what}", "fix the file")

        unknown = set(section) - SECTION_KEYS
        if unknown:
            raise UsageError(f"checklist default.yaml: unknown card keys {', '.join(sorted(unknown))}",
                             f"use only {', '.join(sorted(SECTION_KEYS))}")

        def bar(key: str, default: Bar) -> Bar:
            raw = section.get(key)
            if raw is None:
                return default
            if not isinstance(raw, dict) or set(raw) - {"present", "verified"}:
                raise bad(key, "a mapping with 'present' and 'verified' counts")
            try:
                return Bar(int(raw.get("present", 0)), int(raw.get("verified", 0)))
            except (TypeError, ValueError) as exc:
                raise bad(key, "counts (integers)") from exc

        def severity(key: str, default: Severity) -> Severity:
            try:
                return Severity(section.get(key, default.value))
            except ValueError as exc:
                raise bad(key, f"one of {', '.join(s.value for s in Severity)}") from exc

        required = section.get("required") or []
        if not isinstance(required, list) or set(required) - set(FIELDS):
            raise bad("required", f"a list of fields among {', '.join(FIELDS)}")
        license_severity = section.get("license") or {}
        if not isinstance(license_severity, dict) or not all(
                v in {s.value for s in Severity} for v in license_severity.values()):
            raise bad("license", "a mapping of verdict -> severity")
        lookalike = section.get("lookalike") or {}
        if not isinstance(lookalike, dict) or not isinstance(lookalike.get("protected") or [], list):
            raise bad("lookalike", "a mapping whose 'protected' is a list of names")
        try:
            return cls(
                max_card_bytes=int(section.get("max_card_bytes", 1 << 20)),
                passed=bar("passed", cls.passed), warned=bar("warned", cls.warned),
                required=tuple(required), fail_at=severity("fail_at", Severity.HIGH),
                warn_at=severity("warn_at", Severity.MEDIUM),
                license_severity={str(k): str(v) for k, v in license_severity.items()},
                max_distance=int(lookalike.get("max_distance", 2)),
                short_name=int(lookalike.get("short_name", 5)),
            )
        except (TypeError, ValueError) as exc:
            raise bad("max_card_bytes / lookalike", "integers where numbers are expected") from exc


def judge(fields: dict[str, FieldGrade], findings: Iterable[Finding],
          settings: CardSettings) -> tuple[Status, list[str]]:
    """The stage's status and, in words, every reason that set it."""
    present = sum(g.status in (DECLARED, VERIFIED) for g in fields.values())
    verified = sum(g.status == VERIFIED for g in fields.values())
    counted = f"{present} of {len(fields)} fields present, {verified} verified"
    if settings.passed.met(present, verified):
        status, reasons = Status.PASSED, [f"{counted}: enough to pass"]
    elif settings.warned.met(present, verified):
        status, reasons = Status.WARNED, [
            f"{counted}: passing needs {settings.passed.present} present, "
            f"{settings.passed.verified} verified"]
    else:
        status, reasons = Status.FAILED, [
            f"{counted}: even a warning needs {settings.warned.present} present, "
            f"{settings.warned.verified} verified"]
    for name in settings.required:
        if fields[name].status not in (DECLARED, VERIFIED):
            status = Status.FAILED
            reasons.append(f"{fields[name].title} is required and missing")
    for finding in findings:
        if finding.severity.rank >= settings.fail_at.rank:
            step = Status.FAILED
        elif finding.severity.rank >= settings.warn_at.rank:
            step = Status.WARNED
        else:
            continue
        reasons.append(f"{finding.code} ({finding.severity.value})")
        if _ORDER.index(step) > _ORDER.index(status):
            status = step
    return status, reasons
