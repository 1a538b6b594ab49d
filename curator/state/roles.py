"""The team's root of trust: ``curator state init`` (the first root, from curators.yaml),
``curator state rotate`` (the root follows curators.yaml again: keys added, revoked keys
dropped) and ``curator state refresh`` (new snapshot and timestamp, for a scheduled job).

Every curator key is a key of every top-level role. Root and targets need
``decision.approvals_required`` signatures; snapshot and timestamp one (any curator,
or the scheduled job's curator key, can keep the state fresh but cannot change it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuf.api.metadata import Metadata, MetaFile, Root, Targets

from curator.attest.keys import Signer, person_of
from curator.attest.trust import TrustedCurator
from curator.core.errors import DecisionRefused, UsageError
from curator.state.content import EXTENSION
from curator.state.keys import CuratorSigner, tuf_key
from curator.state.repository import (
    DEFAULT_EXPIRY,
    TOP_ROLES,
    Current,
    Expiry,
    load_current,
    now_utc,
    sign_count,
    versions,
    write_snapshot,
)
from curator.state.store import StateStore

#: the team's trust anchor, next to curators.yaml in the policy repository
ANCHOR_FILE = "root.json"


def _team(curators: Sequence[TrustedCurator], threshold: int) -> list[TrustedCurator]:
    active = [c for c in curators if not c.revoked]
    people = {person_of(c.email) or c.keyid for c in active}  # two keys of one curator are one
    if len(people) < threshold:
        raise UsageError(
            f"the team's curators.yaml lists {len(people)} active curator(s) but "
            f"decision.approvals_required is {threshold}",
            "add curators (the entry 'curator keys show' prints) or lower approvals_required",
        )
    return active


#: the team's decision rules the gate holds every decision to, signed into the root
RULES_FIELD = "x-curator-rules"


def build_root(
    curators: Sequence[TrustedCurator], threshold: int, version: int, expires: dt.datetime,
    rules: dict[str, Any] | None = None,
) -> Root:
    root = Root(version=version, expires=expires, consistent_snapshot=True,
                unrecognized_fields={RULES_FIELD: rules} if rules else None)
    for curator in curators:
        for role in TOP_ROLES:
            root.add_key(tuf_key(curator), role)
    for role in TOP_ROLES:
        root.roles[role].threshold = threshold if role in ("root", "targets") else 1
    return root


def _sign(md: Metadata, root: Root, role: str, signers: Sequence[Signer]) -> int:  # type: ignore[type-arg]
    keyids = set(root.roles[role].keyids)
    for signer in signers:
        if signer.keyid in keyids and signer.keyid not in md.signatures:
            md.sign(CuratorSigner(signer), append=True)
    return sign_count(root, role, md)


def _need(count: int, threshold: int, what: str) -> None:
    if count < threshold:
        raise DecisionRefused(
            f"{what} needs {threshold} curator signature(s); the keys given made {count}",
            "pass each listed curator's --key-dir (the team signs its root together)",
        )


def write_anchor(anchor: Path, root: Metadata[Root]) -> None:
    """Write the team's trust anchor (commit it to the policy repository)."""
    import os
    import tempfile

    anchor.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".root-", dir=anchor.parent)
    with os.fdopen(fd, "wb") as out:
        out.write(root.to_bytes())
        out.flush()
        os.fsync(out.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, anchor)


def init_state(
    registry_store: StateStore,
    curators: Sequence[TrustedCurator],
    signers: Sequence[Signer],
    threshold: int,
    anchor: Path,
    expiry: Expiry = DEFAULT_EXPIRY,
    now: dt.datetime | None = None,
    rules: dict[str, Any] | None = None,
) -> Metadata[Root]:
    """The first root (every curator listed, signed by ``threshold`` of them), an empty
    targets, snapshot and timestamp in the registry; the root also goes to ``anchor``."""
    now = now or now_utc()
    store = registry_store
    if store.get("1.root.json") is not None:
        raise UsageError(
            f"{store.registry.location} already has a signed state",
            "change who the curators are with 'curator state rotate'",
        )
    team = _team(curators, threshold)
    root = Metadata(build_root(team, threshold, 1, expiry.of("root", now), rules))
    _need(_sign(root, root.signed, "root", signers), threshold, "the first root")
    publish_first(store, root, signers, expiry, now)
    write_anchor(anchor, root)
    return root


