"""Building blocks for decision and registry tests: a sample model, isolated policy, keys, reviews.

Nothing here fakes the thing under test: reviews run the real fetch stage into the real
ledger, keys are real P-256 keys, registries are real (layout folder or docker-registry).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from curator.attest.keys import FileSigner, init_keys, public_key_of
from curator.core.models import Candidate, Review, StageResult
from curator.core.policy import Policy
from curator.core.workspace import Workspace
from curator.review.session import Session, parse_target

REPO_ROOT = Path(__file__).resolve().parents[2]


def safetensors(n: int, seed: int = 0) -> bytes:
    """A valid safetensors file with one float32 tensor of ``n`` values (header built by hand)."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [n], "data_offsets": [0, 4 * n]}}).encode()
    header += b" " * (-len(header) % 8)
    data = bytes((seed + i * 7) % 251 for i in range(4 * n))
    return struct.pack("<Q", len(header)) + header + data


def make_model(folder: Path, size: int = 1 << 18, seed: int = 0) -> Path:
    """A small clean model folder: weights, config, tokenizer in a subfolder, a card."""
    (folder / "tokenizer").mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(safetensors(size // 4, seed))
    (folder / "config.json").write_text('{"model_type": "gpt2", "n_layer": 2}\n')
    (folder / "tokenizer" / "tokenizer.json").write_text('{"version": "1.0", "model": {}}\n')
    (folder / "README.md").write_text("---\nlicense: apache-2.0\n---\n# tiny\n")
    return folder


def isolated_checklists(dest: Path, stages: list[str] | None = None, **decision: Any) -> Path:
    """A copy of checklists/ with the review limited to ``stages`` and decision rules overridden.

    Sets nothing in the environment: pass it to ``Policy.load`` or as CURATOR_CHECKLISTS.
    """
    shutil.copytree(REPO_ROOT / "checklists", dest, ignore=shutil.ignore_patterns("root.json"))
    data = yaml.safe_load((dest / "default.yaml").read_text())
    data["stages"] = stages or ["fetch"]
    data.setdefault("decision", {}).update(decision)
    (dest / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return remember_checklists(dest)


#: the checklists isolated_checklists made last, and the curators each workspace's team has
_LAST_CHECKLISTS: Path | None = None
_TEAMS: dict[Path, list[FileSigner]] = {}


_POLICY_OF: dict[Path, Path] = {}


def remember_checklists(dest: Path) -> Path:
    """Note ``dest`` as the test's policy folder (where its team's curators.yaml and root go)."""
    global _LAST_CHECKLISTS
    _LAST_CHECKLISTS = dest
    return dest


def team_checklists(ws: Workspace | None = None) -> Path:
    """The test's policy folder: $CURATOR_CHECKLISTS, else the one the workspace's session
    opened with, else the last copy made."""
    env = os.environ.get("CURATOR_CHECKLISTS")
    if env:
        return Path(env)
    if ws is not None and ws.home in _POLICY_OF:
        return _POLICY_OF[ws.home]
    assert _LAST_CHECKLISTS is not None, "make isolated_checklists() before curators"
    return _LAST_CHECKLISTS


def curator(ws: Workspace, folder: Path, name: str, email: str, checklists: Path | None = None) -> FileSigner:
    """A curator's key in ``folder``, joined to the team the way a team does it: an entry in
    curators.yaml, then the team's root in the workspace registry's signed state (``state
    init`` once enough curators are listed, ``state rotate`` for every later one)."""
    from curator.decision.signed_state import anchor_path, init_state
    from curator.registry.layout import LayoutRegistry

    identity = init_keys(folder, name, email)
    policy_dir = checklists or team_checklists(ws)
    add_to_team(policy_dir, identity.name, identity.email, public_key_of(folder))
    signer = FileSigner(folder)
    team = _TEAMS.setdefault(ws.home, [])
    team.append(signer)
    policy = Policy.load(policy_dir)
    registry = LayoutRegistry(ws.registry_dir)
    if anchor_path(policy).is_file():
        rotate(registry, policy, team)
    elif len({s.identity.person for s in team}) >= int(policy.section("decision").get("approvals_required",
                                                                                        1)):
        init_state(registry, policy, team)
    return signer


def add_to_team(checklists: Path, name: str, email: str, public_pem: str, revoked: str | None = None) -> None:
    """Append (or revoke) a curators.yaml entry, like a pull request to the policy repository."""
    path = checklists / "curators.yaml"
    data = yaml.safe_load(path.read_text()) or {}
    entries = [e for e in data.get("curators") or [] if e.get("public_key") != public_pem]
    entries.append({"name": name, "email": email, "public_key": public_pem,
                    **({"revoked": revoked} if revoked else {})})
    path.write_text(yaml.safe_dump({"curators": entries}, sort_keys=False))


def rotate(registry: Any, policy: Policy, signers: list[FileSigner]) -> None:
    """``curator state rotate`` for ``registry``, signed by ``signers``."""
    from curator.decision.rules import DecisionRules
    from curator.decision.signed_state import anchor_path, expiry, team
    from curator.state.client import read_anchor
    from curator.state.roles import rotate_root
    from curator.state.store import StateStore

    anchor = anchor_path(policy)
    rotate_root(StateStore(registry), read_anchor(anchor), team(policy), signers,
                DecisionRules.from_policy(policy).approvals_required, anchor, expiry(policy))


def team_signers(ws: Workspace) -> list[FileSigner]:
    return list(_TEAMS.get(ws.home, []))


def state_for(registry: Any, ws: Workspace, checklists: Path | None = None) -> None:
    """Start ``registry``'s signed state (e.g. a docker-registry) from the team's root."""
    from curator.decision.signed_state import init_state

    init_state(registry, Policy.load(checklists or team_checklists(ws)), team_signers(ws))


def model_tags(registry: Any) -> list[tuple[str, str, str]]:
    """A layout's tags outside the signed state's own repository."""
    return [t for t in registry.tags() if t[0] != "curator-state"]


def gate(session: Session, registry: Any) -> Any:
    """What 'curator verify' trusts: the registry's signed state through the TUF client."""
    from curator.decision.signed_state import trusted_state

    return trusted_state(registry, session.policy, session.workspace.home / "state")


def open_session(checklists: Path) -> Session:
    ws = Workspace.open(os.environ["CURATOR_HOME"])
    _POLICY_OF[ws.home] = checklists
    return Session.open(ws, Policy.load(checklists))


def reviewed(session: Session, folder: Path, opened_by: FileSigner | None = None,
             only: list[str] | None = None) -> Review:
    """A new review of a local folder with the policy's stages (or ``only``) run for real."""
    candidate: Candidate = parse_target(str(folder))
    review = session.ledger.create_review(
        candidate, opened_by=opened_by.identity.to_dict() if opened_by else None)
    session.run(review, only)
    return session.ledger.get_review(review.id)


def save_result(session: Session, review: Review, result: StageResult) -> None:
    session.ledger.save_result(review.id, result)


def cli(*args: str, env: dict[str, str] | None = None,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a child process (the environment is inherited, plus ``env``)."""
    return subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=timeout, check=False)


def cli_curator(name: str, email: str) -> subprocess.CompletedProcess[str]:
    """'curator keys init' in the test's workspace, then what a team does to trust the key:
    its entry in curators.yaml ($CURATOR_CHECKLISTS) and 'curator state init' (first
    curator) or 'curator state rotate' (later ones, signed by everyone's keys so far)."""
    made = cli("keys", "init", "--name", name, "--email", email)
    if made.returncode != 0:
        return made
    ws = Workspace.open(os.environ["CURATOR_HOME"])
    checklists = Path(os.environ["CURATOR_CHECKLISTS"])
    add_to_team(checklists, name, email, public_key_of(ws.keys_dir))
    first = not (checklists / "root.json").is_file()
    done = cli("state", "init" if first else "rotate", "--key-dir", str(ws.keys_dir))
    assert done.returncode == 0, done.stderr
    return made
