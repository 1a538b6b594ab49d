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
        team.sign_root()  # listed and signed into the team's root, as a team adds a key
    return FileSigner(folder)


@pytest.mark.parametrize("email", ["bob@team.example", " Bob@Team.Example"])
def test_a_second_key_of_the_same_curator_does_not_count_twice(team: Team, tmp_path: Path,
                                                               email: str) -> None:
    team.rules(approvals_required=2, separation_of_duties=True)
    second = _second_key(team, tmp_path, email, listed=True)  # a key the team's root lists too
    review_id = _open(team, tmp_path)
    assert _decide(team, "bob", review_id)["outcome"] == "pending"
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


def test_a_looser_local_policy_cannot_publish_what_the_team_refuses(team: Team, tmp_path: Path) -> None:
    """Ada's own copy of the checklists drops separation of duties and asks for one approval;
    the team's signed root asks for two and separation: her copy decides nothing."""
    team.rules(approvals_required=2, separation_of_duties=True)
    loose = team.rules(tmp_path / "ada-local-checklists", separation_of_duties=False, approvals_required=1)
    review_id = _open(team, tmp_path, loose)
    with pytest.raises(DecisionRefused) as caught:  # the opener, under the team's rule
        _decide(team, "ada", review_id, checklists=loose)
    assert "opened review" in caught.value.message
    assert "the team's signed root" in caught.value.advice
    first = _decide(team, "bob", review_id, checklists=loose)
    assert first["outcome"] == "pending" and not first["ref"]  # one approval is not enough for the team
    assert str(first["rules_source"]).startswith("the team's signed root v")
    final = _decide(team, "carol", review_id, checklists=loose)
    assert final["outcome"] == "approved" and final["approvals"] == 2 and final["ref"]
    deploy = {**team.env("carol"), "CURATOR_HOME": str(tmp_path / "deploy")}
    verified = cli("verify", str(final["digest_ref"]), "--json", env=deploy)
    assert verified.returncode == 0, verified.stdout
    curators = sorted(d["curator"]["email"] for d in json.loads(verified.stdout)["decisions"])
    assert curators == ["bob@team.example", "carol@team.example"]


def test_verify_holds_decisions_to_the_teams_signed_rules(team: Team, tmp_path: Path) -> None:
    """A deploy workspace whose own default.yaml asks for one approval still holds every
    decision to the team's signed root (two approvals): a lone approval never verifies."""
    review_id = _open(team, tmp_path)
    single = _decide(team, "bob", review_id)
    assert single["outcome"] == "approved" and single["ref"]
    team.rules(approvals_required=2)
    deploy_checklists = team.rules(tmp_path / "deploy-checklists", approvals_required=1)
    deploy = {**team.env("carol"), "CURATOR_HOME": str(tmp_path / "deploy"),
              "CURATOR_CHECKLISTS": str(deploy_checklists)}
    verified = cli("verify", str(single["digest_ref"]), "--json", env=deploy)
    assert verified.returncode == 1, verified.stdout
    assert json.loads(verified.stdout)["reason"] == "insufficient-approvals"
