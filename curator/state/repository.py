"""Writing the signed state: read the current version (checked from the team's root), sign the
next one, publish targets -> snapshot -> timestamp (the timestamp last: it is the commit).

A targets version with fewer signatures than the targets threshold is a *proposal*: stored
under ``proposal.<ID>.json`` and never read by the gate, until another curator co-signs the
very same bytes and publishes them (the two-person rule).

Writers check signatures from the team's root on, like the gate, but not expiry: refreshing
an expired timestamp is exactly what ``curator state refresh`` is for.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tuf.api.exceptions import RepositoryError
from tuf.api.metadata import Metadata, MetaFile, Root, Snapshot, Targets, Timestamp

from curator.attest.keys import Signer, person_of
from curator.core.errors import CuratorError, DecisionRefused, IntegrityError, UsageError
from curator.state.keys import CuratorSigner
from curator.state.quorum import signed_people, verify_quorum
from curator.state.store import STATE_REPOSITORY, StateStore

TOP_ROLES = ("root", "targets", "snapshot", "timestamp")


@dataclass(frozen=True)
class Expiry:
    """How long each kind of metadata stays valid (days): ``state:`` in default.yaml."""

    timestamp_days: int = 7
    targets_days: int = 365
    root_days: int = 365

    def of(self, role: str, now: dt.datetime) -> dt.datetime:
        days = {"root": self.root_days, "targets": self.targets_days}.get(role, self.timestamp_days)
        return (now + dt.timedelta(days=days)).replace(microsecond=0)


DEFAULT_EXPIRY = Expiry()


@dataclass
class Current:
    """The state as published: each top-level metadata, signatures checked from the anchor on."""

    root: Metadata[Root]
    targets: Metadata[Targets]
    snapshot: Metadata[Snapshot]
    timestamp: Metadata[Timestamp]


@dataclass(frozen=True)
class Published:
    version: int  # the targets version signed
    published: bool  # False: a proposal waiting for more signatures
    signatures: int
    threshold: int
    proposal: str | None = None  # the id it was (or would have been) proposed under


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _parse(data: bytes | None, what: str, cls: type) -> Metadata:  # type: ignore[type-arg]
    if data is None:
        raise IntegrityError(f"the signed state has no {what}", "run 'curator state init' (or re-publish)")
    try:
        md = Metadata.from_bytes(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(
            f"the signed state's {what} is not TUF metadata ({exc})",
            "the signed state in the registry is damaged",
        ) from exc
    if not isinstance(md.signed, cls):
        raise IntegrityError(f"{what} is not {cls.__name__.lower()} metadata", "the signed state is damaged")
    return md


parse_metadata = _parse


def load_current(store: StateStore, anchor: bytes) -> Current:
    """The published state, every signature checked by the root chain that starts at ``anchor``."""
    root: Metadata[Root] = _parse(anchor, "trusted root", Root)
    try:
        verify_quorum(root.signed, "root", root, f"root v{root.signed.version}")
        while True:
            data = store.get(f"{root.signed.version + 1}.root.json")
            if data is None:
                break
            new: Metadata[Root] = _parse(data, f"{root.signed.version + 1}.root.json", Root)
            verify_quorum(root.signed, "root", new, f"root v{root.signed.version + 1}")
            verify_quorum(new.signed, "root", new, f"root v{root.signed.version + 1}")
            if new.signed.version != root.signed.version + 1:
                raise IntegrityError(
                    f"{root.signed.version + 1}.root.json holds version {new.signed.version}",
                    "the signed state is damaged",
                )
            root = new
        ts: Metadata[Timestamp] = _parse(store.get("timestamp.json"), "timestamp.json", Timestamp)
        root.verify_delegate("timestamp", ts)
        snap_meta = ts.signed.snapshot_meta
        snap_data = store.get(f"{snap_meta.version}.snapshot.json")
        snap: Metadata[Snapshot] = _parse(snap_data, f"{snap_meta.version}.snapshot.json", Snapshot)
        assert snap_data is not None
        snap_meta.verify_length_and_hashes(snap_data)
        root.verify_delegate("snapshot", snap)
        targets_meta = snap.signed.meta["targets.json"]
        targets_data = store.get(f"{targets_meta.version}.targets.json")
        targets: Metadata[Targets] = _parse(targets_data, f"{targets_meta.version}.targets.json", Targets)
        assert targets_data is not None
        targets_meta.verify_length_and_hashes(targets_data)
        verify_quorum(root.signed, "targets", targets, f"targets v{targets.signed.version}")
    except (RepositoryError, KeyError) as exc:
        raise IntegrityError(
            f"the signed state in {store.registry.location} does not verify ({exc})",
            "it was altered or signed by keys the team's root does not trust",
        ) from exc
    return Current(root, targets, snap, ts)


def _signers_for(root: Root, role: str, signers: Sequence[Signer]) -> list[CuratorSigner]:
    keyids = set(root.roles[role].keyids)
    return [CuratorSigner(s) for s in signers if s.keyid in keyids]


def _not_a_key(signer: Signer, root: Root, role: str) -> DecisionRefused:
    return DecisionRefused(
        f"{signer.identity.label}'s key ({signer.keyid[:16]}) is not a {role} key of the registry's root "
        f"(version {root.version})",
        "add the curator to checklists/curators.yaml and run 'curator state rotate' (signed by the team)",
    )


def sign_count(root: Root, role: str, md: Metadata) -> int:  # type: ignore[type-arg]
    """How many curators validly signed ``md`` with keys of the role (two keys of one curator
    are one signature: ``quorum.py``)."""
    return len(signed_people(root, role, md))


def publish_top(
    store: StateStore,
    current: Current,
    targets: Metadata[Targets],
    signers: Sequence[Signer],
    expiry: Expiry,
    now: dt.datetime,
) -> None:
    """Store a fully signed targets version, then a snapshot and timestamp naming it."""
    root = current.root.signed
    online = _signers_for(root, "snapshot", signers) and _signers_for(root, "timestamp", signers)
    if not online:
        raise _not_a_key(signers[0], root, "snapshot/timestamp")
    latest = store.get("timestamp.json")
    if (
        latest is not None
        and latest != current.timestamp.to_bytes()
        and Metadata.from_bytes(latest).signed.version != current.timestamp.signed.version
    ):
        raise DecisionRefused(
            "the signed state changed while this change was being signed", "run the command again"
        )
    data = targets.to_bytes()
    store.put(f"{targets.signed.version}.targets.json", data)
    write_snapshot(store, root, versions(current), MetaFile(targets.signed.version), signers, expiry, now)


def versions(current: Current) -> tuple[int, int]:
    """The snapshot and timestamp versions the next publication takes."""
    return current.snapshot.signed.version + 1, current.timestamp.signed.version + 1


def write_snapshot(
    store: StateStore,
    root: Root,
    next_versions: tuple[int, int],
    targets_meta: MetaFile,
    signers: Sequence[Signer],
    expiry: Expiry,
    now: dt.datetime,
) -> None:
    """A new snapshot (naming ``targets_meta``) and timestamp, each signed by one online key."""
    snapshot = Metadata(
        Snapshot(
            version=next_versions[0], expires=expiry.of("snapshot", now), meta={"targets.json": targets_meta}
        )
    )
    for s in _signers_for(root, "snapshot", signers)[: root.roles["snapshot"].threshold]:
        snapshot.sign(s, append=True)
    snap_bytes = snapshot.to_bytes()
    store.put(f"{snapshot.signed.version}.snapshot.json", snap_bytes)

    timestamp = Metadata(
        Timestamp(
            version=next_versions[1],
            expires=expiry.of("timestamp", now),
            snapshot_meta=MetaFile(
                snapshot.signed.version, len(snap_bytes), {"sha256": hashlib.sha256(snap_bytes).hexdigest()}
            ),
        )
    )
    for s in _signers_for(root, "timestamp", signers)[: root.roles["timestamp"].threshold]:
        timestamp.sign(s, append=True)
    store.put("timestamp.json", timestamp.to_bytes())


def next_targets(
    current: Current, change: Callable[[Targets], None], expiry: Expiry, now: dt.datetime
) -> Metadata[Targets]:
    """The next targets version: the current one with ``change`` applied, unsigned."""
    md: Metadata[Targets] = Metadata.from_bytes(current.targets.to_bytes())
    md.signatures.clear()
    change(md.signed)
    md.signed.version = current.targets.signed.version + 1
    md.signed.expires = expiry.of("targets", now)
    return md


def sign_change(
    store: StateStore,
    anchor: bytes,
    change: Callable[[Targets], None],
    signers: Sequence[Signer],
    expiry: Expiry,
    proposal_id: str,
    now: dt.datetime | None = None,
) -> Published:
    """Sign the next targets version with ``signers``: published if they reach the threshold,
    else stored as proposal ``proposal_id`` for another curator to co-sign."""
    now = now or now_utc()
    with store.lock():
        current = load_current(store, anchor)
        root = current.root.signed
        for s in signers:
            if s.keyid not in root.roles["targets"].keyids:
                raise _not_a_key(s, root, "targets")
        md = next_targets(current, change, expiry, now)
        for tuf_signer in _signers_for(root, "targets", signers):
            md.sign(tuf_signer, append=True)
        return _publish_or_propose(store, current, md, signers, expiry, proposal_id, now)


def _publish_or_propose(
    store: StateStore,
    current: Current,
    md: Metadata[Targets],
    signers: Sequence[Signer],
    expiry: Expiry,
    proposal_id: str,
    now: dt.datetime,
) -> Published:
    root = current.root.signed
    count, threshold = sign_count(root, "targets", md), root.roles["targets"].threshold
    if count >= threshold:
        publish_top(store, current, md, signers, expiry, now)
        return Published(md.signed.version, True, count, threshold, proposal_id)
    store.put(f"proposal.{proposal_id}.json", md.to_bytes())
    return Published(md.signed.version, False, count, threshold, proposal_id)


def cosign(
    store: StateStore,
    anchor: bytes,
    proposal_id: str,
    signers: Sequence[Signer],
    expiry: Expiry,
    expected: Callable[[Targets], None] | None = None,
    now: dt.datetime | None = None,
) -> Published:
    """Add ``signers``' signatures to a proposal and publish it once the threshold is met.

    ``expected`` is the change the co-signer means to approve: the proposal must be the
    current targets with exactly that change (its expiry and ledger head aside), or nothing
    is signed. Without it the co-signer signs what ``curator state show`` displayed.
    """
    now = now or now_utc()
    data = store.get(f"proposal.{proposal_id}.json")
    if data is None:
        raise DecisionRefused(
            f"there is no proposal '{proposal_id}' in {store.registry.location}",
            "the first approval proposes the change; check 'curator state show'",
        )
    proposal: Metadata[Targets] = _parse(data, f"proposal {proposal_id}", Targets)
    with store.lock():
        return _cosign(store, anchor, proposal_id, proposal, signers, expiry, expected, now)


def _cosign(
    store: StateStore,
    anchor: bytes,
    proposal_id: str,
    proposal: Metadata[Targets],
    signers: Sequence[Signer],
    expiry: Expiry,
    expected: Callable[[Targets], None] | None,
    now: dt.datetime,
) -> Published:
    current = load_current(store, anchor)
    root = current.root.signed
    if proposal.signed.version != current.targets.signed.version + 1:
        raise DecisionRefused(
            f"proposal {proposal_id} changes targets v{proposal.signed.version - 1}, but the "
            f"signed state is at v{current.targets.signed.version} now",
            "the proposal is stale: open a new review with --fresh and approve it again",
        )
    if expected is not None:
        # to_dict() shares nested dicts with the metadata: compare copies, sign the original
        want = copy.deepcopy(next_targets(current, expected, expiry, now).signed.to_dict())
        got = copy.deepcopy(proposal.signed.to_dict())
        for doc in (want, got):
            doc.pop("expires", None)
            doc.get("x-curator", {}).pop("ledger", None)
        if want != got:
            raise DecisionRefused(
                f"proposal {proposal_id} is not the change being approved",
                "nothing was signed; compare it with 'curator state show --json'",
            )
    if proposal.signed.expires > expiry.of("targets", now) + dt.timedelta(days=1):
        raise DecisionRefused(f"proposal {proposal_id} expires beyond the team's limit", "nothing was signed")
    _refuse_unsound(proposal_id, proposal, current)
    if not _signers_for(root, "targets", signers):
        raise _not_a_key(signers[0], root, "targets")
    already = signed_people(root, "targets", proposal)
    for s in _signers_for(root, "targets", signers):
        if s.keyid in proposal.signatures or person_of(s.curator.identity.email) in already:
            raise DecisionRefused(
                f"{s.curator.identity.label} already signed proposal {proposal_id}",
                "another curator must co-sign it (a second key of the same curator is not a second curator)",
            )
        proposal.sign(s, append=True)
    published = _publish_or_propose(store, current, proposal, signers, expiry, proposal_id, now)
    if published.published:
        # best effort: where tags cannot be deleted, a published proposal is recognised and skipped
        with contextlib.suppress(CuratorError):
            store.registry.delete_tag(STATE_REPOSITORY, f"proposal.{proposal_id}.json")
    return published


def _refuse_unsound(proposal_id: str, proposal: Metadata[Targets], current: Current) -> None:
    """Nothing is signed over a proposal whose signatures do not verify (altered after it was
    signed, or signed by a key the root does not trust) or that changes what no curator command
    changes (an approved model dropped with no record, a retirement or rejection erased)."""
    from curator.state.proposals import FORBIDDEN, describe

    found = describe(proposal_id, proposal, current)
    if found.problem:
        raise IntegrityError(f"proposal {proposal_id} is {found.problem}",
                             "nothing was signed; ask its proposer to propose the change again")
    bad = [c for c in found.changes if c.action in FORBIDDEN]
    if bad:
        raise DecisionRefused(f"proposal {proposal_id} would {bad[0].line}",
                              "nothing was signed; no curator command signs such a change: ask who stored it")


def usage_if_empty(signers: Sequence[Signer]) -> None:
    if not signers:
        raise UsageError("no curator key to sign with", "pass --key-dir, or run 'curator keys init'")
