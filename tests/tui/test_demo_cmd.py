"""`curator demo`: the real CLI in a subprocess, against the hub it starts itself."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from curator.demo.store import HubStore


def curator(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CURATOR_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True, text=True,
                          env=env, timeout=600)


@pytest.mark.slow
def test_no_tui_reviews_the_clean_sample_offline(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = curator("demo", "--no-tui", "--json", home=home)
    assert "Traceback" not in done.stderr
    doc = json.loads(done.stdout)  # exactly one JSON document on stdout
    assert doc["candidate"]["repo_id"] == "acme-labs/tinyllama-clean"
    assert doc["candidate"]["endpoint"].startswith("http://127.0.0.1:")
    statuses = {name: stage["status"] for name, stage in doc["stages"].items()}
    assert statuses["fetch"] == "passed" and statuses["signature"] == "passed"
    assert doc["stages"]["card"]["evidence"]["fields"]["publisher_identity"]["status"] == "verified"
    assert done.returncode == (1 if {"failed", "errored"} & set(statuses.values()) else 0)
    # the files are the hub's own bytes, which the demo built under the workspace
    # the queue's first entry: acme-labs' signed release v1.1
    commit = HubStore(home / "demo-hub").repo("acme-labs/tinyllama-clean").resolve("v1.1")  # type: ignore[union-attr]
    assert commit is not None and doc["candidate"]["revision"] == commit.sha
    expected = {p: hashlib.sha256(f.location.read_bytes()).hexdigest() for p, f in commit.files.items()}
    assert {f["path"]: f["sha256"] for f in doc["files"]} == expected


@pytest.mark.slow
def test_no_tui_speaks_to_people_on_stderr(tmp_path: Path) -> None:
    done = curator("demo", "--no-tui", home=tmp_path / "home")
    assert done.stdout == ""
    assert "acme-labs/tinyllama-clean" in done.stderr and "recommendation:" in done.stderr


def test_json_needs_no_tui(tmp_path: Path) -> None:
    done = curator("demo", "--json", home=tmp_path / "home")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "--no-tui" in done.stderr


def test_a_busy_port_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = curator("demo", "--no-tui", "--port", str(port), home=tmp_path / "home")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert f"127.0.0.1:{port}" in done.stderr and "--port" in done.stderr


def test_the_cli_starts_without_textual() -> None:
    code = ("import sys, curator.cli, curator.cli.demo_cmd, curator.tui.items; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual' "
            "or m.startswith(('curator.tui.app', 'curator.demo.'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
