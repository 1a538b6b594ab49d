"""The eval panel: what curator measured, what the card claimed, and a bar chart of both."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static

from curator.core.evidence import EvalEvidence, EvidenceError
from curator.core.evidence.eval import EvalClaim, EvalTask
from curator.core.text import shown, text
from curator.tui.widgets.evidence.base import EvidencePanel
from curator.tui.widgets.evidence.findings import FindingsTable

#: a claim against curator's measurement
VERDICT: dict[str, tuple[str, str]] = {
    "consistent": ("✔", "green"),
    "gap": ("▲", "yellow"),
    "not-reproduced": ("✘", "bold red"),
    "understated": ("▼", "cyan"),
    "unchecked": ("?", "grey50"),
}
EIGHTHS = " ▏▎▍▌▋▊▉"
BAR_WIDTH = 32
MEASURED_STYLE = "bold cyan"


@dataclass
class Row:
    """One task and metric: curator's measurement and, if the card made one, its claim."""

    task: str
    metric: str
    n_shot: object = None
    measured: float | None = None
    stderr: object = None
    claim: EvalClaim | None = None

    @property
    def key(self) -> str:
        return f"{self.task}|{self.metric}|{self.n_shot}|{self.claim.location if self.claim else ''}"

    @property
    def claimed(self) -> float | None:
        value = self.claim.claimed_or_value if self.claim else None
        return float(value) if isinstance(value, int | float) else None

    @property
    def verdict(self) -> str:
        return (self.claim.verdict or "unchecked") if self.claim else ""


def verdict_text(verdict: str) -> Text:
    if not verdict:
        return Text("— no claim", style="dim")
    char, style = VERDICT.get(verdict, ("?", "magenta"))
    return Text(f"{char} {verdict}", style=style)


def number(value: object, digits: int = 4) -> str:
    """A score to ``digits`` decimals; anything else (lm-eval's "N/A" stderr) as it is; None as —."""
    if isinstance(value, int | float):
        return f"{value:.{digits}f}"
    return "—" if value is None else str(value)


