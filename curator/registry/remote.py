"""A distribution-compatible registry over HTTP (OCI distribution spec v1.1).

Plain ``requests`` rather than oras-py: oras-py cannot set ``artifactType``, does not
verify digests on pull, and hides the referrers response headers we need. Blobs are
streamed from disk (hashed as they are sent), skipped when the registry already has
them, checked with a HEAD after upload, and retried on transient errors. Basic auth,
a static bearer token, or the registry token flow (``WWW-Authenticate: Bearer``).
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from curator.core.errors import IntegrityError, NotInRegistry, RegistryUnreachable, UsageError
from curator.core.hashing import CHUNK
from curator.core.text import shown
from curator.registry.interface import (
    INDEX_TYPE,
    MANIFEST_TYPE,
    MAX_MANIFEST_BYTES,
    Descriptor,
    OnBytes,
    Reference,
    Registry,
    parse_json,
    sha256_digest,
)

if TYPE_CHECKING:
    import requests

TRANSIENT = {408, 429, 500, 502, 503, 504}
ACCEPT = ", ".join([MANIFEST_TYPE, INDEX_TYPE, "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])
CHALLENGE_RE = re.compile(r'(\w+)="([^"]*)"')
#: tags asked for per page of a tag list, and the most pages of any listing curator reads
TAGS_PAGE = 1000
MAX_PAGES = 10_000


class _Transient(Exception):
    """A failure worth retrying: connection reset, timeout, 5xx, 429."""


class HashingReader:
    """A file handed to ``requests`` as the body: hashed and counted as it is sent."""

    def __init__(self, fh: BinaryIO, size: int, on_bytes: OnBytes | None) -> None:
        self._fh, self._size, self._on_bytes = fh, size, on_bytes
        self.sha256 = hashlib.sha256()
        self.sent = 0

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        return iter(lambda: self.read(CHUNK), b"")

    def read(self, n: int = -1) -> bytes:
        # urllib3 asks for 16 KiB; 1 MiB reads keep hashing and syscalls cheap
        chunk = self._fh.read(max(n, CHUNK) if n and n > 0 else -1)
        self.sha256.update(chunk)
        self.sent += len(chunk)
        if self._on_bytes and chunk:
            self._on_bytes(len(chunk))
        return chunk


def _loopback(host: str | None) -> bool:
    import ipaddress

    if (host or "").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


class RemoteRegistry(Registry):
    """One registry endpoint, e.g. ``http://127.0.0.1:5000`` or ``https://registry.example.org``."""

    def __init__(self, url: str, *, username: str | None = None, password: str | None = None,
                 token: str | None = None, retries: int = 4, timeout: float = 60.0) -> None:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(f"'{url}' is not a registry URL", "use http(s)://HOST[:PORT]")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.location = self.base
        self.retries, self.timeout = retries, timeout
        self._basic = (username, password or "") if username else None
        self._auth: dict[str, str] = {"*": f"Bearer {token}"} if token else {}
        self._local = threading.local()
        if (username or token) and not self._safe_for_credentials(self.base):
            raise UsageError(f"registry credentials would travel in clear to {self.base}",
                             "use the registry's https:// URL (plain http only to this machine)")

    def describe(self, ref: Reference) -> str:
        return f"{self.host}/{ref}"

    # -- HTTP plumbing --------------------------------------------------------------------
    def _session(self) -> Any:
        import requests

        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def _once(self, method: str, url: str, scope: str, **kwargs: Any) -> requests.Response:
        """One request, with one re-try after answering an auth challenge."""
        import requests

        for _ in range(2):
            headers = dict(kwargs.pop("headers", {}) or {})
            auth = self._auth.get(scope) or self._auth.get("*")
            if auth:
                headers["Authorization"] = auth
            try:
                resp: requests.Response = self._session().request(
                    method, url, headers=headers, timeout=self.timeout, allow_redirects=True, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                raise _Transient(f"{exc.__class__.__name__}: {exc}") from exc
            # a streamed body cannot be sent twice; the upload loop starts a new one instead
            replayable = not isinstance(kwargs.get("data"), HashingReader)
            if resp.status_code == 401 and not auth and replayable and self._answer_challenge(resp, scope):
                kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
                continue
            if resp.status_code in TRANSIENT:
                raise _Transient(f"HTTP {resp.status_code}")
            if resp.status_code in (401, 403):
                raise RegistryUnreachable(
                    f"the registry {self.base} refused access to {scope} (HTTP {resp.status_code})",
                    "set CURATOR_REGISTRY_USERNAME and CURATOR_REGISTRY_PASSWORD (or _TOKEN)")
            return resp
        return resp

    def _request(self, method: str, path: str, scope: str, **kwargs: Any) -> Any:
        """A request retried with backoff on transient failures; unreachable after that."""
        url = path if "://" in path else self.base + path
        last = ""
        for attempt in range(self.retries + 1):
            try:
                return self._once(method, url, scope, **dict(kwargs))
            except _Transient as exc:
                last = str(exc)
                if attempt < self.retries:
                    time.sleep(min(0.2 * 2 ** attempt, 5.0))
        raise RegistryUnreachable(f"cannot reach the registry {self.base} ({last})",
                                  "check the URL, the network, and that the registry is running")

    def _safe_for_credentials(self, url: str) -> bool:
        """Credentials go only to this registry's own host, over https (or to this machine)."""
        parts = urlsplit(url)
        same_host = (parts.hostname or "").lower() == (urlsplit(self.base).hostname or "").lower()
        private = parts.scheme == "https" or (parts.scheme == "http" and _loopback(parts.hostname))
        return same_host and private

    def _answer_challenge(self, resp: requests.Response, scope: str) -> bool:
        challenge = resp.headers.get("WWW-Authenticate", "")
        kind = challenge.split(" ", 1)[0].lower()
        where = dict(CHALLENGE_RE.findall(challenge)).get("realm") if kind == "bearer" else self.base
        if self._basic and where and not self._safe_for_credentials(where):
            raise RegistryUnreachable(
                f"the registry {self.base} asks for the username and password at {where!r}, which is not "
                "its own host over https: curator did not send them",
                "use the registry's https URL, or fix its token realm to be on the same host")
        if kind == "basic" and self._basic:
            import base64

            creds = base64.b64encode(f"{self._basic[0]}:{self._basic[1]}".encode()).decode()
            self._auth["*"] = f"Basic {creds}"
            return True
        if kind == "bearer":
            params = dict(CHALLENGE_RE.findall(challenge))
            if "realm" not in params:
                return False
            query = {"service": params.get("service", ""), "scope": params.get("scope", scope)}
            try:
                got = self._session().get(params["realm"], params=query, auth=self._basic,
                                          timeout=self.timeout)
            except OSError as exc:
                raise RegistryUnreachable(f"cannot reach the token service {params['realm']} ({exc})",
                                          "check the registry's auth set-up") from exc
            if got.status_code != 200:
                return False
            data = got.json()
            self._auth[scope] = f"Bearer {data.get('token') or data.get('access_token')}"
            return True
        return False

    @staticmethod
    def _scope(name: str, push: bool = False) -> str:
        return f"repository:{name}:{'pull,push' if push else 'pull'}"

    def _fail(self, resp: requests.Response, what: str) -> RegistryUnreachable:
        # the body is the registry's to choose: quoted as visible text, one line
        return RegistryUnreachable(f"the registry {self.base} refused {what} "
                                   f"(HTTP {resp.status_code}: {shown(resp.text[:200].strip())})",
                                   "check the registry's logs and permissions")

    # -- blobs ----------------------------------------------------------------------------
    def has_blob(self, name: str, digest: str) -> bool:
        resp = self._request("HEAD", f"/v2/{name}/blobs/{digest}", self._scope(name))
        return bool(resp.status_code == 200)

    def push_blob(self, name: str, digest: str, size: int, source: Path | bytes,
                  on_bytes: OnBytes | None = None) -> None:
        scope = self._scope(name, push=True)
        last = ""
        for attempt in range(self.retries + 1):
            started = self._request("POST", f"/v2/{name}/blobs/uploads/", scope)
            if started.status_code != 202 or "Location" not in started.headers:
                raise self._fail(started, f"starting an upload of {digest}")
            location = urljoin(self.base + "/", started.headers["Location"])
            url = location + ("&" if "?" in location else "?") + f"digest={digest}"
            sent = 0
            try:
                if isinstance(source, bytes):
                    resp = self._once("PUT", url, scope, data=source, headers={
                        "Content-Type": "application/octet-stream"})
                    actual, sent = sha256_digest(source), len(source)
                else:
                    with open(source, "rb") as fh:
                        body = HashingReader(fh, size, on_bytes)
                        resp = self._once("PUT", url, scope, data=body, headers={
                            "Content-Type": "application/octet-stream", "Content-Length": str(size)})
                        actual, sent = "sha256:" + body.sha256.hexdigest(), body.sent
            except _Transient as exc:
                last = str(exc)
                if on_bytes and sent:
                    on_bytes(-sent)
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
                continue
            if actual != digest or sent != size:
                what = source if isinstance(source, Path) else "a blob"
                raise IntegrityError(
                    f"{what} no longer matches what was reviewed: {actual} ({sent} bytes), "
                    f"approved {digest} ({size} bytes)", "re-run the review on the current files")
            if resp.status_code != 201:
                raise self._fail(resp, f"the upload of {digest}")
            self._check_stored(name, digest, size)
            return
        raise RegistryUnreachable(f"uploading {digest} to {self.base} kept failing ({last})",
                                  "check the registry and try again; finished blobs are kept")

    def _check_stored(self, name: str, digest: str, size: int) -> None:
        head = self._request("HEAD", f"/v2/{name}/blobs/{digest}", self._scope(name))
        stored = head.headers.get("Docker-Content-Digest", digest)
        length = int(head.headers.get("Content-Length", size))
        if head.status_code != 200 or stored != digest or length != size:
            raise IntegrityError(f"the registry {self.base} stored {digest} as {stored} ({length} bytes)",
                                 "the registry is misbehaving; check its storage")

    @contextmanager
    def open_blob(self, name: str, digest: str) -> Iterator[Iterator[bytes]]:
        resp = self._request("GET", f"/v2/{name}/blobs/{digest}", self._scope(name), stream=True)
        with resp:
            if resp.status_code == 404:
                raise NotInRegistry(f"blob {digest} of {name} is missing from {self.base}",
                                    "push the artifact again")
            if resp.status_code != 200:
                raise self._fail(resp, f"reading blob {digest}")
            yield resp.iter_content(CHUNK)

    # -- manifests ------------------------------------------------------------------------
    def get_manifest(self, name: str, reference: str) -> tuple[bytes, str]:
        resp = self._request("GET", f"/v2/{name}/manifests/{reference}", self._scope(name),
                             headers={"Accept": ACCEPT}, stream=True)
        with resp:
            if resp.status_code == 404:
                raise NotInRegistry(f"{self.host}/{name} has no manifest '{reference}'",
                                    "check the name and tag")
            if resp.status_code != 200:
                raise self._fail(resp, f"reading manifest {name}:{reference}")
            body = resp.raw.read(MAX_MANIFEST_BYTES + 1, decode_content=True)
            if len(body) > MAX_MANIFEST_BYTES:
                raise IntegrityError(f"manifest {name}:{reference} is too large", "it is not a manifest")
            return body, resp.headers.get("Content-Type", "").split(";")[0]

    def put_manifest(self, name: str, body: bytes, media_type: str, reference: str) -> None:
        self._put(name, body, media_type, reference)

    def _put(self, name: str, body: bytes, media_type: str, reference: str) -> Any:
        resp = self._request("PUT", f"/v2/{name}/manifests/{reference}", self._scope(name, push=True),
                             data=body, headers={"Content-Type": media_type})
        if resp.status_code != 201:
            raise self._fail(resp, f"manifest {name}:{reference}")
        stored = resp.headers.get("Docker-Content-Digest")
        if stored and stored != sha256_digest(body):
            raise IntegrityError(f"the registry {self.base} stored manifest {name}:{reference} as {stored}",
                                 "the registry rewrote the manifest; use one that keeps bytes as pushed")
        return resp

    def delete_tag(self, name: str, tag: str) -> bool:
        # OCI distribution 1.1 allows DELETE by tag; registries without it answer 400/405
        resp = self._request("DELETE", f"/v2/{name}/manifests/{tag}", self._scope(name, push=True))
        if resp.status_code == 404:
            return False
        if resp.status_code in (400, 405):
            raise UsageError(f"the registry {self.base} does not delete tags (HTTP {resp.status_code})",
                             f"remove {name}:{tag} with the registry's own tools")
        if resp.status_code not in (200, 202):
            raise self._fail(resp, f"deleting the tag {name}:{tag}")
        return True

    def _put_referrer_manifest(self, name: str, body: bytes, media_type: str, digest: str) -> bool:
        resp = self._put(name, body, media_type, digest)
        return "OCI-Subject" in resp.headers

    def referrers_api(self, name: str, digest: str) -> list[Descriptor] | None:
        found: list[Descriptor] = []
        for page, resp in enumerate(self._pages(f"/v2/{name}/referrers/{digest}", self._scope(name),
                                                {"Accept": INDEX_TYPE})):
            if resp.status_code != 200 or not resp.headers.get("Content-Type", "").startswith(INDEX_TYPE):
                if page == 0:
                    return None  # no referrers API: the caller reads the fallback tag
                # a partial list could leave out a rejection: never answer with one
                raise self._fail(resp, f"page {page + 1} of the referrers of {name}@{digest}")
            found += [Descriptor.from_dict(d)
                      for d in parse_json(resp.content, "referrers").get("manifests", [])]
        return found

    def tag_list(self, name: str) -> list[str] | None:
        tags: list[str] = []
        for page, resp in enumerate(self._pages(f"/v2/{name}/tags/list?n={TAGS_PAGE}", self._scope(name),
                                                {"Accept": "application/json"})):
            if resp.status_code == 404 and page == 0:
                return []
            if resp.status_code != 200:
                raise self._fail(resp, f"page {page + 1} of the tags of {name}")
            listed = parse_json(resp.content, "tag list").get("tags") or []
            if not isinstance(listed, list):
                raise IntegrityError(f"the registry {self.base} listed the tags of {name} as {type(listed)}",
                                     "the registry is misbehaving")
            tags += [str(t) for t in listed]
        return tags

    def _pages(self, path: str, scope: str, headers: dict[str, str]) -> Iterator[Any]:
        """Each page of a paginated listing (OCI distribution: ``Link: <URL>; rel="next"``).

        Next pages must stay on this registry's origin (they carry its credentials), may not
        repeat, and stop after ``MAX_PAGES``: a registry cannot lead curator elsewhere or
        round in circles.
        """
        seen: set[str] = set()
        url: str | None = self.base + path
        while url is not None:
            if url in seen:
                raise IntegrityError(f"the registry {self.base} paginates {path} in a circle (at {url})",
                                     "the registry is misbehaving; check its version")
            if len(seen) >= MAX_PAGES:
                raise IntegrityError(f"the registry {self.base} gave more than {MAX_PAGES} pages of {path}",
                                     "the listing is too large to trust; check the registry")
            seen.add(url)
            resp = self._request("GET", url, scope, headers=dict(headers))
            yield resp
            url = self._next_page(resp, path)

    def _next_page(self, resp: requests.Response, path: str) -> str | None:
        link = resp.links.get("next", {}).get("url") if resp.status_code == 200 else None
        if not link:
            return None
        url = urljoin(self.base + "/", link)
        here, there = urlsplit(self.base), urlsplit(url)
        if (there.scheme, there.netloc) != (here.scheme, here.netloc):
            raise IntegrityError(f"the registry {self.base} points the next page of {path} at another "
                                 f"origin ({there.scheme}://{there.netloc})", "curator did not follow it")
        return str(url)
