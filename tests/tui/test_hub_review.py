"""Queue -> review -> fetch against the real local hub serving the demo samples."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from rich.text import Text
from textual.widgets import DataTable

from curator.core.models import Candidate, Status
from curator.core.workspace import Workspace
from curator.tui.app import make_app
from curator.tui.items import QueueItem
from curator.tui.screens.error import ErrorScreen
from curator.tui.screens.queue import QueueScreen
from curator.tui.widgets.checklist import StageChecklist
from curator.tui.widgets.evidence.base import EvidencePanel
from tests.tui.support import files_table, press_until, run_and_wait, wait_opened, wait_queue, wait_until

SIZE = (120, 40)
WEIGHTS = "model.safetensors"


def stored_files(hub_store: Any, repo_id: str, revision: str = "main") -> dict[str, bytes]:
    """The bytes the hub holds for every file of a commit, read straight from its store."""
    commit = hub_store.repo(repo_id).resolve(revision)
    return {path: f.location.read_bytes() for path, f in commit.files.items()}


async def test_the_queue_lists_every_sample(workspace: Workspace, queue: list[QueueItem],
                                            samples: list[Any]) -> None:
    app = make_app(workspace, queue=queue)
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_queue(pilot)
        table = screen.query_one("#queue", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert names == [s.repo_id for s in samples]
        notes = [str(table.get_row_at(i)[-1]) for i in range(table.row_count)]
        assert notes == [s.description for s in samples]
        assert all(row.state.plain == "new" for row in screen.rows.values())
        # j/k move the cursor, Enter opens the highlighted sample
        await press_until(pilot, "j", lambda: table.cursor_row == 1, "j")
        await press_until(pilot, "j", lambda: table.cursor_row == 2, "j again")
        await press_until(pilot, "k", lambda: table.cursor_row == 1, "k")
        await pilot.press("enter")
        review = await wait_opened(pilot)
        assert review.review is not None and review.review.candidate.repo_id == samples[1].repo_id


async def test_enter_opens_the_clean_sample_pinned_to_its_commit(
        workspace: Workspace, queue: list[QueueItem], samples: list[Any]) -> None:
    app = make_app(workspace, queue=queue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        screen = await wait_opened(pilot)
        assert screen.review is not None
        assert screen.review.candidate.repo_id == samples[0].repo_id == "acme-labs/tinyllama-clean"
        assert screen.review.candidate.commit == samples[0].refs["main"]
        assert samples[0].refs["main"] in str(screen.query_one("#review-head").render())


async def test_fetch_shows_every_file_with_the_sha256_of_the_hubs_bytes(
        workspace: Workspace, queue: list[QueueItem], hub_store: Any) -> None:
    app = make_app(workspace, queue=queue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        screen = await run_and_wait(pilot, "f")
        assert screen.results["fetch"].status == Status.PASSED
        assert screen.query_one(StageChecklist).statuses["fetch"] == Status.PASSED
        expected = {path: hashlib.sha256(data).hexdigest()
                    for path, data in stored_files(hub_store, queue[0].candidate.repo_id).items()}
        table = files_table(pilot)
        shown = {str(key.value): str(table.get_cell(key, "sha256")) for key in table.rows}
        assert shown == {path: digest[:16] + "…" for path, digest in expected.items()}
        assert {str(table.get_cell(key, "verdict")) for key in table.rows} == {"ok"}
        assert str(table.get_cell(WEIGHTS, "check")) == "lfs-sha256"
        # the manifest of the ledger matches too, digit for digit
        files = {f["path"]: f["sha256"] for f in screen.results["fetch"].evidence["files"]}
        assert files == expected


async def test_a_corrupted_body_fails_fetch_and_shows_the_file_in_red(
        workspace: Workspace, queue: list[QueueItem], hub: Any, hub_store: Any) -> None:
    hub.faults.corrupt.add(WEIGHTS)
    good = stored_files(hub_store, queue[0].candidate.repo_id)[WEIGHTS]
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF  # the hub's fault flips the middle byte
    app = make_app(workspace, queue=queue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        screen = await run_and_wait(pilot, "f")
        assert screen.results["fetch"].status == Status.FAILED
        assert screen.query_one(StageChecklist).statuses["fetch"] == Status.FAILED
        table = files_table(pilot)
        row = table.get_row(WEIGHTS)
        assert all(isinstance(cell, Text) and "red" in str(cell.style) for cell in row)
        assert "sha256-mismatch" in str(table.get_cell(WEIGHTS, "verdict"))
        assert str(table.get_cell("config.json", "verdict")) == "ok"
        table.move_cursor(row=table.get_row_index(WEIGHTS))
        detail = screen.query_one("#file-detail")
        await wait_until(pilot, lambda: str(detail.render()).startswith(WEIGHTS), what="the weights' detail")
        assert (f"expected {hashlib.sha256(good).hexdigest()}, got {hashlib.sha256(bad).hexdigest()}"
                in str(detail.render()))
        assert "1 file(s) differ" in str(screen.query(".alarm").first().render())
        assert "reject" in str(screen.query_one("#review-head").render())


async def test_an_unknown_repo_shows_the_error_modal(workspace: Workspace, hub: Any) -> None:
    missing = Candidate("acme-labs/no-such-model", "main", "hub", endpoint=hub.url)
    app = make_app(workspace, candidate=missing)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, ErrorScreen), what="the error modal")
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        assert "acme-labs/no-such-model" in modal.message and "does not exist" in modal.message
        assert "\n" not in modal.message  # one line, with what to do next
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, ErrorScreen), what="the modal to close")
        evidence = app.screen.query_one("#evidence")
        await wait_until(pilot, lambda: evidence.children, what="the evidence panel to fill")
        note = str(evidence.children[0].render())
        assert "Could not open the review" in note
        assert app.session.ledger.reviews() == []  # nothing was opened
        await pilot.press("r")  # running a review that never opened is refused, not crashed
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")


@pytest.mark.slow  # every stage of the team's policy runs, eval included
async def test_r_runs_every_stage_and_the_queue_shows_the_outcome(
        workspace: Workspace, queue: list[QueueItem]) -> None:
    app = make_app(workspace, queue=queue)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        # every sample ships a tokenizer, so eval loads and runs the model in its sandbox
        screen = await run_and_wait(pilot, "r", timeout=600)
        policy = app.session.policy
        assert set(screen.results) == set(policy.stages)
        checklist = screen.query_one(StageChecklist)
        assert checklist.statuses == {name: screen.results[name].status for name in policy.stages}
        recommendation = policy.recommend(screen.results)
        assert f"recommendation: {recommendation}" in str(screen.query_one("#review-head").render())
        # the checklist followed the run; home and down walk every stage's panel (the panel
        # follows the highlight's message)
        evidence = screen.query_one("#evidence")
        await press_until(pilot, "home", lambda: checklist.selected_stage == policy.stages[0], "home")
        for name in policy.stages[1:]:
            await press_until(pilot, "down", lambda n=name: checklist.selected_stage == n
                              and any(p.result.stage == n for p in evidence.query(EvidencePanel)),
                              f"the {name} panel")
            assert str(evidence.border_title) == f"Evidence: {name}"
            assert screen.query(".evidence-panel")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
        row = app.screen.rows["queue:0"]  # type: ignore[attr-defined]
        assert row.review is not None and row.review.id == screen.review.id  # type: ignore[union-attr]
        # the queue reads the ledger: every stage that ran is stored as shown (a stage skipped
        # because an earlier one did not pass is not stored; one that skipped itself is)
        stored = app.session.ledger.results(row.review.id)
        ran = [name for name in policy.stages if screen.results[name].status != Status.SKIPPED]
        assert set(ran) <= set(stored)
        assert {n: r.status for n, r in stored.items()} == {n: screen.results[n].status for n in stored}
        expected = policy.recommend(stored)
        if len(stored) < len(policy.stages):
            expected += f" {len(stored)}/{len(policy.stages)}"
        assert row.state.plain == expected
        assert row.stages.plain.split() == [
            "✔▲✘!–"[[Status.PASSED, Status.WARNED, Status.FAILED, Status.ERRORED, Status.SKIPPED]
                    .index(stored[n].status)] if n in stored else "·" for n in policy.stages]
