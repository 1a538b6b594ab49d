"""A modal that shows one error line and what to do next; Escape or Enter closes it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static
from textual.worker import Worker, WorkerState

from curator.core.text import text


class ErrorScreen(ModalScreen[None]):
    """The one-line diagnostics of a CuratorError (or a crash), on top of the screen."""

    CSS_PATH = "error.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
    ]

    def __init__(self, message: str, title: str = "Something went wrong") -> None:
        super().__init__()
        self.message = message
        self.heading = title

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Label(self.heading, id="error-title")
            yield Static(text(self.message), id="error-message")
            yield Label("Enter or Escape to close", id="error-hint")

    def action_close(self) -> None:
        self.dismiss(None)


def error_text(error: BaseException | None) -> str:
    """What a failed worker says: a CuratorError's one-line diagnostics, or a crash named as a bug."""
    from curator.core.errors import CuratorError

    if isinstance(error, CuratorError):
        return error.diagnostics()
    return f"{type(error).__name__}: {error} (this is a bug in curator; please report it)"


class WorkerErrors:
    """The one place a screen's failed worker becomes an error modal (mixed into each screen).

    ``ERROR_TITLES`` maps a worker group to the modal's title; ``worker_failed`` may tidy the
    screen first and choose another title (or None: the screen showed the error itself).
    """

    ERROR_TITLES: ClassVar[dict[str, str]] = {}

    async def worker_failed(self, worker: Worker[object], message: str) -> str | None:
        return self.ERROR_TITLES.get(worker.group)

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        message = error_text(event.worker.error)
        title = await self.worker_failed(event.worker, message)
        if title is not None:
            self.app.push_screen(ErrorScreen(message, title))  # type: ignore[attr-defined]
