"""A modal that shows one error line and what to do next; Escape or Enter closes it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

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
