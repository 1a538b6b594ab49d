"""The one projection of "what is approved": each reviewed revision's standing, from the chain.

A review stands *approved* when its latest decision is a final approval; a quarterly retire of
it, or a later rejection of the same manifest digest (in any review), takes that back. Every
reader of "approved" (lineage and look-alike checks, swap, rollback, the inventory) goes
through here, so they cannot disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from curator.core.events import DecisionMade, QuarterlyActionTaken, curator_name
from curator.core.standing import APPROVED, REJECTED, RETIRED, Standing, Standings

if TYPE_CHECKING:
    from curator.ledger.base import LedgerBase


def standings(ledger: LedgerBase) -> Standings:
    """Every decided review's standing (an empty set without a ledger)."""
    if ledger is None:
        return Standings()
    reviews = ledger.reviews()
    repo_of = {review.id: review.candidate.repo_id for review in reviews}
    decided = {review.id for review in reviews if review.state == "decided"}
    current: dict[str, Standing] = {}
    rejected_digests: dict[str, tuple[float, str, str]] = {}
    for row in ledger.read_kinds(DecisionMade, QuarterlyActionTaken):
        review_id, event, when = row.review_id, row.event, row.time
        if review_id not in repo_of:
            continue
        if isinstance(event, DecisionMade):
            who, digest = curator_name(event.curator), event.subject_digest
            if event.settled == APPROVED and review_id in decided:
                current[review_id] = Standing(repo_of[review_id], review_id, APPROVED,
                                              digest, when, who, event.rationale)
            elif event.settled == REJECTED or event.outcome == REJECTED:
                current[review_id] = Standing(repo_of[review_id], review_id, REJECTED,
                                              digest, when, who, event.rationale)
                if digest:
                    rejected_digests[digest] = (when, who, event.rationale)
        elif isinstance(event, QuarterlyActionTaken) and event.action == "retire":
            current[review_id] = Standing(repo_of[review_id], review_id, RETIRED, event.digest, when,
                                          curator_name(event.curator), event.rationale)
    found = []
    for standing in current.values():
        later = rejected_digests.get(standing.digest or "")
        if standing.approved and later and later[0] >= standing.time:
            standing = Standing(standing.repo_id, standing.review_id, REJECTED, standing.digest, *later)
        found.append(standing)
    return Standings(found)
