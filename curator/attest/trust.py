"""Whose decisions the verify gate accepts: the team's ``checklists/curators.yaml``.

A workspace may also trust the keys its own curators created (``keys/trusted.yaml``,
same format) when the policy allows it; a deploy pipeline should run with a fresh
workspace so that only the team file counts. The key id is always recomputed from
the public key: a declared id is never believed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.attest.keys import CuratorIdentity, fingerprint
from curator.core.errors import UsageError

TEAM_FILE = "curators.yaml"
WORKSPACE_FILE = "trusted.yaml"
ENTRY_KEYS = {"name", "email", "public_key", "revoked"}


@dataclass(frozen=True)
class TrustedCurator:
    """One curator whose signature counts, unless revoked."""

    name: str
    email: str
    keyid: str
    public_key_pem: str
    revoked: str | None = None  # when (or simply that) the key stopped being trusted
    source: str = ""

    @property
    def identity(self) -> CuratorIdentity:
        return CuratorIdentity(self.name, self.email, self.keyid)


def _entries(path: Path) -> list[TrustedCurator]:
    import yaml

    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML ({exc})", "fix the file") from exc
    items = data.get("curators") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise UsageError(f"{path} must hold a 'curators:' list", "see checklists/curators.yaml")
    found = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not {"name", "email", "public_key"} <= set(item):
            raise UsageError(f"{path}: curator #{i + 1} needs name, email and public_key",
                             "fix the entry")
        unknown = set(item) - ENTRY_KEYS
        if unknown:
            raise UsageError(f"{path}: curator #{i + 1} has unknown keys {', '.join(sorted(unknown))}",
                             f"use only {', '.join(sorted(ENTRY_KEYS))}")
        try:
            keyid = fingerprint(str(item["public_key"]))
        except ValueError as exc:
            raise UsageError(f"{path}: curator #{i + 1} ({item['name']}) has an unreadable public key",
                             "paste the PEM printed by 'curator keys show'") from exc
        revoked = item.get("revoked")
        found.append(TrustedCurator(
            name=str(item["name"]), email=str(item["email"]), keyid=keyid,
            public_key_pem=str(item["public_key"]),
            revoked=None if revoked in (None, False) else str(revoked), source=str(path)))
    return found


def load_trusted(checklists: Path, workspace_keys: Path | None) -> dict[str, TrustedCurator]:
    """Trusted curators by key id; a revocation in any file wins over a trust entry."""
    entries = _entries(checklists / TEAM_FILE)
    if workspace_keys is not None:
        entries += _entries(workspace_keys / WORKSPACE_FILE)
    trusted: dict[str, TrustedCurator] = {}
    for entry in entries:
        known = trusted.get(entry.keyid)
        if known is None or (entry.revoked and not known.revoked):
            trusted[entry.keyid] = entry
    return trusted


def trust_in_workspace(workspace_keys: Path, identity: CuratorIdentity, public_pem: str) -> bool:
    """Add a key to the workspace's own trust file; False if it was already there."""
    import yaml

    path = workspace_keys / WORKSPACE_FILE
    if any(e.keyid == identity.keyid for e in _entries(path)):
        return False
    data: dict[str, Any] = {"curators": []}
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {"curators": []}
    data["curators"].append({"name": identity.name, "email": identity.email,
                             "public_key": public_pem})
    tmp = path.with_suffix(".tmp")
    tmp.write_text("# keys this workspace's curators created; see checklists/curators.yaml\n"
                   + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return True
