"""The team's decision rules (``decision:`` in default.yaml) and what blocks an approval."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from curator.attest.statement import Waiver
from curator.core.errors import DecisionRefused, UsageError
from curator.core.evidence import ScanEvidence, skip_reason
from curator.core.models import Finding, StageResult, Status

if TYPE_CHECKING:
    from curator.core.policy import Policy

RULE_KEYS = {"block_on", "missing_blocks", "unwaivable", "waiver_days", "max_waiver_days",
             "approvals_required", "critical_waiver_approvals", "separation_of_duties",
             "swap_requires", "production_tag"}
#: what a swap decision (an approval that replaces an inventory model) can be required to carry
SWAP_FIELDS = ("justification", "rollback_plan")
#: the blocker (and waiver) name for code shipped in the candidate (scan evidence ``custom_code``)
CUSTOM_CODE = "custom-code"


@dataclass(frozen=True)
class DecisionRules:
    """Which statuses block approval, how waivers work, and how many curators must sign."""

    block_on: frozenset[str] = frozenset({"failed", "errored"})
    missing_blocks: bool = True
    unwaivable: frozenset[str] = frozenset({"fetch"})
    waiver_days: int = 90
    max_waiver_days: int = 365
    approvals_required: int = 1
    #: distinct curators who must approve over a waived critical finding (one curator never can)
    critical_waiver_approvals: int = 2
    separation_of_duties: bool = True
    swap_requires: frozenset[str] = frozenset(SWAP_FIELDS)
    #: the tag deploys pull; every final approval moves it, 'curator rollback' moves it back
    production_tag: str = "prod"
    #: the stages every approval must show passed (or waived): the team's, from its signed root
    stages: tuple[str, ...] = ("fetch",)
    #: where the gate's rules came from: this workspace's checklists, or the team's signed root
    source: str = "local checklists"

    def gate_dict(self) -> dict[str, Any]:
        """The rules the deploy gate holds decisions to, as the team's signed root carries them."""
        return {"block_on": sorted(self.block_on), "missing_blocks": self.missing_blocks,
                "unwaivable": sorted(self.unwaivable), "max_waiver_days": self.max_waiver_days,
                "approvals_required": self.approvals_required,
                "critical_waiver_approvals": self.critical_waiver_approvals,
                "separation_of_duties": self.separation_of_duties, "stages": list(self.stages)}

    def with_team(self, team: dict[str, Any], source: str) -> DecisionRules:
        """These rules with the team's (from its signed root) in place of the gate's: a curator's
        local copy of the checklists cannot loosen what the team decided."""
        def strs(key: str, current: frozenset[str]) -> frozenset[str]:
            value = team.get(key)
            return frozenset(str(v) for v in value) if isinstance(value, list) else current

        def number(key: str, current: int) -> int:
            value = team.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else current

        def flag(key: str, current: bool) -> bool:
            value = team.get(key)
            return value if isinstance(value, bool) else current

        stages = team.get("stages")
        return replace(
            self, block_on=strs("block_on", self.block_on), unwaivable=strs("unwaivable", self.unwaivable),
            stages=tuple(str(v) for v in stages) if isinstance(stages, list) else self.stages,
            missing_blocks=flag("missing_blocks", self.missing_blocks),
            max_waiver_days=number("max_waiver_days", self.max_waiver_days),
            waiver_days=min(self.waiver_days, number("max_waiver_days", self.max_waiver_days)),
            approvals_required=number("approvals_required", self.approvals_required),
            critical_waiver_approvals=max(2, number("critical_waiver_approvals",
                                                    self.critical_waiver_approvals)),
            separation_of_duties=flag("separation_of_duties", self.separation_of_duties), source=source)

    @classmethod
    def from_policy(cls, policy: Policy) -> DecisionRules:
        section: dict[str, Any] = policy.section("decision")
        unknown = set(section) - RULE_KEYS
        if unknown:
            raise UsageError(f"checklist section 'decision' has unknown keys {', '.join(sorted(unknown))}",
                             f"use only {', '.join(sorted(RULE_KEYS))}")
        base = cls()
        rules = cls(
            block_on=frozenset(section.get("block_on", base.block_on)),
            missing_blocks=bool(section.get("missing_blocks", base.missing_blocks)),
            unwaivable=frozenset(section.get("unwaivable", base.unwaivable)),
            waiver_days=int(section.get("waiver_days", base.waiver_days)),
            max_waiver_days=int(section.get("max_waiver_days", base.max_waiver_days)),
            approvals_required=int(section.get("approvals_required", base.approvals_required)),
            critical_waiver_approvals=int(section.get("critical_waiver_approvals",
                                                      base.critical_waiver_approvals)),
            separation_of_duties=bool(section.get("separation_of_duties", base.separation_of_duties)),
            swap_requires=frozenset(str(f) for f in section.get("swap_requires", sorted(base.swap_requires))),
            production_tag=str(section.get("production_tag", base.production_tag)),
            stages=tuple(policy.stages),
        )
        if rules.approvals_required < 1:
            raise UsageError("decision.approvals_required must be at least 1", "fix default.yaml")
        if rules.critical_waiver_approvals < 2:
            raise UsageError("decision.critical_waiver_approvals must be at least 2",
                             "one curator alone never waives a critical finding; fix default.yaml")
        if rules.swap_requires - set(SWAP_FIELDS):
            raise UsageError(f"decision.swap_requires may list only {', '.join(SWAP_FIELDS)}",
                             "fix default.yaml")
        from curator.registry.interface import TAG_RE

        if not TAG_RE.match(rules.production_tag) or rules.production_tag.startswith("sha256-"):
            raise UsageError(f"decision.production_tag '{rules.production_tag}' is not a usable tag",
                             "use letters, digits, '.', '_' or '-' (e.g. prod)")
        return rules


