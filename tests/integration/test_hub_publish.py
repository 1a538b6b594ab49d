"""`curator hub publish DIR ORG/NAME`: a new commit in the local hub, served at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from huggingface_hub import HfApi

from curator.demo.hub import HubServer
from curator.demo.store import HubStore


def curator(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "curator", *map(str, args)], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=120, check=False)


def folder(path: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (path / rel).parent.mkdir(parents=True, exist_ok=True)
        (path / rel).write_bytes(data)
    return path


def test_publish_adds_commits_on_branches_and_tags(tmp_path: Path) -> None:
    hub = tmp_path / "hub"
    v1 = folder(tmp_path / "v1", {"config.json": b"{}\n", "model.safetensors": b"\0" * 64, "sub/a.txt": b"a"})
    v2 = folder(tmp_path / "v2", {"config.json": b"{}\n", "model.safetensors": b"\1" * 64})
    first = curator("hub", "publish", v1, "acme/model", "--tag", "v1.0", "--hub", hub)
    assert first.returncode == 0, first.stderr
    second = curator("hub", "publish", v2, "acme/model", "--message", "v2", "--hub", hub)
    v3 = folder(tmp_path / "v3", {"config.json": b'{"n": 3}\n', "model.safetensors": b"\2" * 64})
    side = curator("hub", "publish", v3, "acme/model", "--branch", "experiment", "--hub", hub)
    shas = [p.stdout.strip() for p in (first, second, side)]
    assert len(set(shas)) == 3 and all(len(s) == 40 for s in shas)
    assert "acme/model" in second.stderr and shas[1] in second.stderr
    with HubServer(hub) as server:
        api = HfApi(endpoint=server.url)
        refs = api.list_repo_refs("acme/model")
        assert {b.name: b.target_commit for b in refs.branches} == {"main": shas[1], "experiment": shas[2]}
        assert {t.name: t.target_commit for t in refs.tags} == {"v1.0": shas[0]}
        assert set(api.list_repo_files("acme/model", revision="v1.0")) == {"config.json", "model.safetensors",
                                                                          "sub/a.txt"}
        assert set(api.list_repo_files("acme/model")) == {"config.json", "model.safetensors"}
    commit = HubStore(hub).repo("acme/model").resolve("main")  # type: ignore[union-attr]
    assert commit is not None and commit.files["model.safetensors"].location.read_bytes() == b"\1" * 64


def test_publish_refuses_what_it_cannot_publish_faithfully(tmp_path: Path) -> None:
    hub = tmp_path / "hub"
    plain = folder(hub / "acme" / "plain", {"config.json": b"{}"})
    linked = folder(tmp_path / "linked", {"config.json": b"{}"})
    (linked / "secret").symlink_to("/etc/hostname")
    for args, words in (([linked, "acme/x"], "symlink"), ([plain, "acme/plain"], "plain folder"),
                        ([tmp_path / "missing", "acme/x"], "not a folder"),
                        ([tmp_path / "v1", "../escape"], "not a repo id")):
        done = curator("hub", "publish", *args, "--hub", hub)
        assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
        assert words in done.stderr
    assert (plain / "config.json").read_bytes() == b"{}" and not (plain / ".hub").exists()
    assert not (hub / "acme" / "x").exists()


def test_serve_help_documents_the_folder_format() -> None:
    done = subprocess.run([sys.executable, "-m", "curator", "hub", "serve", "--help"], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "120"}, timeout=120, check=False)
    assert done.returncode == 0
    for words in ("ORG/NAME/", ".hub/", "refs.json", "curator hub publish", "Symlinks are never served"):
        assert words in done.stdout
