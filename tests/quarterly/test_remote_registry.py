"""The quarterly review against a real distribution registry (Debian docker-registry on loopback):
all checks pass, and a retire is refused by the gate even though distribution 2.8 cannot delete
tags (the signed rejection attached to the manifest does it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.decision.decide import DecisionRequest, decide
from curator.registry.remote import RemoteRegistry
from tests.decision.helpers import cli, curator, open_session, reviewed, state_for
from tests.export.helpers import checklists, eval_result, model_folder
from tests.registry.conftest import Distribution, start_distribution


@pytest.fixture
def distribution(tmp_path: Path) -> Iterator[Distribution]:
    running = start_distribution(tmp_path / "distribution")
    yield running
    running.process.terminate()
    running.process.wait(10)


def _adopt_remote(distribution: Distribution, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """One model reviewed for real, approved and pushed to the distribution registry; its REF."""
    lists = checklists(tmp_path / "checklists")
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(lists))
    monkeypatch.setenv("CURATOR_REGISTRY", distribution.url)
    session = open_session(lists)
    try:
        signer = curator(session.workspace, session.workspace.keys_dir, "Ada", "ada@example.org")
        state_for(RemoteRegistry(distribution.url), session.workspace)
        review = reviewed(session, model_folder(tmp_path / "remote-one", "remote-one"),
                          only=["fetch", "scan", "card"])
        session.ledger.save_result(review.id, eval_result())
        outcome = decide(session, DecisionRequest(review.id, True, "ok"), signer,
                         RemoteRegistry(distribution.url, retries=0))
    finally:
        session.close()
    assert outcome.ref is not None and outcome.ref.startswith(distribution.host)
    return outcome.ref


def test_retire_on_a_registry_that_keeps_tags(distribution: Distribution, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ref = _adopt_remote(distribution, tmp_path, monkeypatch)
    done = cli("quarterly", "--json")
    assert done.returncode == 0, done.stderr
    (model,) = json.loads(done.stdout)["models"]
    assert model["outcome"] == "ok" and model["ref"] == ref
    retired = cli("quarterly", "retire", ref, "--rationale", "superseded", "--json")
    assert retired.returncode == 0, retired.stderr
    action = json.loads(retired.stdout)
    assert action["tag_removed"] is None and "the tag stays" in action["note"]
    gate = cli("verify", ref, "--json")
    assert gate.returncode == 1
    assert "retired" in [p["code"] for p in json.loads(gate.stdout)["problems"]]
    inventory = json.loads(cli("inventory", "--json").stdout)
    assert [m["status"] for m in inventory["models"]] == ["retired"] and inventory["registry_listed"] is False


def test_a_registry_that_is_down_stops_the_run_with_exit_2(distribution: Distribution, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _adopt_remote(distribution, tmp_path, monkeypatch)
    distribution.process.terminate()
    distribution.process.wait(10)
    done = cli("quarterly", "--headless")
    assert done.returncode == 2 and "cannot reach the registry" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
