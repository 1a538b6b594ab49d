"""Creating a curator's key: the one path ``keys init``, the TUI's key form and the demo share.

A new key is trusted by this workspace at once; the team's deploy gates trust it only once
it is listed in the team's ``checklists/curators.yaml`` (``curators_entry`` is that entry).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curator.attest.keys import CuratorIdentity, init_keys, public_key_of


def create_curator_key(workspace_keys: Path, name: str, email: str,
                       key_dir: Path | None = None) -> tuple[CuratorIdentity, str]:
    """A new signing key in ``key_dir`` (default: the workspace's keys/); identity and public PEM."""
    from curator.attest.trust import trust_in_workspace

    folder = key_dir or workspace_keys
    identity = init_keys(folder, name, email)
    public_pem = public_key_of(folder)
    trust_in_workspace(workspace_keys, identity, public_pem)
    return identity, public_pem


def curators_entry(identity: CuratorIdentity, public_pem: str) -> dict[str, Any]:
    """The key as an entry of ``checklists/curators.yaml``."""
    return {"name": identity.name, "email": identity.email, "public_key": public_pem}
