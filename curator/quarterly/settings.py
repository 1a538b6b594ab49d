"""Quarterly settings: the ``quarterly`` section of the policy, read and checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curator.core.errors import UsageError

if TYPE_CHECKING:
    from curator.core.policy import Policy


CHECKS = ("verify", "rescan", "waiver", "max-age", "base-model", "upstream", "findings", "eval", "lookalike")
KEYS = {"max_age_days", "waiver_warn_days", "rescan", "check_upstream", "upstream_timeout_seconds",
        "retired_base_models", "fail_on"}
#: age warning window before max_age_days is reached
AGE_WARN_DAYS = 30


@dataclass(frozen=True)
class QuarterlySettings:
    """The ``quarterly:`` section of default.yaml, unknown keys refused."""

    max_age_days: int = 365
    waiver_warn_days: int = 30
    rescan: bool = True
    check_upstream: bool = True
    upstream_timeout_seconds: float = 10.0
    retired_base_models: frozenset[str] = frozenset()
    fail_on: frozenset[str] = frozenset({"verify", "rescan", "waiver", "max-age", "base-model"})

    @classmethod
    def from_policy(cls, policy: Policy) -> QuarterlySettings:
        section: dict[str, Any] = policy.section("quarterly")
        unknown = set(section) - KEYS
        if unknown:
            raise UsageError(f"checklist section 'quarterly' has unknown keys {', '.join(sorted(unknown))}",
                             f"use only {', '.join(sorted(KEYS))}")
        base = cls()
        fail_on = frozenset(str(x) for x in section.get("fail_on", base.fail_on))
        unknown_checks = sorted(fail_on - set(CHECKS))
        if unknown_checks:
            raise UsageError(f"quarterly.fail_on names unknown checks {', '.join(unknown_checks)}",
                             f"use {', '.join(CHECKS)}")
        return cls(max_age_days=int(section.get("max_age_days", base.max_age_days)),
                   waiver_warn_days=int(section.get("waiver_warn_days", base.waiver_warn_days)),
                   rescan=bool(section.get("rescan", base.rescan)),
                   check_upstream=bool(section.get("check_upstream", base.check_upstream)),
                   upstream_timeout_seconds=float(section.get("upstream_timeout_seconds",
                                                              base.upstream_timeout_seconds)),
                   retired_base_models=frozenset(str(x) for x in section.get("retired_base_models") or []),
                   fail_on=fail_on)
