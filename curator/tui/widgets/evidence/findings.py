"""A stage's findings, worst first, coloured by severity; long messages wrap."""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from curator.core.models import Finding
from curator.core.text import shown, text
from curator.tui.format import SEVERITY_STYLE


class FindingsTable(Static):
    """Severity, code, file and message (with the tool that said it) of each finding."""

    DEFAULT_CLASSES = "findings"

    def __init__(self, findings: tuple[Finding, ...] | list[Finding], *, id: str | None = None) -> None:
        self.findings = sorted(findings, key=lambda f: (-f.severity.rank, f.file or "", f.code))
        super().__init__(self.table(), id=id)

    def table(self) -> Table:
        # a rich table rather than a DataTable: the message is what matters, and it must wrap
        table = Table(box=box.SIMPLE_HEAD, expand=True, pad_edge=False, show_edge=False)
        table.add_column("severity", no_wrap=True)
        table.add_column("code", no_wrap=True)
        table.add_column("file", overflow="fold", max_width=28)
        table.add_column("message", ratio=1, overflow="fold")
        for finding in self.findings:
            style = SEVERITY_STYLE[finding.severity]
            message = text(finding.message, style)
            tool = f"{finding.tool} {finding.tool_version}".strip()
            if tool:
                message.append(f" ({shown(tool)})", style="dim")
            table.add_row(Text(finding.severity.value, style=style), text(finding.code),
                          text(finding.file or ""), message)
        return table
