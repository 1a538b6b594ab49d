"""Cancelling a running fetch: it stops at once, keeps nothing half-done, and can resume."""

from __future__ import annotations

import os
from typing import Any

import pytest
from textual.widgets import ProgressBar

from curator.core.models import Candidate, Status
from curator.core.workspace import Workspace
from curator.tui.app import make_app
from curator.tui.widgets.checklist import StageChecklist
from tests.tui.support import send_key, wait_opened, wait_until

SIZE = (120, 40)
BIG = 512 << 20  # loopback needs seconds for it; sparse, so the hub's copy costs no disk


@pytest.mark.slow
async def test_cancel_stops_the_fetch_and_records_nothing(workspace: Workspace, hub: Any,
                                                          hub_store: Any) -> None:
    folder = hub_store.root / "acme" / "big-model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}\n")
    with open(folder / "model.safetensors", "wb") as fh:
        fh.truncate(BIG)
    app = make_app(workspace, candidate=Candidate("acme/big-model", "main", "hub", endpoint=hub.url))
    app.NOTIFICATION_TIMEOUT = 3600  # a toast expires after 5 s: a loaded machine can take longer to look
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_opened(pilot)
        checklist = screen.query_one(StageChecklist)
        send_key(pilot, "f")
        bar = screen.query_one(ProgressBar)
        # past the small file: the weights themselves are on their way
        await wait_until(pilot, lambda: (bar.progress or 0) > 1 << 20, what="the weights to arrive")
        assert screen.running and checklist.running == "fetch"
        assert bar.total == BIG + len("{}\n")
        text = str(screen.query_one("#progress-text").render())
        assert " / 512.0 MiB" in text  # bytes so far of the total
        send_key(pilot, "c")
        await wait_until(pilot, lambda: not screen.running, what="the run to stop")
        assert (bar.progress or 0) < BIG  # it really stopped part-way
        assert checklist.statuses["fetch"] is None and checklist.running is None
        assert "fetch" not in screen.results
        assert screen.review is not None
        assert app.session.ledger.results(screen.review.id) == {}  # nothing recorded
        files_dir = app.session.workspace.review_dir(screen.review.id) / "files"
        assert not (files_dir / "model.safetensors").exists()  # a partial is never promoted
        assert any("Cancelled fetch" in n.message for n in app._notifications)
        # the same review resumes where it stopped and finishes
        before = screen.runs_ended
        send_key(pilot, "f")
        await wait_until(pilot, lambda: screen.runs_ended > before, timeout=300, what="the resumed run")
        assert screen.results["fetch"].status == Status.PASSED
        assert screen.results["fetch"].evidence["resumed"].get("model.safetensors", 0) > 0
        assert os.path.getsize(files_dir / "model.safetensors") == BIG
