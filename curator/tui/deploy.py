"""What a deploy pipeline runs after an approval: ``curator verify NAME:prod``, for real.

It runs as its own process with the same workspace and policy, exactly as a pipeline
would call it, so the TUI shows the gate's own verdict and words (no Textual here).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

VERIFY_TIMEOUT = 300


@dataclass(frozen=True)
class GateResult:
    """The command, its exit code and what it said on stderr."""

    command: str
    code: int
    output: str

    @property
    def passed(self) -> bool:
        return self.code == 0


def production_ref(pushed_ref: str, tag: str) -> str:
    """``NAME:prod`` for a pushed ``NAME:TAG``."""
    return f"{pushed_ref.rsplit(':', 1)[0]}:{tag}"


def run_verify(home: Path, checklists: Path, ref: str) -> GateResult:
    """Run ``curator verify REF`` against this workspace's registry and policy."""
    from curator.core.policy import CHECKLISTS_ENV
    from curator.core.workspace import HOME_ENV

    env = {**os.environ, HOME_ENV: str(home), CHECKLISTS_ENV: str(checklists), "NO_COLOR": "1"}
    try:
        done = subprocess.run([sys.executable, "-m", "curator", "verify", ref], capture_output=True,
                              text=True, env=env, timeout=VERIFY_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return GateResult(f"curator verify {ref}", 2, f"no answer in {VERIFY_TIMEOUT} s")
    return GateResult(f"curator verify {ref}", done.returncode, done.stderr.strip())
