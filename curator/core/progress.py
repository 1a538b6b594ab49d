"""Progress flows from stages to observers the core owns; the CLI and the TUI plug in."""

from __future__ import annotations

import threading
from typing import Protocol

from curator.core.models import StageResult


class Observer(Protocol):
    """Anything that wants to watch a review: a progress bar, a TUI message poster, a log."""

    def stage_started(self, stage: str) -> None: ...

    def stage_progress(self, stage: str, done: float, total: float | None, unit: str,
                       detail: str) -> None: ...

    def stage_finished(self, result: StageResult) -> None: ...


class Cancelled(Exception):
    """Raised inside a stage when the user asked to stop; the pipeline records nothing."""


class Progress:
    """Handed to a running stage: report work done, and learn whether to stop."""

    def __init__(self, stage: str, observers: list[Observer], cancel: threading.Event) -> None:
        self.stage = stage
        self._observers = observers
        self._cancel = cancel
        self._lock = threading.Lock()
        self.done = 0.0
        self.total: float | None = None
        self.unit = "bytes"

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        """Call inside long loops: raises ``Cancelled`` once the user asked to stop."""
        if self._cancel.is_set():
            raise Cancelled(self.stage)

    def set_total(self, total: float | None, unit: str = "bytes") -> None:
        """Announce how much work there is, in ``unit`` (bytes, files, requests...)."""
        self.total = total
        self.unit = unit
        self.advance(0)

    def advance(self, amount: float, detail: str = "") -> None:
        """Thread-safe: workers of one stage may advance it concurrently."""
        with self._lock:
            self.done += amount
            done, total = self.done, self.total
        for observer in self._observers:
            observer.stage_progress(self.stage, done, total, self.unit, detail)
