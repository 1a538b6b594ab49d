"""What every evidence panel shares: the result it shows and its headline."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from curator.core.evidence import EvidenceError
from curator.core.models import StageResult
from curator.core.text import text
from curator.tui.format import status_text


class EvidencePanel(VerticalScroll):
    """Shows one stage's result. Subclasses compose the stage-specific view."""

    DEFAULT_CLASSES = "evidence-panel"

    def __init__(self, result: StageResult, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.result = result

    def headline(self) -> Text:
        """``✔ passed — fetch · 3 finding(s) · huggingface_hub 2.4.0``."""
        result = self.result
        line = status_text(result.status)
        line.append(f" — {result.stage}", style="bold")
        if result.findings:
            line.append(f" · {len(result.findings)} finding(s)")
        for tool, version in sorted(result.tool_versions.items()):
            line.append(f" · {tool} {version}", style="dim")
        return line

    def unreadable(self, error: EvidenceError) -> ComposeResult:
        """The headline and why the recorded evidence cannot be shown (it is not of the stage's shape)."""
        yield Static(self.headline(), classes="headline")
        yield Static(text(error.diagnostics(), "bold magenta"), classes="alarm")
