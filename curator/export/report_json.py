"""The approval report as one JSON document, for machines (keys: ``ApprovalReport.to_dict``)."""

from __future__ import annotations

import json

from curator.export.approval import ApprovalReport


def render(report: ApprovalReport) -> str:
    """Stable keys, indented, UTF-8 kept as is."""
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n"
