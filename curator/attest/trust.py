"""The team's curators: ``checklists/curators.yaml``, from which the registry's signed root
is built (``curator state init|rotate``). Keys in a workspace are never trusted. The key id
is always recomputed from the public key: a declared id is never believed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curator.attest.keys import CuratorIdentity, fingerprint
from curator.core.errors import UsageError

TEAM_FILE = "curators.yaml"
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


def load_trusted(checklists: Path) -> dict[str, TrustedCurator]:
    """The team's curators by key id (a revoked entry wins over a trusting one)."""
    trusted: dict[str, TrustedCurator] = {}
    for entry in _entries(checklists / TEAM_FILE):
        known = trusted.get(entry.keyid)
        if known is None or (entry.revoked and not known.revoked):
            trusted[entry.keyid] = entry
    return trusted
