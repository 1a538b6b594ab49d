"""The TUI's pipeline observer: turns stage events into messages for a screen."""

from __future__ import annotations

from textual.message_pump import MessagePump

from curator.core.models import StageResult
from curator.tui.messages import StageFinished, StageProgress, StageStarted


class MessageObserver:
    """Posts one message per pipeline event to ``target``; safe to call from any thread."""

    def __init__(self, target: MessagePump) -> None:
        self.target = target

    def stage_started(self, stage: str) -> None:
        self.target.post_message(StageStarted(stage))

    def stage_progress(self, stage: str, done: float, total: float | None, unit: str,
                       detail: str) -> None:
        self.target.post_message(StageProgress(stage, done, total, unit, detail))

    def stage_finished(self, result: StageResult) -> None:
        self.target.post_message(StageFinished(result))
