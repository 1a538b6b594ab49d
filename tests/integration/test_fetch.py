"""Fetch & hash-pin against the local HF-compatible hub, through the real CLI and the stage.

Every refusal of issue #2 is provoked with one of the hub's fault modes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from curator.core.evidence import FetchEvidence
from tests.readers import reads_fully

REPO = "acme/x"
WEIGHTS = "model.safetensors"


def _bytes(n: int, seed: int) -> bytes:
    out = bytearray()
    block = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block * 64
    return bytes(out[:n])


@pytest.fixture
def files() -> dict[str, bytes]:
    return {
        WEIGHTS: _bytes(3 << 20, 1),
        "config.json": b'{"model_type": "gpt2", "n_layer": 2}\n',
        "README.md": b"---\nlicense: apache-2.0\n---\n# x\n",
        "sub/tokenizer.json": _bytes(40_000, 2),
    }


@pytest.fixture
def published(hub_store: Any, files: dict[str, bytes]) -> dict[str, str]:
    old = hub_store.publish(REPO, {"config.json": b"{}\n"}, tags=["v0.1"], message="first")
    new = hub_store.publish(REPO, files, tags=["v1.0"], message="second")
    return {"old": old, "new": new}


def curator(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if home is not None:
        env["CURATOR_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def review(hub: Any, *extra: str, repo: str = REPO) -> subprocess.CompletedProcess[str]:
    return curator("review", repo, "--endpoint", hub.url, "--headless", "--only", "fetch", "--json", *extra)


def _findings(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["stages"]["fetch"]["findings"])


def test_clean_fetch_pins_commit_and_hashes_every_file(hub: Any, published: dict[str, str],
                                                         files: dict[str, bytes]) -> None:
    run = review(hub, "--revision", "main")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)  # stdout is exactly one JSON document
    assert doc["candidate"]["revision"] == published["new"]
    assert doc["candidate"]["source"] == "hub"
    expected = [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                for p, b in sorted(files.items())]
    assert doc["files"] == expected
    assert doc["stages"]["fetch"]["status"] == "passed"
    checks = doc["stages"]["fetch"]["evidence"]["checks"]
    assert checks[WEIGHTS] == "lfs-sha256" and checks["config.json"] == "git-blob-sha1"
    on_disk = Path(os.environ["CURATOR_HOME"], "reviews", doc["review_id"], "files", WEIGHTS)
    assert on_disk.read_bytes() == files[WEIGHTS]


@pytest.mark.parametrize("revision", ["main", "v1.0", "SHORT", "FULL"])
def test_any_revision_form_pins_the_full_sha(hub: Any, published: dict[str, str], revision: str) -> None:
    from curator.core.models import Candidate
    from curator.stages.fetch.hub import pin

    rev = {"SHORT": published["new"][:8], "FULL": published["new"]}.get(revision, revision)
    pinned = pin(Candidate(REPO, rev, "hub", endpoint=hub.url))
    assert pinned.commit == published["new"]
    assert pin(Candidate(REPO, "v0.1", "hub", endpoint=hub.url)).commit == published["old"]


def test_corrupted_same_size_body_fails_naming_file_and_digests(hub: Any, published: dict[str, str],
                                                               files: dict[str, bytes]) -> None:
    hub.faults.corrupt.add(WEIGHTS)
    run = review(hub)
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    assert doc["stages"]["fetch"]["status"] == "failed"
    [finding] = [f for f in _findings(doc) if f["code"] == "sha256-mismatch"]
    assert finding["file"] == WEIGHTS
    assert hashlib.sha256(files[WEIGHTS]).hexdigest() in finding["message"]
    assert WEIGHTS not in [f["path"] for f in doc["files"]]  # a bad file never enters the manifest
    fetch = reads_fully(FetchEvidence, doc["stages"]["fetch"]["evidence"])
    [mismatch] = fetch.mismatches
    assert mismatch.path == WEIGHTS and [p.code for p in mismatch.problems] == ["sha256-mismatch"]
    assert mismatch.problems[0].expected == hashlib.sha256(files[WEIGHTS]).hexdigest()
    assert fetch.commit == doc["candidate"]["revision"] and fetch.endpoint == hub.url
    review_dir = Path(os.environ["CURATOR_HOME"], "reviews", doc["review_id"], "files")
    assert not (review_dir / WEIGHTS).exists()


def test_corrupted_regular_file_fails_on_git_blob_sha1(hub: Any, published: dict[str, str]) -> None:
    hub.faults.corrupt.add("sub/tokenizer.json")
    doc = json.loads(review(hub).stdout)
    codes = {f["code"] for f in _findings(doc) if f["file"] == "sub/tokenizer.json"}
    assert codes == {"git-sha1-mismatch"}


def test_wrong_served_commit_fails(hub: Any, published: dict[str, str]) -> None:
    hub.faults.wrong_commit.add("config.json")
    run = review(hub)
    assert run.returncode == 1
    [finding] = [f for f in _findings(json.loads(run.stdout)) if f["code"] == "wrong-commit"]
    assert finding["file"] == "config.json" and published["new"] in finding["message"]


def test_dropped_connection_resumes_with_range(hub: Any, published: dict[str, str],
                                              files: dict[str, bytes]) -> None:
    hub.faults.drop_after[WEIGHTS] = 1 << 20
    run = review(hub)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert hub.faults.drops == 1
    assert doc["stages"]["fetch"]["evidence"]["resumed"][WEIGHTS] > 0
    fetch = reads_fully(FetchEvidence, doc["stages"]["fetch"]["evidence"])
    assert fetch.resumed[WEIGHTS] > 0 and fetch.checks[WEIGHTS] == "lfs-sha256"
    sha = {f["path"]: f["sha256"] for f in doc["files"]}[WEIGHTS]
    assert sha == hashlib.sha256(files[WEIGHTS]).hexdigest()


def test_network_that_keeps_dropping_errors_then_a_retry_resumes(hub: Any, published: dict[str, str]) -> None:
    hub.faults.drop_after[WEIGHTS] = 1 << 20
    hub.faults.drop_every_time = True
    first = review(hub)
    assert first.returncode == 1
    doc = json.loads(first.stdout)
    assert doc["stages"]["fetch"]["status"] == "errored"
    assert "run the same command again" in _findings(doc)[0]["message"]
    assert WEIGHTS not in [f["path"] for f in doc["files"]]
    hub.faults.drop_after.clear()
    second = json.loads(review(hub).stdout)
    assert second["review_id"] == doc["review_id"]  # the same review resumes
    assert second["stages"]["fetch"]["status"] == "passed"


def test_traversal_path_in_file_list_refuses_whole_repo(hub: Any, published: dict[str, str]) -> None:
    hub.faults.extra_files["../evil.txt"] = b"pwned"
    run = review(hub)
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    assert [f["code"] for f in _findings(doc)] == ["unsafe-path"]
    assert doc["files"] == []
    home = Path(os.environ["CURATOR_HOME"])
    assert not any(home.rglob("evil.txt"))


def test_declared_size_mismatch_fails(hub: Any, published: dict[str, str]) -> None:
    hub.faults.declared_size["config.json"] = 5
    doc = json.loads(review(hub).stdout)
    assert "size-mismatch" in {f["code"] for f in _findings(doc)}


def test_file_over_size_cap_is_refused(hub: Any, published: dict[str, str], tmp_path: Path) -> None:
    import shutil

    from curator.core.policy import checklists_dir

    custom = tmp_path / "checklists"
    shutil.copytree(checklists_dir(), custom)
    text = (custom / "default.yaml").read_text()
    capped = text.replace("max_file_bytes: 68719476736", "max_file_bytes: 1000000")
    (custom / "default.yaml").write_text(capped)
    os.environ["CURATOR_CHECKLISTS"] = str(custom)
    try:
        doc = json.loads(review(hub).stdout)
    finally:
        del os.environ["CURATOR_CHECKLISTS"]
    [finding] = _findings(doc)
    assert finding["code"] == "file-too-large" and finding["file"] == WEIGHTS


def test_unknown_repo_and_revision_exit_2_with_one_line(hub: Any, published: dict[str, str]) -> None:
    run = review(hub, repo="acme/nope")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "acme/nope" in run.stderr and "check the name" in run.stderr
    run = review(hub, "--revision", "no-such-branch")
    assert run.returncode == 2 and "no-such-branch" in run.stderr and run.stderr.count("\n") == 1


def test_unreachable_hub_exits_2(published: dict[str, str]) -> None:
    run = curator("review", REPO, "--endpoint", "http://127.0.0.1:9", "--headless", "--json")
    assert run.returncode == 2 and "cannot reach the hub" in run.stderr


def test_gated_repo_needs_hf_token(hub: Any, hub_store: Any, published: dict[str, str]) -> None:
    hub_store.configure(REPO, gated="manual")
    hub.tokens.add("hf_secret")
    run = review(hub)
    assert run.returncode == 2 and "HF_TOKEN" in run.stderr
    os.environ["HF_TOKEN"] = "hf_secret"
    try:
        assert review(hub).returncode == 0
    finally:
        del os.environ["HF_TOKEN"]


def test_rerun_resumes_without_redoing_fetch(hub: Any, published: dict[str, str]) -> None:
    first = json.loads(review(hub).stdout)
    second = json.loads(review(hub).stdout)
    assert first["review_id"] == second["review_id"]
    from curator.ledger import Ledger

    ledger = Ledger(Path(os.environ["CURATOR_HOME"]) / "ledger.db")
    fetches = [e for e in ledger.events(first["review_id"]) if e["kind"] == "stage_result"]
    assert len(fetches) == 1
    fresh = json.loads(review(hub, "--fresh").stdout)
    assert fresh["review_id"] != first["review_id"]


def test_local_folder_is_hashed_in_place_and_pinned_by_manifest(tmp_path: Path) -> None:
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "a.bin").write_bytes(b"weights")
    (model / "sub" / "b.json").write_text("{}")
    (model / ".git").mkdir()
    (model / ".git" / "HEAD").write_text("ref")
    run = curator("review", str(model), "--headless", "--only", "fetch", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    from curator.core.models import Manifest

    assert [f["path"] for f in doc["files"]] == ["a.bin", "sub/b.json"]
    assert doc["candidate"]["revision"] == Manifest.from_list(doc["files"]).digest


def test_local_symlink_escaping_the_folder_fails(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "a.bin").write_bytes(b"weights")
    (tmp_path / "secret").write_text("x")
    (model / "link").symlink_to(tmp_path / "secret")
    run = curator("review", str(model), "--headless", "--only", "fetch", "--json")
    assert run.returncode == 1
    doc = json.loads(run.stdout)
    assert [f["code"] for f in _findings(doc)] == ["symlink-escapes"]


def test_ledger_verify_cli_names_the_first_bad_row(hub: Any, published: dict[str, str]) -> None:
    assert review(hub).returncode == 0
    ok = curator("ledger", "verify", "--json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    import sqlite3

    db = sqlite3.connect(Path(os.environ["CURATOR_HOME"]) / "ledger.db")
    db.execute("UPDATE events SET payload = '{}' WHERE seq = 1")
    db.commit()
    db.close()
    bad = curator("ledger", "verify")
    assert bad.returncode == 1 and "row 1" in bad.stderr
