"""Round 3 attacks on fetch: names one file system holds as two files and another as one.

On Windows (and on any consumer that pulls the approved artifact there), ``config.json::$DATA``
*is* ``config.json`` (its unnamed data stream), ``weights.bin:x`` is a stream of
``weights.bin``, and ``aux.json`` or ``COM1.txt`` are devices: writing them replaces a reviewed
file with other bytes, or loses them. Such listings are refused before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curator.core.paths import unsafe_reason
from tests.integration.test_fetch import _findings, curator, review

WINDOWS_NAMES = {  # name -> the refusal
    "data-stream": ("config.json::$DATA", "colliding-paths"),
    "named-stream": ("weights.bin:hidden", "colliding-paths"),
    "device": ("aux.json", "unsafe-path"),
    "device-in-folder": ("sub/COM1.txt", "unsafe-path"),
    "device-trailing-space": ("nul .bin", "unsafe-path"),
}


@pytest.mark.parametrize("kind", sorted(WINDOWS_NAMES))
def test_hub_names_windows_reads_as_another_file_refuse_the_repo(hub: Any, hub_store: Any, kind: str) -> None:
    name, code = WINDOWS_NAMES[kind]
    hub_store.publish("acme/windows", {"config.json": b"{}\n", "weights.bin": b"reviewed bytes\n",
                                       name: b"other bytes!!\n"}, tags=["v1"], message=kind)
    run = review(hub, repo="acme/windows")
    assert run.returncode == 1, run.stdout
    doc = json.loads(run.stdout)
    assert {f["code"] for f in _findings(doc)} == {code}, _findings(doc)
    assert repr(name) in " ".join(f["message"] for f in _findings(doc))
    assert doc["files"] == []


def test_local_folder_with_a_data_stream_name_is_refused(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_bytes(b"{}\n")
    (model / "config.json::$DATA").write_bytes(b'{"auto_map": "evil"}\n')
    run = curator("review", str(model), "--headless", "--only", "fetch", "--json")
    assert run.returncode == 1, run.stdout
    assert "colliding-paths" in {f["code"] for f in _findings(json.loads(run.stdout))}


@pytest.mark.parametrize("name", ["config.json", "model-00001-of-00002.safetensors", "console.txt",
                                  "auxiliary/w.bin", "sub/comma,name.txt",
                                  "evil [link=mailto:x@e.example].pkl"])
def test_ordinary_names_stay_safe(name: str) -> None:
    assert unsafe_reason(name) is None


def test_a_repo_of_many_files_each_under_the_cap_is_refused_by_its_total(
        hub: Any, hub_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: only each file was capped, so enough files under the cap could fill the disk."""
    import shutil

    from curator.core.policy import checklists_dir

    custom = tmp_path / "checklists"
    shutil.copytree(checklists_dir(), custom)
    text = (custom / "default.yaml").read_text()
    capped = text.replace("max_total_bytes: 274877906944", "max_total_bytes: 999")
    (custom / "default.yaml").write_text(capped)
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(custom))
    hub_store.publish("acme/many", {f"shard-{i}.bin": bytes([i]) * 400 for i in range(3)}, tags=["v1"],
                      message="three files of 400 bytes, 1200 in all")
    run = review(hub, repo="acme/many")
    assert run.returncode == 1, run.stdout
    doc = json.loads(run.stdout)
    assert {f["code"] for f in _findings(doc)} == {"repo-too-large"}, _findings(doc)
    assert doc["files"] == []
    assert not [r for r in hub.requests if "/resolve/" in r.path], "nothing may be downloaded"
