"""The stage checklist: every stage of the review with its status glyph."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from curator.core.models import Status
from curator.tui.format import SPINNER, STATUS_GLYPH


class StageChecklist(OptionList):
    """One line per stage: glyph, name, title. Up/down picks the stage to inspect."""

    def __init__(self, stages: list[tuple[str, str]], *, id: str | None = None) -> None:
        self.stages = stages  # (name, title) in review order
        self.statuses: dict[str, Status | None] = {name: None for name, _ in stages}
        self.running: str | None = None
        self._frame = 0
        super().__init__(*[Option(self._prompt(name, title), id=name) for name, title in stages], id=id)

    def on_mount(self) -> None:
        self.set_interval(0.1, self._spin)

    @property
    def selected_stage(self) -> str | None:
        """The name of the highlighted stage."""
        option = self.highlighted_option
        return option.id if option else None

    def set_status(self, stage: str, status: Status | None) -> None:
        """Show a stage's result (``None`` = not run yet); it stops spinning."""
        self.statuses[stage] = status
        if self.running == stage:
            self.running = None
        self._redraw(stage)

    def set_running(self, stage: str | None) -> None:
        """Spin the glyph of ``stage`` (``None``: nothing runs any more)."""
        previous, self.running = self.running, stage
        for name in {previous, stage} - {None}:
            assert name is not None
            self._redraw(name)

    def select(self, stage: str) -> None:
        """Highlight ``stage`` (the evidence panel follows the highlight)."""
        self.highlighted = self.get_option_index(stage)

    def _spin(self) -> None:
        if self.running is not None:
            self._frame = (self._frame + 1) % len(SPINNER)
            self._redraw(self.running)

    def _redraw(self, stage: str) -> None:
        title = dict(self.stages).get(stage, "")
        self.replace_option_prompt(stage, self._prompt(stage, title))

    def _prompt(self, name: str, title: str) -> Text:
        if self.running == name:
            char, style = SPINNER[self._frame], "bold cyan"
        else:
            char, style = STATUS_GLYPH[self.statuses.get(name)]
        line = Text.assemble((char, style), " ", (name, "bold"))
        if title:
            line.append(f"\n  {title}", style="dim")
        return line
