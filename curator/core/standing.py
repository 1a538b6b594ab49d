"""Where each model stands with curator: approved, retired or rejected.

One projection of the ledger (``curator.ledger.standings``) computes it; stages see it through
``ReviewContext.standings`` (lineage, look-alike names) and the services through
``curator.decision.history``. A model retired in the quarterly review, or rejected after it was
approved, is never "approved" for anyone: not for a new candidate's lineage, not as the
inventory a look-alike is judged against, not for swap or rollback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

APPROVED, RETIRED, REJECTED = "approved", "retired", "rejected"


@dataclass(frozen=True)
class Standing:
    """One reviewed revision's current standing (the latest signed word on it)."""

    repo_id: str
    review_id: str
    status: str  # approved | retired | rejected
    digest: str | None  # the OCI manifest digest decided on, when known
    time: float  # when it took this standing
    by: str = ""  # who decided it
    reason: str = ""

    @property
    def approved(self) -> bool:
        return self.status == APPROVED

    def describe(self) -> str:
        """``retired on DATE by WHO: REASON``: the words users see."""
        day = dt.datetime.fromtimestamp(self.time, dt.UTC).date().isoformat()
        who = self.by or "an unknown curator"
        return f"{self.status} on {day} by {who}" + (f": {self.reason}" if self.reason else "")


class Standings:
    """Every reviewed revision's standing, looked up by repo id (without case)."""

    def __init__(self, items: Iterable[Standing] = ()) -> None:
        self._items = tuple(items)
        self._by_repo: dict[str, list[Standing]] = {}
        for item in self._items:
            self._by_repo.setdefault(item.repo_id.lower(), []).append(item)

    def __iter__(self) -> Iterator[Standing]:
        return iter(self._items)

    def of(self, repo_id: str) -> tuple[Standing, ...]:
        return tuple(self._by_repo.get(repo_id.lower(), ()))

    def of_review(self, review_id: str) -> Standing | None:
        return next((s for s in self._items if s.review_id == review_id), None)

    def approval(self, repo_id: str) -> Standing | None:
        """The latest approved, still standing revision of ``repo_id``."""
        approved = [s for s in self.of(repo_id) if s.approved]
        return max(approved, key=lambda s: s.time) if approved else None

    def withdrawn(self, repo_id: str) -> Standing | None:
        """Why ``repo_id`` no longer counts as approved: its latest retire or rejection of an
        approved revision (None when it still has an approved revision, or never had one)."""
        if self.approval(repo_id) is not None:
            return None
        gone = [s for s in self.of(repo_id) if s.status in (RETIRED, REJECTED) and s.digest is not None]
        return max(gone, key=lambda s: s.time) if gone else None

    def approved(self) -> dict[str, str]:
        """Approved repo ids (as reviewed) -> the review that approved their latest revision."""
        found: dict[str, str] = {}
        for key in self._by_repo:
            standing = self.approval(key)
            if standing is not None:
                found[standing.repo_id] = standing.review_id
        return found
