"""Reading the signed state the way a deploy gate must: python-tuf's client workflow.

``ngclient.Updater`` starts from the team's root (the trust anchor in the policy
repository, never a file in the workspace), follows root rotations, and refuses expired
(freeze), rolled-back and mix-and-match metadata. Its fetcher reads TUF files from the
registry's ``curator-state`` repository. The metadata it trusted is kept in a state
folder, so a later run refuses anything older than what an earlier run saw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tuf.api import exceptions as tuf_errors
from tuf.api.metadata import Metadata, Root, Targets
from tuf.ngclient import Updater
from tuf.ngclient.fetcher import FetcherInterface

from curator.attest.trust import TrustedCurator
from curator.core.errors import CuratorError, IntegrityError, UsageError
from curator.state.content import SignedState
from curator.state.keys import curator_of
from curator.state.quorum import verify_quorum
from curator.state.store import MAX_METADATA_BYTES, StateStore

BASE_URL = "curator-state:///"


class StateRefused(IntegrityError):
    """The signed state failed the TUF client workflow: the gate says no (exit 1)."""


class RegistryFetcher(FetcherInterface):
    """Serves ``BASE_URL + FILE`` from the registry's ``curator-state`` tags."""

    def __init__(self, store: StateStore) -> None:
        self.store = store

    def _fetch(self, url: str) -> Iterator[bytes]:
        from urllib.parse import unquote

        name = unquote(url.removeprefix(BASE_URL))
        data = self.store.get(name)
        if data is None:
            raise tuf_errors.DownloadHTTPError(f"{name} is not in the signed state", 404)
        return iter([data])


@dataclass(frozen=True)
class TrustedState:
    """What the TUF client workflow accepted: the root (who the curators are) and the targets."""

    root: Root
    state: SignedState
    registry: str

    def curators(self) -> dict[str, TrustedCurator]:
        """The targets signers of the trusted root, as curator identities (by key id)."""
        keyids = set(self.root.roles["targets"].keyids)
        found = [curator_of(key) for kid, key in self.root.keys.items() if kid in keyids]
        return {c.keyid: c for c in found}


def state_dir_for(base: Path, location: str) -> Path:
    """One client metadata folder per registry (the same anchor may serve several)."""
    return base / hashlib.sha256(location.encode()).hexdigest()[:16]


def read_anchor(anchor: Path) -> bytes:
    try:
        return anchor.read_bytes()
    except FileNotFoundError as exc:
        raise UsageError(
            f"no trusted root at {anchor}",
            "the team runs 'curator state init' once and commits root.json next to "
            "curators.yaml; point CURATOR_CHECKLISTS at that policy folder",
        ) from exc


def load_trusted(
    store: StateStore, anchor: bytes, state_dir: Path, production_tag: str = "prod"
) -> TrustedState:
    """Run the TUF client workflow; StateRefused names what failed in plain words."""
    from tuf.ngclient import UpdaterConfig

    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        config = UpdaterConfig(
            targets_max_length=MAX_METADATA_BYTES,
            snapshot_max_length=MAX_METADATA_BYTES,
            root_max_length=1 << 20,
            timestamp_max_length=1 << 20,
        )
        updater = Updater(
            str(state_dir), BASE_URL, fetcher=RegistryFetcher(store), config=config, bootstrap=anchor
        )
        updater.refresh()
        # what the workflow accepted, as objects: reading the cache folder again would take
        # whatever someone wrote there since
        root, targets = updater._trusted_set.root, updater._trusted_set.targets
        _check_people(anchor, state_dir, root, targets)
        _refuse_newer(store, root, updater._trusted_set.snapshot.version)
    except OSError as exc:
        raise UsageError(
            f"cannot keep the signed state's metadata in {state_dir} ({exc.strerror})",
            "pass --state-dir with a writable folder",
        ) from exc
    except tuf_errors.ExpiredMetadataError as exc:
        raise StateRefused(
            f"the signed state of {store.registry.location} has expired ({exc}): a frozen or stale registry",
            "a curator runs 'curator state refresh'",
        ) from exc
    except (tuf_errors.BadVersionNumberError, Replayed) as exc:
        raise StateRefused(
            f"the signed state of {store.registry.location} was rolled back ({exc})",
            "someone re-published older metadata; restore the latest state",
        ) from exc
    except tuf_errors.UnsignedMetadataError as exc:
        raise StateRefused(
            f"the signed state of {store.registry.location} is not signed by enough "
            f"trusted curator keys ({exc})",
            "only the team's root decides whose signatures count",
        ) from exc
    except (tuf_errors.LengthOrHashMismatchError, tuf_errors.DownloadLengthMismatchError) as exc:
        raise StateRefused(
            f"the signed state of {store.registry.location} mixes versions ({exc})",
            "the snapshot and targets in the registry do not belong together",
        ) from exc
    except tuf_errors.DownloadHTTPError as exc:
        raise StateRefused(
            f"{store.registry.location} has no signed state ({exc})",
            "run 'curator state init' for this registry, or push to it with curator",
        ) from exc
    except (tuf_errors.RepositoryError, tuf_errors.DownloadError) as exc:
        cause = _operational(exc)
        if cause is not None:  # the registry is down or refuses us: not a verdict on the state
            raise cause from exc
        raise StateRefused(
            f"the signed state of {store.registry.location} does not verify ({exc})",
            "the state in the registry was altered",
        ) from exc
    except ValueError as exc:  # the anchor itself is not root metadata
        raise UsageError(
            f"the trusted root is not TUF root metadata ({exc})",
            "restore root.json from the team's policy repository",
        ) from exc
    return TrustedState(root, SignedState(targets, production_tag), store.registry.location)


