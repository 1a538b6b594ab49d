"""Creating a curator's key: the one path ``keys init``, the TUI's key form and the demo share.

A key in a workspace is never trusted by the deploy gate: it counts once it is listed in the
team's ``checklists/curators.yaml`` (``curators_entry`` is that entry) and signed into the
team's root (``curator state rotate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curator.attest.keys import CuratorIdentity, init_keys, public_key_of


def create_curator_key(workspace_keys: Path, name: str, email: str,
                       key_dir: Path | None = None) -> tuple[CuratorIdentity, str]:
    """A new signing key in ``key_dir`` (default: the workspace's keys/); identity and public PEM."""
    folder = key_dir or workspace_keys
    identity = init_keys(folder, name, email)
    public_pem = public_key_of(folder)
    return identity, public_pem


def curators_entry(identity: CuratorIdentity, public_pem: str) -> dict[str, Any]:
    """The key as an entry of ``checklists/curators.yaml``."""
    return {"name": identity.name, "email": identity.email, "public_key": public_pem}
