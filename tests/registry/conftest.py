"""A real Debian ``docker-registry`` (distribution 2.8) on 127.0.0.1, one per test, and the two
registry backends side by side so every gate check runs against both."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from curator.registry.interface import Registry
from curator.registry.layout import LayoutRegistry
from curator.registry.remote import RemoteRegistry
from tests.needs import need_binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Distribution:
    """A running docker-registry: its URL, storage folder and process."""

    url: str
    host: str
    storage: Path
    process: subprocess.Popen[bytes]

    def blob_path(self, digest: str) -> Path:
        hexdigest = digest.split(":", 1)[1]
        return self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest / "data"

    def tag_dir(self, name: str, tag: str) -> Path:
        return self.storage / "docker/registry/v2/repositories" / name / "_manifests/tags" / tag


def start_distribution(root: Path, htpasswd: Path | None = None) -> Distribution:
    binary = need_binary("docker-registry", "run 'make sysdeps' (apt-get install docker-registry)")
    port = free_port()
    storage = root / "storage"
    storage.mkdir(parents=True)
    auth = (f"auth:\n  htpasswd:\n    realm: curator-test\n    path: {htpasswd}\n") if htpasswd else ""
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n" + auth)
    log = open(root / "registry.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/v2/", timeout=1).status_code in (200, 401):
                return Distribution(url, f"127.0.0.1:{port}", storage, process)
        except requests.ConnectionError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"docker-registry did not start: {(root / 'registry.log').read_text()}")


@pytest.fixture
def distribution(tmp_path: Path) -> Iterator[Distribution]:
    server = start_distribution(tmp_path / "distribution")
    yield server
    server.process.terminate()
    server.process.wait(10)


@dataclass
class Backend:
    """One registry under test, with the two tamper hooks each storage needs."""

    kind: str
    registry: Registry
    distribution: Distribution | None = None

    def blob_file(self, digest: str) -> Path:
        if self.distribution:
            return self.distribution.blob_path(digest)
        assert isinstance(self.registry, LayoutRegistry)
        return self.registry.root / "blobs/sha256" / digest.split(":", 1)[1]

    def delete_tag(self, name: str, tag: str) -> None:
        if self.distribution:
            shutil.rmtree(self.distribution.tag_dir(name, tag))
            return
        import json

        assert isinstance(self.registry, LayoutRegistry)
        index_path = self.registry.root / "index.json"
        index = json.loads(index_path.read_text())
        index["manifests"] = [m for m in index["manifests"]
                              if m["annotations"]["org.opencontainers.image.ref.name"] != f"{name}:{tag}"]
        index_path.write_text(json.dumps(index))


@pytest.fixture(params=["layout", "distribution"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "layout":
        yield Backend("layout", LayoutRegistry(tmp_path / "layout"))
        return
    server = start_distribution(tmp_path / "distribution")
    try:
        yield Backend("distribution", RemoteRegistry(server.url, retries=1), server)
    finally:
        server.process.terminate()
        server.process.wait(10)
