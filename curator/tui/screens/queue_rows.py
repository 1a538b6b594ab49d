"""The rows of the queue: queued candidates and the ledger's reviews, with their state."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from curator.core.models import Candidate, Review, StageResult
from curator.core.text import text
from curator.review.session import Session
from curator.tui.format import RECOMMENDATION_STYLE, glyph
from curator.tui.items import QueueItem


@dataclass(frozen=True)
class QueueRow:
    """One line of the queue table and what Enter opens from it."""

    key: str
    candidate: Candidate
    review: Review | None
    state: Text
    stages: Text
    note: str

    @property
    def cells(self) -> tuple[str | Text, ...]:
        c = self.candidate
        commit = (self.review.candidate.commit if self.review else None) or ""
        revision = f"{c.revision} @ {commit[:10]}" if commit and c.source == "hub" else c.revision
        return (text(c.repo_id), text(revision), text(c.source), self.state, self.stages, text(self.note))


def same_candidate(a: Candidate, b: Candidate) -> bool:
    """Same repo, endpoint and requested revision (or same folder): the same queue entry."""
    return (a.source, a.repo_id, a.revision, a.endpoint, a.path) == (
        b.source, b.repo_id, b.revision, b.endpoint, b.path)


def review_state(session: Session, review: Review | None,
                 results: dict[str, StageResult]) -> tuple[Text, Text]:
    """(state, stage glyphs): ``new``, ``decided``, or the recommendation (``k/n`` if incomplete)."""
    stages = session.policy.stages
    glyphs = Text(" ").join(glyph(results[s].status if s in results else None) for s in stages)
    if review is None:
        return Text("new", style="dim"), glyphs
    if review.state != "open":
        return Text(review.state, style="bold"), glyphs
    recommendation = session.policy.recommend(results)
    state = Text(recommendation, style=f"bold {RECOMMENDATION_STYLE[recommendation]}")
    done = sum(1 for s in stages if s in results)
    if done < len(stages):  # the policy's verdict so far; some stages have no stored result
        state.append(f" {done}/{len(stages)}", style="dim")
    return state, glyphs


def queue_rows(session: Session, queue: list[QueueItem]) -> list[QueueRow]:
    """Queued candidates first (with their latest review), then every other review."""
    reviews = session.ledger.reviews()
    shown: set[str] = set()
    rows = []
    for index, item in enumerate(queue):
        latest = next((r for r in reversed(reviews) if same_candidate(r.candidate, item.candidate)), None)
        results = session.ledger.results(latest.id) if latest else {}
        state, glyphs = review_state(session, latest, results)
        if latest:
            shown.add(latest.id)
        rows.append(QueueRow(f"queue:{index}", item.candidate, latest, state, glyphs, item.description))
    for review in reversed(reviews):  # newest first
        if review.id in shown:
            continue
        state, glyphs = review_state(session, review, session.ledger.results(review.id))
        rows.append(QueueRow(f"review:{review.id}", review.candidate, review, state, glyphs,
                             f"review {review.id}"))
    return rows
