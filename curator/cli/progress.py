"""The terminal observer: progress of each stage on stderr, live bars or plain lines."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from curator.core.evidence import skip_reason
from curator.core.models import StageResult, Status
from curator.core.text import markup

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID


GLYPH = {Status.PASSED: "[green]✔[/]", Status.WARNED: "[yellow]▲[/]", Status.FAILED: "[red]✘[/]",
         Status.ERRORED: "[magenta]![/]", Status.SKIPPED: "[dim]–[/]"}

#: seconds between two plain progress lines of one stage (a log or a CI job, not a person, reads them)
PLAIN_EVERY_S = 5.0


def amount(done: float, total: float | None, unit: str) -> str:
    """'12.0 MB of 48.0 MB', '120/400 requests': how far a stage is, in its own unit."""
    if unit == "bytes":
        return f"{done / 1e6:.1f} MB" + (f" of {total / 1e6:.1f} MB" if total else "")
    count = f"{done:.0f}/{total:.0f}" if total else f"{done:.0f}"
    return f"{count} {unit}" + (f" ({100 * done / total:.0f}%)" if total else "")


class TerminalObserver:
    """On a terminal, a live bar per stage (bytes, rate and ETA, or N of M in the stage's unit).
    Piped or redirected, plain lines: each stage's start, its progress at most every
    ``PLAIN_EVERY_S`` seconds, then one summary line per stage with its top findings.
    Everything goes to stderr, so ``--json`` keeps stdout to its one document."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.live = self.console.is_terminal
        self._bars: Progress | None = None
        self._unit = ""
        self._task: TaskID | None = None
        self._last_line = 0.0

    def _bar(self, stage: str, unit: str) -> Any:
        """The live bar of ``stage``, rebuilt when its unit changes (eval hashes, then counts requests)."""
        from rich import progress as rp

        if self._bars is not None and unit == self._unit:
            return self._bars
        self._stop_bars()
        columns: list[Any] = [rp.TextColumn("[bold]{task.description}"), rp.BarColumn()]
        if unit == "bytes":
            columns += [rp.DownloadColumn(), rp.TransferSpeedColumn()]
        else:
            columns += [rp.MofNCompleteColumn(), rp.TextColumn(markup(unit))]
        columns += [rp.TimeRemainingColumn()]
        self._bars = rp.Progress(*columns, console=self.console, transient=True)
        self._bars.start()
        self._unit = unit
        self._task = self._bars.add_task(stage, total=None)
        return self._bars

    def _stop_bars(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
            self._task = None

    def stage_started(self, stage: str) -> None:
        self._last_line = time.monotonic()
        if not self.live:
            self.console.print(f"▸ {stage} …")

    def stage_progress(self, stage: str, done: float, total: float | None, unit: str,
                       detail: str) -> None:
        note = "" if detail in ("", unit) else detail
        if self.live:
            bars = self._bar(stage, unit)
            description = f"{stage} {markup(note)}" if note else stage
            bars.update(self._task, completed=done, total=total, description=description)
            return
        now = time.monotonic()
        if now - self._last_line < PLAIN_EVERY_S:
            return
        self._last_line = now
        self.console.print(f"  {stage}: {amount(done, total, unit)}{' — ' + markup(note) if note else ''}")

    def stage_finished(self, result: StageResult) -> None:
        self._stop_bars()
        note = f" — {len(result.findings)} finding(s)" if result.findings else ""
        reason = skip_reason(result) if result.status == Status.SKIPPED else ""
        took = f" in {result.seconds:.1f}s" if result.seconds else ""
        self.console.print(f"{GLYPH[result.status]} {result.stage}: {result.status.value}"
                           f"{took}{note}{' (' + markup(reason) + ')' if reason else ''}")
        for finding in sorted(result.findings, key=lambda f: -f.severity.rank)[:8]:
            rank = finding.severity.rank
            colour = "red" if rank >= 3 else "yellow" if rank >= 1 else "dim"
            self.console.print(f"    [{colour}]{finding.severity.value}[/] {markup(finding.message)}")
        if len(result.findings) > 8:
            self.console.print(f"    … and {len(result.findings) - 8} more (see --json)")
