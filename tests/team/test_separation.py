"""Separation of duties signed into the decision and checked by verify; approvals counted per
trusted curator, never per key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from curator.attest.keys import FileSigner, init_keys, public_key_of
from curator.core.errors import DecisionRefused
from curator.decision.decide import DecisionRequest, decide
from curator.registry import open_registry
from curator.review.session import parse_target
from tests.decision.helpers import cli, make_model
from tests.team.conftest import Team


def _open(team: Team, tmp_path: Path, checklists: Path | None = None) -> str:
    ada = team.members["ada"]
    session = ada.session(checklists or team.checklists)
    try:
        candidate = parse_target(str(make_model(tmp_path / "model")), name="acme/tiny")
        review = session.ledger.create_review(candidate, opened_by=ada.signer.identity.to_dict())
        session.run(review)
        return review.id
    finally:
        session.close()


def _decide(team: Team, member: str, review_id: str, checklists: Path | None = None,
            signer: FileSigner | None = None) -> dict[str, object]:
    m = team.members[member]
    session = m.session(checklists or team.checklists)
    try:
        registry = open_registry(session.workspace.registry_dir, session.policy)
        return decide(session, DecisionRequest(review_id, True, f"{member} read it all"), signer or m.signer,
                      registry).to_dict()
    finally:
        session.close()


def _second_key(team: Team, tmp_path: Path, email: str, listed: bool) -> FileSigner:
    """Bob makes another key with the same name (and this e-mail); maybe the team lists it too."""
    folder = tmp_path / "bob-second-key"
    init_keys(folder, "Bob", email)
    if listed:
        data = yaml.safe_load((team.checklists / "curators.yaml").read_text())
        data["curators"].append({"name": "Bob", "email": email, "public_key": public_key_of(folder)})
        (team.checklists / "curators.yaml").write_text(yaml.safe_dump(data))
    return FileSigner(folder)


@pytest.mark.parametrize("email", ["bob@team.example", " Bob@Team.Example"])
def test_a_second_key_of_the_same_curator_does_not_count_twice(team: Team, tmp_path: Path,
                                                               email: str) -> None:
    team.rules(approvals_required=2, separation_of_duties=True)
    review_id = _open(team, tmp_path)
    assert _decide(team, "bob", review_id)["outcome"] == "pending"
    second = _second_key(team, tmp_path, email, listed=True)
    with pytest.raises(DecisionRefused) as caught:
        _decide(team, "bob", review_id, signer=second)
    assert "already approved" in caught.value.message
    final = _decide(team, "carol", review_id)
    assert final["outcome"] == "approved" and final["approvals"] == 2 and final["ref"]


def test_an_untrusted_key_cannot_decide(team: Team, tmp_path: Path) -> None:
    team.rules(approvals_required=2, separation_of_duties=True)
    review_id = _open(team, tmp_path)
    second = _second_key(team, tmp_path, "bob@team.example", listed=False)
    with pytest.raises(DecisionRefused) as caught:
        _decide(team, "bob", review_id, signer=second)
    assert "not a trusted curator key" in caught.value.message and "curators.yaml" in caught.value.advice


def test_verify_refuses_the_openers_approval_made_under_a_looser_local_policy(
        team: Team, tmp_path: Path) -> None:
    team.rules(approvals_required=2, separation_of_duties=True)
    loose = team.rules(tmp_path / "ada-local-checklists", separation_of_duties=False)
    review_id = _open(team, tmp_path, loose)
    assert _decide(team, "ada", review_id, checklists=loose)["outcome"] == "pending"  # her copy allows it
    done = _decide(team, "bob", review_id, checklists=loose)
    assert done["outcome"] == "approved" and done["ref"]

    session = team.members["bob"].session(team.checklists)
    try:
        (decision,) = [e for e in session.ledger.events(review_id, kind="decision")
                       if e["payload"]["curator"]["email"] == "ada@team.example"]
    finally:
        session.close()
    from curator.attest.dsse import verify_envelope
    from curator.attest.trust import load_trusted

    signed = verify_envelope(decision["payload"]["envelope"].encode(), load_trusted(team.checklists, None))
    assert signed.statement["predicate"]["opened_by"]["email"] == "ada@team.example"
    assert signed.statement["predicate"]["policy"]["separation_of_duties"] is False

    deploy = {**team.env("bob"), "CURATOR_HOME": str(tmp_path / "deploy")}
    verified = cli("verify", str(done["digest_ref"]), "--json", env=deploy)
    assert verified.returncode == 1, verified.stdout + verified.stderr
    problems = json.loads(verified.stdout)["problems"]
    assert [p["code"] for p in problems] == ["separation-of-duties"]
    assert "Ada" in problems[0]["message"]


def test_under_the_teams_rules_the_openers_approval_is_not_counted_nor_pushed(
        team: Team, tmp_path: Path) -> None:
    team.rules(approvals_required=2, separation_of_duties=True)
    loose = team.rules(tmp_path / "ada-local-checklists", separation_of_duties=False)
    review_id = _open(team, tmp_path, loose)
    assert _decide(team, "ada", review_id, checklists=loose)["outcome"] == "pending"
    assert _decide(team, "bob", review_id)["outcome"] == "pending"  # Ada's approval is not one here
    final = _decide(team, "carol", review_id)
    assert final["outcome"] == "approved"
    deploy = {**team.env("carol"), "CURATOR_HOME": str(tmp_path / "deploy")}
    verified = cli("verify", str(final["digest_ref"]), "--json", env=deploy)
    assert verified.returncode == 0, verified.stdout
    curators = sorted(d["curator"]["email"] for d in json.loads(verified.stdout)["decisions"])
    assert curators == ["bob@team.example", "carol@team.example"]
