"""The signed state's storage: each TUF metadata file is an OCI artifact in ``curator-state``.

The tag is the TUF file name (``root.json``, ``3.root.json``, ``timestamp.json``,
``7.snapshot.json``, ``7.targets.json``), so the same files sit in the workspace's OCI
layout and in any distribution registry, and ``skopeo``/``oras`` can copy them. A
proposal (a targets version with fewer signatures than its threshold) waits under
``proposal.<ID>.json``; the TUF client never asks for that name.
"""

from __future__ import annotations

import fcntl
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from curator.core.errors import IntegrityError, NotInRegistry, UsageError
from curator.registry.interface import (
    EMPTY_JSON,
    EMPTY_TYPE,
    MANIFEST_TYPE,
    TITLE,
    Descriptor,
    Registry,
    parse_json,
    sha256_digest,
)

#: the repository holding the signed state, in every registry curator uses
STATE_REPOSITORY = "curator-state"
STATE_ARTIFACT_TYPE = "application/vnd.curator.tuf.metadata.v1+json"
METADATA_TYPE = "application/vnd.tuf.metadata+json"
#: no top-level metadata of a model registry comes near this (1,000 models ~ 1 MB of targets)
MAX_METADATA_BYTES = 64 << 20
FILE_RE = re.compile(
    r"^(?:[0-9]+\.)?(?:root|timestamp|snapshot|targets)\.json$|^proposal\.[a-z0-9-]{1,64}\.json$"
)


class StateStore:
    """Reads and writes TUF metadata files in one registry's ``curator-state`` repository."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise state changes on a layout folder across threads and processes; a remote
        registry has no lock (the timestamp check before publishing catches most races)."""
        folder = Path(self.registry.location)
        if not folder.is_dir():
            yield
            return
        with open(folder / ".curator-state.lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def get(self, filename: str) -> bytes | None:
        """The file's bytes, or None when the registry has no such tag."""
        _check_name(filename)
        try:
            body, _ = self.registry.get_manifest(STATE_REPOSITORY, filename)
        except NotInRegistry:
            return None
        layers = parse_json(body, f"state manifest {filename}").get("layers")
        try:
            layer = Descriptor.from_dict(layers[0]) if isinstance(layers, list) and len(layers) == 1 else None
        except (KeyError, ValueError, TypeError):
            layer = None
        if layer is None or layer.size > MAX_METADATA_BYTES:
            raise IntegrityError(
                f"the state file {filename} in {self.registry.location} is not one metadata layer",
                "the signed state in the registry is damaged; re-publish it",
            )
        data = bytearray()
        with self.registry.open_blob(STATE_REPOSITORY, layer.digest) as chunks:
            for chunk in chunks:
                data += chunk
                if len(data) > layer.size:
                    break
        if sha256_digest(bytes(data)) != layer.digest:
            raise IntegrityError(
                f"the state file {filename} does not match its digest in {self.registry.location}",
                "the signed state in the registry is damaged",
            )
        return bytes(data)

    def put(self, filename: str, data: bytes) -> None:
        """Store ``data`` under the tag ``filename`` (blobs first, so the tag never dangles)."""
        _check_name(filename)
        layer = Descriptor(METADATA_TYPE, sha256_digest(data), len(data), {TITLE: filename})
        empty = Descriptor(EMPTY_TYPE, sha256_digest(EMPTY_JSON), len(EMPTY_JSON))
        for descriptor, blob in ((empty, EMPTY_JSON), (layer, data)):
            if not self.registry.has_blob(STATE_REPOSITORY, descriptor.digest):
                self.registry.push_blob(STATE_REPOSITORY, descriptor.digest, descriptor.size, blob)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "artifactType": STATE_ARTIFACT_TYPE,
            "config": empty.to_dict(),
            "layers": [layer.to_dict()],
        }
        body = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()
        self.registry.put_manifest(STATE_REPOSITORY, body, MANIFEST_TYPE, filename)


def _check_name(filename: str) -> None:
    if not FILE_RE.match(filename):
        raise UsageError(
            f"'{filename}' is not a state file name", "use a TUF file name such as 3.targets.json"
        )
