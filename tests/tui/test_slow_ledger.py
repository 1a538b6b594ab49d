"""A slow ledger never freezes the TUI: the queue and the review read it in thread workers.

The ledger here is the workspace's real one behind a gate: every read waits until the test
opens the gate. Keys pressed while a read waits are handled at once, and what the read
brings shows up once it ends. Nothing is timed: the read ends when the test says so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import Candidate, Review
from curator.core.workspace import Workspace
from curator.ledger import LedgerBase
from curator.review.session import Session
from curator.tui.app import CuratorApp, make_app
from curator.tui.messages import OpenReview
from curator.tui.screens.inventory import InventoryScreen
from curator.tui.screens.queue import QueueScreen
from curator.tui.screens.review import ReviewScreen
from tests.tui.support import wait_until

READS = ("reviews", "results", "events", "get_review")


class GatedLedger:
    """The real ledger, whose reads off the UI thread wait for ``gate`` (``waiting`` names them)."""

    def __init__(self, ledger: LedgerBase) -> None:
        self.ledger = ledger
        self.gate = threading.Event()
        self.waiting: list[str] = []
        self.ui_thread = threading.get_ident()
        self.reads_on_ui_thread: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.ledger, name)
        if name not in READS:
            return attribute

        def read(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == self.ui_thread:
                self.reads_on_ui_thread.append(name)  # never blocks the UI, even in a failing test
            else:
                self.waiting.append(name)
                assert self.gate.wait(60), "the test never opened the gate"
            return attribute(*args, **kwargs)
        return read


@pytest.fixture
def reviewed(tmp_path: Path) -> Iterator[tuple[Workspace, Review]]:
    """A workspace whose ledger holds one review."""
    workspace = Workspace.open(tmp_path / "home")
    session = Session.open(workspace)
    try:
        review = session.ledger.create_review(Candidate("acme-labs/tiny-model", "main", "hub"))
    finally:
        session.close()
    yield workspace, review


def gated(app: CuratorApp, monkeypatch: pytest.MonkeyPatch) -> GatedLedger:
    ledger = GatedLedger(app.session.ledger)
    monkeypatch.setattr(app.session, "ledger", ledger)  # every screen holds this one session
    return ledger


async def test_keys_work_while_the_queue_reads_a_slow_ledger(reviewed: tuple[Workspace, Review],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    workspace, review = reviewed
    app = make_app(workspace, queue=[])
    ledger = gated(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        try:
            queue = app.screen
            assert isinstance(queue, QueueScreen)
            await wait_until(pilot, lambda: "reviews" in ledger.waiting, what="the queue's read to start")
            await pilot.press("i")  # the inventory opens while the queue's read still waits
            await wait_until(pilot, lambda: isinstance(app.screen, InventoryScreen), what="the inventory")
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is queue, what="the queue again")
            assert queue.reads == 0 and not queue.rows
            await pilot.press("enter")  # remembered: the highlighted row opens once it is read
            assert app.screen is queue
            ledger.gate.set()
            await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), what="the review to open")
            opened = app.screen
            assert isinstance(opened, ReviewScreen) and list(queue.rows) == [f"review:{review.id}"]
            assert opened.review is not None and opened.review.id == review.id
            await wait_until(pilot, lambda: opened.query_one("#evidence").border_title is not None,
                             what="the review's results")
        finally:
            ledger.gate.set()
    assert ledger.reads_on_ui_thread == []


async def test_the_review_reads_its_results_and_head_off_the_ui_thread(
        reviewed: tuple[Workspace, Review], monkeypatch: pytest.MonkeyPatch) -> None:
    workspace, review = reviewed
    app = make_app(workspace, queue=[])
    ledger = gated(app, monkeypatch)
    async with app.run_test(size=(120, 40)) as pilot:
        try:
            queue = app.screen
            app.post_message(OpenReview(review=review))
            await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen), what="the review screen")
            screen = app.screen
            assert isinstance(screen, ReviewScreen)
            # the queue's read waits on reviews(): the only results() read is the review's
            await wait_until(pilot, lambda: "results" in ledger.waiting, what="the review's read to start")
            await pilot.press("escape")  # back to the queue while the review's read still waits
            await wait_until(pilot, lambda: app.screen is queue, what="the queue again")
            app.post_message(OpenReview(review=review))
            await wait_until(pilot, lambda: isinstance(app.screen, ReviewScreen) and app.screen is not screen,
                             what="the review again")
            again = app.screen
            assert isinstance(again, ReviewScreen)
            ledger.gate.set()
            evidence = again.query_one("#evidence")
            await wait_until(pilot, lambda: evidence.border_title == f"Evidence: {again.stage_names[0]}",
                             what="the review's results")
            assert "recommendation" in str(again.query_one("#review-head").render())
        finally:
            ledger.gate.set()
    assert ledger.reads_on_ui_thread == []
