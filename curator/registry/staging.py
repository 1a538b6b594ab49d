"""Staged candidates: a review's pinned files in the team registry, where every curator can read them.

A review's files are pushed as the same ModelPack artifact an approval pushes, into the
repository ``[namespace/]staging/<review id>``, by digest only: nothing in staging is ever
tagged, so nothing a deploy resolves by tag can land there, and ``verify`` finds no signed
decision on it. Another curator's workspace pulls the files back, hashing every byte against
the digests the review pinned (which come from the ledger, never from the registry), and
writes each file into place only once it matched.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from curator.core.errors import IntegrityError, NotInRegistry
from curator.core.hashing import file_sha256
from curator.core.paths import unsafe_reason
from curator.registry.artifact import Layer, ModelArtifact
from curator.registry.interface import OnBytes, Registry
from curator.registry.transfer import push_files

STAGING = "staging"


def staging_name(review_id: str, namespace: str = "") -> str:
    """The staging repository of one review."""
    return "/".join(p for p in (namespace.strip("/"), STAGING, review_id.lower()) if p)


def stage(registry: Registry, name: str, artifact: ModelArtifact, files_dir: Path,
          on_bytes: OnBytes | None = None, workers: int = 4) -> tuple[int, int]:
    """Push the pinned files and their manifest into staging, untagged; bytes (sent, skipped)."""
    return push_files(registry, name, artifact, files_dir, on_bytes, workers)


def unstage(registry: Registry, name: str, artifact: ModelArtifact, files_dir: Path,
            on_bytes: OnBytes | None = None, workers: int = 4) -> list[str]:
    """Pull the staged files into ``files_dir``; the paths written (files already right are kept).

    Raises IntegrityError naming the file when staging holds other bytes than the review
    pinned, and NotInRegistry when a blob is missing: nothing unverified is left in place.
    """
    layers = list(artifact.layers)
    for layer in layers:
        reason = unsafe_reason(layer.path)
        if reason:
            raise IntegrityError(f"the review pins a file {layer.path!r} that cannot be written ({reason})",
                                 "open a new review with --fresh")
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(layers) or 1))) as pool:
        written = list(pool.map(lambda layer: _pull_one(registry, name, layer, files_dir, on_bytes), layers))
    return sorted(p for p in written if p)


def _pull_one(registry: Registry, name: str, layer: Layer, files_dir: Path,
              on_bytes: OnBytes | None) -> str | None:
    target = files_dir / layer.path
    want = layer.descriptor
    if target.is_file() and not target.is_symlink():
        size, actual = file_sha256(target)
        if "sha256:" + actual == want.digest and size == want.size:
            return None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.staged")
    hasher, seen = hashlib.sha256(), 0
    try:
        with registry.open_blob(name, want.digest) as chunks, open(partial, "wb") as sink:
            for chunk in chunks:
                hasher.update(chunk)
                seen += len(chunk)
                if seen > want.size:
                    break
                sink.write(chunk)
                if on_bytes:
                    on_bytes(len(chunk))
            sink.flush()
            os.fsync(sink.fileno())
        actual = "sha256:" + hasher.hexdigest()
        if actual != want.digest or seen != want.size:
            raise IntegrityError(f"{layer.path} in staging ({name}) is not the pinned bytes: {actual} "
                                 f"({seen} bytes), pinned {want.digest} ({want.size} bytes)",
                                 "someone altered the staged copy: open a new review with --fresh")
        if target.is_symlink() or target.exists():
            target.unlink()
        os.replace(partial, target)
    except NotInRegistry as exc:
        raise NotInRegistry(f"{layer.path} ({want.digest}) is missing from staging ({name})",
                            "the staged copy is incomplete: open a new review with --fresh") from exc
    finally:
        if partial.exists():
            partial.unlink()
    return layer.path
