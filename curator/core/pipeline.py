"""Runs a review's stages in order, persisting each result as it finishes."""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Iterable
from dataclasses import replace

from curator.core.errors import CuratorError
from curator.core.models import Finding, Severity, StageResult, Status
from curator.core.progress import Cancelled, Observer, Progress
from curator.core.stage import ReviewContext, Stage

RUNNABLE_AFTER = (Status.PASSED, Status.WARNED)


def errored(stage: str, message: str, **evidence: object) -> StageResult:
    """A result for a stage that could not reach a verdict: it blocks approval."""
    return StageResult(
        stage=stage, status=Status.ERRORED, evidence=dict(evidence),
        findings=(Finding(Severity.HIGH, "stage-errored", message),),
    )


class Pipeline:
    """Stages in order; a stored result is reused (resume), an errored one is retried."""

    def __init__(self, stages: Iterable[Stage], observers: Iterable[Observer] = ()) -> None:
        self.stages = list(stages)
        self.observers = list(observers)

    def run(self, ctx: ReviewContext, cancel: threading.Event | None = None) -> dict[str, StageResult]:
        """Run every stage not yet finished; returns all results by stage name.

        Raises ``Cancelled`` if asked to stop; what finished before is kept.
        """
        cancel = cancel or threading.Event()
        ledger = ctx.ledger
        if ledger is not None:
            ctx.results.update(ledger.results(ctx.review_id))
        for stage in self.stages:
            done = ctx.results.get(stage.name)
            if done is not None and done.status != Status.ERRORED:
                self._notify_finished(done)
                continue
            blockers = [r for r in stage.requires
                        if r not in ctx.results or ctx.results[r].status not in RUNNABLE_AFTER]
            if blockers:
                self._notify_finished(stage.skipped(
                    f"{', '.join(blockers)} must pass before {stage.name} can run"))
                continue
            result = self._run_one(stage, ctx, Progress(stage.name, self.observers, cancel))
            ctx.results[stage.name] = result
            if ledger is not None:
                ledger.save_result(ctx.review_id, result)
            self._notify_finished(result)
        return ctx.results

    def _run_one(self, stage: Stage, ctx: ReviewContext, progress: Progress) -> StageResult:
        for observer in self.observers:
            observer.stage_started(stage.name)
        started = time.time()
        try:
            result = stage.run(ctx, progress)
        except Cancelled:
            raise
        except CuratorError as exc:
            result = errored(stage.name, exc.diagnostics())
        except Exception as exc:  # a crash must never pass a candidate  # noqa: BLE001
            tail = traceback.format_exc().splitlines()[-12:]
            result = errored(stage.name, f"{stage.name} crashed: {exc!r}", traceback=tail)
        return replace(result, started=started, finished=time.time())

    def _notify_finished(self, result: StageResult) -> None:
        for observer in self.observers:
            observer.stage_finished(result)