@dataclass(frozen=True)
class Blocker:
    """A policy stage whose outcome stops an approval unless waived."""

    stage: str
    status: str  # failed | errored | missing | skipped | any status listed in block_on
    findings: tuple[Finding, ...] = ()
    #: custom code: the files a waiver must name as reviewed
    files: tuple[str, ...] = ()
    #: skipped: why the stage reached no verdict
    reason: str = ""

    @property
    def summary(self) -> str:
        if self.files:
            return f"{self.stage}: {', '.join(self.files)} (waive naming each file you reviewed)"
        if self.status == "skipped":
            return f"{self.stage} reached no verdict ({self.reason or 'skipped'})"
        worst = sorted(self.findings, key=lambda f: -f.severity.rank)[:1]
        return f"{self.stage} {self.status}" + (f": {worst[0].message}" if worst else "")


def blockers(stages: list[str], results: dict[str, StageResult], rules: DecisionRules) -> list[Blocker]:
    """Every policy stage that blocks approval as things stand.

    A skipped stage reached no verdict, so under ``missing_blocks`` it blocks like one that
    never ran: approving without it takes a signed waiver that says why."""
    found = []
    for stage in stages:
        result = results.get(stage)
        if result is None:
            if rules.missing_blocks:
                found.append(Blocker(stage, "missing"))
        elif result.status.value in rules.block_on:
            found.append(Blocker(stage, result.status.value, result.findings))
        elif result.status == Status.SKIPPED and rules.missing_blocks:
            found.append(Blocker(stage, "skipped", result.findings,
                                 reason=skip_reason(result)))
    return _custom_code(found, results.get("scan"), rules)


def _custom_code(found: list[Blocker], scan: StageResult | None, rules: DecisionRules) -> list[Blocker]:
    """Custom code blocks on its own (its waiver must name the files reviewed); a scan that
    fails only because of it stops being a blocker of its own."""
    info = ScanEvidence.of(scan).custom_code
    if info is None or not info.files_to_review:
        return found
    files = set(info.files_to_review)
    listed = scan.findings if scan is not None else ()
    mine = tuple(f for f in listed if f.code.startswith(CUSTOM_CODE) and f.file in files)
    if info.status_without not in rules.block_on:
        found = [b for b in found if b.stage != "scan"]
    return [*found, Blocker(CUSTOM_CODE, CUSTOM_CODE, mine, tuple(sorted(files)))]


def unnamed_files(blocker: Blocker, reason: str) -> list[str]:
    """The custom-code files a waiver's reason does not name (by path or by file name).

    A name counts only standing on its own: 'evil.py' inside 'modeling_evil.py' or
    'not_evil.py' names a different file."""
    return [f for f in blocker.files if not _names(reason, f) and not _names(reason, f.rsplit("/", 1)[-1])]


def _names(reason: str, name: str) -> bool:
    # a path character before, or after (a '.' only when a word follows: 'x.py.' ends a sentence)
    return re.search(rf"(?<![\w./\\-]){re.escape(name)}(?![\w/\\-]|\.\w)", reason) is not None


def waivers_for(blocking: list[Blocker], asked: dict[str, str], until: dt.date | None,
                rules: DecisionRules, today: dt.date) -> tuple[Waiver, ...]:
    """Turn ``--waive STAGE=REASON`` into signed waivers; refuse what policy forbids."""
    by_stage = {b.stage: b for b in blocking}
    for stage, reason in asked.items():
        if stage not in by_stage:
            raise UsageError(f"--waive {stage}: {stage} does not block this review",
                             f"waive only blocking stages: {', '.join(by_stage) or 'none'}")
        if not reason.strip():
            raise UsageError(f"--waive {stage}= needs a reason",
                             f"use --waive {stage}='why it is acceptable'")
        if stage in rules.unwaivable:
            raise DecisionRefused(f"{stage} cannot be waived (policy decision.unwaivable)",
                                  f"fix the {stage} stage and re-run the review")
        unnamed = unnamed_files(by_stage[stage], reason)
        if unnamed:
            named = ", ".join(by_stage[stage].files)
            raise DecisionRefused(f"the {stage} waiver does not name {', '.join(unnamed)}",
                                  f"read each file ('o' in the TUI), then name every one you reviewed: "
                                  f"--waive {stage}='reviewed {named}: why it is safe'")
    expires = until or today + dt.timedelta(days=rules.waiver_days)
    if expires < today:
        raise UsageError(f"--waive-until {expires} is in the past", "pass a future date (YYYY-MM-DD)")
    if expires > today + dt.timedelta(days=rules.max_waiver_days):
        raise UsageError(f"--waive-until {expires} is beyond the policy's {rules.max_waiver_days} days",
                         "pass an earlier date")
    missing = [b for b in blocking if b.stage not in asked]
    if missing:
        raise DecisionRefused(
            "approval blocked by " + "; ".join(b.summary for b in missing),
            "fix and re-run those stages, or waive each with --waive STAGE=REASON")
    return tuple(Waiver(b.stage, asked[b.stage].strip(), expires.isoformat(), b.status) for b in blocking)
