"""Fetch cannot be swapped, flooded, stalled or tricked into giving a token away.

Each test is one attack of issue #16 against the real CLI or stage and the local hub.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.demo.hub import HubServer
from tests.integration.test_fetch import REPO, WEIGHTS, _findings, curator, review


@pytest.fixture
def files() -> dict[str, bytes]:
    return {WEIGHTS: os.urandom(1 << 20), "config.json": b'{"model_type": "gpt2", "n_layer": 2}\n',
            "README.md": b"# x\n"}


@pytest.fixture
def published(hub_store: Any, files: dict[str, bytes]) -> str:
    return str(hub_store.publish(REPO, files, tags=["v1.0"], message="first"))


def with_fetch_policy(tmp_path: Path, **keys: Any) -> Iterator[None]:
    from curator.core.policy import checklists_dir

    custom = tmp_path / "checklists"
    shutil.copytree(checklists_dir(), custom)
    text = (custom / "default.yaml").read_text()
    for key, value in keys.items():  # every fetch key is in the shipped file, once
        text, found = re.subn(rf"(?m)^  {key}: .*$", f"  {key}: {value}", text, count=1)
        assert found == 1, key
    (custom / "default.yaml").write_text(text)
    os.environ["CURATOR_CHECKLISTS"] = str(custom)
    try:
        yield
    finally:
        del os.environ["CURATOR_CHECKLISTS"]


# -- local folders: what was pinned is what later stages read ---------------------------------
def test_local_folder_is_copied_so_a_later_swap_of_the_source_changes_nothing(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"reviewed bytes")
    run = curator("review", str(model), "--headless", "--only", "fetch", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    (model / "weights.bin").write_bytes(b"swapped bytes!")  # after fetch, before scan
    copy = Path(os.environ["CURATOR_HOME"], "reviews", doc["review_id"], "files", "weights.bin")
    assert copy.read_bytes() == b"reviewed bytes"
    assert doc["files"][0]["sha256"] == hashlib.sha256(b"reviewed bytes").hexdigest()
    assert doc["stages"]["fetch"]["evidence"]["copied_to"] == str(copy.parent)
    assert copy.stat().st_ino != (model / "weights.bin").stat().st_ino  # never a hard link


def test_control_characters_in_a_local_file_name_refuse_the_folder(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "ok.bin").write_bytes(b"x")
    (model / "evil\x1b[2J\x1b[32m✔ approved\n.txt").write_bytes(b"x")
    run = curator("review", str(model), "--headless", "--only", "fetch", "--json")
    assert run.returncode == 1
    [finding] = _findings(json.loads(run.stdout))
    assert finding["code"] == "unsafe-path" and "\\x1b" in finding["message"] and "\x1b" not in run.stdout


# -- hub file names ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["evil\x1b[2Jname.bin", "two\nlines.bin", "c1\x9bname.bin", "del\x7f.bin"])
def test_control_characters_in_a_repo_path_refuse_the_repo(hub: Any, published: str, name: str) -> None:
    hub.faults.extra_files[name] = b"x"
    run = review(hub)
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    [finding] = _findings(doc)
    assert finding["code"] == "unsafe-path" and repr(name) in finding["message"]
    assert doc["files"] == []


def test_a_repo_file_named_like_a_partial_download_does_not_collide(hub: Any, hub_store: Any) -> None:
    hub_store.publish("acme/collide", {"x": b"the real x\n" * 1000, ".incomplete/x.part": b"other bytes\n"},
                      tags=["v1"], message="collide")
    run = review(hub, repo="acme/collide")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    folder = Path(os.environ["CURATOR_HOME"], "reviews", doc["review_id"], "files")
    assert (folder / "x").read_bytes() == b"the real x\n" * 1000
    assert (folder / ".incomplete" / "x.part").read_bytes() == b"other bytes\n"
    pinned = {f["path"]: f["sha256"] for f in doc["files"]}
    assert pinned == {p: hashlib.sha256((folder / p).read_bytes()).hexdigest() for p in pinned}


# -- bounded downloads ------------------------------------------------------------------------
def test_an_endless_body_is_read_only_one_byte_past_its_declared_size(hub: Any, published: str) -> None:
    hub.faults.endless.add("config.json")
    run = review(hub)
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    [finding] = [f for f in _findings(doc) if f["code"] == "size-mismatch"]
    assert finding["file"] == "config.json" and "got 38" in finding["message"]  # 37 declared + 1
    time.sleep(0.5)
    assert hub.faults.endless_sent < 64 << 20  # the server stopped when curator hung up


def test_a_dripping_file_errors_at_the_per_file_budget(hub: Any, published: str, tmp_path: Path) -> None:
    hub.faults.drip["config.json"] = 3.0  # 37 bytes: ~111 s unbounded
    started = time.monotonic()
    for _ in with_fetch_policy(tmp_path, file_timeout_seconds=2):
        run = review(hub)
    assert time.monotonic() - started < 60  # a liveness bound, far below the ~111 s unbounded
    doc = json.loads(run.stdout)
    assert doc["stages"]["fetch"]["status"] == "errored" and run.returncode == 1
    assert "fetch.file_timeout_seconds" in _findings(doc)[0]["message"]


def test_a_stalling_hub_errors_at_the_stage_budget(hub: Any, published: str, tmp_path: Path) -> None:
    hub.faults.drip.update({"config.json": 3.0, "README.md": 3.0})
    started = time.monotonic()
    for _ in with_fetch_policy(tmp_path, stage_timeout_seconds=2):
        run = review(hub)
    assert time.monotonic() - started < 60  # a liveness bound, far below the ~111 s unbounded
    doc = json.loads(run.stdout)
    assert doc["stages"]["fetch"]["status"] == "errored"
    assert "fetch.stage_timeout_seconds" in _findings(doc)[0]["message"]


def test_a_listing_without_size_or_digest_is_warned_as_unchecked(hub: Any, published: str) -> None:
    hub.faults.bare_listing.add("config.json")
    run = review(hub)
    doc = json.loads(run.stdout)
    fetch = doc["stages"]["fetch"]
    assert fetch["status"] == "warned" and fetch["evidence"]["checks"]["config.json"] == "unchecked"
    [finding] = fetch["findings"]
    assert finding["code"] == "unverified-file" and "nothing was compared" in finding["message"]


# -- HF_TOKEN goes only where it belongs ------------------------------------------------------
def _lan_address() -> str:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing address
        address = str(probe.getsockname()[0])
    if address.startswith("127."):
        pytest.fail("this machine has no non-loopback IPv4 address to serve a plain-http hub on")
    return address


def test_hf_token_is_not_sent_over_plain_http_to_another_host(hub_store: Any, published: str) -> None:
    with HubServer(hub_store, host=_lan_address()) as lan:
        os.environ["HF_TOKEN"] = "hf_secret"
        try:
            run = review(lan)
        finally:
            del os.environ["HF_TOKEN"]
    assert run.returncode == 0, run.stderr
    assert lan.requests and not any(r.with_token for r in lan.requests)


def test_hf_token_still_reaches_a_loopback_hub(hub: Any, published: str) -> None:
    os.environ["HF_TOKEN"] = "hf_secret"
    try:
        assert review(hub).returncode == 0
    finally:
        del os.environ["HF_TOKEN"]
    assert any(r.with_token for r in hub.requests)
