"""Progress on stderr: live bars on a terminal, plain lines when piped, and always with --json."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from curator.cli import progress
from curator.cli.progress import TerminalObserver
from curator.core.models import StageResult, Status
from tests.decision.helpers import cli, make_model


def _eval_run(observer: TerminalObserver) -> None:
    """What the eval stage reports: a re-hash (no total yet), then requests counted by the child."""
    observer.stage_started("eval")
    observer.stage_progress("eval", 0, None, "bytes", "re-hashing 3 MB of pinned files")
    observer.stage_progress("eval", 120, 400, "requests", "requests")
    observer.stage_finished(StageResult("eval", Status.PASSED, started=1.0, finished=3.5))


def test_piped_progress_is_plain_lines_counting_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)
    out = io.StringIO()
    _eval_run(TerminalObserver(Console(file=out, force_terminal=False, width=200)))
    lines = out.getvalue().splitlines()
    assert lines == ["▸ eval …", "  eval: 0.0 MB — re-hashing 3 MB of pinned files",
                     "  eval: 120/400 requests (30%)", "✔ eval: passed in 2.5s"]


def test_the_live_bar_switches_from_bytes_to_requests() -> None:
    out = io.StringIO()
    _eval_run(TerminalObserver(Console(file=out, force_terminal=True, width=120, color_system=None)))
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())
    assert re.search(r"120/400 requests", screen), screen
    assert not re.search(r"120 bytes|0\.1 kB", screen), screen


def test_headless_json_piped_shows_each_stage_on_stderr(tmp_path: Path) -> None:
    model = make_model(tmp_path / "tiny")
    done = cli("review", str(model), "--headless", "--json", "--only", "fetch,scan,card")
    document = json.loads(done.stdout)  # stdout is still exactly one JSON document
    for stage, result in document["stages"].items():
        assert f"▸ {stage} …" in done.stderr
        assert f" {stage}: {result['status']}" in done.stderr
