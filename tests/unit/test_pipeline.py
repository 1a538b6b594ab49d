"""The pipeline persists each result, resumes, and turns crashes into errored results."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from curator.core.models import Candidate, StageResult, Status
from curator.core.pipeline import Pipeline
from curator.core.policy import Policy
from curator.core.progress import Cancelled, Progress
from curator.core.stage import ReviewContext, Stage
from curator.ledger import Ledger


class Counting(Stage):
    """A stage that records how often it ran and returns a preset status."""

    title = "counting"

    def __init__(self, name: str, status: Status = Status.PASSED, requires: tuple[str, ...] = (),
                 crash: bool = False) -> None:
        self.name = name  # type: ignore[misc]
        self.requires = requires  # type: ignore[misc]
        self.status, self.crash, self.runs = status, crash, 0

    def run(self, ctx: ReviewContext, progress: Progress) -> StageResult:
        self.runs += 1
        progress.set_total(2, unit="files")
        progress.advance(1)
        progress.check()
        progress.advance(1)
        if self.crash:
            raise ZeroDivisionError("boom")
        return StageResult(self.name, self.status, evidence={"run": self.runs})


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def stage_started(self, stage: str) -> None:
        self.events.append(("started", stage))

    def stage_progress(self, stage: str, done: float, total: float | None, unit: str, detail: str) -> None:
        self.events.append(("progress", (stage, done, total, unit)))

    def stage_finished(self, result: StageResult) -> None:
        self.events.append(("finished", (result.stage, result.status)))


@pytest.fixture
def ctx(tmp_path: Path) -> ReviewContext:
    ledger = Ledger(tmp_path / "ledger.db")
    review = ledger.create_review(Candidate("acme/m", "main", "hub", commit="b" * 40))
    return ReviewContext(review.id, review.candidate, tmp_path, tmp_path, Policy.load(), ledger=ledger)


def test_results_are_persisted_and_observed(ctx: ReviewContext) -> None:
    recorder = Recorder()
    Pipeline([Counting("fetch"), Counting("scan", requires=("fetch",))], [recorder]).run(ctx)
    stored = ctx.ledger.results(ctx.review_id)
    assert {k: v.status for k, v in stored.items()} == {"fetch": Status.PASSED, "scan": Status.PASSED}
    assert ("progress", ("fetch", 2, 2, "files")) in recorder.events
    assert recorder.events[-1] == ("finished", ("scan", Status.PASSED))
    assert ctx.ledger.verify().ok


def test_resume_skips_finished_stages(ctx: ReviewContext) -> None:
    fetch = Counting("fetch")
    Pipeline([fetch]).run(ctx)
    again, scan = Counting("fetch"), Counting("scan", requires=("fetch",))
    fresh_ctx = ReviewContext(ctx.review_id, ctx.candidate, ctx.files_dir, ctx.work_dir, ctx.policy,
                              ledger=ctx.ledger)
    Pipeline([again, scan]).run(fresh_ctx)
    assert (fetch.runs, again.runs, scan.runs) == (1, 0, 1)


def test_a_crash_is_errored_never_passed_and_is_retried(ctx: ReviewContext) -> None:
    results = Pipeline([Counting("fetch", crash=True)]).run(ctx)
    assert results["fetch"].status is Status.ERRORED
    assert "boom" in results["fetch"].findings[0].message
    assert any("ZeroDivisionError" in line for line in results["fetch"].evidence["traceback"])
    retry = Counting("fetch")
    assert Pipeline([retry]).run(ctx)["fetch"].status is Status.PASSED and retry.runs == 1


def test_stage_after_a_failed_requirement_is_skipped_not_run(ctx: ReviewContext) -> None:
    scan = Counting("scan", requires=("fetch",))
    recorder = Recorder()
    Pipeline([Counting("fetch", Status.FAILED), scan], [recorder]).run(ctx)
    assert scan.runs == 0
    assert ("finished", ("scan", Status.SKIPPED)) in recorder.events
    assert "scan" not in ctx.ledger.results(ctx.review_id)


def test_cancel_stops_and_keeps_what_finished(ctx: ReviewContext) -> None:
    cancel = threading.Event()

    class Cancels(Counting):
        def run(self, c: ReviewContext, progress: Progress) -> StageResult:
            cancel.set()
            return super().run(c, progress)

    with pytest.raises(Cancelled):
        Pipeline([Counting("fetch"), Cancels("scan")]).run(ctx, cancel)
    assert set(ctx.ledger.results(ctx.review_id)) == {"fetch"}


def test_recommendation_follows_policy(ctx: ReviewContext) -> None:
    policy = Policy({"stages": ["fetch", "scan"]}, ctx.policy.directory)
    ok = StageResult("fetch", Status.PASSED)
    assert policy.recommend({"fetch": ok, "scan": ok}) == "approve"
    assert policy.recommend({"fetch": ok}) == "needs-review"
    assert policy.recommend({"fetch": ok, "scan": StageResult("scan", Status.WARNED)}) == "needs-review"
    assert policy.recommend({"fetch": ok, "scan": StageResult("scan", Status.FAILED)}) == "reject"
