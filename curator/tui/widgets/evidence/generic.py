"""The panel for stages without one of their own: status, findings, evidence as JSON."""

from __future__ import annotations

import json

from rich.json import JSON
from textual.app import ComposeResult
from textual.widgets import Label, Static

from curator.tui.widgets.evidence.base import EvidencePanel
from curator.tui.widgets.evidence.findings import FindingsTable


class GenericPanel(EvidencePanel):
    """Works for any stage: what it found, and every evidence key pretty-printed."""

    def compose(self) -> ComposeResult:
        yield Static(self.headline(), classes="headline")
        if self.result.findings:
            yield Label("Findings", classes="section")
            yield FindingsTable(self.result.findings)
        yield Label("Evidence", classes="section")
        if self.result.evidence:
            yield Static(JSON(json.dumps(self.result.evidence, default=str), indent=2), classes="json")
        else:
            yield Static("(none recorded)", classes="dim")
