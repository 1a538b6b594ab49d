"""`curator decide / verify / pull` through the real CLI: the demo flow, exit codes, JSON keys,
and two deciders racing on one review."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from curator.core.errors import DecisionRefused
from curator.decision.decide import DecisionRequest, decide
from tests.decision.helpers import cli, cli_curator, curator, isolated_checklists, make_model, open_session
from tests.needs import need_binary


@pytest.fixture
def checklists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = isolated_checklists(tmp_path / "checklists", ["fetch"])
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(path))
    return path


def _review(model: Path) -> str:
    done = cli("review", str(model), "--headless", "--json")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["review_id"])


def test_review_approve_push_verify_pull(checklists: Path, tmp_path: Path) -> None:
    model = make_model(tmp_path / "tiny")
    assert cli_curator("Ada", "ada@example.org").returncode == 0
    rid = _review(model)
    done = cli("decide", rid, "--approve", "--rationale", "clean sample", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert {"decision_id", "outcome", "ref"} <= set(doc) and doc["outcome"] == "approved"
    ref = doc["ref"]
    checked = cli("verify", ref, "--json")
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] and report["files"] == 4 and report["reason"] is None
    assert report["decisions"][0]["decision_id"] == doc["decision_id"]
    assert cli("verify", doc["digest_ref"]).returncode == 0
    human = cli("verify", ref)
    assert human.stdout == "" and "approved by Ada" in human.stderr
    pulled = cli("pull", ref, str(tmp_path / "out"))
    assert pulled.returncode == 0, pulled.stderr
    for f in ("model.safetensors", "config.json", "tokenizer/tokenizer.json", "README.md"):
        assert (tmp_path / "out" / f).read_bytes() == (model / f).read_bytes()
    if need_binary("skopeo"):
        home = Path(os.environ["CURATOR_HOME"])
        raw = subprocess.run(["skopeo", "inspect", "--raw", f"oci:{home / 'registry'}:{ref}"],
                             capture_output=True, check=True)
        assert json.loads(raw.stdout)["artifactType"] == "application/vnd.cncf.model.manifest.v1+json"


def test_blocked_and_usage_errors_are_one_line(checklists: Path, tmp_path: Path) -> None:
    model = make_model(tmp_path / "tiny")
    cli_curator("Ada", "ada@example.org")
    rid = _review(model)
    neither = cli("decide", rid, "--rationale", "x")
    assert neither.returncode == 2 and "exactly one of --approve or --reject" in neither.stderr
    bad = cli("decide", rid, "--approve", "--rationale", "x", "--waive", "nonsense")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    missing = cli("decide", "nope", "--reject", "--rationale", "x")
    assert missing.returncode == 2 and "no review nope" in missing.stderr
    rejected = cli("decide", rid, "--reject", "--rationale", "unknown publisher", "--json")
    assert rejected.returncode == 0 and json.loads(rejected.stdout)["outcome"] == "rejected"
    again = cli("decide", rid, "--approve", "--rationale", "x")
    assert again.returncode == 1 and "already decided" in again.stderr
    assert cli("verify", "local/tiny:000000000000").returncode == 1


def test_unreachable_registry_exits_2(checklists: Path) -> None:
    no_root = cli("verify", "local/tiny:abc")
    assert no_root.returncode == 2 and "no trusted root" in no_root.stderr
    cli_curator("Ada", "ada@example.org")
    done = cli("verify", "127.0.0.1:9/acme/tiny:abc", env={"CURATOR_REGISTRY": ""})
    assert done.returncode == 2 and "cannot reach the registry" in done.stderr


def test_two_concurrent_decide_processes_exactly_one_wins(checklists: Path, tmp_path: Path) -> None:
    model = make_model(tmp_path / "tiny")
    cli_curator("Ada", "ada@example.org")
    rid = _review(model)
    cmd = [sys.executable, "-m", "curator", "decide", rid, "--rationale", "race", "--json"]
    procs = [subprocess.Popen([*cmd, flag], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for flag in ("--approve", "--reject")]
    outs = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in outs)
    assert codes == [0, 1], outs
    loser = next(err for code, _, err in outs if code == 1)
    # refused by the ledger's lock ("just decided"), or already by the signed state the winning
    # rejection published ("rejected on ...") before anything was signed
    assert "decided" in loser or "was rejected on" in loser, loser
    session = open_session(checklists)
    try:
        decisions = session.ledger.events(rid, kind="decision")
        assert len(decisions) == 1
        winner = json.loads(next(out for code, out, _ in outs if code == 0))
        assert decisions[0]["payload"]["decision_id"] == winner["decision_id"]
        assert session.ledger.verify().ok
    finally:
        session.close()


def test_many_threads_deciding_at_once_record_one_decision(checklists: Path, tmp_path: Path) -> None:
    model = make_model(tmp_path / "tiny")
    rid = _review(model)
    setup = open_session(checklists)
    signers = [curator(setup.workspace, tmp_path / f"c{i}", f"C{i}", f"c{i}@example.org") for i in range(6)]
    setup.close()
    barrier = threading.Barrier(len(signers))
    results: list[str] = []

    def one(i: int) -> None:
        session = open_session(checklists)  # one connection each, like separate processes
        try:
            barrier.wait()
            request = DecisionRequest(rid, i % 2 == 0, f"thread {i}")
            results.append(decide(session, request, signers[i]).outcome)
        except DecisionRefused:
            results.append("refused")
        finally:
            session.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(signers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results).count("refused") == len(signers) - 1
    check = open_session(checklists)
    try:
        assert len(check.ledger.events(rid, kind="decision")) == 1
        assert check.ledger.get_review(rid).state == "decided"
    finally:
        check.close()


def test_a_skipped_stage_blocks_approval_until_waived(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # eval on a model it cannot measure reaches no verdict: it skips, and says why
    stages = ["fetch", "scan", "eval"]
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(isolated_checklists(tmp_path / "checklists", stages)))
    model = make_model(tmp_path / "tiny")
    shutil.rmtree(model / "tokenizer")
    assert cli_curator("Ada", "ada@example.org").returncode == 0
    doc = json.loads(cli("review", str(model), "--headless", "--json").stdout)
    assert doc["stages"]["scan"]["status"] == "passed", doc["stages"]["scan"]
    assert doc["stages"]["eval"]["status"] == "skipped", doc["stages"]["eval"]
    rid = doc["review_id"]
    refused = cli("decide", rid, "--approve", "--rationale", "looks fine")
    assert refused.returncode == 1 and refused.stdout == ""
    why = doc["stages"]["eval"]["evidence"]["reason"]
    assert f"approval blocked by eval reached no verdict ({why[:40]}" in refused.stderr
    assert "--waive" in refused.stderr
    waived = cli("decide", rid, "--approve", "--rationale", "looks fine", "--json",
                 "--waive", "eval=measured by the platform team's own harness")
    assert waived.returncode == 0, waived.stderr
    assert json.loads(waived.stdout)["outcome"] == "approved"
