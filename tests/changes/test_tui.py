"""The review screen's change-control keys: `o` opens the custom code read-only, `v` the diff
against the inventory model of the same repo id."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rich.syntax import Syntax
from textual.widgets import Input, Static, TextArea

from curator.core.workspace import Workspace
from curator.decision.decide import DecisionRequest, decide
from curator.registry import open_registry
from curator.review.session import parse_target
from curator.tui.app import make_app
from curator.tui.screens.code import CodeScreen
from curator.tui.screens.diff import DiffScreen
from curator.tui.screens.error import ErrorScreen
from tests.changes.helpers import checklists, revision
from tests.changes.test_custom_code import evil_repo
from tests.decision.helpers import curator, open_session, reviewed
from tests.tui.support import press_until, run_and_wait, wait_decision, wait_until

SIZE = (120, 40)


async def test_o_shows_the_custom_code_without_importing_it(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists(tmp_path / "checklists", ["fetch", "scan"])))
    marker = tmp_path / "IMPORTED"
    model = evil_repo(tmp_path / "evil", marker)
    app = make_app(Workspace.open(os.environ["CURATOR_HOME"]), candidate=parse_target(str(model)))
    async with app.run_test(size=SIZE) as pilot:
        await run_and_wait(pilot, "r")
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, CodeScreen), what="the code viewer")
        screen = app.screen
        assert isinstance(screen, CodeScreen) and screen.selected == "modeling_evil.py"
        assert "socket" in str(screen.query_one("#code-summary").render())
        code = screen.query_one("#code-text", Static).content
        assert isinstance(code, Syntax) and "os.system('true')" in code.code
        # the config that maps AutoModelForCausalLM to it (the highlight's message selects it)
        await press_until(pilot, "down", lambda: screen.selected == "config.json", "config.json")
        await press_until(pilot, "escape", lambda: not isinstance(app.screen, CodeScreen), "the review")
    assert not marker.exists()


async def test_v_shows_the_diff_and_d_approves_the_swap(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The done-when walk in the TUI: diff against the approved revision, then a swap approval
    that is refused without a justification and rollback plan, and signed with them."""
    policy_dir = checklists(tmp_path / "checklists", ["fetch", "card"])
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(policy_dir))
    session = open_session(policy_dir)
    try:
        ada = curator(session.workspace, session.workspace.keys_dir, "Ada", "ada@example.org")
        old = reviewed(session, revision(tmp_path / "v1" / "tiny", 0, "apache-2.0"))
        first = decide(session, DecisionRequest(old.id, True, "first"), ada,
                       open_registry(session.workspace.registry_dir, session.policy))
    finally:
        session.close()
    new = revision(tmp_path / "v2" / "tiny", 1, "mit")
    app = make_app(Workspace.open(os.environ["CURATOR_HOME"]), candidate=parse_target(str(new)))
    async with app.run_test(size=(120, 60)) as pilot:
        review = await run_and_wait(pilot, "r")
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen), what="the diff screen")
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        assert "license changed: apache-2.0 (allowed) → mit (allowed)" in str(
            screen.query_one("#diff-highlights").render())
        assert "model.safetensors" in {f["path"] for f in screen.doc["files"]["changed"]}
        assert screen.doc["a"]["review_id"] == old.id
        await press_until(pilot, "escape", lambda: app.screen is review, "the review")
        await pilot.press("d")
        decision = await wait_decision(pilot)
        assert decision.replaces is not None
        decision.query_one("#rationale", TextArea).text = "retrained weights"
        await pilot.click("#approve")
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen), what="the refusal")
        assert "--justification" in str(app.screen.query_one("#error-message", Static).render())
        # the modal must be gone before the click, or the click lands on it
        await press_until(pilot, "escape", lambda: app.screen is decision, "the decision screen")
        decision.query_one("#justification", Input).value = "fixes the tokenizer bug"
        decision.query_one("#rollback-plan", Input).value = "curator rollback local/tiny"
        await pilot.click("#approve")
        await wait_until(pilot, lambda: decision.outcome is not None, what="the decision")
        assert decision.outcome is not None and decision.outcome.outcome == "approved"
        assert review.review is not None
        event = app.session.ledger.events(review.review.id, kind="decision")[-1]["payload"]
        assert event["change"]["replaces"]["digest"] == first.manifest_digest
        assert event["change"]["rollback_plan"] == "curator rollback local/tiny"
