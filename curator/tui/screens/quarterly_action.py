"""The dialog of one quarterly action: keep, replace or retire a model, with the rationale that
gets signed (and, for a replacement, what should take its place)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from curator.inventory.build import InventoryEntry
from curator.quarterly.actions import ActionRequest


class ActionScreen(ModalScreen[ActionRequest | None]):
    """Ask for the rationale (and a replacement) of one keep / replace / retire."""

    CSS_PATH = "quarterly_action.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, action: str, entry: InventoryEntry) -> None:
        super().__init__()
        self.action, self.entry = action, entry

    def compose(self) -> ComposeResult:
        warn = {"retire": "signs a rejection into the registry and removes the tag: deploys of it stop",
                "keep": "keeps it for another period and resets its age clock",
                "replace": "asks for a replacement; it stays deployable and shows as needing re-review"}
        with Vertical(id="action-box"):
            yield Label(f"{self.action.capitalize()} {self.entry.ref}", id="action-title")
            yield Static(warn[self.action], id="action-warning")
            if self.action == "replace":
                yield Input(placeholder="replace with (repo id, revision or note)", id="action-replacement")
            yield Label("Rationale (signed)")
            yield TextArea(id="action-rationale")
            with Horizontal(id="action-buttons"):
                yield Button(f"Sign {self.action}", id="action-sign",
                             variant="error" if self.action == "retire" else "primary")
                yield Button("Cancel", id="action-cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "action-cancel":
            self.dismiss(None)
            return
        rationale = self.query_one(TextArea).text.strip()
        if not rationale:
            self.notify("a rationale is required: it is signed into the action", severity="error")
            return
        replacement = ""
        if self.action == "replace":
            replacement = self.query_one("#action-replacement", Input).value.strip()
        self.dismiss(ActionRequest(self.action, rationale, replacement))

    def action_cancel(self) -> None:
        self.dismiss(None)
