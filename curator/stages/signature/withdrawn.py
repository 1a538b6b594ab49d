"""A valid signature of a withdrawn release: the publisher's old, retired or rejected bytes again.

A signature says who signed which bytes, never when or for which revision: a release the
publisher once signed, that this organisation since retired (a backdoor found, a licence
pulled) or rejected, still verifies forever. Replayed as a new commit, under the same repo or
another, it would pass the signature stage as if it were a new release. So the stage compares
what the signature vouches for with every withdrawn review's pinned files: when every file it
signs is byte for byte one withdrawn revision's file at the same path, it is that release.
"""

from __future__ import annotations

from collections.abc import Iterable

from curator.core.models import Finding, Severity, pinned_manifest
from curator.core.stage import ReviewLedger
from curator.core.standing import REJECTED, RETIRED, Standings

TOOL = "curator"


def withdrawn_findings(signed: Iterable[tuple[str, str]], standings: Standings, ledger: ReviewLedger | None,
                       review_id: str) -> list[Finding]:
    """A high finding for each withdrawn review whose pinned files hold every signed (path, sha256)."""
    vouched = set(signed)
    if not vouched or ledger is None:
        return []
    found = []
    for standing in standings:
        if standing.status not in (RETIRED, REJECTED) or standing.review_id == review_id:
            continue
        manifest = pinned_manifest(ledger.results(standing.review_id))
        if manifest is None or not vouched <= {(f.path, f.sha256) for f in manifest.files}:
            continue
        found.append(Finding(
            Severity.HIGH, "signed-release-withdrawn",
            f"every file this signature vouches for is byte for byte {standing.repo_id} as reviewed in "
            f"{standing.review_id}, {standing.describe()}: a valid signature does not bring a withdrawn "
            "release back; review the publisher's current release instead", TOOL))
    return found
