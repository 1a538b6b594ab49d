"""Registry plumbing the gate depends on: every page of a paginated listing is read (a
rejection on page two counts), next pages never lead to another origin, and the layout's
referrers index survives processes attaching decisions at the same instant."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from curator.core.errors import IntegrityError, RegistryUnreachable
from curator.registry.interface import EMPTY_JSON, EMPTY_TYPE, INDEX_TYPE, MANIFEST_TYPE, sha256_digest
from curator.registry.layout import LayoutRegistry
from curator.registry.remote import RemoteRegistry
from tests.registry.conftest import Distribution

SUBJECT = sha256_digest(b"the model manifest")


def _referrer(i: int) -> bytes:
    """A small decision-like manifest whose subject is SUBJECT."""
    return json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "artifactType": "application/x-test",
                       "config": {"mediaType": EMPTY_TYPE, "digest": sha256_digest(EMPTY_JSON), "size": 2},
                       "layers": [], "subject": {"mediaType": MANIFEST_TYPE, "digest": SUBJECT, "size": 1},
                       "annotations": {"n": str(i)}}, sort_keys=True).encode()


def test_processes_attaching_referrers_at_once_lose_none(tmp_path: Path) -> None:
    """Eight processes each attach six referrers to one subject, released together: the
    fallback index is read, extended and written under one lock, so all 48 are listed."""
    root = tmp_path / "layout"
    LayoutRegistry(root)
    script = textwrap.dedent("""
        import json, sys
        from pathlib import Path
        from curator.registry.layout import LayoutRegistry
        from tests.recheck.test_registry_plumbing import SUBJECT, _referrer
        registry = LayoutRegistry(Path(sys.argv[1]))
        worker = int(sys.argv[2])
        print("ready", flush=True)
        sys.stdin.readline()
        for k in range(6):
            body = _referrer(worker * 100 + k)
            registry.put_referrer("acme/m", body, "application/vnd.oci.image.manifest.v1+json", SUBJECT,
                                  "application/x-test")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(root), str(w)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for w in range(8)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        assert p.wait(60) == 0
    listed = {d.digest for d in LayoutRegistry(root).referrers("acme/m", SUBJECT)}
    expected = {sha256_digest(_referrer(w * 100 + k)) for w in range(8) for k in range(6)}
    assert listed == expected
    assert not [p for p in root.iterdir() if p.name.startswith(".tmp-")]  # every write renamed into place


class _PagedReferrers:
    """A registry front on 127.0.0.1 with the OCI 1.1 referrers API, paginated by Link headers,
    in front of a real docker-registry (which has no referrers API) for everything else."""

    def __init__(self, upstream: str, pages: list[list[dict[str, Any]]], next_link: Any = None) -> None:
        import requests

        front = self
        self.pages: list[list[dict[str, Any]]] = pages
        self.asked: list[str] = []
        self.next_link = next_link or (lambda page: f"/v2/acme/m/referrers/{SUBJECT}?page={page + 1}"
                                       if page + 1 < len(pages) else None)

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                front.asked.append(self.path)
                if "/referrers/" in self.path:
                    page = int(self.path.rsplit("page=", 1)[1]) if "page=" in self.path else 0
                    body = json.dumps({"schemaVersion": 2, "mediaType": INDEX_TYPE,
                                       "manifests": front.pages[page]}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", INDEX_TYPE)
                    link = front.next_link(page)
                    if link:
                        self.send_header("Link", f'<{link}>; rel="next"')
                else:
                    resp = requests.get(upstream + self.path, timeout=10)
                    body = resp.content
                    self.send_response(resp.status_code)
                    self.send_header("Content-Type", resp.headers.get("Content-Type", ""))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _descriptor(i: int) -> dict[str, Any]:
    body = _referrer(i)
    return {"mediaType": MANIFEST_TYPE, "digest": sha256_digest(body), "size": len(body),
            "artifactType": "application/x-test"}


@pytest.fixture
def paged(distribution: Distribution) -> Iterator[_PagedReferrers]:
    front = _PagedReferrers(distribution.url, [[_descriptor(0), _descriptor(1)], [_descriptor(2)],
                                               [_descriptor(3)]])
    yield front
    front.close()


def test_every_page_of_referrers_is_read(paged: _PagedReferrers) -> None:
    found = RemoteRegistry(paged.url, retries=0).referrers("acme/m", SUBJECT)
    assert [d.digest for d in found] == [_descriptor(i)["digest"] for i in range(4)]
    assert sum("/referrers/" in p for p in paged.asked) == 3


def test_a_next_page_on_another_origin_is_not_followed(paged: _PagedReferrers) -> None:
    paged.next_link = lambda page: "http://127.0.0.2:9/v2/acme/m/referrers/x" if page == 0 else None
    with pytest.raises(IntegrityError, match="another origin"):
        RemoteRegistry(paged.url, retries=0).referrers("acme/m", SUBJECT)


def test_pages_that_go_round_in_circles_are_refused(paged: _PagedReferrers) -> None:
    paged.next_link = lambda page: f"/v2/acme/m/referrers/{SUBJECT}?page=1"
    with pytest.raises(IntegrityError, match="in a circle"):
        RemoteRegistry(paged.url, retries=0).referrers("acme/m", SUBJECT)


def test_a_failing_later_page_is_an_error_not_a_shorter_list(paged: _PagedReferrers) -> None:
    paged.next_link = lambda page: "/v2/acme/m/nothing-here" if page == 0 else None
    with pytest.raises(RegistryUnreachable, match="page 2 of the referrers"):
        RemoteRegistry(paged.url, retries=0).referrers("acme/m", SUBJECT)


def test_tags_are_listed_across_pages_on_a_real_registry(distribution: Distribution) -> None:
    registry = RemoteRegistry(distribution.url, retries=0)
    body = _referrer(7)
    registry.push_blob("acme/m", sha256_digest(EMPTY_JSON), 2, EMPTY_JSON)
    names = [f"rows-{i}" for i in range(1, 8)]
    for tag in names:
        registry.put_manifest("acme/m", body, MANIFEST_TYPE, tag)
    from curator.registry import remote

    before = remote.TAGS_PAGE
    remote.TAGS_PAGE = 3  # docker-registry answers n=3 with a Link to the next page
    try:
        assert sorted(registry.tag_list("acme/m") or []) == sorted(names)
    finally:
        remote.TAGS_PAGE = before
    assert registry.tag_list("acme/none") == []
