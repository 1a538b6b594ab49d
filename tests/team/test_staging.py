"""Two curators, one review: what curator A fetched is staged in the team registry, and
curator B, in a workspace of their own, re-verifies it from there, approves and pushes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from curator.core.errors import IntegrityError
from curator.review.session import parse_target
from curator.review.staging import STAGED, UNSTAGED, staging_enabled
from tests.decision.helpers import cli, make_model
from tests.team.conftest import Team


def _open_and_fetch(team: Team, tmp_path: Path) -> str:
    """Ada opens the review and runs it: the fetch stages the pinned files."""
    ada = team.members["ada"]
    model = make_model(tmp_path / "model")
    session = ada.session(team.checklists)
    try:
        assert staging_enabled(session.policy)  # a shared ledger and a shared registry
        review = session.ledger.create_review(parse_target(str(model), name="acme/tiny"),
                                              opened_by=ada.signer.identity.to_dict())
        session.run(review)
        return review.id
    finally:
        session.close()


def test_bob_finishes_and_pushes_a_review_ada_opened(team: Team, tmp_path: Path) -> None:
    review_id = _open_and_fetch(team, tmp_path)
    bob = team.members["bob"]
    session = bob.session(team.checklists)
    try:
        (event,) = session.ledger.events(review_id, kind=STAGED)
        name, digest = event["payload"]["name"], event["payload"]["digest"]
        assert name == f"staging/{review_id}" and event["payload"]["registry"] == team.registry.url
        files_dir = session.context(session.ledger.get_review(review_id)).files_dir
    finally:
        session.close()
    # staged by digest, never tagged: nothing a deploy resolves by tag can land on it
    manifest = requests.get(f"{team.registry.url}/v2/{name}/manifests/{digest}", timeout=30,
                            headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert manifest.status_code == 200
    tags = requests.get(f"{team.registry.url}/v2/{name}/tags/list", timeout=30)
    assert tags.status_code == 404 or not tags.json().get("tags")
    assert not files_dir.exists()  # bob's workspace has never seen the files

    decided = cli("decide", review_id, "--approve", "--rationale", "reviewed the staged files", "--json",
                  env=team.env("bob"))
    assert decided.returncode == 0, decided.stderr
    outcome = json.loads(decided.stdout)
    assert outcome["outcome"] == "approved" and outcome["ref"], outcome
    assert outcome["manifest_digest"] == digest  # what was staged is what was approved and pushed
    assert sorted(p.name for p in files_dir.iterdir()) == ["README.md", "config.json", "model.safetensors",
                                                           "tokenizer"]
    session = bob.session(team.checklists)
    try:
        (pulled,) = session.ledger.events(review_id, kind=UNSTAGED)
        assert pulled["payload"]["curator"]["email"] == "bob@team.example"
        assert "model.safetensors" in pulled["payload"]["files"]
        assert session.ledger.events(review_id, kind="pushed")
    finally:
        session.close()

    # a fresh deploy workspace with only the team's checklists accepts it
    deploy = {**team.env("bob"), "CURATOR_HOME": str(tmp_path / "deploy")}
    verified = cli("verify", outcome["digest_ref"], "--json", env=deploy)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_staged_file_altered_in_the_registry_is_refused_and_nothing_is_signed(
        team: Team, tmp_path: Path) -> None:
    review_id = _open_and_fetch(team, tmp_path)
    bob = team.members["bob"]
    session = bob.session(team.checklists)
    try:
        manifest = session.ledger.results(review_id)["fetch"].evidence["files"]
        weights = next(f for f in manifest if f["path"] == "model.safetensors")
        blob = team.registry.blob_path("sha256:" + weights["sha256"])
        blob.write_bytes(b"X" + blob.read_bytes()[1:])
        review = session.ledger.get_review(review_id)
        from curator.decision.decide import DecisionRequest, decide
        from curator.registry import open_registry

        registry = open_registry(session.workspace.registry_dir, session.policy)
        with pytest.raises(IntegrityError) as caught:
            decide(session, DecisionRequest(review_id, True, "looks fine"), bob.signer, registry)
        assert "model.safetensors" in caught.value.message and "staging" in caught.value.message
        assert session.ledger.events(review_id, kind="decision") == []
        assert not (session.context(review).files_dir / "model.safetensors").exists()
    finally:
        session.close()


def test_staging_is_on_only_where_a_team_shares_ledger_and_registry(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from curator.core.policy import Policy
    from tests.decision.helpers import isolated_checklists

    folder = isolated_checklists(tmp_path / "cl")
    assert not staging_enabled(Policy.load(folder))  # one curator: SQLite and the workspace layout
    monkeypatch.setenv("CURATOR_LEDGER_URL", "postgresql://curator@127.0.0.1:9/team")
    assert not staging_enabled(Policy.load(folder))  # a shared ledger but a private registry
    monkeypatch.setenv("CURATOR_REGISTRY", "http://127.0.0.1:9")
    assert staging_enabled(Policy.load(folder))
    data = yaml.safe_load((folder / "default.yaml").read_text())
    data["registry"]["staging"] = False
    (folder / "default.yaml").write_text(yaml.safe_dump(data))
    assert not staging_enabled(Policy.load(folder))


def test_bob_resumes_ada_s_review_from_staging_without_fetching_again(team: Team, tmp_path: Path) -> None:
    review_id = _open_and_fetch(team, tmp_path)
    bob = team.members["bob"]
    session = bob.session(team.checklists)
    try:
        review = session.ledger.get_review(review_id)
        results = session.run(review)
        files_dir = session.context(review).files_dir
        pinned = {f["path"]: f["sha256"] for f in results["fetch"].evidence["files"]}
        from curator.core.hashing import file_sha256

        assert {p: file_sha256(files_dir / p)[1] for p in pinned} == pinned
        (pulled,) = session.ledger.events(review_id, kind=UNSTAGED)
        assert pulled["payload"]["curator"]["email"] == "bob@team.example"
        assert len(session.ledger.events(review_id, kind=STAGED)) == 1  # staged once, by the opener
        assert session.run(review) and len(session.ledger.events(review_id, kind=UNSTAGED)) == 1
    finally:
        session.close()
