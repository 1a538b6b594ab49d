"""Round 2 attacks on fetch: file names that are one file on another file system.

A repo (or local folder) listing ``Model.bin`` and ``model.bin``, or ``café`` in NFC and
NFD, holds two files here but one on a case-insensitive or normalising file system (macOS,
Windows, many registries' consumers): whichever lands last is what runs, while the review
pinned both. Such a listing is refused before anything is written.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_fetch import _findings, curator, review

COLLISIONS = {
    "case": ("weights.bin", "Weights.bin"),
    "unicode-nfc-nfd": ("caf\u00e9.bin", "cafe\u0301.bin"),
    "trailing-dot": ("weights.bin", "weights.bin."),
    "trailing-space": ("weights.bin", "weights.bin "),
    "case-in-folder": ("sub/weights.bin", "SUB/weights.bin"),
    "file-and-folder": ("weights", "Weights/inner.bin"),
}


@pytest.mark.parametrize("kind", sorted(COLLISIONS))
def test_hub_paths_that_collide_after_normalisation_refuse_the_repo(hub: Any, hub_store: Any,
                                                                    kind: str) -> None:
    first, second = COLLISIONS[kind]
    hub_store.publish("acme/collide", {first: b"reviewed bytes\n", second: b"other bytes!!\n",
                                       "config.json": b"{}\n"}, tags=["v1"], message=kind)
    run = review(hub, repo="acme/collide")
    assert run.returncode == 1, run.stdout
    doc = json.loads(run.stdout)
    codes = {f["code"] for f in _findings(doc)}
    assert codes == {"colliding-paths"}, codes
    message = " ".join(f["message"] for f in _findings(doc))
    assert repr(first) in message and repr(second) in message
    assert doc["files"] == []


def test_a_hub_listing_that_names_one_file_twice_refuses_the_repo(hub: Any, hub_store: Any) -> None:
    hub_store.publish("acme/twice", {"config.json": b"{}\n", "w.bin": b"w\n"}, tags=["v1"], message="x")
    hub.faults.extra_files["config.json"] = b"{}\n"  # listed again, same bytes: both entries verify
    run = review(hub, repo="acme/twice")
    assert run.returncode == 1, run.stdout
    doc = json.loads(run.stdout)
    assert [f["code"] for f in _findings(doc)] == ["colliding-paths"]
    assert doc["files"] == []


@pytest.mark.parametrize("kind", ["case", "unicode-nfc-nfd", "trailing-dot"])
def test_local_paths_that_collide_after_normalisation_refuse_the_folder(tmp_path: Path, kind: str) -> None:
    first, second = COLLISIONS[kind]
    model = tmp_path / "model"
    model.mkdir()
    (model / first).write_bytes(b"reviewed bytes\n")
    (model / second).write_bytes(b"other bytes!!\n")
    run = curator("review", str(model), "--headless", "--only", "fetch", "--json")
    assert run.returncode == 1, run.stdout
    doc = json.loads(run.stdout)
    assert {f["code"] for f in _findings(doc)} == {"colliding-paths"}
    assert doc["files"] == []


@pytest.mark.parametrize("kind", ["fifo", "dangling-link"])
def test_a_local_entry_that_is_no_regular_file_refuses_the_folder(tmp_path: Path, kind: str) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"reviewed bytes\n")
    if kind == "fifo":
        os.mkfifo(model / "evil.pkl")
    else:
        (model / "evil.pkl").symlink_to("not-there.pkl")
    run = curator("review", str(model), "--headless", "--only", "fetch", "--json")
    assert run.returncode == 1, run.stdout
    doc = json.loads(run.stdout)
    assert [(f["code"], f["file"]) for f in _findings(doc)] == [("not-a-file", "evil.pkl")]
    assert doc["files"] == []
