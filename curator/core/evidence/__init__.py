"""Typed readers of each stage's stored evidence.

Stages record their evidence as JSON (the ledger keeps it); everything that shows or reports it
(TUI panels, reports, the AI-BOM, inventory, diff, decision rules) reads it through one frozen
dataclass per stage, built from the dict in exactly one place (``XEvidence.from_evidence``).
They live in core so every layer may use them without a stage importing another.
"""

from __future__ import annotations

from curator.core.evidence.card import CardEvidence
from curator.core.evidence.eval import EvalEvidence
from curator.core.evidence.fetch import FetchEvidence
from curator.core.evidence.fields import EvidenceError
from curator.core.evidence.scan import ScanEvidence
from curator.core.evidence.signature import SignatureEvidence
from curator.core.evidence.skipped import skip_reason

#: stage name -> its evidence reader
READERS = {"fetch": FetchEvidence, "scan": ScanEvidence, "signature": SignatureEvidence, "card": CardEvidence,
           "eval": EvalEvidence}

__all__ = ["READERS", "CardEvidence", "EvalEvidence", "EvidenceError", "FetchEvidence", "ScanEvidence",
           "SignatureEvidence", "skip_reason"]