def _check_people(anchor: bytes, state_dir: Path, root: Root, targets: Targets) -> None:
    """TUF counted keys; the team counts curators (``quorum.py``): each root from the anchor to
    the trusted one, and the trusted targets, again by person. The signatures come from the
    files the workflow kept; each must hold exactly the metadata it accepted."""
    md: Metadata[Root] = Metadata.from_bytes(anchor)
    verify_quorum(md.signed, "root", md, "the team's root")
    for version in range(md.signed.version + 1, root.version + 1):
        new: Metadata[Root] = Metadata.from_bytes(_kept(state_dir / "root_history" / f"{version}.root.json"))
        verify_quorum(md.signed, "root", new, f"root v{version}")
        verify_quorum(new.signed, "root", new, f"root v{version}")
        md = new
    signed: Metadata[Targets] = Metadata.from_bytes(_kept(state_dir / "targets.json"))
    if md.signed != root or signed.signed != targets:
        raise tuf_errors.RepositoryError(f"the metadata kept in {state_dir} changed while it was checked")
    verify_quorum(root, "targets", signed, f"targets v{targets.version}")


class Replayed(tuf_errors.RepositoryError):
    """The registry holds signed metadata newer than the timestamp it serves."""


def _refuse_newer(store: StateStore, root: Root, snapshot: int) -> None:
    """A gate that kept no state (a fresh CI workspace, a deleted state folder) has no older
    version to compare with, and an unexpired timestamp of last week would take it back to
    last week's approved set. The registry keeps every snapshot it published: one past what
    the timestamp names, signed by the team, means the timestamp was replayed. (A snapshot
    is written just before its timestamp, and 'curator state refresh' overwrites one a crash
    left behind.)"""
    data = store.get(f"{snapshot + 1}.snapshot.json")
    if data is None:
        return
    try:
        newer = Metadata.from_bytes(data)
        verify_quorum(root, "snapshot", newer, f"snapshot v{snapshot + 1}")
    except (ValueError, KeyError, TypeError, tuf_errors.RepositoryError):
        return  # not the team's: nothing newer was published
    if newer.signed.type == "snapshot" and newer.signed.version == snapshot + 1:
        raise Replayed(f"the timestamp names snapshot v{snapshot}, but the registry holds a newer signed "
                       f"snapshot v{snapshot + 1}: an old timestamp is being served (or a curator is "
                       "publishing right now: run again)")


def _kept(path: Path) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(MAX_METADATA_BYTES + 1)
    if len(data) > MAX_METADATA_BYTES:
        raise tuf_errors.RepositoryError(f"{path} is larger than any metadata the state holds")
    return data


def _operational(exc: BaseException) -> CuratorError | None:
    """The curator error (registry unreachable, ...) a TUF download error wraps, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, CuratorError) and not isinstance(seen, IntegrityError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
