"""A valid signature of an old release: the publisher's retired, rejected or superseded bytes again.

A signature says who signed which bytes, never when or for which revision: a release the
publisher once signed, that this organisation since retired (a backdoor found, a licence
pulled) or rejected, still verifies forever. Replayed as a new commit, under the same repo or
another, it would pass the signature stage as if it were a new release. So the stage compares
what the signature vouches for with every decided review's pinned files: when every file it
signs is byte for byte one earlier revision's file at the same path, it is that release. A
withdrawn one fails; an approved one that a newer approval of the same repo superseded warns
(a downgrade).
"""

from __future__ import annotations

from collections.abc import Iterable

from curator.core.models import Finding, Severity, pinned_manifest
from curator.core.stage import ReviewLedger
from curator.core.standing import APPROVED, REJECTED, RETIRED, Standing, Standings

TOOL = "curator"


def withdrawn_findings(signed: Iterable[tuple[str, str]], standings: Standings, ledger: ReviewLedger | None,
                       review_id: str) -> list[Finding]:
    """A finding for each earlier review whose pinned files hold every signed (path, sha256): high
    when it was retired or rejected, medium when it is approved but superseded."""
    vouched = set(signed)
    if not vouched or ledger is None:
        return []
    found = []
    for standing in standings:
        if standing.review_id == review_id or not _judged(standing, standings):
            continue
        manifest = pinned_manifest(ledger.results(standing.review_id))
        if manifest is None or not vouched <= {(f.path, f.sha256) for f in manifest.files}:
            continue
        same = (f"every file this signature vouches for is byte for byte {standing.repo_id} as reviewed "
                f"in {standing.review_id}")
        if standing.status == APPROVED:
            latest = standings.approval(standing.repo_id)
            found.append(Finding(Severity.MEDIUM, "signed-release-superseded",
                                 f"{same}, an approved release since superseded by review "
                                 f"{latest.review_id if latest else '?'}: this is a downgrade", TOOL))
        else:
            found.append(Finding(Severity.HIGH, "signed-release-withdrawn",
                                 f"{same}, {standing.describe()}: a valid signature does not bring a "
                                 "withdrawn release back; review the publisher's current release instead",
                                 TOOL))
    return found


def _judged(standing: Standing, standings: Standings) -> bool:
    """Withdrawn, or approved but no longer the repo's latest approval."""
    if standing.status in (RETIRED, REJECTED):
        return True
    latest = standings.approval(standing.repo_id)
    return standing.status == APPROVED and latest is not None and latest.review_id != standing.review_id
