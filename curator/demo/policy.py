"""The demo workspace's own policy, publishers and curator: everything under ``HOME/demo/``.

``checklists/`` is a copy of the shipped policy with two files of the demo's own:
``publishers.yaml`` lists acme-labs (required to sign, with the demo CA and subject), which
also protects the name so a look-alike is flagged before download, and ``curators.yaml``
lists the demo curator so its decisions pass ``curator verify``. ``publishers/`` holds the
demo publishers' private keys, outside the policy. Everything is labelled as demo material.
"""

from __future__ import annotations

import filecmp
import shutil
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from curator.core.workspace import Workspace
from curator.demo.pki import DemoPublisher, demo_publisher

DEMO_DIR = "demo"
PUBLISHER = "acme-labs"
DEMO_CURATOR = ("Demo Curator (demo key, not for production)", "demo-curator@curator-demo.invalid")
#: the CA the demo policy trusts for acme-labs, inside the checklists folder
ANCHOR = "demo-publishers/acme-labs-ca.pem"
#: the files the demo writes itself instead of copying the shipped ones
OWN_FILES = ("publishers.yaml", "curators.yaml")


@dataclass(frozen=True)
class DemoSetup:
    """Where the demo policy is and who signs the samples."""

    checklists: Path
    #: acme-labs' release signer, trusted by the demo policy
    publisher: DemoPublisher
    #: a contractor's CI bot with a certificate from the same CA: valid, but not the release signer
    impostor: DemoPublisher


def prepare_policy(ws: Workspace, curator_key: bool = True) -> DemoSetup:
    """Write (or refresh) the demo policy; create the demo curator key unless there is a key.

    ``curator_key=False`` leaves a workspace without a key as it is: the TUI then offers to
    create one when the curator first decides.
    """
    root = ws.home / DEMO_DIR
    checklists = root / "checklists"
    _sync(_shipped(), checklists)
    signers = demo_publisher(root / "publishers", "Acme Labs", {
        "release": "Acme Labs release signing", "contractor-ci": "QuickBuild CI bot (contractor)"})
    publisher, impostor = signers["release"], signers["contractor-ci"]
    (checklists / ANCHOR).parent.mkdir(exist_ok=True)
    _write(checklists / ANCHOR, publisher.ca.read_bytes())
    _write(checklists / "publishers.yaml", publishers_yaml(publisher).encode())
    if curator_key and not (ws.keys_dir / "curator.key").exists():
        from curator.attest.enrol import create_curator_key

        create_curator_key(ws.keys_dir, *DEMO_CURATOR)
    list_curator(ws, checklists)
    return DemoSetup(checklists, publisher, impostor)


def list_curator(ws: Workspace, checklists: Path) -> None:
    """List the workspace's curator key (if any) in the demo's curators.yaml: a trusted curator."""
    import yaml

    from curator.attest.enrol import curators_entry
    from curator.attest.keys import public_key_of, read_identity
    from curator.core.errors import UsageError

    entries = []
    with suppress(UsageError):  # no key yet: the TUI's key form creates one, then this runs again
        entries.append(curators_entry(read_identity(ws.keys_dir), public_key_of(ws.keys_dir)))
    text = ("# DEMO POLICY written by 'curator demo': the demo workspace's curator, trusted here only.\n"
            "# A real team lists its curators' keys here ('curator keys show' prints an entry).\n"
            + yaml.safe_dump({"curators": entries}, sort_keys=False))
    _write(checklists / "curators.yaml", text.encode())
    if entries:
        own_root_of_trust(ws, checklists)


def own_root_of_trust(ws: Workspace, checklists: Path) -> None:
    """The demo's root of trust: the demo curator as the whole team signs the first root (written
    next to curators.yaml, as a team commits it to its policy repository) and the workspace
    registry's signed state, so review -> decide -> verify works offline. Kept once made; made
    again if the workspace key changed (a root that does not list the key would refuse it)."""
    from curator.attest.keys import FileSigner
    from curator.core.policy import Policy
    from curator.decision.signed_state import anchor_path, init_state
    from curator.registry import open_registry
    from curator.state.store import StateStore

    signer = FileSigner(ws.keys_dir)
    policy = Policy.load(checklists)
    anchor = anchor_path(policy)
    if anchor.is_file() and signer.keyid not in anchor.read_text(encoding="utf-8"):
        anchor.unlink()  # a new demo key: the demo's team is that one curator
    registry = open_registry(Path(ws.registry_dir), policy, None)
    if not anchor.is_file() or StateStore(registry).get("root.json") is None:
        init_state(registry, policy, [signer])


def publishers_yaml(publisher: DemoPublisher) -> str:
    return f"""# DEMO POLICY written by 'curator demo' (regenerated on every run; edit a copy instead).
# acme-labs must sign with its release certificate, issued by its demo CA. Listing it here
# also protects the name: look-alikes such as acme-1abs are flagged before anything is fetched.
version: 1
publishers:
  - match: {PUBLISHER}
    required: true
    signers:
      - certificate: {{ca: {ANCHOR}, subject: "{publisher.subject}"}}
    note: "demo publisher: Acme Labs signs every release with its release certificate (demo CA)"
"""


def _shipped() -> Path:
    return Path(__file__).resolve().parents[1] / "checklists"


def _sync(source: Path, target: Path) -> None:
    """Copy the shipped policy, touching only files that differ (their times mark staleness)."""
    for path in source.rglob("*"):
        if path.is_dir() or "__pycache__" in path.parts or path.name in OWN_FILES:
            continue
        dest = target / path.relative_to(source)
        if not (dest.is_file() and filecmp.cmp(path, dest, shallow=False)):
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)


def _write(path: Path, data: bytes) -> None:
    if not (path.is_file() and path.read_bytes() == data):
        path.write_bytes(data)
