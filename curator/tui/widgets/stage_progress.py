"""The bar under a running stage: work done, rate and time left."""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from curator.core.text import text
from curator.tui.format import human_bytes, human_seconds


class StageProgressBar(Horizontal):
    """A ProgressBar with a ``12.0 MiB / 40.0 MiB · 8.1 MiB/s · 3s left`` line."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stage: str | None = None
        self._started = 0.0

    def compose(self) -> ComposeResult:
        yield Label("", id="progress-stage")
        yield ProgressBar(show_eta=False, id="progress-bar")
        yield Label("", id="progress-text")

    def start(self, stage: str) -> None:
        """Reset for a stage that just began."""
        self.stage = stage
        self._started = time.monotonic()
        self.query_one("#progress-stage", Label).update(f"{stage} ")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#progress-text", Label).update("starting…")

    def advance(self, stage: str, done: float, total: float | None, unit: str, detail: str) -> None:
        """Show the latest figures of ``stage``."""
        if stage != self.stage:
            self.start(stage)
        self.query_one(ProgressBar).update(total=total, progress=done)
        self.query_one("#progress-text", Label).update(self.describe(done, total, unit, detail))

    def describe(self, done: float, total: float | None, unit: str, detail: str) -> Text:
        """The text beside the bar; the rate is the average since the stage began."""
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = done / elapsed
        show = human_bytes if unit == "bytes" else (lambda n: f"{n:.0f} {unit}")
        parts = [f"{show(done)} / {show(total)}" if total else show(done)]
        if done and elapsed > 0.2:  # a rate over the first instants is noise
            parts.append(f"{show(rate)}/s")
            if total and rate > 0:
                parts.append(f"{human_seconds((total - done) / rate)} left")
        if detail:  # a detail may name a candidate's file
            parts.append(detail)
        return text(" · ".join(parts))