def bar(value: float, scale: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar in eighth-blocks, ``width`` cells at ``scale``; never wider, never negative."""
    cells = max(0.0, min(value / scale, 1.0)) * width if scale > 0 else 0.0
    full = int(cells)
    part = EIGHTHS[int((cells - full) * 8)] if full < width else ""
    return ("█" * full + part.strip()).ljust(width)


def rows_of(evidence: EvalEvidence) -> list[Row]:
    """Every measured task x metric with the claim mapped to it, then the claims nothing measured."""
    claims = evidence.claims
    used: set[int] = set()
    rows: list[Row] = []
    for score in evidence.scores:
        metrics = score.metrics
        for metric, value in metrics.items():
            if metric.endswith("_stderr"):
                continue
            measured = float(value) if isinstance(value, int | float) else None
            row = Row(score.task, metric, score.n_shot, measured, metrics.get(f"{metric}_stderr"))
            for i, claim in enumerate(claims):
                shots = claim.measured_n_shot if claim.measured_n_shot is not None else row.n_shot
                if (i not in used and claim.mapped_task == row.task
                        and claim.mapped_metric == metric and shots == row.n_shot):
                    used.add(i)
                    rows.append(Row(row.task, metric, row.n_shot, row.measured, row.stderr, claim))
                    break
            else:
                rows.append(row)
    for i, claim in enumerate(claims):
        if i not in used:
            task = claim.mapped_task or f"({claim.dataset_name or claim.dataset})"
            rows.append(Row(task, str(claim.mapped_metric or claim.metric), claim.n_shot, claim=claim))
    return rows


class EvalPanel(EvidencePanel):
    """Why it did not run, or: scores vs claims as a table and as bars; tasks, model, settings."""

    def compose(self) -> ComposeResult:
        try:
            evidence = EvalEvidence.of(self.result)
        except EvidenceError as exc:
            yield from self.unreadable(exc)
            return
        yield Static(self.headline(), classes="headline")
        if evidence.reason:
            yield Static(text(f"Not measured: {evidence.reason}", "bold yellow"), classes="alarm")
        rows = rows_of(evidence)
        if rows:
            yield Label("Measured vs claimed — ↑↓ for a claim's location and what may explain a gap",
                        classes="section")
            yield ScoresTable(rows, id="scores")
            yield Static("", id="claim-detail")
            yield Label("Chart", classes="section")
            yield Static(self.chart(rows), id="eval-chart")
        elif not evidence.reason:
            yield Static(Text("No scores were recorded: the eval did not finish.", style="bold magenta"),
                         classes="alarm")
        if evidence.tasks:
            yield Label("Tasks", classes="section")
            yield Static(self.tasks(evidence.tasks), id="eval-tasks")
        yield Label("Run", classes="section")
        yield Static(self.run_facts(evidence), id="eval-run")
        if self.result.findings:
            yield Label("Findings", classes="section")
            yield FindingsTable(self.result.findings)

    @staticmethod
    def chart(rows: list[Row]) -> Text:
        """Measured (cyan) and claimed (the verdict's colour) bars on one scale, per claimed metric;
        tasks without a claim show their first metric only."""
        claimed = {row.task for row in rows if row.claim}
        charted: list[Row] = []
        seen: set[str] = set()
        for row in rows:
            if row.claim or (row.task not in claimed | seen and row.measured is not None):
                charted.append(row)
            seen.add(row.task)
        values = [v for r in charted for v in (r.measured, r.claimed) if v is not None]
        scale = max([1.0, *values])
        # the task's name on a line of its own: the evidence area is ~80 cells wide
        chart = Text(no_wrap=True)
        chart.append(f"{'':11}0{number(scale, 1):>{BAR_WIDTH - 1}}", style="dim")
        for row in charted:
            chart.append("\n" + shown(f"{row.task} {row.metric}"), style="bold")
            if row.measured is not None:
                plus = f" ±{number(row.stderr, 3)}" if isinstance(row.stderr, int | float) else ""
                chart.append("\n  measured ", style="dim")
                chart.append(bar(row.measured, scale), style=MEASURED_STYLE)
                chart.append(f" {number(row.measured, 3)}{plus}")
            if row.claimed is not None:
                style = VERDICT.get(row.verdict, ("", "magenta"))[1]
                chart.append("\n  claimed  ", style="dim").append(bar(row.claimed, scale), style=style)
                chart.append(f" {number(row.claimed, 3)}  ").append_text(verdict_text(row.verdict))
        return chart

    @staticmethod
    def tasks(tasks: tuple[EvalTask, ...]) -> Table:
        grid = Table.grid(padding=(0, 2))
        for _ in range(3):
            grid.add_column(overflow="fold")
        for task in tasks:
            ran = task.status in (None, "ran")
            status = task.status or "planned"
            if task.reason:
                status += f": {task.reason}"
            grid.add_row(text(task.task, "bold"), text(task.source or ""),
                         text(status, "" if ran else "yellow"))
        return grid

    @staticmethod
    def run_facts(evidence: EvalEvidence) -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        model = evidence.model
        if model.recorded:
            weights = ", ".join(f"{p} ({f})" for p, f in model.weights.items())
            architectures = ", ".join(model.architectures)
            grid.add_row("model", text(f"{model.kind} · {architectures} · "
                                       f"weights {weights or 'none'}"))
        settings = evidence.settings
        if settings:
            grid.add_row("settings", text(
                f"{settings.get('backend')} · {settings.get('dtype')} on {settings.get('device')} · batch "
                f"{settings.get('batch_size')} · limit {settings.get('limit') or 'none'} · trust_remote_code "
                f"{settings.get('trust_remote_code', False)}"))
        sandbox = evidence.sandbox
        if sandbox:
            walls = (f"bubblewrap {sandbox.get('bwrap') or ''} · network {sandbox.get('network')} · seccomp "
                     f"{'on' if sandbox.get('seccomp') else 'off'}" if sandbox.get("kind") == "bwrap"
                     else "none: the model ran with this user's access (--unsandboxed)")
            grid.add_row("sandbox", text(walls, "" if sandbox.get("kind") == "bwrap" else "bold red"))
        versions = evidence.versions
        if versions:
            grid.add_row("versions", text(" · ".join(f"{k} {v}" for k, v in versions.items())))
        child = evidence.child
        if child:
            grid.add_row("child", text(f"exit {child.get('exit_code')} · {child.get('seconds')} s · peak "
                                       f"{child.get('peak_rss_mb')} MB"
                                       + (f" · {child['message']}" if child.get("message") else "")))
        tail = [line for line in evidence.child_stderr_tail if line.strip()]
        if tail:
            # what the child printed is the model's to choose: each line shown, none obeyed
            grid.add_row("child said", Text("\n".join(map(shown, tail[-6:])), style="magenta"))
        requests = evidence.requests
        if requests:
            cache = evidence.cache_entries
            grid.add_row("requests", text(
                f"{requests.get('computed')} computed of {requests.get('announced')}"
                + (f" · cache {cache.get('before')} → {cache.get('after')}" if cache else "")))
        if evidence.claims_source:
            grid.add_row("claims from", text(evidence.claims_source))
        return grid

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if isinstance(table, ScoresTable) and event.row_key.value is not None:
            self.query_one("#claim-detail", Static).update(table.detail(event.row_key.value))


class ScoresTable(DataTable[Text | str]):
    """task, metric, n-shot, measured ± stderr, claimed, verdict; failed claims in red."""

    def __init__(self, rows: list[Row], *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_by_key = {row.key: row for row in rows}

    def on_mount(self) -> None:
        for column in ("task", "metric", "shots", "measured", "±", "claimed", "verdict"):
            self.add_column(column, key=column)
        for key, row in self.rows_by_key.items():
            self.add_row(text(row.task, "bold"), text(row.metric), text(number(row.n_shot, 0)),
                         Text(number(row.measured, 3), justify="right"),
                         Text(number(row.stderr, 3), style="dim"),
                         Text(number(row.claimed, 3), justify="right"), verdict_text(row.verdict), key=key)

    def detail(self, key: str) -> Text:
        row = self.rows_by_key[key]
        claim = row.claim
        out = Text.assemble((shown(f"{row.task} {row.metric}"), "bold"), "  ")
        out.append_text(verdict_text(row.verdict))
        if not claim:
            return out.append(" — the card makes no claim here: a baseline measurement", style="dim")
        if claim.z is not None:
            out.append(f" ({claim.z:+.1f} stderr)")
        said = (f"{claim.dataset_name or claim.dataset} "
                f"{claim.metric_name or claim.metric} = {claim.value} "
                f"at {claim.location}"
                + (f", line {claim.line}" if claim.line else ""))
        out.append("\nclaim: " + shown(said))
        if claim.reason:
            out.append(f"\nwhy unchecked: {shown(claim.reason)}", style="yellow")
        for note in claim.notes:
            out.append(f"\n• {shown(note)}")
        return out
