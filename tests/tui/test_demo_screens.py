"""The queue says what became of each review, a failed push is retried from the review, the
demo queue shows what is still being prepared, and the key form: Pilot and SVG snapshots.

Uses the snapshot fixtures (a frozen policy, fixed candidates, a hub on a fixed port)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Input, Static

from curator.attest.enrol import create_curator_key
from curator.attest.keys import FileSigner
from curator.core.errors import CuratorError, RegistryUnreachable
from curator.core.workspace import Workspace
from curator.decision.decide import DecisionRequest, assess, decide
from curator.demo.hub import HubServer
from curator.registry import open_registry
from curator.registry.interface import OnBytes
from curator.registry.layout import LayoutRegistry
from curator.review.session import Session
from curator.tui.app import make_app
from curator.tui.items import PreparationObserver, QueueItem
from curator.tui.screens.key_form import KeyFormScreen
from curator.tui.screens.queue import QueueScreen
from curator.tui.screens.review import ReviewScreen
from tests.tui.support import press_until, run_and_wait, wait_decision, wait_opened, wait_queue, wait_until
from tests.tui.test_snapshots import SIZE, fixed_hub, fixed_queue, frozen, masked  # noqa: F401


class _DroppedUploads(LayoutRegistry):
    """The workspace's registry, reachable for its signed state but dropping every upload: an
    approval is recorded, then its push fails (as a registry that fills up or resets does)."""

    def push_blob(self, name: str, digest: str, size: int, source: Path | bytes,
                  on_bytes: OnBytes | None = None) -> None:
        raise RegistryUnreachable(f"the registry dropped the upload of {digest[:19]}",
                                  "check the registry and try again")


def _join_the_team(session: Session, name: str, email: str, public_pem: str) -> None:
    """The new key is listed in the policy's curators.yaml and signed into the team's root."""
    from curator.attest.keys import FileSigner as Signer
    from curator.decision.signed_state import init_state
    from tests.decision.helpers import add_to_team

    add_to_team(session.policy.directory, name, email, public_pem)
    init_state(LayoutRegistry(session.workspace.registry_dir), session.policy,
               [Signer(session.workspace.keys_dir)])


def _decide(session: Session, review_id: str, approve: bool, registry: Any) -> None:
    blockers = {b.stage: "snapshot test" for b in assess(session, review_id).blockers} if approve else {}
    decide(session, DecisionRequest(review_id, approve, "test", blockers),
           FileSigner(session.workspace.keys_dir), registry)


@pytest.fixture
def decided(frozen: None, fixed_hub: HubServer, workspace: Workspace) -> list[QueueItem]:  # noqa: F811
    """Approved and pushed, rejected, approved but the push failed: one review each."""
    identity, public_pem = create_curator_key(workspace.keys_dir, "Ada Lovelace", "ada@example.org")
    queue = fixed_queue(fixed_hub)
    session = Session.open(workspace)
    try:
        _join_the_team(session, identity.name, identity.email, public_pem)
        ids = []
        for item in queue:
            review = session.open_review(item.candidate)
            session.run(review)
            ids.append(review.id)
        layout = open_registry(workspace.registry_dir, session.policy)
        _decide(session, ids[0], True, layout)
        _decide(session, ids[1], False, None)
        with pytest.raises(CuratorError, match="retry with 'curator push"):
            _decide(session, ids[2], True, _DroppedUploads(workspace.registry_dir))
    finally:
        session.close()
    return queue


def _states(screen: QueueScreen) -> list[tuple[str, str]]:
    return [(row.state.plain, row.note) for row in screen.rows.values()]


async def test_the_queue_says_approved_rejected_or_not_pushed_and_a_push_is_retried(
        workspace: Workspace, decided: list[QueueItem]) -> None:
    app = make_app(workspace, queue=decided)
    async with app.run_test(size=SIZE) as pilot:
        queue = await wait_queue(pilot)
        states = _states(queue)
        assert [s for s, _ in states] == ["approved", "rejected", "approved, not pushed"]
        assert states[2][1].startswith("push failed: ") and "dropped the upload" in states[2][1]
        table = queue.query_one("#queue", DataTable)
        await press_until(pilot, "j", lambda: table.cursor_row == 1, "the second row")
        await press_until(pilot, "j", lambda: table.cursor_row == 2, "the third row")
        await pilot.press("enter")
        await wait_opened(pilot)
        await pilot.press("d")
        decision = await wait_decision(pilot)
        await wait_until(pilot, lambda: decision.has_class("unpushed"), what="the retry button")
        assert decision.review_id == queue.rows["queue:2"].review.id  # type: ignore[union-attr]
        decision.query_one("#retry-push", Button).press()
        status = decision.query_one("#decision-status", Static)
        await wait_until(pilot, lambda: str(status.render()).startswith("pushed "), timeout=120,
                         what="the push")
        await wait_until(pilot, lambda: not decision.has_class("unpushed"), what="the retry button gone")
        await press_until(pilot, "escape", lambda: isinstance(app.screen, ReviewScreen), "the review")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is queue and [s for s, _ in _states(queue)] == [
            "approved", "rejected", "approved"], what="the queue, the push retried")


def test_snapshot_queue_outcomes(snap_compare: Any, workspace: Workspace, decided: list[QueueItem]) -> None:
    assert snap_compare(make_app(workspace, queue=decided), terminal_size=SIZE, run_before=masked())


class _Held:
    """A preparation that readies the first item, says what it does, and holds the rest."""

    def __init__(self, first: str) -> None:
        self.first = first

    def __call__(self, observer: PreparationObserver, cancel: threading.Event) -> None:
        observer.ready(self.first)
        observer.progress("converting SmolLM2-135M-Instruct for the clean sample (once, ≈30 s)…")
        cancel.wait(60)


def _preparing_queue(server: HubServer) -> list[QueueItem]:
    return [QueueItem(i.candidate, i.description, i.candidate.repo_id) for i in fixed_queue(server)]


async def test_items_being_prepared_say_so_and_do_not_open(frozen: None, fixed_hub: HubServer,  # noqa: F811
                                                           workspace: Workspace) -> None:
    queue = _preparing_queue(fixed_hub)
    app = make_app(workspace, queue=queue, preparation=_Held(queue[0].candidate.repo_id))
    app.NOTIFICATION_TIMEOUT = 3600  # the refusal is a toast: it must not expire before it is read
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_queue(pilot)
        progress = screen.query_one("#queue-progress", Static)
        await wait_until(pilot, lambda: "converting" in str(progress.render()), what="the progress line")
        await wait_until(pilot, lambda: screen.rows["queue:0"].state.plain == "new", what="the first sample")
        assert [r.state.plain for r in screen.rows.values()][1:] == ["preparing…", "preparing…"]
        table = screen.query_one("#queue", DataTable)
        await press_until(pilot, "j", lambda: table.cursor_row == 1, "the second row")
        await press_until(pilot, "enter", lambda: any("still being prepared" in n.message
                                                      for n in app._notifications), "the refusal")
        assert app.screen is screen  # still preparing: it does not open


def test_snapshot_queue_preparing(snap_compare: Any, frozen: None, fixed_hub: HubServer,  # noqa: F811
                                  workspace: Workspace) -> None:
    queue = _preparing_queue(fixed_hub)
    app = make_app(workspace, queue=queue, preparation=_Held(queue[0].candidate.repo_id))

    async def prepared_first(pilot: Pilot[Any]) -> None:
        screen = await wait_queue(pilot)
        await wait_until(pilot, lambda: screen.rows["queue:0"].state.plain == "new"
                         and "converting" in str(screen.query_one("#queue-progress", Static).render()),
                         what="the first sample and the progress line")

    assert snap_compare(app, terminal_size=SIZE, run_before=masked(prepared_first))


def test_snapshot_key_form(snap_compare: Any, frozen: None, workspace: Workspace) -> None:  # noqa: F811
    app = make_app(workspace, queue=[])

    async def open_form(pilot: Pilot[Any]) -> None:
        form = KeyFormScreen(Path("/home/ada/.local/share/curator/keys"))
        await pilot.app.push_screen(form)
        for field in form.query(Input).results(Input):
            field.cursor_blink = False  # the focused field's cursor, always drawn: no blink phase
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=masked(open_form))


async def test_the_key_form_refuses_an_unusable_identity_and_creates_nothing(workspace: Workspace) -> None:
    app = make_app(workspace, queue=[])
    async with app.run_test(size=SIZE) as pilot:
        form = KeyFormScreen(workspace.keys_dir)
        await app.push_screen(form)
        form.query_one("#key-name").value = "Ada"  # type: ignore[attr-defined]
        form.query_one("#key-email").value = "not-an-email"  # type: ignore[attr-defined]
        form.query_one("#key-create", Button).press()
        status = form.query_one("#key-status", Static)
        await wait_until(pilot, lambda: str(status.render()), what="the form's answer")
        assert "not a usable curator identity" in str(status.render())
        assert not (workspace.keys_dir / "curator.key").exists() and form.identity is None


async def test_stale_results_are_named_and_re_run_from_the_decision_screen(
        frozen: None, fixed_hub: HubServer, workspace: Workspace) -> None:  # noqa: F811
    import os
    import time

    from curator.core.policy import checklists_dir

    app = make_app(workspace, queue=fixed_queue(fixed_hub))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        review = await run_and_wait(pilot, "r", timeout=300)
        assert review.review is not None
        ran = {name: r.finished for name, r in review.results.items()}
        now = time.time()
        os.utime(checklists_dir() / "default.yaml", (now, now))  # the policy changed since
        await pilot.press("d")
        decision = await wait_decision(pilot)
        assert {s.stage for s in decision.stale} == set(ran)
        assert "policy" in str(decision.query_one("#stale", Static).render())
        before = review.runs_ended
        decision.query_one("#rerun-stale", Button).press()
        await wait_until(pilot, lambda: review.runs_ended > before, timeout=300, what="the re-run")
        again = app.session.ledger.results(review.review.id)
        assert set(again) == set(ran) and all(again[n].finished > ran[n] for n in ran)
        discarded = app.session.ledger.events(review.review.id, kind="stage_discarded")
        assert {e["payload"]["stage"] for e in discarded} == set(ran)
