"""The embedded registry: an OCI image layout directory (``oci-layout``, ``index.json``, ``blobs/``).

Tags live in ``index.json`` as ``org.opencontainers.image.ref.name = NAME:TAG``, so
``skopeo inspect --raw oci:DIR:NAME:TAG`` and ``skopeo copy`` read it. Blobs are written
to a temporary file while hashed and renamed into place only if the digest matches;
``index.json`` is replaced atomically under a lock, so a crash never leaves a tag
pointing at something partial.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from curator.core.errors import IntegrityError, NotInRegistry, UsageError
from curator.core.hashing import CHUNK
from curator.registry.interface import (
    DIGEST_RE,
    INDEX_TYPE,
    MAX_MANIFEST_BYTES,
    REF_NAME,
    Descriptor,
    OnBytes,
    Registry,
    fallback_tag,
    sha256_digest,
)

LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}


class LayoutRegistry(Registry):
    """An OCI image layout folder shared by every repository name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)
        try:
            (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
            if not (root / "oci-layout").exists():
                _atomic_write(root / "oci-layout", json.dumps(LAYOUT_VERSION).encode())
            if not (root / "index.json").exists():
                _atomic_write(root / "index.json", _index_bytes([]))
        except OSError as exc:
            raise UsageError(f"cannot use {root} as an OCI layout ({exc.strerror})",
                             "check the folder's permissions, or pass --registry URL") from exc

    # -- blobs ----------------------------------------------------------------------------
    def _blob_path(self, digest: str) -> Path:
        if not DIGEST_RE.match(digest):
            raise IntegrityError(f"refusing malformed digest {digest!r}", "the manifest is damaged")
        return self.root / "blobs" / "sha256" / digest.split(":", 1)[1]

    def has_blob(self, name: str, digest: str) -> bool:
        return self._blob_path(digest).is_file()

    def push_blob(self, name: str, digest: str, size: int, source: Path | bytes,
                  on_bytes: OnBytes | None = None) -> None:
        target = self._blob_path(digest)
        fd, tmp = tempfile.mkstemp(prefix=".incoming-", dir=target.parent)
        hasher = hashlib.sha256()
        written = 0
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks(source):
                    hasher.update(chunk)
                    out.write(chunk)
                    written += len(chunk)
                    if on_bytes:
                        on_bytes(len(chunk))
                out.flush()
                os.fsync(out.fileno())
            actual = "sha256:" + hasher.hexdigest()
            if actual != digest or written != size:
                what = source if isinstance(source, Path) else "a blob"
                raise IntegrityError(
                    f"{what} no longer matches what was reviewed: {actual} ({written} bytes), "
                    f"approved {digest} ({size} bytes)", "re-run the review on the current files")
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @contextmanager
    def open_blob(self, name: str, digest: str) -> Iterator[Iterator[bytes]]:
        path = self._blob_path(digest)
        try:
            fh = open(path, "rb")  # noqa: SIM115 - held open while the caller streams
        except FileNotFoundError as exc:
            raise NotInRegistry(f"blob {digest} is missing from {self.root}",
                                "push the artifact again") from exc
        with fh:
            yield iter(lambda: fh.read(CHUNK), b"")

    # -- manifests and tags ---------------------------------------------------------------
    def get_manifest(self, name: str, reference: str) -> tuple[bytes, str]:
        if DIGEST_RE.match(reference):
            digest, media_type = reference, ""
        else:
            entry = next((m for m in self._index()["manifests"]
                          if m.get("annotations", {}).get(REF_NAME) == f"{name}:{reference}"), None)
            if entry is None:
                raise NotInRegistry(f"{name}:{reference} is not in the registry {self.root}",
                                    "check the name and tag ('curator inventory' lists them)")
            digest, media_type = entry["digest"], entry.get("mediaType", "")
        path = self._blob_path(digest)
        if not path.is_file():
            raise NotInRegistry(f"{name}@{digest} is not in the registry {self.root}",
                                "check the digest, or push the artifact again")
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            raise IntegrityError(f"manifest {digest} in {self.root} is too large", "it is not a manifest")
        body = path.read_bytes()
        if not media_type:
            try:
                media_type = str(json.loads(body).get("mediaType", ""))
            except (ValueError, AttributeError):
                media_type = ""
        return body, media_type

    def put_manifest(self, name: str, body: bytes, media_type: str, reference: str) -> None:
        digest = self._store_manifest(body)
        if DIGEST_RE.match(reference):
            if reference != digest:
                raise IntegrityError(f"manifest bytes hash to {digest}, not {reference}",
                                     "this is a bug in curator; report it")
            return
        with self._locked():
            self._tag(name, reference, body, media_type)

    def put_referrer(self, name: str, body: bytes, media_type: str, subject: str,
                     artifact_type: str) -> bool:
        # read, extend and rewrite the fallback index under one lock: two processes attaching
        # a decision at once must both stay listed (a lost rejection would un-retire a model)
        digest = self._store_manifest(body)
        with self._locked():
            current = [d for d in self.referrers(name, subject) if d.digest != digest]
            current.append(Descriptor(media_type, digest, len(body), artifact_type=artifact_type))
            index = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE,
                                "manifests": [d.to_dict() for d in current]}, separators=(",", ":")).encode()
            self._store_manifest(index)
            self._tag(name, fallback_tag(subject), index, INDEX_TYPE)
        return False

    def _store_manifest(self, body: bytes) -> str:
        digest = sha256_digest(body)
        if not self.has_blob("", digest):
            self.push_blob("", digest, len(body), body)
        return digest

    def _tag(self, name: str, tag: str, body: bytes, media_type: str) -> None:
        """Point ``name:tag`` at a stored manifest; the caller holds the index lock."""
        index = self._index()
        ref = f"{name}:{tag}"
        kept = [m for m in index["manifests"] if m.get("annotations", {}).get(REF_NAME) != ref]
        kept.append({"mediaType": media_type, "digest": sha256_digest(body), "size": len(body),
                     "annotations": {REF_NAME: ref}})
        _atomic_write(self.root / "index.json", _index_bytes(kept))

    def delete_tag(self, name: str, tag: str) -> bool:
        with self._locked():
            index = self._index()
            ref = f"{name}:{tag}"
            kept = [m for m in index["manifests"] if m.get("annotations", {}).get(REF_NAME) != ref]
            if len(kept) == len(index["manifests"]):
                return False
            _atomic_write(self.root / "index.json", _index_bytes(kept))
            return True

    def tags(self) -> list[tuple[str, str, str]]:
        """Every ``(name, tag, digest)`` in the layout's index."""
        found = []
        for m in self._index()["manifests"]:
            ref = m.get("annotations", {}).get(REF_NAME, "")
            if ":" in ref:
                name, tag = ref.rsplit(":", 1)
                found.append((name, tag, m["digest"]))
        return found

    def tag_list(self, name: str) -> list[str] | None:
        return [tag for repo, tag, _ in self.tags() if repo == name]

    def _index(self) -> dict[str, Any]:
        try:
            data = json.loads((self.root / "index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"{self.root / 'index.json'} is unreadable ({exc})",
                                 "restore it from a backup") from exc
        if not isinstance(data, dict) or not isinstance(data.get("manifests", []), list):
            raise IntegrityError(f"{self.root / 'index.json'} is not an OCI index", "restore it")
        data.setdefault("manifests", [])
        return data

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # one writer of index.json at a time, across threads and processes
        with open(self.root / ".index.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _index_bytes(manifests: list[dict[str, Any]]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": manifests},
                      indent=1).encode()


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _chunks(source: Path | bytes) -> Iterator[bytes]:
    if isinstance(source, bytes):
        yield source
        return
    with open(source, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk
