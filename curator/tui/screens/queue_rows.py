"""The rows of the queue: queued candidates and the ledger's reviews, with their state."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from rich.text import Text

from curator.core.events import DecisionMade, Pushed, PushFailed
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
    #: still being prepared: it cannot be opened yet
    waiting: bool = False

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


#: the state of an approval whose artifact is not in the registry (Enter opens it to retry the push)
UNPUSHED = "approved, not pushed"


def outcome(session: Session, review: Review) -> tuple[Text, str]:
    """A decided review's outcome in words (approved, rejected, approved, not pushed), and why."""
    decisions = session.ledger.read(DecisionMade, review.id)
    final = str(decisions[-1].event.final) if decisions else review.state
    if final == "rejected":
        return Text("rejected", style="bold red"), ""
    if final != "approved":
        return Text(final, style="bold"), ""
    if session.ledger.read(Pushed, review.id):
        return Text("approved", style="bold green"), ""
    failed = session.ledger.read(PushFailed, review.id)
    reason = failed[-1].event.error.splitlines()[0] if failed else "never pushed"
    return Text(UNPUSHED, style="bold yellow"), f"push failed: {reason}" if failed else reason


def review_state(session: Session, review: Review | None,
                 results: dict[str, StageResult]) -> tuple[Text, Text]:
    """(state, stage glyphs): ``new``, the outcome, or the recommendation (``k/n`` if incomplete)."""
    stages = session.policy.stages
    glyphs = Text(" ").join(glyph(results[s].status if s in results else None) for s in stages)
    if review is None:
        return Text("new", style="dim"), glyphs
    if review.state != "open":
        return outcome(session, review)[0], glyphs
    recommendation = session.policy.recommend(results)
    state = Text(recommendation, style=f"bold {RECOMMENDATION_STYLE[recommendation]}")
    done = sum(1 for s in stages if s in results)
    if done < len(stages):  # the policy's verdict so far; some stages have no stored result
        state.append(f" {done}/{len(stages)}", style="dim")
    return state, glyphs


PREPARING = "preparing…"


def _note(session: Session, review: Review | None, note: str) -> str:
    """The row's note, led by why an approved review is not pushed."""
    if review is None or review.state == "open":
        return note
    why = outcome(session, review)[1]
    return f"{why} · {note}" if why else note


def queue_rows(session: Session, queue: list[QueueItem], preparing: Collection[str] = ()) -> list[QueueRow]:
    """Queued candidates first (with their latest review), then every other review.

    A queued candidate whose ``waits_for`` is in ``preparing`` is not built yet: it says so.
    """
    reviews = session.ledger.reviews()
    shown: set[str] = set()
    rows = []
    for index, item in enumerate(queue):
        latest = next((r for r in reversed(reviews) if same_candidate(r.candidate, item.candidate)), None)
        results = session.ledger.results(latest.id) if latest else {}
        state, glyphs = review_state(session, latest, results)
        waiting = item.waits_for is not None and item.waits_for in preparing
        if waiting:
            state = Text(PREPARING, style="italic yellow")
        if latest:
            shown.add(latest.id)
        rows.append(QueueRow(f"queue:{index}", item.candidate, latest, state, glyphs,
                             _note(session, latest, item.description), waiting))
    for review in reversed(reviews):  # newest first
        if review.id in shown:
            continue
        state, glyphs = review_state(session, review, session.ledger.results(review.id))
        rows.append(QueueRow(f"review:{review.id}", review.candidate, review, state, glyphs,
                             _note(session, review, f"review {review.id}")))
    return rows
