"""The one projection of "what is approved": each reviewed revision's standing, from the chain.

A review stands *approved* when its latest decision is a final approval; a quarterly retire of
it, or a later rejection of the same manifest digest (in any review), takes that back. Every
reader of "approved" (lineage and look-alike checks, swap, rollback, the inventory) goes
through here, so they cannot disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from curator.core.standing import APPROVED, REJECTED, RETIRED, Standing, Standings

if TYPE_CHECKING:
    from curator.ledger.base import LedgerBase


def _who(payload: dict[str, Any]) -> str:
    curator = payload.get("curator")
    if isinstance(curator, dict):
        return str(curator.get("name") or curator.get("email") or "")
    return str(curator or "")


def standings(ledger: LedgerBase) -> Standings:
    """Every decided review's standing (an empty set without a ledger)."""
    if ledger is None:
        return Standings()
    reviews = ledger.reviews()
    repo_of = {review.id: review.candidate.repo_id for review in reviews}
    decided = {review.id for review in reviews if review.state == "decided"}
    current: dict[str, Standing] = {}
    rejected_digests: dict[str, tuple[float, str, str]] = {}
    for event in ledger.events():
        review_id, payload, kind = event.get("review_id"), event.get("payload") or {}, event["kind"]
        if review_id not in repo_of or not isinstance(payload, dict):
            continue
        when = float(event["time"])
        digest = payload.get("subject_digest") or payload.get("digest")
        if kind == "decision":
            final = payload.get("final", payload.get("outcome"))
            if final == APPROVED and review_id in decided:
                current[review_id] = Standing(repo_of[review_id], review_id, APPROVED,
                                              digest, when, _who(payload), str(payload.get("rationale", "")))
            elif final == REJECTED or payload.get("outcome") == REJECTED:
                current[review_id] = Standing(repo_of[review_id], review_id, REJECTED,
                                              digest, when, _who(payload), str(payload.get("rationale", "")))
                if digest:
                    rejected_digests[str(digest)] = (when, _who(payload), str(payload.get("rationale", "")))
        elif kind == "quarterly_action" and payload.get("action") == "retire":
            current[review_id] = Standing(repo_of[review_id], review_id, RETIRED, digest, when,
                                          _who(payload), str(payload.get("rationale", "")))
    found = []
    for standing in current.values():
        later = rejected_digests.get(standing.digest or "")
        if standing.approved and later and later[0] >= standing.time:
            standing = Standing(standing.repo_id, standing.review_id, REJECTED, standing.digest, *later)
        found.append(standing)
    return Standings(found)
