"""The terminal observer: a rich progress bar per stage on stderr."""

from __future__ import annotations

from typing import Any

from curator.core.models import StageResult, Status
from curator.core.text import markup

GLYPH = {Status.PASSED: "[green]✔[/]", Status.WARNED: "[yellow]▲[/]", Status.FAILED: "[red]✘[/]",
         Status.ERRORED: "[magenta]![/]", Status.SKIPPED: "[dim]–[/]"}


class TerminalObserver:
    """Shows bytes, rate and ETA while a stage runs, then one summary line per stage."""

    def __init__(self, quiet: bool = False) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.show_bars = self.console.is_terminal
        self._bars: Any = None
        self._tasks: dict[str, Any] = {}

    def _ensure_bars(self, unit: str) -> Any:
        from rich import progress as rp

        if self._bars is None:
            columns: list[Any] = [rp.TextColumn("[bold]{task.description}"), rp.BarColumn()]
            if unit == "bytes":
                columns += [rp.DownloadColumn(), rp.TransferSpeedColumn()]
            else:
                columns += [rp.MofNCompleteColumn()]
            columns += [rp.TimeRemainingColumn()]
            self._bars = rp.Progress(*columns, console=self.console, transient=True)
            self._bars.start()
        return self._bars

    def stage_started(self, stage: str) -> None:
        pass

    def stage_progress(self, stage: str, done: float, total: float | None, unit: str,
                       detail: str) -> None:
        if not self.show_bars:
            return
        bars = self._ensure_bars(unit)
        if stage not in self._tasks:
            self._tasks[stage] = bars.add_task(stage, total=total)
        bars.update(self._tasks[stage], completed=done, total=total)

    def stage_finished(self, result: StageResult) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
            self._tasks.clear()
        if self.quiet:
            return
        note = f" — {len(result.findings)} finding(s)" if result.findings else ""
        reason = result.evidence.get("reason", "") if result.status == Status.SKIPPED else ""
        took = f" in {result.seconds:.1f}s" if result.seconds else ""
        self.console.print(f"{GLYPH[result.status]} {result.stage}: {result.status.value}"
                           f"{took}{note}{' (' + markup(reason) + ')' if reason else ''}")
        for finding in sorted(result.findings, key=lambda f: -f.severity.rank)[:8]:
            rank = finding.severity.rank
            colour = "red" if rank >= 3 else "yellow" if rank >= 1 else "dim"
            self.console.print(f"    [{colour}]{finding.severity.value}[/] {markup(finding.message)}")
        if len(result.findings) > 8:
            self.console.print(f"    … and {len(result.findings) - 8} more (see --json)")
