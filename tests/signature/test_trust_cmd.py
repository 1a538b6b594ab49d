"""`curator trust list|forget`: the records, and a forget that is a signed ledger event."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from curator.attest.keys import FileSigner, init_keys
from curator.core.workspace import Workspace
from curator.ledger import Ledger
from curator.stages.signature.tofu import FORGOTTEN, Publisher, record_of, records
from tests.decision.helpers import cli

SIGNER = {"kind": "sigstore", "identity": "release@acme.example", "issuer": "https://issuer.example"}


def _team_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ws: Workspace) -> Path:
    """The team's checklists, listing the workspace's curator."""
    from curator.attest.keys import public_key_of
    from tests.decision.helpers import add_to_team, isolated_checklists

    checklists = isolated_checklists(tmp_path / "checklists")
    add_to_team(checklists, "Ada Lovelace", "ada@example.org", public_key_of(ws.keys_dir))
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))
    return checklists


def _seed(ws: Workspace) -> None:
    with Ledger(ws.ledger_path) as ledger:
        ledger.append("signer_seen", {"publisher": "acme", "endpoint": "https://huggingface.co",
                                      "signer": SIGNER}, "r1")
        ledger.append("signer_seen", {"publisher": "acme", "endpoint": "http://127.0.0.1:9",
                                      "signer": {**SIGNER, "identity": "other@x.example"}}, "r2")


def test_list_shows_each_hub_and_forget_resets_one_with_a_signed_event(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.open(os.environ["CURATOR_HOME"])
    init_keys(ws.keys_dir, "Ada Lovelace", "ada@example.org")
    _team_of(tmp_path, monkeypatch, ws)  # only a curator of the team forgets a signer on record
    _seed(ws)
    listed = cli("trust", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {(r["org"], r["endpoint"]): r["signer"]["identity"] for r in json.loads(listed.stdout)["records"]}
    assert rows == {("acme", "https://huggingface.co"): "release@acme.example",
                    ("acme", "http://127.0.0.1:9"): "other@x.example"}

    gone = cli("trust", "forget", "ACME")  # the org as the Hub resolves it: any case
    assert gone.returncode == 0, gone.stderr
    assert "release@acme.example" in gone.stderr and "Ada Lovelace" in gone.stderr
    team = frozenset({FileSigner(ws.keys_dir).keyid})  # whose signed forgets count
    with Ledger(ws.ledger_path) as ledger:
        assert record_of(ledger, Publisher.of(None, "acme"), curators=team) is None
        assert record_of(ledger, Publisher.of("http://127.0.0.1:9", "acme"), curators=team) is not None
        (event,) = ledger.events(kind=FORGOTTEN)
        assert event["payload"]["curator"]["email"] == "ada@example.org" and event["payload"]["envelope"]
        assert ledger.verify().ok
    again = cli("trust", "forget", "acme")
    assert again.returncode == 2 and "no signer is on record for acme" in again.stderr


def test_an_unsigned_or_replayed_forget_does_not_reset_a_record(tmp_path: Path) -> None:
    from curator.stages.signature.tofu import forget

    ws = Workspace.open(os.environ["CURATOR_HOME"])
    init_keys(ws.keys_dir, "Ada Lovelace", "ada@example.org")
    _seed(ws)
    acme = Publisher.of(None, "acme")
    team = frozenset({FileSigner(ws.keys_dir).keyid})
    with Ledger(ws.ledger_path) as ledger:
        ledger.append(FORGOTTEN, {"publisher": "acme", "endpoint": acme.endpoint, "forgotten_seq": 1})
        assert acme in records(ledger, curators=team)  # written into the ledger without a signature: ignored
        forget(ledger, acme, FileSigner(ws.keys_dir), team)
        signed = ledger.events(kind=FORGOTTEN)[-1]["payload"]
        ledger.append("signer_seen", {"publisher": "acme", "endpoint": acme.endpoint, "signer": SIGNER}, "r3")
        assert records(ledger, curators=team)[acme].review_id == "r3"
        ledger.append(FORGOTTEN, signed)  # the old forget, copied again
        assert records(ledger, curators=team)[acme].review_id == "r3"
