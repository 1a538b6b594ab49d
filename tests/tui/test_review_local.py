"""The review screen on a local model folder: no hub, no network."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from curator.core.models import Status
from curator.core.workspace import Workspace
from curator.review.session import parse_target
from curator.tui.app import make_app
from curator.tui.screens.queue import QueueScreen
from curator.tui.widgets.checklist import StageChecklist
from tests.tui.support import files_table, run_and_wait, wait_opened, wait_until

SIZE = (120, 40)


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-model"
    (folder / "sub").mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "gpt2"}\n')
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * 4096)
    (folder / "sub" / "vocab.txt").write_text("a\nb\nc\n")
    return folder


async def test_a_candidate_opens_straight_on_its_review(tmp_path: Path, model_dir: Path) -> None:
    app = make_app(Workspace.open(tmp_path / "home"), candidate=parse_target(str(model_dir)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await wait_opened(pilot)
        checklist = screen.query_one(StageChecklist)
        assert [name for name, _ in checklist.stages] == app.session.policy.stages
        assert set(checklist.statuses.values()) == {None}  # nothing ran yet
        evidence = screen.query_one("#evidence")
        # the note a screen opens with ("Opening …") is a child too: wait for the stage's own
        await wait_until(pilot, lambda: evidence.children and "fetch:" in str(evidence.children[0].render()),
                         what="the fetch stage's note")
        assert "not run yet" in str(evidence.children[0].render())


async def test_fetch_lists_every_file_with_its_sha256(tmp_path: Path, model_dir: Path) -> None:
    app = make_app(Workspace.open(tmp_path / "home"), candidate=parse_target(str(model_dir)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_and_wait(pilot, "f")
        assert screen.results["fetch"].status == Status.PASSED
        assert screen.query_one(StageChecklist).statuses["fetch"] == Status.PASSED
        table = files_table(pilot)
        expected = {p.relative_to(model_dir).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                    for p in model_dir.rglob("*") if p.is_file()}
        shown = {str(key.value): str(table.get_cell(key, "sha256")) for key in table.rows}
        assert shown == {path: digest[:16] + "…" for path, digest in expected.items()}
        # the highlighted file's full digest is spelled out under the table (the table's
        # highlight message fills it)
        first = sorted(expected)[0]
        detail = screen.query_one("#file-detail")
        await wait_until(pilot, lambda: str(detail.render()).strip(), what="the file detail")
        assert expected[first] in str(detail.render())
        # only fetch ran: the other stages are still waiting
        assert set(screen.results) == {"fetch"}
        stored = app.session.ledger.results(screen.review.id)  # type: ignore[union-attr]
        assert stored["fetch"].evidence["files"] == screen.results["fetch"].evidence["files"]


async def test_escape_goes_back_to_a_queue_that_shows_the_review(tmp_path: Path, model_dir: Path) -> None:
    app = make_app(Workspace.open(tmp_path / "home"), candidate=parse_target(str(model_dir)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_and_wait(pilot, "f")
        review_id = screen.review.id  # type: ignore[union-attr]
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
        queue = app.screen
        assert isinstance(queue, QueueScreen)
        # the queue re-reads the ledger on its return; an earlier read may hold the review unfetched
        await wait_until(pilot, lambda: f"review:{review_id}" in queue.rows
                         and queue.rows[f"review:{review_id}"].stages.plain.startswith("✔"),
                         what="the fetched review in the queue")
        row = queue.rows[f"review:{review_id}"]
        assert row.candidate.repo_id == "local/tiny-model"
        assert row.stages.plain.startswith("✔")
        # Enter reopens that very review, results and all, without running anything
        await pilot.press("enter")
        reopened = await wait_opened(pilot)
        assert reopened.review is not None and reopened.review.id == review_id
        assert reopened.results["fetch"].status == Status.PASSED


async def test_d_opens_the_decision_screen_and_escape_comes_back(tmp_path: Path, model_dir: Path) -> None:
    from curator.tui.screens.decision import DecisionScreen

    app = make_app(Workspace.open(tmp_path / "home"), candidate=parse_target(str(model_dir)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await run_and_wait(pilot, "f")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, DecisionScreen), what="the decision screen")
        assert app.screen.review_id == screen.review.id  # type: ignore[attr-defined,union-attr]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="the review screen")
        assert screen.review is not None and screen.review.state == "open"  # nothing was decided
