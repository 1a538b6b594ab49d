"""The decision screen of a review whose approval took another name's production (a swap across
names, decided with ``--replaces A:prod``) offers **Roll back**: it hands production back to A,
signed, and the deploy gate it re-runs (``curator verify A:prod``) passes. Real ledger, keys,
layout registry and signed state; the gate runs in its own process as a pipeline would."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Button, Input, Select, Static, TextArea

from curator.core.workspace import Workspace
from curator.decision.decide import DecisionRequest, decide
from curator.decision.signed_state import current_state
from curator.decision.swap import SwapRequest
from curator.registry import open_registry
from curator.registry.interface import Reference
from curator.review.session import Session, parse_target
from curator.tui.app import make_app
from curator.tui.screens.decision import DecisionBasis, DecisionScreen
from tests.changes.helpers import checklists
from tests.decision.helpers import cli, curator, isolated_checklists, make_model, open_session, reviewed
from tests.tui.support import run_and_wait, wait_decision, wait_until


class DecisionApp(App[None]):
    def __init__(self, session: Session, review_id: str) -> None:
        super().__init__()
        self.session, self.review_id = session, review_id

    def on_mount(self) -> None:
        self.push_screen(DecisionScreen(self.session, DecisionBasis.read(self.session, self.review_id)))


async def test_the_decision_screen_rolls_back_a_swap_across_names(tmp_path: Path) -> None:
    session = open_session(isolated_checklists(tmp_path / "checklists", ["fetch"]))
    try:
        ada = curator(session.workspace, session.workspace.keys_dir, "Ada", "ada@example.org")
        registry = open_registry(session.workspace.registry_dir, session.policy)
        a = decide(session, DecisionRequest(reviewed(session, make_model(tmp_path / "tiny")).id, True,
                                            "first adoption"), ada, registry)
        a_name = Reference.parse(str(a.ref)).name
        b_review = reviewed(session, make_model(tmp_path / "tiny-next", seed=1))
        b = decide(session, DecisionRequest(b_review.id, True, "the next model", swap=SwapRequest(
            f"{a_name}:prod", "better scores", f"curator rollback {a_name}")), ada, registry)
        b_name = Reference.parse(str(b.ref)).name
        assert current_state(registry, session.policy).production(a_name) is None
        shown = cli("state", "show", env={"CURATOR_CHECKLISTS": str(session.policy.directory)})
        assert shown.returncode == 0, shown.stderr
        said = shown.stdout + shown.stderr
        assert f"{a_name}: production - (replaced by {b_name}@{b.manifest_digest})" in said

        app = DecisionApp(session, b_review.id)
        async with app.run_test(size=(120, 60)) as pilot:
            await wait_until(pilot, lambda: isinstance(app.screen, DecisionScreen),
                             what="the decision screen", timeout=120)
            screen = app.screen
            assert isinstance(screen, DecisionScreen)
            assert screen.replaces is not None and screen.replaces.name == a_name
            await wait_until(pilot, lambda: screen.gate_result is not None,
                             what="the gate on B:prod", timeout=120)
            assert screen.has_class("swapped") and screen.gate_result is not None
            assert f"{b_name}:prod" in screen.gate_result.command and screen.gate_result.passed
            first = screen.gate_result
            screen.query_one("#rollback-rationale", Input).value = "tiny-next times out"
            screen.query_one("#rollback", Button).press()
            status = screen.query_one("#decision-status", Static)
            await wait_until(pilot, lambda: "rolled back" in str(status.render()),
                             what="the rollback", timeout=120)
            await wait_until(pilot, lambda: screen.gate_result is not first,
                             what="the gate on A:prod", timeout=120)
            assert screen.gate_result is not None
            assert f"{a_name}:prod" in screen.gate_result.command and screen.gate_result.passed, \
                screen.gate_result.output
        state = current_state(registry, session.policy)
        assert state.production(a_name) == a.manifest_digest and state.production(b_name) is None
        moves = [e["payload"] for e in session.ledger.events(kind="production")]
        assert moves[-2]["rationale"] == "tiny-next times out" and moves[-1]["name"] == b_name
    finally:
        session.close()


async def test_the_decision_screen_approves_a_swap_across_names_picked_by_keyboard(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole walk in the TUI: B's decision screen lists A (in production, another name);
    the curator picks it with the keyboard, gives the justification and rollback plan, approves;
    the deploy gate on B:prod passes and A has no production; Roll back hands it back to A and
    the gate then runs on A:prod and passes."""
    policy_dir = checklists(tmp_path / "checklists", ["fetch"])
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(policy_dir))
    session = open_session(policy_dir)
    try:
        ada = curator(session.workspace, session.workspace.keys_dir, "Ada", "ada@example.org")
        registry = open_registry(session.workspace.registry_dir, session.policy)
        a = decide(session, DecisionRequest(reviewed(session, make_model(tmp_path / "tiny")).id, True,
                                            "first adoption"), ada, registry)
    finally:
        session.close()
    a_name = Reference.parse(str(a.ref)).name
    app = make_app(Workspace.open(os.environ["CURATOR_HOME"]),
                   candidate=parse_target(str(make_model(tmp_path / "tiny-next", seed=1))))
    async with app.run_test(size=(120, 60)) as pilot:
        review = await run_and_wait(pilot, "r")
        await pilot.press("d")
        decision = await wait_decision(pilot)
        assert decision.replaces is None  # no model of B's own name: only the picker offers a swap
        assert [m.name for m in decision.choices] == [a_name]
        assert not decision.has_class("swap")
        decision.query_one("#replaces", Select).focus()
        await pilot.press("enter", "down", "enter")
        await wait_until(pilot, lambda: decision.picked is not None and decision.has_class("swap"),
                         what="A picked as the model replaced")
        assert decision.picked is not None and decision.picked.digest == a.manifest_digest
        assert f"curator rollback {a_name}" in decision.query_one("#rollback-plan", Input).placeholder
        await pilot.press("tab")
        await wait_until(pilot, lambda: decision.focused is decision.query_one("#justification", Input),
                         what="the justification focused")
        await pilot.press(*"better scores")
        decision.query_one("#rollback-plan", Input).value = f"curator rollback {a_name}"
        decision.query_one("#rationale", TextArea).text = "the next model"
        decision.query_one("#approve", Button).press()
        await wait_until(pilot, lambda: decision.outcome is not None and decision.gate_result is not None,
                         what="the approval and the gate on B:prod", timeout=120)
        assert decision.outcome is not None and decision.outcome.outcome == "approved"
        b_name = Reference.parse(str(decision.outcome.ref)).name
        gate = decision.gate_result
        assert gate is not None and f"{b_name}:prod" in gate.command and gate.passed, gate.output
        assert decision.has_class("swapped") and decision.replaces is not None
        assert decision.replaces.name == a_name
        assert review.review is not None
        change = app.session.ledger.events(review.review.id, kind="decision")[-1]["payload"]["change"]
        assert change["replaces"]["digest"] == a.manifest_digest
        assert change["justification"] == "better scores"
        assert change["rollback_plan"] == f"curator rollback {a_name}"
        registry = open_registry(app.session.workspace.registry_dir, app.session.policy)
        assert current_state(registry, app.session.policy).production(a_name) is None

        decision.query_one("#rollback-rationale", Input).value = "tiny-next times out"
        decision.query_one("#rollback", Button).press()
        status = decision.query_one("#decision-status", Static)
        await wait_until(pilot, lambda: "rolled back" in str(status.render()), what="the rollback",
                         timeout=60)
        await wait_until(pilot, lambda: decision.gate_result is not gate and decision.gate_result is not None
                         and f"{a_name}:prod" in decision.gate_result.command,
                         what="the gate on A:prod", timeout=120)
        assert decision.gate_result is not None and decision.gate_result.passed, decision.gate_result.output
        state = current_state(registry, app.session.policy)
        assert state.production(a_name) == a.manifest_digest and state.production(b_name) is None
