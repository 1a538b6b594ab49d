"""The curator-key form: deciding needs a signing key; create one here without leaving the TUI.

Dismisses with the new identity, or None if the curator backed out.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from curator.attest.keys import CuratorIdentity
from curator.core.errors import CuratorError
from curator.core.text import text


class KeyFormScreen(ModalScreen[CuratorIdentity | None]):
    """Name and e-mail in; a key (ECDSA P-256, 0600) out, and where it is and who must trust it."""

    CSS_PATH = "key_form.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "back", "Back")]

    def __init__(self, keys_dir: Path, after_created: Callable[[], None] | None = None) -> None:
        """``after_created`` runs once the key exists (the demo lists it in its curators.yaml)."""
        super().__init__()
        self.keys_dir = keys_dir
        self.after_created = after_created
        self.identity: CuratorIdentity | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="key-box"):
            yield Label("You need a curator key to sign decisions", id="key-title")
            yield Static(text(f"A new signing key is created in {self.keys_dir}. Your name and e-mail "
                              "are signed into every decision you make."), id="key-intro")
            yield Input(placeholder="Full name", id="key-name")
            yield Input(placeholder="e-mail", id="key-email")
            yield Static("", id="key-status")
            with Horizontal(id="key-buttons"):
                yield Button("Create key", id="key-create", variant="primary")
                yield Button("Continue to the decision", id="key-continue", variant="success")
                yield Button("Back", id="key-back")

    def on_mount(self) -> None:
        self.query_one("#key-name", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "key-name":
            self.query_one("#key-email", Input).focus()
        elif self.identity is None:
            self.create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "key-create":
            self.create()
        elif event.button.id == "key-continue":
            self.dismiss(self.identity)
        else:
            self.action_back()

    def create(self) -> None:
        """Create the key (milliseconds: no worker needed) and say what the team must do."""
        from curator.attest.enrol import create_curator_key

        status = self.query_one("#key-status", Static)
        name = self.query_one("#key-name", Input).value
        email = self.query_one("#key-email", Input).value
        try:
            self.identity, _ = create_curator_key(self.keys_dir, name, email)
        except CuratorError as exc:
            status.update(text(exc.diagnostics(), "red"))
            return
        if self.after_created is not None:
            self.after_created()
        status.update(text(
            f"Key created for {self.identity.label} in {self.keys_dir} (fingerprint "
            f"{self.identity.keyid[:16]}…). This workspace trusts it now. For deploy gates to accept "
            "your decisions, the team must add it to its trust root: the entry printed by "
            "'curator keys show' goes into checklists/curators.yaml.", "green"))
        self.add_class("created")
        self.query_one("#key-continue", Button).focus()

    def action_back(self) -> None:
        self.dismiss(self.identity)
