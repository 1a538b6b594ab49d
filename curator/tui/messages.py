"""Typed messages a review's worker thread posts to the review screen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from textual.message import Message

from curator.core.models import Candidate, Review, StageResult


@dataclass
class ReviewOpened(Message):
    """The candidate is pinned and its review exists; ``results`` are those stored so far."""

    review: Review
    results: dict[str, StageResult]


@dataclass
class StageStarted(Message):
    """A stage began to run."""

    stage: str


@dataclass
class StageProgress(Message):
    """Work done so far by a running stage; a newer one replaces a queued older one."""

    stage: str
    done: float
    total: float | None
    unit: str
    detail: str

    def can_replace(self, message: Message) -> bool:
        # only the latest figure matters: floods of progress merge in the queue
        return isinstance(message, StageProgress) and message.stage == self.stage


@dataclass
class StageFinished(Message):
    """A stage reached a result (stored ones are replayed too, when a run resumes)."""

    result: StageResult


@dataclass
class RunEnded(Message):
    """The run is over: every asked-for stage finished, or the curator cancelled it."""

    cancelled: bool


@dataclass
class OpenReview(Message):
    """Asks the app to show a review: of a queued candidate, or of a ledger review."""

    candidate: Candidate | None = None
    review: Review | None = None


@dataclass
class OpenScreen(Message):
    """Asks the app to show the inventory or the quarterly review (keys i and Q on the queue)."""

    name: Literal["quarterly", "inventory"]
