"""One adopted model's stage results with each stage's typed evidence read once.

The inventory asks the card's evidence for the license and lineage; the AI-BOM asks it again
for the supplier's contacts, the datasets, the task, the claimed scores and the architecture,
and asks the fetch and scan evidence for the files and the findings. Read through the typed
reader at each question, a thousand models meant six thousand parses of the card alone: the
inventory keeps one ``ModelEvidence`` per model and every reader runs at most once on it.
"""

from __future__ import annotations

from functools import cached_property

from curator.core.evidence import CardEvidence, EvalEvidence, FetchEvidence, ScanEvidence
from curator.core.models import StageResult


class ModelEvidence:
    """A model's stored stage results, with each stage's typed evidence read on first use."""

    def __init__(self, results: dict[str, StageResult]) -> None:
        self.results = results

    def get(self, stage: str) -> StageResult | None:
        return self.results.get(stage)

    @cached_property
    def fetch(self) -> FetchEvidence:
        return FetchEvidence.of(self.results.get("fetch"))

    @cached_property
    def scan(self) -> ScanEvidence:
        return ScanEvidence.of(self.results.get("scan"))

    @cached_property
    def card(self) -> CardEvidence:
        return CardEvidence.of(self.results.get("card"))

    @cached_property
    def eval(self) -> EvalEvidence:
        return EvalEvidence.of(self.results.get("eval"))
