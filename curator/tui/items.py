"""What the queue screen lists: candidates waiting for a review (no Textual here)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from curator.core.models import Candidate


class PreparationObserver(Protocol):
    """What a background preparation reports: progress lines, and names as they become ready."""

    def progress(self, line: str) -> None: ...

    def ready(self, name: str) -> None: ...


#: work the queue runs in the background before some items can open (the demo's samples)
Preparation = Callable[[PreparationObserver, threading.Event], Any]


@dataclass(frozen=True)
class QueueItem:
    """A candidate offered for review, with a line saying what it is."""

    candidate: Candidate
    description: str = ""
    #: what must be prepared before it can be opened (the demo builds samples in the background)
    waits_for: str | None = None
