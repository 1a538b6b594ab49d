"""`--replaces NAME:prod`: a swap across names names the model in production by its tag.

Two different repos (so no same-repo-id swap is found by itself); the CLI, the local hub, the
real stages, ledger, layout registry and keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curator.core.workspace import Workspace
from curator.review.session import Session
from tests.changes.helpers import checklists, files_of, revision
from tests.decision.helpers import cli, cli_curator

OLD, NEW = "acme/tiny", "acme/tiny-next"


def _json(*args: str) -> Any:
    done = cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def reviews(hub: Any, hub_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for repo, seed in ((OLD, 0), (NEW, 1)):
        hub_store.publish(repo, files_of(revision(tmp_path / repo, seed, "apache-2.0")), message="v1")
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists(tmp_path / "checklists", ["fetch", "card"])))
    assert cli_curator("Ada", "ada@example.org").returncode == 0
    return {repo: _json("review", repo, "--endpoint", hub.url, "--headless")["review_id"]
            for repo in (OLD, NEW)}


def test_replaces_names_the_model_in_production_by_its_tag(reviews: dict[str, str]) -> None:
    first = _json("decide", reviews[OLD], "--approve", "--rationale", "first adoption")
    unknown = cli("decide", reviews[NEW], "--approve", "--rationale", "r", "--replaces", "acme/nothing:prod")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "acme/nothing:prod" in unknown.stderr
    second = _json("decide", reviews[NEW], "--approve", "--rationale", "the next model",
                   "--replaces", f"{OLD}:prod", "--justification", "better scores",
                   "--rollback-plan", f"curator rollback {OLD}")
    assert second["outcome"] == "approved"
    import os

    session = Session.open(Workspace.open(os.environ["CURATOR_HOME"]))
    try:
        decision = session.ledger.events(reviews[NEW], kind="decision")[-1]["payload"]
    finally:
        session.close()
    assert decision["change"]["replaces"]["digest"] == first["manifest_digest"]
    assert decision["change"]["replaces"]["repo_id"] == OLD
