"""A team as curator sees one: separate workspaces, one real PostgreSQL ledger, one real
docker-registry on loopback, and the team's checklists with its curators."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from curator.attest.keys import FileSigner, init_keys, public_key_of
from curator.core.policy import Policy
from curator.core.workspace import Workspace
from curator.review.session import Session
from tests.decision.helpers import isolated_checklists
from tests.ledger.pgserver import shared_server
from tests.registry.conftest import Distribution, start_distribution


@dataclass
class Member:
    """One curator: a workspace of their own and their key."""

    name: str
    home: Path
    signer: FileSigner
    env: dict[str, str] = field(default_factory=dict)

    def session(self, checklists: Path) -> Session:
        return Session.open(Workspace.open(self.home), Policy.load(checklists))


@dataclass
class Team:
    checklists: Path
    ledger_url: str
    registry: Distribution
    members: dict[str, Member]

    def rules(self, folder: Path | None = None, **decision: object) -> Path:
        """Change the decision rules of the team's checklists, and sign them into the team's root
        (every curator signs the rotation); or, with ``folder``, of a curator's own copy only."""
        target = self.checklists
        if folder is not None:
            import shutil

            target = Path(shutil.copytree(self.checklists, folder))
        data = yaml.safe_load((target / "default.yaml").read_text())
        data["decision"].update(decision)
        (target / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        if folder is None:
            self.sign_root()
        return target

    def sign_root(self) -> None:
        """The team's root: curators.yaml's curators and default.yaml's decision rules, signed by
        all three (``curator state init`` the first time, ``curator state rotate`` after)."""
        from curator.decision.rules import DecisionRules
        from curator.decision.signed_state import anchor_path, expiry, init_state, team
        from curator.registry import open_registry
        from curator.state.client import read_anchor
        from curator.state.roles import rotate_root
        from curator.state.store import StateStore

        policy = Policy.load(self.checklists)
        registry = open_registry(self.checklists, policy, self.registry.url)
        signers = [m.signer for m in self.members.values()]
        anchor = anchor_path(policy)
        if not anchor.is_file():
            init_state(registry, policy, signers)
            return
        rules = DecisionRules.from_policy(policy)
        rotate_root(StateStore(registry), read_anchor(anchor), team(policy), signers,
                    rules.approvals_required, anchor, expiry(policy), rules=rules.gate_dict())

    def env(self, member: str) -> dict[str, str]:
        return {"CURATOR_HOME": str(self.members[member].home), "CURATOR_CHECKLISTS": str(self.checklists),
                "CURATOR_LEDGER_URL": self.ledger_url, "CURATOR_REGISTRY": self.registry.url}


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    server = shared_server()
    url = server.create_database()
    registry = start_distribution(tmp_path / "distribution")
    monkeypatch.setenv("CURATOR_LEDGER_URL", url)
    monkeypatch.setenv("CURATOR_REGISTRY", registry.url)
    checklists = isolated_checklists(tmp_path / "team-checklists", ["fetch"], approvals_required=1)
    members: dict[str, Member] = {}
    entries = []
    for name, email in (("ada", "ada@team.example"), ("bob", "bob@team.example"),
                        ("carol", "carol@team.example")):
        home = tmp_path / f"home-{name}"
        keys = Workspace.open(home).keys_dir
        init_keys(keys, name.title(), email)
        members[name] = Member(name, home, FileSigner(keys))
        entries.append({"name": name.title(), "email": email, "public_key": public_key_of(keys)})
    (checklists / "curators.yaml").write_text(yaml.safe_dump({"curators": entries}))
    made = Team(checklists, url, registry, members)
    made.sign_root()
    try:
        yield made
    finally:
        registry.process.terminate()
        registry.process.wait(10)
        server.drop_database(url)
