"""Issue #16 on the registry side: credentials only to the registry's own host over https,
`pull` never follows a link nor publishes an unsynced folder, and a push never trusts the
registry's "I already have it" for a local file that changed."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from curator.core.errors import IntegrityError, RegistryUnreachable, UsageError
from curator.decision.decide import assess
from curator.decision.rules import DecisionRules
from curator.decision.verify import pull
from curator.registry.artifact import model_artifact
from curator.registry.interface import Reference
from curator.registry.remote import RemoteRegistry
from curator.registry.transfer import push_model
from tests.decision.helpers import gate
from tests.integration.test_fetch_hardening import _lan_address
from tests.registry.test_gate import Approved, approved  # noqa: F401 (fixture)


class Recorder(BaseHTTPRequestHandler):
    """Answers 401 with a configurable challenge (registry) or 200 (token realm); keeps headers."""

    seen: list[tuple[str, str | None]]
    challenge = ""

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Authorization")))
        status = 401 if self.challenge else 200
        body = b"{}" if status == 401 else b'{"token": "t"}'
        self.send_response(status)
        if self.challenge:
            self.send_header("WWW-Authenticate", self.challenge)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: Any) -> None:
        pass


def serve(host: str, challenge: str = "") -> tuple[ThreadingHTTPServer, list[tuple[str, str | None]]]:
    seen: list[tuple[str, str | None]] = []
    handler = type("Handler", (Recorder,), {"seen": seen, "challenge": challenge})
    server = ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


@pytest.fixture
def token_realm() -> Iterator[tuple[str, list[tuple[str, str | None]]]]:
    """A token service on another host, over plain http."""
    server, seen = serve(_lan_address())
    yield f"http://{server.server_address[0]}:{server.server_address[1]}/token", seen
    server.shutdown()


def test_credentials_never_go_to_a_token_realm_on_another_http_host(
        token_realm: tuple[str, list[tuple[str, str | None]]]) -> None:
    realm, realm_seen = token_realm
    registry_server, _ = serve("127.0.0.1", f'Bearer realm="{realm}",service="registry"')
    try:
        registry = RemoteRegistry(f"http://127.0.0.1:{registry_server.server_address[1]}",
                                  username="ci", password="hunter2", retries=0)
        with pytest.raises(RegistryUnreachable, match="did not send them"):
            registry.has_blob("local/tiny", "sha256:" + "0" * 64)
    finally:
        registry_server.shutdown()
    assert realm_seen == []  # the username and password never left


def test_credentials_are_refused_for_a_plain_http_registry_elsewhere() -> None:
    with pytest.raises(UsageError, match="would travel in clear"):
        RemoteRegistry(f"http://{_lan_address()}:5000", username="ci", password="hunter2")


@pytest.mark.parametrize("kind", ["symlink", "dangling symlink"])
def test_pull_into_a_symlink_is_a_usage_error(approved: Approved, tmp_path: Path,  # noqa: F811
                                              kind: str) -> None:
    target = tmp_path / "elsewhere"
    if kind == "symlink":
        target.mkdir()
    link = tmp_path / "pulled"
    link.symlink_to(target)
    trusted = gate(approved.session, approved.backend.registry)
    with pytest.raises(UsageError, match="is a symbolic link"):
        pull(approved.backend.registry, Reference(approved.name, tag=approved.tag), link, trusted,
             DecisionRules.from_policy(approved.session.policy))
    assert link.is_symlink() and not [p for p in tmp_path.iterdir() if p.name.startswith(".pulled")]
    if kind == "symlink":
        assert list(target.iterdir()) == []


def test_pull_cli_into_a_dangling_symlink_exits_2_with_one_line(approved: Approved,  # noqa: F811
                                                                tmp_path: Path) -> None:
    from tests.decision.helpers import cli

    link = tmp_path / "pulled"
    link.symlink_to(tmp_path / "nowhere")
    done = cli("pull", approved.cli_ref, str(link), env={"CURATOR_CHECKLISTS": str(approved.checklists)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "symbolic link" in done.stderr


def test_pull_fsyncs_every_file_and_folder_before_the_rename(approved: Approved, tmp_path: Path,  # noqa: F811
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append(("replace", str(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    dest = tmp_path / "pulled"
    trusted = gate(approved.session, approved.backend.registry)
    report = pull(approved.backend.registry, Reference(approved.name, tag=approved.tag), dest, trusted,
                  DecisionRules.from_policy(approved.session.policy))
    assert report.ok
    renamed = events.index(("replace", str(dest)))
    synced = {Path(p).name for kind, p in events[:renamed] if kind == "fsync"}
    files = [p for p in dest.rglob("*") if p.is_file()]
    folders = [p for p in dest.rglob("*") if p.is_dir()]
    assert files and {p.name for p in files} <= synced
    assert {p.name for p in folders} <= synced  # the staging folder's own subfolders
    assert any(kind == "fsync" and Path(p) == tmp_path for kind, p in events[renamed:])  # the parent


def test_push_checks_the_local_file_before_skipping_a_blob_the_registry_has(
        approved: Approved) -> None:  # noqa: F811
    session = approved.session
    [review] = session.ledger.reviews()
    a = assess(session, review.id)
    assert a.manifest is not None
    name, _, artifact = model_artifact(session.policy, a.review, a.manifest)
    files_dir = session.context(a.review).files_dir
    weights = files_dir / "model.safetensors"
    weights.write_bytes(b"\0" * weights.stat().st_size)  # same size, other bytes
    with pytest.raises(IntegrityError, match=r"model\.safetensors no longer matches what was reviewed"):
        push_model(approved.backend.registry, name, "again", artifact, files_dir, [])
