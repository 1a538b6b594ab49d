"""A missing real component fails the run under CI and skips, with its reason, elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = '''
from tests.needs import need_binary, need_module

def test_binary():
    need_binary("no-such-program-for-curator", "apt-get install nothing")

def test_module():
    need_module("no_such_module_for_curator")
'''


def _run(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    probe = tmp_path / "test_probe.py"
    probe.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), str(probe)],
                          capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False)


@pytest.mark.parametrize("ci", ["true", "1"])
def test_under_ci_a_missing_component_fails(tmp_path: Path, ci: str) -> None:
    done = _run(tmp_path, ci)
    assert done.returncode == 1, done.stdout
    assert "2 failed" in done.stdout
    assert "the program 'no-such-program-for-curator' is missing: apt-get install nothing" in done.stdout
    assert "CI never skips" in done.stdout


def test_elsewhere_it_skips_with_the_reason(tmp_path: Path) -> None:
    done = _run(tmp_path, None)
    assert done.returncode == 0, done.stdout
    assert "2 skipped" in done.stdout
    assert "no_such_module_for_curator' is missing: run 'make install'" in done.stdout
