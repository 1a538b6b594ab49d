"""Evidence panels by stage name. Add a stage's own panel with one line in ``PANELS``."""

from __future__ import annotations

from curator.tui.widgets.evidence.base import EvidencePanel
from curator.tui.widgets.evidence.card import CardPanel
from curator.tui.widgets.evidence.eval import EvalPanel
from curator.tui.widgets.evidence.fetch import FetchPanel
from curator.tui.widgets.evidence.generic import GenericPanel
from curator.tui.widgets.evidence.scan import ScanPanel
from curator.tui.widgets.evidence.signature import SignaturePanel

#: stage name -> the panel that shows its result; stages not listed get GenericPanel
PANELS: dict[str, type[EvidencePanel]] = {
    "fetch": FetchPanel,
    "scan": ScanPanel,
    "signature": SignaturePanel,
    "card": CardPanel,
    "eval": EvalPanel,
}


def panel_for(stage: str) -> type[EvidencePanel]:
    """The panel class for ``stage``'s result."""
    return PANELS.get(stage, GenericPanel)


__all__ = ["PANELS", "EvidencePanel", "GenericPanel", "panel_for"]
