"""The demo workspace's own root of trust: with only the demo curator's key, review ->
decide -> verify works, and the workspace's root never trusts anyone else."""

from __future__ import annotations

import json
import os
from pathlib import Path

from curator.core.workspace import Workspace
from curator.demo.policy import prepare_policy
from tests.decision.helpers import cli, make_model


def test_demo_policy_lets_the_demo_curator_decide_and_verify(tmp_path: Path) -> None:
    assert cli("keys", "init", "--name", "Demo Curator", "--email", "demo@example.org").returncode == 0
    ws = Workspace.open(os.environ["CURATOR_HOME"])
    folder = prepare_policy(ws, curator_key=False).checklists
    root = (folder / "root.json").read_bytes()
    assert prepare_policy(ws, curator_key=False).checklists == folder
    assert (folder / "root.json").read_bytes() == root  # idempotent: the same root
    env = {"CURATOR_CHECKLISTS": str(folder)}
    reviewed = cli("review", str(make_model(tmp_path / "tiny")), "--headless", "--only", "fetch", "--json",
                   env=env)
    rid = json.loads(reviewed.stdout)["review_id"]
    waive = [f"--waive={s}=demo" for s in ("scan", "signature", "card", "eval")]
    done = cli("decide", rid, "--approve", "--rationale", "demo", *waive, "--json", env=env)
    assert done.returncode == 0, done.stderr
    checked = cli("verify", "local/tiny:prod", "--json", env=env)
    assert checked.returncode == 0, checked.stdout
    shown = json.loads(cli("state", "show", "--json", env=env).stdout)
    assert [c["name"] for c in shown["curators"]] == ["Demo Curator"]
    # the shipped checklists never gained a root: only the demo's own folder did
    assert cli("verify", "local/tiny:prod").returncode == 2
