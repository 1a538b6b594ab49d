"""Policy as data: ``checklists/*.yaml`` turn stage results into a recommendation."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.core.errors import UsageError
from curator.core.models import StageResult, Status

CHECKLISTS_ENV = "CURATOR_CHECKLISTS"


def checklists_dir() -> Path:
    """``$CURATOR_CHECKLISTS`` if set, else the ``checklists/`` folder shipped with curator."""
    env = os.environ.get(CHECKLISTS_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "checklists"


def load_yaml(name: str, directory: Path | None = None) -> Any:
    """Read one checklist file; a missing or malformed file is a usage error naming it."""
    import yaml

    path = (directory or checklists_dir()) / name
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UsageError(f"checklist {path} is missing",
                         f"restore it or point {CHECKLISTS_ENV} at a checklists folder") from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"checklist {path} is not valid YAML ({exc})", "fix the file") from exc


@dataclass(frozen=True)
class Policy:
    """The team's rules, read from ``default.yaml``."""

    data: dict[str, Any]
    directory: Path

    @classmethod
    def load(cls, directory: Path | None = None) -> Policy:
        directory = directory or checklists_dir()
        data = load_yaml("default.yaml", directory)
        from curator.core.policy_schema import problems

        found = problems(data, str(directory / "default.yaml"))
        if found:
            more = f" (and {len(found) - 1} more; run `curator policy check`)" if len(found) > 1 else ""
            raise UsageError(f"checklist {found[0]}{more}", "fix the file; the shipped checklist's comments "
                             "say what each key takes")
        return cls(data, directory)

    @property
    def version(self) -> str:
        return str(self.data.get("version", "unversioned"))

    @property
    def stages(self) -> list[str]:
        return list(self.data.get("stages", ["fetch"]))

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name) or {}
        if not isinstance(value, dict):
            raise UsageError(f"checklist section '{name}' must be a mapping", "fix default.yaml")
        return value

    def recommend(self, results: dict[str, StageResult]) -> str:
        """``approve`` only when every policy stage ran and none blocks or warns.

        A failed stage recommends ``reject``; an errored, warned, skipped or
        missing stage needs a human (``needs-review``).
        """
        statuses = [results[s].status if s in results else None for s in self.stages]
        if Status.FAILED in statuses:
            return "reject"
        if all(s == Status.PASSED for s in statuses):
            return "approve"
        return "needs-review"
