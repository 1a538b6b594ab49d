"""The Registry interface: OCI content by digest, manifests by tag or digest, referrers.

Two backends implement it: an OCI image layout directory (the embedded default) and any
distribution-compatible registry over HTTP. Referrers use the OCI 1.1 fallback tag
(``sha256-<hex>`` naming an image index) unless a registry answers the referrers API.
"""

from __future__ import annotations

import abc
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.errors import NotInRegistry, UsageError

MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY_JSON = b"{}"
TITLE = "org.opencontainers.image.title"
REF_NAME = "org.opencontainers.image.ref.name"
#: manifests and indexes larger than this are refused (the spec's own advice is 4 MiB)
MAX_MANIFEST_BYTES = 4 << 20

NAME_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$")

OnBytes = Callable[[int], None]


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Descriptor:
    """An OCI content descriptor."""

    media_type: str
    digest: str
    size: int
    annotations: dict[str, str] = field(default_factory=dict)
    artifact_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.artifact_type:
            data["artifactType"] = self.artifact_type
        if self.annotations:
            data["annotations"] = dict(self.annotations)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Descriptor:
        digest = str(data["digest"])
        if not DIGEST_RE.match(digest):
            raise ValueError(f"unsupported digest {digest!r}")
        size = data["size"]
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"bad size {size!r} for {digest}")
        return cls(str(data["mediaType"]), digest, size, dict(data.get("annotations") or {}),
                   data.get("artifactType"))


@dataclass(frozen=True)
class Reference:
    """``NAME:TAG`` or ``NAME@sha256:HEX`` inside one registry."""

    name: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        """What goes after ``/manifests/``: the digest if pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        return f"{self.name}@{self.digest}" if self.digest else f"{self.name}:{self.tag}"

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse ``NAME:TAG`` / ``NAME@DIGEST``; a usage error names what is wrong."""
        name, digest, tag = text, None, None
        if "@" in text:
            name, digest = text.split("@", 1)
            if not DIGEST_RE.match(digest):
                raise UsageError(f"'{text}' has a malformed digest",
                                 "use NAME@sha256:<64 hex> or NAME:TAG")
        elif ":" in text.rsplit("/", 1)[-1]:
            name, tag = text.rsplit(":", 1)
            if not TAG_RE.match(tag):
                raise UsageError(f"'{text}' has a malformed tag", "tags are [A-Za-z0-9_.-], max 128")
        else:
            raise UsageError(f"'{text}' names no tag or digest", "use NAME:TAG or NAME@sha256:HEX")
        if not NAME_RE.match(name):
            raise UsageError(f"'{name}' is not a valid repository name",
                             "use lowercase org/name (a-z, 0-9, '.', '_', '-')")
        return cls(name, tag, digest)


def fallback_tag(digest: str) -> str:
    """The OCI 1.1 referrers fallback tag for a subject digest."""
    return digest.replace(":", "-")


class Registry(abc.ABC):
    """Content-addressed storage for model artifacts and their decisions."""

    #: where this registry is, for messages and refs (a URL or a folder)
    location: str

    @abc.abstractmethod
    def has_blob(self, name: str, digest: str) -> bool:
        """True if the blob is already stored (so a push can skip it)."""

    @abc.abstractmethod
    def push_blob(self, name: str, digest: str, size: int, source: Path | bytes,
                  on_bytes: OnBytes | None = None) -> None:
        """Store a blob from a file (streamed) or bytes; raises IntegrityError if the
        bytes do not hash to ``digest`` (nothing is then stored)."""

    @abc.abstractmethod
    def open_blob(self, name: str, digest: str) -> AbstractContextManager[Iterator[bytes]]:
        """Stream a blob's bytes in chunks, unverified: the caller hashes while reading.
        Raises NotInRegistry when absent."""

    @abc.abstractmethod
    def get_manifest(self, name: str, reference: str) -> tuple[bytes, str]:
        """A manifest or index by tag or digest: its bytes and media type.
        Raises NotInRegistry when absent."""

    @abc.abstractmethod
    def put_manifest(self, name: str, body: bytes, media_type: str, reference: str) -> None:
        """Store a manifest under its digest, or point a tag at it."""

    def referrers_api(self, name: str, digest: str) -> list[Descriptor] | None:
        """Descriptors from the registry's referrers API, or None where it has none."""
        return None

    def referrers(self, name: str, digest: str) -> list[Descriptor]:
        """Manifests whose subject is ``digest``: referrers API, else the fallback tag."""
        found = self.referrers_api(name, digest)
        if found is not None:
            return found
        try:
            body, _ = self.get_manifest(name, fallback_tag(digest))
        except NotInRegistry:
            return []
        return [Descriptor.from_dict(d) for d in parse_json(body, "referrers index").get("manifests", [])]

    def put_referrer(self, name: str, body: bytes, media_type: str, subject: str,
                     artifact_type: str) -> bool:
        """Store a manifest whose subject is ``subject`` and make it findable.

        Returns True if the registry indexed it itself (referrers API), False if the
        fallback tag index was updated.
        """
        digest = sha256_digest(body)
        indexed = self._put_referrer_manifest(name, body, media_type, digest)
        if indexed:
            return True
        current = [d for d in self.referrers(name, subject) if d.digest != digest]
        current.append(Descriptor(media_type, digest, len(body), artifact_type=artifact_type))
        index = {"schemaVersion": 2, "mediaType": INDEX_TYPE,
                 "manifests": [d.to_dict() for d in current]}
        self.put_manifest(name, json.dumps(index, separators=(",", ":")).encode(), INDEX_TYPE,
                          fallback_tag(subject))
        return False

    def _put_referrer_manifest(self, name: str, body: bytes, media_type: str, digest: str) -> bool:
        """Push the referrer by digest; True if the registry says it indexed the subject."""
        self.put_manifest(name, body, media_type, digest)
        return False

    def tag_list(self, name: str) -> list[str] | None:
        """Every tag of repository ``name`` (all pages); None where the registry cannot list them."""
        return None

    def describe(self, ref: Reference) -> str:
        """A reference as a user would type it to reach this registry."""
        return str(ref)

    def delete_tag(self, name: str, tag: str) -> bool:
        """Remove a tag, keeping the content (still reachable by digest); False if there was
        no such tag. Raises UsageError where the registry cannot delete tags."""
        raise UsageError(f"{self.location} cannot delete tags",
                         f"remove {name}:{tag} with the registry's own tools")


def parse_json(body: bytes, what: str) -> dict[str, Any]:
    """Parse a manifest-ish JSON document; malformed content is an integrity problem."""
    from curator.core.errors import IntegrityError

    try:
        data = json.loads(body)
    except ValueError as exc:
        raise IntegrityError(f"the {what} is not JSON ({exc})", "the registry content is damaged") from exc
    if not isinstance(data, dict):
        raise IntegrityError(f"the {what} is not a JSON object", "the registry content is damaged")
    return data
