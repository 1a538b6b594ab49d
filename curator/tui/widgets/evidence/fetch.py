"""The fetch panel: what was pinned, and every file with its size, SHA-256 and check."""

from __future__ import annotations

from collections import Counter

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Label, Static

from curator.core.evidence import EvidenceError, FetchEvidence
from curator.core.evidence.fetch import Mismatch
from curator.core.models import FileEntry
from curator.core.text import shown, text
from curator.tui.format import human_bytes, short_digest
from curator.tui.widgets.evidence.base import EvidencePanel
from curator.tui.widgets.evidence.findings import FindingsTable

BAD = "bold red"


class FetchPanel(EvidencePanel):
    """Pinned commit, endpoint, manifest digest, size; a files table, mismatches in red."""

    def compose(self) -> ComposeResult:
        try:
            evidence = FetchEvidence.of(self.result)
        except EvidenceError as exc:
            yield from self.unreadable(exc)
            return
        yield Static(self.headline(), classes="headline")
        yield Static(self.summary(evidence), classes="summary")
        mismatches = evidence.mismatches
        if mismatches:
            yield Static(Text(f"{len(mismatches)} file(s) differ from what the hub declared: "
                              "they were not kept", style=BAD), classes="alarm")
        yield Label("Files", classes="section")
        yield FilesTable(evidence, id="files")
        yield Static("", id="file-detail")
        if self.result.findings:
            yield Label("Findings", classes="section")
            yield FindingsTable(self.result.findings)

    def summary(self, evidence: FetchEvidence) -> Table:
        """Key facts, one per line."""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("candidate", text(evidence.repo_id))
        if evidence.commit is not None:
            grid.add_row("revision", text(f"{evidence.revision} → {evidence.commit}"))
            grid.add_row("endpoint", text(evidence.endpoint or ""))
        if evidence.path is not None:
            grid.add_row("folder", text(evidence.path))
        grid.add_row("manifest", text(evidence.manifest_digest))
        checks = Counter(evidence.checks.values())
        how = ", ".join(f"{n} {kind}" for kind, n in sorted(checks.items()))
        grid.add_row("total", text(f"{human_bytes(evidence.total_bytes)} in {len(evidence.files)} file(s)"
                                   + (f" — checked: {how}" if how else "")))
        return grid

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        table = event.data_table
        if isinstance(table, FilesTable) and event.row_key.value is not None:
            self.query_one("#file-detail", Static).update(table.detail(event.row_key.value))


class FilesTable(DataTable[Text | str]):
    """path, size, sha256 (16 hex + …), check, verdict; mismatching rows in red."""

    def __init__(self, evidence: FetchEvidence, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.checks = evidence.checks
        self.default_check = "local" if evidence.is_local else "unchecked"
        self.rows_by_path: dict[str, FileEntry] = {f.path: f for f in evidence.files}
        self.mismatches: dict[str, Mismatch] = {m.path: m for m in evidence.mismatches}

    def on_mount(self) -> None:
        self.add_column("path", key="path")
        self.add_column("size", key="size")
        self.add_column("sha256", key="sha256")
        self.add_column("check", key="check")
        self.add_column("verdict", key="verdict")
        for path in sorted({*self.rows_by_path, *self.mismatches}):
            bad = self.mismatches.get(path)
            entry = bad or self.rows_by_path[path]
            style = BAD if bad else ""
            verdict = (", ".join(p.code for p in bad.problems) if bad
                       else "ok")
            self.add_row(
                text(path, style),
                Text(human_bytes(entry.size), style=style, justify="right"),
                text(short_digest(entry.sha256), style),
                text(self.checks.get(path, self.default_check), style),
                text(verdict, style or "green"),
                key=path,
            )

    def detail(self, path: str) -> Text:
        """The full digest of a file; for a mismatch, every expected-vs-actual pair."""
        bad = self.mismatches.get(path)
        entry = bad or self.rows_by_path.get(path)
        size, sha256 = (entry.size, entry.sha256) if entry is not None else (0, "")
        line = Text.assemble((shown(path), "bold"), f"  {size} bytes  sha256 ", shown(sha256))
        for problem in bad.problems if bad else ():
            line.append(f"\n{shown(problem.code)}: ", style=BAD)
            if problem.expected is not None:
                line.append(shown(f"expected {problem.expected}, got {problem.actual}"), style=BAD)
        return line
