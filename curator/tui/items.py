"""What the queue screen lists: candidates waiting for a review (no Textual here)."""

from __future__ import annotations

from dataclasses import dataclass

from curator.core.models import Candidate


@dataclass(frozen=True)
class QueueItem:
    """A candidate offered for review, with a line saying what it is."""

    candidate: Candidate
    description: str = ""
