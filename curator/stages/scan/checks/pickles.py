"""Judge what a pickle walk saw against the policy's allowed and dangerous globals."""

from __future__ import annotations

from collections import defaultdict

from curator.core.models import Finding, Severity
from curator.stages.scan.checks.pickle_walk import Global, Walk
from curator.stages.scan.rules import GlobalRules


def judge_pickle(walk: Walk, rules: GlobalRules, where: str) -> list[Finding]:
    """Findings for one walked pickle (file or member ``where``), one per distinct import and verdict.

    Dangerous imports are critical whatever the stream does with them; an unknown import that
    the stream *calls* is high (loading runs it); an unknown class only instantiated is
    medium (its ``__setstate__`` runs); an unknown import only referenced is low.
    """
    grouped: dict[tuple[Severity, str, str], list[Global]] = defaultdict(list)
    for ref in walk.globals:
        verdict = _grade(ref, rules)
        if verdict is not None:
            grouped[(verdict[0], verdict[1], ref.dotted)].append(ref)
    findings = []
    for (severity, code, dotted), refs in sorted(grouped.items(), key=lambda i: (-i[0][0].rank, i[0][2])):
        handed = {"handed to a constructor"} if any(r.handed_to for r in refs) else set()
        uses = sorted(set().union(*(r.uses for r in refs)) | handed) or ["import"]
        findings.append(Finding(severity, code, f"{where}: {_TEXT[code]} {dotted} "
                                f"({', '.join(uses)}; first at byte {refs[0].offset}, {len(refs)}x)"))
    if walk.computed_calls:
        findings.append(Finding(Severity.HIGH, "pickle-computed-call",
                                f"{where}: calls the result of another call at load "
                                f"(byte {walk.computed_calls[0]}, {len(walk.computed_calls)}x), "
                                "the shape of getattr gadgets"))
    if walk.error is not None:
        findings.append(Finding(Severity.HIGH, "pickle-broken",
                                f"{where}: the pickle stream breaks {walk.error}; everything before "
                                "that point runs at load, nothing after it was read"))
    return findings


_TEXT = {
    "pickle-dangerous-global": "imports a dangerous global",
    "pickle-dotted-global": "reaches an attribute path through a dotted name",
    "pickle-global-setattr": "overwrites attributes of an imported global",
    "pickle-extension-registry": "uses a copyreg extension code",
    "pickle-unknown-call": "calls a global the policy does not allow",
    "pickle-unknown-class": "instantiates a class the policy does not allow",
    "pickle-unknown-import": "imports a global the policy does not allow",
}


def _grade(ref: Global, rules: GlobalRules) -> tuple[Severity, str] | None:
    if "ext" in ref.uses:
        return Severity.HIGH, "pickle-extension-registry"
    if rules.reaches_danger(ref.module, ref.name):
        return Severity.CRITICAL, "pickle-dangerous-global"
    if "setattr" in ref.uses:
        return Severity.HIGH, "pickle-global-setattr"
    if "." in ref.name:  # attribute traversal: whatever the allow-list says, it is not the listed object
        return Severity.HIGH, "pickle-dotted-global"
    if rules.is_safe(ref.module, ref.name):
        return None
    if "call" in ref.uses or any(not (isinstance(cls, Global) and rules.is_safe(cls.module, cls.name))
                                 for cls in ref.handed_to):
        return Severity.HIGH, "pickle-unknown-call"
    if ref.uses & {"new", "build"}:
        return Severity.MEDIUM, "pickle-unknown-class"
    return Severity.LOW, "pickle-unknown-import"
