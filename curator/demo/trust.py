"""The demo workspace's own root of trust, so review -> decide -> verify works offline.

A team's root lives in its policy repository; the demo has no team, so it keeps a policy
folder of its own inside its workspace (``$CURATOR_HOME/policy``): the shipped checklists,
the demo curator as the whole team in curators.yaml, and the root that curator signs. It
is used only by ``curator demo`` (and by whoever points ``CURATOR_CHECKLISTS`` at it).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from curator.attest.keys import Signer
from curator.core.policy import Policy, checklists_dir
from curator.decision.signed_state import anchor_path, init_state
from curator.registry import open_registry
from curator.state.store import StateStore

POLICY_FOLDER = "policy"


def demo_policy(ws: Any, signer: Signer) -> Path:
    """The demo's policy folder with ``signer`` as its curator and a signed state in the
    workspace registry; created on first use, kept afterwards (returns its path)."""
    folder = Path(ws.home) / POLICY_FOLDER
    if not (folder / "default.yaml").is_file():
        shutil.copytree(checklists_dir(), folder, ignore=shutil.ignore_patterns("root.json"),
                        dirs_exist_ok=True)
    team = folder / "curators.yaml"
    entries = (yaml.safe_load(team.read_text(encoding="utf-8")) or {}).get("curators") or []
    if not any(str(e.get("public_key", "")).strip() == signer.public_key_pem.strip() for e in entries):
        entries.append({"name": signer.identity.name, "email": signer.identity.email,
                        "public_key": signer.public_key_pem})
        team.write_text("# the demo workspace's only curator (see curator/demo/trust.py)\n"
                        + yaml.safe_dump({"curators": entries}, sort_keys=False), encoding="utf-8")
    policy = Policy.load(folder)
    registry = open_registry(Path(ws.registry_dir), policy, None)
    if not anchor_path(policy).is_file() or StateStore(registry).get("root.json") is None:
        init_state(registry, policy, [signer])
    return folder
