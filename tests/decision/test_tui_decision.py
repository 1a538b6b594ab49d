"""The decision screen driven with Pilot: blocked approval shows why, a waiver unblocks it,
and sign-and-push runs in a worker and lands in the registry."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea

from curator.core.models import Finding, Severity, StageResult, Status
from curator.registry.layout import LayoutRegistry
from curator.review.session import Session
from curator.tui.screens.decision import DecisionBasis, DecisionScreen
from curator.tui.screens.error import ErrorScreen
from tests.decision.helpers import (
    curator,
    isolated_checklists,
    make_model,
    model_tags,
    open_session,
    reviewed,
)


class DecisionApp(App[None]):
    def __init__(self, session: Session, review_id: str) -> None:
        super().__init__()
        self.session, self.review_id = session, review_id

    def on_mount(self) -> None:
        self.push_screen(DecisionScreen(self.session, DecisionBasis.read(self.session, self.review_id)))


async def _wait(pilot: Pilot[None], condition: Callable[[], object], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.05)


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    s = open_session(isolated_checklists(tmp_path / "checklists", ["fetch", "eval"]))
    curator(s.workspace, s.workspace.keys_dir, "Ada", "ada@example.org")
    yield s
    s.close()


def _screen(pilot: Pilot[None]) -> DecisionScreen:
    screen = pilot.app.screen
    assert isinstance(screen, DecisionScreen)
    return screen


async def _reject(pilot: Pilot[None], rationale: str) -> DecisionScreen:
    """Once the decision screen is composed: reject with ``rationale`` and wait for the outcome."""
    await _wait(pilot, lambda: isinstance(pilot.app.screen, DecisionScreen)
                and bool(pilot.app.screen.query("#approve")), "the decision screen, composed")
    screen = _screen(pilot)
    screen.query_one("#rationale", TextArea).text = rationale
    await pilot.click("#reject")
    await _wait(pilot, lambda: screen.outcome is not None, "the decision")
    return screen


async def test_blocked_then_waived_approval_is_signed_and_pushed(session: Session, tmp_path: Path) -> None:
    review = reviewed(session, make_model(tmp_path / "tiny"), only=["fetch"])
    session.ledger.save_result(review.id, StageResult(
        "eval", Status.ERRORED, (Finding(Severity.HIGH, "stage-errored", "lm-eval crashed"),)))
    app = DecisionApp(session, review.id)
    async with app.run_test(size=(120, 60)) as pilot:
        await _wait(pilot, lambda: isinstance(app.screen, DecisionScreen)
                    and bool(app.screen.query("#approve")), "the decision screen, composed")
        screen = _screen(pilot)
        blocking = str(screen.query_one("#blocking", Static).render())
        assert "eval errored" in blocking and "lm-eval crashed" in blocking
        screen.query_one("#rationale", TextArea).text = "tiny model, eval by hand"
        await pilot.click("#approve")
        await _wait(pilot, lambda: isinstance(app.screen, ErrorScreen), "the error modal")
        message = str(app.screen.query_one("#error-message", Static).render())
        assert "approval blocked by eval errored" in message
        await pilot.press("escape")  # the modal must be gone before the click, or the click lands on it
        await _wait(pilot, lambda: app.screen is screen, "the decision screen again")
        screen.query_one("#waive-eval", Input).value = "no GPU here; scored by hand"
        await pilot.click("#approve")
        await _wait(pilot, lambda: screen.outcome is not None, "the decision")
        assert screen.outcome is not None and screen.outcome.outcome == "approved"
        status = str(screen.query_one("#decision-status", Static).render())
        assert "approved" in status and "pushed local/tiny:" in status
        assert screen.query_one("#approve").disabled
    assert session.ledger.get_review(review.id).state == "decided"
    tags = LayoutRegistry(session.workspace.registry_dir).tags()
    assert any(f"{n}:{t}" == screen.outcome.ref for n, t, _ in tags)


async def test_reject_from_the_screen(session: Session, tmp_path: Path) -> None:
    review = reviewed(session, make_model(tmp_path / "tiny"), only=["fetch"])
    app = DecisionApp(session, review.id)
    async with app.run_test(size=(120, 60)) as pilot:
        screen = await _reject(pilot, "publisher unknown")
        assert screen.outcome is not None and screen.outcome.outcome == "rejected"
        assert screen.outcome.ref is None
    assert model_tags(LayoutRegistry(session.workspace.registry_dir)) == []


async def test_a_rejection_under_a_rule_of_two_says_it_waits_for_a_co_signature(tmp_path: Path) -> None:
    """Under a team rule of two, one curator's rejection changes the signed state only when a
    second curator co-signs it: the screen says so and names the command, not just 'rejected'."""
    s = open_session(isolated_checklists(tmp_path / "checklists", ["fetch"], approvals_required=2))
    try:
        ada = curator(s.workspace, tmp_path / "ada", "Ada", "ada@example.org")
        curator(s.workspace, s.workspace.keys_dir, "Bob", "bob@example.org")  # who uses this TUI
        curator(s.workspace, tmp_path / "cy", "Cy", "cy@example.org")
        review = reviewed(s, make_model(tmp_path / "tiny"), opened_by=ada)
        app = DecisionApp(s, review.id)
        async with app.run_test(size=(120, 60)) as pilot:
            screen = await _reject(pilot, "publisher unknown")
            assert screen.outcome is not None and screen.outcome.outcome == "rejected"
            assert screen.outcome.proposal == f"reject-{review.id}"
            status = str(screen.query_one("#decision-status", Static).render())
            assert f"curator state sign reject-{review.id}" in status and "another curator" in status
    finally:
        s.close()
