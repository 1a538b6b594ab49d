"""Report formats behind one interface: a str-Enum maps the CLI's ``--format`` to a renderer."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from enum import StrEnum

from curator.export.approval import ApprovalReport

Renderer = Callable[[ApprovalReport], str]


class ReportFormat(StrEnum):
    """``curator report --format``: each value names a module with ``render(report) -> str``."""

    HTML = "html"
    MD = "md"
    JSON = "json"
    SARIF = "sarif"

    @property
    def module(self) -> str:
        return {"html": "curator.export.report_html", "md": "curator.export.report_md",
                "json": "curator.export.report_json", "sarif": "curator.export.sarif"}[self.value]

    @property
    def suffix(self) -> str:
        """The usual file name ending for this format."""
        return {"html": ".html", "md": ".md", "json": ".json", "sarif": ".sarif"}[self.value]

    @property
    def renderer(self) -> Renderer:
        render: Renderer = importlib.import_module(self.module).render
        return render


def render(report: ApprovalReport, fmt: ReportFormat | str) -> str:
    """Render ``report`` in ``fmt`` (a ReportFormat or its value)."""
    return ReportFormat(fmt).renderer(report)
