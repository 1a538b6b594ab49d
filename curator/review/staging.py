"""Staged candidates in a team: the pinned files of every review, readable by every curator.

When a review's fetch completes in a team setup (a shared ledger and a shared registry, or
``registry.staging: true``), its files go to the registry's ``staging/`` namespace and a
``staged`` event in the ledger says where. A curator who resumes or decides a review that
another curator opened gets the files from there, each one re-hashed against the digests
the review pinned, before any stage reads them or anything is signed or pushed. A single
curator's workspace (SQLite ledger, registry in the workspace) never stages: its files are
already where it works.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from curator.core.errors import IntegrityError, UsageError
from curator.core.events import Staged, Unstaged
from curator.core.evidence.fetch import FetchEvidence
from curator.core.hashing import changed_files
from curator.core.models import Manifest, Review, Status
from curator.registry import configured_url, open_registry, settings
from curator.registry.artifact import model_artifact
from curator.registry.interface import Registry
from curator.registry.staging import stage, staging_name, unstage

if TYPE_CHECKING:
    from curator.core.policy import Policy
    from curator.review.session import Session

STAGED = Staged.KIND
UNSTAGED = Unstaged.KIND


def staging_enabled(policy: Policy) -> bool:
    """``registry.staging``: true, false, or auto (on when both the ledger and the registry are shared)."""
    from curator.ledger import ledger_url

    chosen = settings(policy).get("staging", "auto")
    if chosen == "auto":
        return bool(ledger_url(policy)) and bool(configured_url(policy))
    if not isinstance(chosen, bool):
        raise UsageError(f"checklist setting registry.staging is {chosen!r}", "use true, false or auto")
    return chosen


def staged(session: Session, review_id: str) -> Staged | None:
    """Where the review's files were staged (the latest ``staged`` event), if they were."""
    events = session.ledger.read(Staged, review_id)
    return events[-1].event if events else None


def pinned_manifest(session: Session, review_id: str) -> Manifest | None:
    fetch = session.ledger.results(review_id).get("fetch")
    if fetch is None or fetch.status not in (Status.PASSED, Status.WARNED):
        return None
    return FetchEvidence.of(fetch).manifest


def stage_review(session: Session, review: Review, registry: Registry | None = None) -> Staged | None:
    """Stage a fetched review's files once; the ``staged`` event, or None when there is nothing."""
    manifest = pinned_manifest(session, review.id)
    if manifest is None:
        return None
    done = staged(session, review.id)
    if done is not None:
        return done
    registry = registry or open_registry(session.workspace.registry_dir, session.policy)
    section = settings(session.policy)
    _, _, artifact = model_artifact(session.policy, review, manifest)
    name = staging_name(review.id, str(section.get("namespace", "")))
    sent, skipped = stage(registry, name, artifact, session.context(review).files_dir,
                          workers=int(section.get("parallel_blobs", 4)))
    event = Staged(registry.location, name, artifact.digest, len(manifest.files), sent, skipped)
    session.ledger.record(event, review.id)
    return event


def restore_files(session: Session, review: Review, registry: Registry | None = None) -> list[str]:
    """Bring a staged review's pinned files into this workspace; the paths pulled.

    Files already here with the pinned bytes stay; nothing happens for a review that was
    never staged (the caller's own re-hash then says what is missing).
    """
    manifest = pinned_manifest(session, review.id)
    where = staged(session, review.id)
    if manifest is None or where is None:
        return []
    files_dir = session.context(review).files_dir
    if not changed_files(files_dir, [(f.path, f.sha256) for f in manifest.files]):
        return []
    registry = registry or open_registry(session.workspace.registry_dir, session.policy)
    if registry.location != where.registry:
        raise UsageError(f"review {review.id} is staged in {where.registry}, but this workspace's "
                         f"registry is {registry.location}",
                         "use the team's registry (registry.url or $CURATOR_REGISTRY)")
    _, _, artifact = model_artifact(session.policy, review, manifest)
    if artifact.digest != where.digest:
        raise IntegrityError(f"review {review.id} was staged as {where.digest}, but its pinned files "
                             f"make {artifact.digest}", "open a new review with --fresh")
    pulled = unstage(registry, where.name, artifact, files_dir,
                     workers=int(settings(session.policy).get("parallel_blobs", 4)))
    from curator.attest.keys import current_identity

    session.ledger.record(Unstaged(registry.location, where.name, tuple(pulled),
                                   current_identity(session.workspace.keys_dir)), review.id)
    return pulled
