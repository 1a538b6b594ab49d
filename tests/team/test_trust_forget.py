"""`curator trust forget` lowers the bar for a publisher's next signer (it is the first seen again):
only a curator the team trusts may sign it, never a key a workspace made for itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from curator.attest.keys import FileSigner, init_keys, public_key_of
from curator.core.workspace import Workspace
from curator.ledger import Ledger
from curator.stages.signature.tofu import FORGOTTEN, Publisher, record_of
from tests.decision.helpers import add_to_team, cli, isolated_checklists

SIGNER = {"kind": "sigstore", "identity": "release@acme.example", "issuer": "https://issuer.example"}


def test_a_key_the_team_does_not_trust_cannot_forget_a_signer_on_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.open(os.environ["CURATOR_HOME"])
    checklists = isolated_checklists(tmp_path / "checklists")
    init_keys(tmp_path / "ada", "Ada Lovelace", "ada@example.org")
    add_to_team(checklists, "Ada Lovelace", "ada@example.org", public_key_of(tmp_path / "ada"))
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))
    # Mallory shares the team's ledger and makes a key of her own, with Ada's name and e-mail
    init_keys(ws.keys_dir, "Ada Lovelace", "ada@example.org")
    with Ledger(ws.ledger_path) as ledger:
        ledger.append("signer_seen", {"publisher": "acme", "endpoint": "https://huggingface.co",
                                      "signer": SIGNER}, "r1")
    refused = cli("trust", "forget", "acme")
    assert refused.returncode == 1, refused.stderr
    assert "not a trusted curator key" in refused.stderr and "curators.yaml" in refused.stderr
    team = frozenset({FileSigner(tmp_path / "ada").keyid})
    with Ledger(ws.ledger_path) as ledger:
        assert record_of(ledger, Publisher.of(None, "acme"), curators=team) is not None
        assert not ledger.events(kind=FORGOTTEN)
    done = cli("trust", "forget", "acme", "--key-dir", str(tmp_path / "ada"))
    assert done.returncode == 0, done.stderr
    with Ledger(ws.ledger_path) as ledger:
        assert record_of(ledger, Publisher.of(None, "acme"), curators=team) is None
