"""The demo's whole story, walked with Pilot from the queue: review a signed release, create
the curator key from the decision screen, approve, read the deploy gate's verdict; then the
next revision: diff, approve as a swap, roll back. Real hub, real stages, real signatures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button, DataTable, Input, Static, TextArea

from curator.core.models import Status
from curator.core.policy import CHECKLISTS_ENV
from curator.core.workspace import Workspace
from curator.decision.history import approved_models
from curator.demo.hub import HubServer
from curator.demo.policy import DemoSetup, list_curator, prepare_policy
from curator.demo.prepare import DemoPreparation
from curator.tui.app import CuratorApp, make_app
from curator.tui.items import QueueItem
from curator.tui.screens.decision import DecisionScreen
from curator.tui.screens.diff import DiffScreen
from curator.tui.screens.key_form import KeyFormScreen
from tests.tui.support import press_until, wait_decision, wait_opened, wait_queue, wait_until

SIZE = (130, 45)


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Workspace, DemoSetup, HubServer]]:
    """A demo workspace with no curator key yet, its policy in force, its hub running."""
    ws = Workspace.open(tmp_path / "home")
    setup = prepare_policy(ws, curator_key=False)
    monkeypatch.setenv(CHECKLISTS_ENV, str(setup.checklists))
    with HubServer(ws.home / "demo-hub") as hub:
        yield ws, setup, hub


def demo_app(ws: Workspace, setup: DemoSetup, hub: HubServer) -> CuratorApp:
    preparation = DemoPreparation(ws, ws.home / "demo-hub", setup, hub.url, real_lm=False)
    queue = [QueueItem(e.candidate, e.description, e.repo_id) for e in preparation.entries()]
    return make_app(ws, queue=queue, preparation=preparation.run,
                    after_key_created=lambda: list_curator(ws, setup.checklists))


def plain(widget: Static) -> str:
    return str(widget.render())


async def run_all(pilot: Any) -> Any:
    """Press r and wait for every stage (eval loads a model in a child: minutes on a busy machine)."""
    screen = await wait_opened(pilot)
    before = screen.runs_ended
    await pilot.press("r")
    await wait_until(pilot, lambda: screen.runs_ended > before, timeout=600, what="the run to end")
    await pilot.pause()
    return screen


async def decide(pilot: Any, rationale: str, **fields: str) -> DecisionScreen:
    await pilot.press("d")
    screen = await wait_decision(pilot)
    screen.query_one("#rationale", TextArea).text = rationale
    for name, value in fields.items():
        screen.query_one(f"#{name}", Input).value = value
    screen.query_one("#approve", Button).press()
    return screen


async def gate_passes(pilot: Any, screen: DecisionScreen, before: object = None) -> str:
    await wait_until(pilot, lambda: screen.gate_result is not None and screen.gate_result is not before,
                     timeout=300, what="curator verify NAME:prod to answer")
    assert screen.gate_result is not None
    assert screen.gate_result.passed, screen.gate_result.output
    return plain(screen.query_one("#gate", Static))


@pytest.mark.slow
async def test_the_demo_from_queue_to_rollback(demo: tuple[Workspace, DemoSetup, HubServer]) -> None:
    ws, setup, hub = demo
    app = demo_app(ws, setup, hub)
    async with app.run_test(size=SIZE) as pilot:
        # the queue is there at once; the samples are signed and published in the background
        queue = await wait_queue(pilot)
        assert queue.rows["queue:0"].state.plain == "preparing…"
        await wait_until(pilot, lambda: not queue.preparing, timeout=300, what="the samples")
        # the last line comes after the last sample's ready message
        progress = queue.query_one("#queue-progress", Static)
        await wait_until(pilot, lambda: "demo ready" in plain(progress), what="the preparation's last line")
        await wait_until(pilot, lambda: {r.state.plain for r in queue.rows.values()} == {"new"},
                         what="every sample ready in the queue")

        # 1. acme-labs' signed release v1.1: every stage, signature passed, publisher verified
        await pilot.press("enter")
        review = await wait_opened(pilot)
        assert review.review is not None and review.review.candidate.revision == "v1.1"
        review = await run_all(pilot)
        assert set(review.results) == set(review.stage_names)
        assert review.results["signature"].status == Status.PASSED
        assert "Acme Labs release signing" in str(review.results["signature"].evidence)
        assert review.results["card"].evidence["fields"]["publisher_identity"]["status"] == "verified"

        # 2. approve: no key yet, so the key form comes first, then the decision is signed
        decision = await decide(pilot, "signed by Acme Labs' release signer; scans clean")
        await wait_until(pilot, lambda: isinstance(app.screen, KeyFormScreen), what="the key form")
        form = app.screen
        form.query_one("#key-name", Input).value = "Ada Lovelace"
        form.query_one("#key-email", Input).value = "ada@example.org"
        form.query_one("#key-create", Button).press()
        await wait_until(pilot, lambda: form.has_class("created"), what="the key")
        said = plain(form.query_one("#key-status", Static))
        assert str(ws.keys_dir) in said and "trust root" in said and "curators.yaml" in said
        assert (ws.keys_dir / "curator.key").is_file()
        assert "ada@example.org" in (setup.checklists / "curators.yaml").read_text()  # a listed curator
        form.query_one("#key-continue", Button).press()
        await wait_until(pilot, lambda: decision.outcome is not None, timeout=120, what="the approval")
        assert decision.outcome is not None and decision.outcome.outcome == "approved"
        # 3. what a deploy pipeline runs, and its verdict
        gate = await gate_passes(pilot, decision)
        assert "curator verify" in gate and ":prod" in gate and "passes (exit 0)" in gate
        first = approved_models(app.session.ledger)[-1]
        await press_until(pilot, "escape", lambda: app.screen is review, "the review")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is queue
                         and queue.rows["queue:0"].state.plain == "approved", what="the queue, v1.1 approved")

        # 4. the next revision (main = v1.2): diff against v1.1, approve as a swap, roll back
        table = queue.query_one("#queue", DataTable)
        await press_until(pilot, "j", lambda: table.cursor_row == 1, "the second row")
        await pilot.press("enter")
        review = await wait_opened(pilot)
        assert review.review is not None and review.review.candidate.revision == "main"
        review = await run_all(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, DiffScreen), what="the diff")
        diff = app.screen
        assert isinstance(diff, DiffScreen)
        assert "model.safetensors" in str(diff.doc["files"]["changed"])
        await press_until(pilot, "escape", lambda: app.screen is review, "the review")
        swap = await decide(pilot, "v1.2: re-quantized, claims re-measured",
                            justification="newer release from the same signer",
                            **{"rollback-plan": "curator rollback back to v1.1"})
        assert swap.replaces is not None and swap.replaces.digest == first.digest
        await wait_until(pilot, lambda: swap.outcome is not None, timeout=120, what="the swap")
        assert swap.outcome is not None and swap.outcome.outcome == "approved"
        before = await gate_passes(pilot, swap)
        assert swap.has_class("swapped")
        earlier = swap.gate_result
        swap.query_one("#rollback-rationale", Input).value = "v1.2 misbehaves in staging"
        swap.query_one("#rollback", Button).press()
        await wait_until(pilot, lambda: "rolled back" in plain(swap.query_one("#decision-status", Static)),
                         timeout=120, what="the rollback")
        after = await gate_passes(pilot, swap, earlier)
        assert before != after
    from curator.decision.production import in_production, production_tag
    from curator.registry import open_registry
    from curator.review.session import Session

    session = Session.open(ws)
    try:
        registry = open_registry(ws.registry_dir, session.policy)
        assert in_production(registry, first.name, production_tag(session.policy)) == first.digest
    finally:
        session.close()
