"""Compare what a virtualenv holds with requirements.lock: same names, same versions, nothing more.

Run with the virtualenv's own Python: ``.venv/bin/python scripts/check_lock.py``. Exit 1 lists
every difference (missing, extra, other version); curator itself and pip are not locked.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

LOCK = Path(__file__).resolve().parents[1] / "requirements.lock"
NOT_LOCKED = {"curator", "pip"}
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path = LOCK) -> dict[str, str]:
    """``name -> version`` for every pin in the lock."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            pins[canonical(match.group(1))] = match.group(2)
    return pins


def installed() -> dict[str, str]:
    """``name -> version`` for every distribution this interpreter sees."""
    return {canonical(d.metadata["Name"]): d.version for d in metadata.distributions()
            if d.metadata["Name"]}


def differences(want: dict[str, str], have: dict[str, str]) -> list[str]:
    problems = []
    for name in sorted(set(want) | set(have)):
        if name in NOT_LOCKED:
            continue
        if name not in have:
            problems.append(f"missing: {name}=={want[name]}")
        elif name not in want:
            problems.append(f"not in the lock: {name}=={have[name]}")
        elif want[name] != have[name]:
            problems.append(f"other version: {name} {have[name]} installed, {want[name]} locked")
    return problems


def main() -> int:
    problems = differences(locked(), installed())
    for problem in problems:
        print(f"requirements.lock: {problem}", file=sys.stderr)
    if problems:
        print("the virtualenv differs from requirements.lock: run 'make clean install'", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
