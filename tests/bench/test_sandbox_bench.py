"""What the eval sandbox costs at start-up: the same child, plain and inside bubblewrap.

The child imports what the real eval child imports first (curator's child module), then
exits; best of five each, in the same run. Reported, never asserted on timing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curator.stages.eval import seccomp
from curator.stages.eval.sandbox import Mounts, Sandbox, bwrap_path

CHILD = [sys.executable, "-P", "-c", "import curator.stages.eval.child"]


def _best_of(argv: list[str], fds: list[int], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, pass_fds=fds, check=True, capture_output=True, timeout=120)
        best = min(best, time.perf_counter() - started)
    return best


def test_sandbox_start_up_cost(tmp_path: Path) -> None:
    if bwrap_path() is None:
        pytest.fail("bubblewrap is not installed: apt-get install bubblewrap (make sysdeps)")
    plain = _best_of(CHILD, [])
    sandbox = Sandbox("bwrap", Mounts(writable=(tmp_path,)), seccomp=seccomp.available())

    def wrapped() -> float:
        argv, fds = sandbox.command(CHILD)  # a fresh filter fd per start, as the runner does
        try:
            return _best_of(argv, fds, runs=1)
        finally:
            for fd in fds:
                os.close(fd)

    walled = min(wrapped() for _ in range(5))
    # check=True above: the sandboxed child really started and imported curator's eval child
    print(f"\neval child start-up: plain {plain * 1000:.0f} ms, in bubblewrap + seccomp "
          f"{walled * 1000:.0f} ms (x{walled / plain:.2f}, +{(walled - plain) * 1000:.0f} ms)")
