"""Pushing an approved model with its decision, in an order that never exposes a partial push.

Order: file blobs (skipped if present, streamed and hashed otherwise) -> config ->
model manifest by digest -> decision blobs and referrer -> finally the tag. A crash at
any point leaves at most unreferenced blobs; the tag only ever names a complete model
whose decision is already attached.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from curator.core.errors import IntegrityError
from curator.core.hashing import file_sha256
from curator.core.paths import escapes
from curator.registry.artifact import DECISION_ARTIFACT_TYPE, ModelArtifact, build_decision
from curator.registry.interface import MANIFEST_TYPE, Descriptor, OnBytes, Reference, Registry, sha256_digest


@dataclass(frozen=True)
class Pushed:
    """Where an artifact landed, and how much had to be sent."""

    ref: str  # as a user types it: NAME:TAG (layout) or HOST/NAME:TAG
    digest_ref: str
    digest: str
    uploaded_bytes: int
    skipped_bytes: int
    referrers_api: bool


def push_model(registry: Registry, name: str, tag: str, artifact: ModelArtifact, files_dir: Path,
               envelopes: list[bytes], on_bytes: OnBytes | None = None, workers: int = 4) -> Pushed:
    """Push the model's files, its manifest and the signed decision(s), then tag it."""
    uploaded, skipped = push_files(registry, name, artifact, files_dir, on_bytes, workers)
    referrers_api = attach_decision(registry, name, artifact, envelopes)
    registry.put_manifest(name, artifact.manifest, MANIFEST_TYPE, tag)
    return Pushed(ref=registry.describe(Reference(name, tag=tag)),
                  digest_ref=registry.describe(Reference(name, digest=artifact.digest)),
                  digest=artifact.digest, uploaded_bytes=uploaded,
                  skipped_bytes=skipped, referrers_api=referrers_api)


def push_files(registry: Registry, name: str, artifact: ModelArtifact, files_dir: Path,
               on_bytes: OnBytes | None = None, workers: int = 4) -> tuple[int, int]:
    """Push the file blobs, config and model manifest (by digest, untagged); bytes (sent, skipped)."""
    sent = {"uploaded": 0, "skipped": 0}
    lock = threading.Lock()
    unique = {layer.descriptor.digest: layer for layer in artifact.layers}

    def push_one(digest: str) -> None:
        layer = unique[digest]
        path = files_dir / layer.path
        if path.is_symlink() and escapes(files_dir, path):
            raise IntegrityError(f"{path} now links outside the model folder",
                                 "re-run the review on the current files")
        if not path.is_file():
            raise IntegrityError(f"{path} is gone since the review",
                                 "restore the file or re-run the review")
        if registry.has_blob(name, digest):
            # the registry having the approved digest says nothing about our file: check it
            size, actual = file_sha256(path)
            if "sha256:" + actual != digest or size != layer.descriptor.size:
                raise IntegrityError(
                    f"{path} no longer matches what was reviewed: sha256:{actual} ({size} bytes), "
                    f"approved {digest} ({layer.descriptor.size} bytes)",
                    "re-run the review on the current files")
            with lock:
                sent["skipped"] += layer.descriptor.size
            if on_bytes:
                on_bytes(layer.descriptor.size)
            return
        registry.push_blob(name, digest, layer.descriptor.size, path, on_bytes)
        with lock:
            sent["uploaded"] += layer.descriptor.size

    biggest_first = sorted(unique, key=lambda d: unique[d].descriptor.size, reverse=True)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(push_one, biggest_first))
    config_digest = sha256_digest(artifact.config)
    if not registry.has_blob(name, config_digest):
        registry.push_blob(name, config_digest, len(artifact.config), artifact.config)
    registry.put_manifest(name, artifact.manifest, MANIFEST_TYPE, artifact.digest)
    return sent["uploaded"], sent["skipped"]


def attach_decision(registry: Registry, name: str, artifact: ModelArtifact, envelopes: list[bytes]) -> bool:
    """Push the decision referrer for an already pushed model manifest."""
    return attach(registry, name, artifact.descriptor, envelopes, DECISION_ARTIFACT_TYPE)[1]


def attach(registry: Registry, name: str, subject: Descriptor, envelopes: list[bytes],
           artifact_type: str) -> tuple[str, bool]:
    """Attach signed envelopes to ``subject`` as one referrer of ``artifact_type``: its blobs,
    then its manifest. Returns the referrer's digest and whether the registry has a referrers API."""
    referrer = build_decision(envelopes, subject, artifact_type)
    for descriptor, data in referrer.blobs:
        if not registry.has_blob(name, descriptor.digest):
            registry.push_blob(name, descriptor.digest, descriptor.size, data)
    api = registry.put_referrer(name, referrer.manifest, MANIFEST_TYPE, subject.digest, artifact_type)
    return referrer.digest, api
