"""`curator review` options: bad values are refused before anything is recorded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from curator.core.policy import Policy
from curator.core.workspace import Workspace
from curator.ledger import open_ledger
from tests.decision.helpers import cli, make_model


def _reviews() -> list[object]:
    ledger = open_ledger(Workspace.open(os.environ["CURATOR_HOME"]), Policy.load())
    try:
        return list(ledger.reviews())
    finally:
        ledger.close()


@pytest.mark.parametrize("only", ["fetch,scna", "", "fetch,,scan", "FETCH"])
@pytest.mark.parametrize("headless", [True, False])
def test_a_bad_only_is_refused_before_a_review_is_recorded(tmp_path: Path, only: str,
                                                           headless: bool) -> None:
    model = make_model(tmp_path / "tiny")
    done = cli("review", str(model), "--only", only, *(["--headless"] if headless else []))
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"--only {only!r}" in done.stderr
    assert "choose from fetch, scan, signature, card, eval" in done.stderr
    assert _reviews() == []


def test_a_good_only_runs_just_those_stages(tmp_path: Path) -> None:
    model = make_model(tmp_path / "tiny")
    done = cli("review", str(model), "--headless", "--only", " fetch ")
    assert "fetch: " in done.stderr and "scan: " not in done.stderr, done.stderr
    assert len(_reviews()) == 1
