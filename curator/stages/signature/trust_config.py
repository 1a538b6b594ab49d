"""The Sigstore trust root curator carries, so bundles verify with no network at review time.

``checklists/sigstore-trust-config.json`` wraps the public-good ``trusted_root.json`` and
``signing_config.v0.2.json`` (shipped inside the ``sigstore`` package, or taken from a
folder an online machine refreshed) into one client trust config. Rebuild or update it:

    python -m curator.stages.signature.refresh_trust_root [--from DIR] [--output FILE] [--check]
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from curator.core.errors import UsageError

TRUST_CONFIG_FILE = "sigstore-trust-config.json"
MEDIA_TYPE = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
PUBLIC_GOOD = "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
REBUILD = "rebuild it: python -m curator.stages.signature.refresh_trust_root"


def sigstore_store() -> Path:
    """The folder of public-good trust files inside the installed ``sigstore`` package."""
    import sigstore

    return Path(sigstore.__file__).parent / "_store" / PUBLIC_GOOD


def build_trust_config(source: Path | None = None) -> dict[str, Any]:
    """Wrap ``trusted_root.json`` + ``signing_config.v0.2.json`` from ``source`` as a client trust config."""
    source = source or sigstore_store()
    try:
        root = json.loads((source / "trusted_root.json").read_text(encoding="utf-8"))
        signing = json.loads((source / "signing_config.v0.2.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the Sigstore trust files in {source} ({exc})",
                         "point --from at a folder with trusted_root.json and signing_config.v0.2.json"
                         ) from exc
    return {"mediaType": MEDIA_TYPE, "trustedRoot": root, "signingConfig": signing}


def write_trust_config(path: Path, source: Path | None = None) -> dict[str, Any]:
    """Write the trust config to ``path`` (checked before it replaces anything)."""
    document = build_trust_config(source)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    _parse(text, path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return document


def _parse(text: str, path: Path) -> Any:
    from sigstore.models import ClientTrustConfig

    try:
        return ClientTrustConfig.from_json(text)
    except Exception as exc:  # any parse failure means the file cannot anchor trust
        raise UsageError(f"the Sigstore trust root {path} is not a valid client trust config ({exc})",
                         REBUILD) from exc


@lru_cache(maxsize=8)
def _checked(path: Path, mtime_ns: int) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"the Sigstore trust root {path} is missing ({exc.strerror})",
                         "restore it or " + REBUILD
                         ) from exc
    _parse(text, path)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def check_trust_config(path: Path) -> str:
    """Fail with a clear error unless ``path`` is a usable trust config; returns its digest."""
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        raise UsageError(f"the Sigstore trust root {path} is missing",
                         "restore it or " + REBUILD
                         ) from exc
    return _checked(path, mtime)


def summary(document: dict[str, Any]) -> str:
    """Which CAs, logs and timestamp authorities the trust config holds, one line each."""
    root = document["trustedRoot"]
    lines = []
    for ca in root.get("certificateAuthorities", []):
        subject = ca.get("subject", {})
        valid = ca.get("validFor", {})
        lines.append(f"CA   {subject.get('organization', '')}/{subject.get('commonName', '')} "
                     f"from {valid.get('start', '?')} to {valid.get('end', 'now')}")
    for kind in ("tlogs", "ctlogs"):
        for log in root.get(kind, []):
            valid = log.get("publicKey", {}).get("validFor", {})
            lines.append(f"{kind[:-1]:<4} {log.get('baseUrl', '')} from {valid.get('start', '?')} "
                         f"to {valid.get('end', 'now')}")
    for tsa in root.get("timestampAuthorities", []):
        lines.append(f"tsa  {tsa.get('uri', '')} {tsa.get('subject', {}).get('commonName', '')}")
    return "\n".join(lines)