def publish_first(store: StateStore, root: Metadata[Root], signers: Sequence[Signer], expiry: Expiry,
                  now: dt.datetime) -> None:
    """A registry's first state under ``root``: empty targets signed by enough of ``signers``,
    snapshot and timestamp, then the root itself (``N.root.json`` and ``root.json``)."""
    targets = Metadata(
        Targets(
            version=1,
            expires=expiry.of("targets", now),
            unrecognized_fields={EXTENSION: {"names": {}, "retired": {}, "rejected": {}}},
        )
    )
    _need(_sign(targets, root.signed, "targets", signers), root.signed.roles["targets"].threshold,
          "the first targets")
    store.put("1.targets.json", targets.to_bytes())
    write_snapshot(store, root.signed, (1, 1), MetaFile(1), signers, expiry, now)
    root_bytes = root.to_bytes()
    store.put(f"{root.signed.version}.root.json", root_bytes)
    store.put("root.json", root_bytes)


def rotate_root(
    store: StateStore,
    anchor_bytes: bytes,
    curators: Sequence[TrustedCurator],
    signers: Sequence[Signer],
    threshold: int,
    anchor: Path,
    expiry: Expiry = DEFAULT_EXPIRY,
    now: dt.datetime | None = None,
    rules: dict[str, Any] | None = None,
) -> Metadata[Root]:
    """A new root whose keys are curators.yaml's active curators, signed by the old root's
    threshold and the new one's; targets are re-signed by the new keys so a revoked key's
    signatures count for nothing from this version on."""
    now = now or now_utc()
    current = load_current(store, anchor_bytes)
    old = current.root.signed
    team = _team(curators, threshold)
    new = Metadata(build_root(team, threshold, old.version + 1, expiry.of("root", now), rules))
    _sign(new, old, "root", signers)  # a revoked curator's key still signs its own removal
    _sign(new, new.signed, "root", signers)
    _need(
        sign_count(old, "root", new),
        old.roles["root"].threshold,
        f"root v{old.version + 1} (by the old root)",
    )
    _need(sign_count(new.signed, "root", new), threshold, f"root v{old.version + 1} (by the new root)")
    targets: Metadata[Targets] = Metadata.from_bytes(current.targets.to_bytes())
    targets.signed.version += 1
    targets.signed.expires = expiry.of("targets", now)
    targets.signatures.clear()
    _need(_sign(targets, new.signed, "targets", signers), threshold, f"targets v{targets.signed.version}")
    root_bytes = new.to_bytes()
    store.put(f"{new.signed.version}.root.json", root_bytes)
    store.put("root.json", root_bytes)
    store.put(f"{targets.signed.version}.targets.json", targets.to_bytes())
    write_snapshot(
        store, new.signed, versions(current), MetaFile(targets.signed.version), signers, expiry, now
    )
    write_anchor(anchor, new)
    return new


def refresh_state(
    store: StateStore,
    anchor_bytes: bytes,
    signers: Sequence[Signer],
    expiry: Expiry = DEFAULT_EXPIRY,
    now: dt.datetime | None = None,
) -> Current:
    """Re-sign snapshot and timestamp (new versions, new expiry) for the same targets."""
    now = now or now_utc()
    current = load_current(store, anchor_bytes)
    if not any(s.keyid in current.root.signed.roles["timestamp"].keyids for s in signers):
        raise DecisionRefused(
            "none of the keys given is a timestamp key of the registry's root",
            "sign with a curator key listed in the team's root",
        )
    write_snapshot(
        store,
        current.root.signed,
        versions(current),
        MetaFile(current.targets.signed.version),
        signers,
        expiry,
        now,
    )
    return load_current(store, anchor_bytes)
