"""A forget of a first-seen signer counts only when a curator the team trusts signed it.

The ledger is shared: anyone who can write a row can write a ``trust_forgotten`` event with a
key made for the occasion and a well-formed envelope. Such a forget must not reset the record,
or the attacker's signer becomes the "first seen" one for the publisher.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from curator.attest.keys import FileSigner, init_keys, public_key_of
from curator.core.models import Status
from curator.core.workspace import Workspace
from curator.ledger import Ledger
from curator.stages.signature.tofu import FORGOTTEN, Publisher, forget, record_of
from tests.decision.helpers import add_to_team, cli, isolated_checklists
from tests.signature.helpers import checklists, make_key, make_model, review, sign_with_key


def _key_signed(folder: Path, key: Path, weights: bytes) -> Path:
    make_model(folder, {"model.safetensors": weights, "config.json": b"{}"})
    shutil.copy(key.with_suffix(".pub"), folder / "signing-key.pub")
    sign_with_key(folder, key)
    return folder


def test_a_forget_signed_by_a_key_the_team_does_not_trust_leaves_the_signer_on_record(
        tmp_path: Path) -> None:
    from curator.stages.signature.verify import key_fingerprint

    policy = checklists(tmp_path / "cl", [])
    (tmp_path / "keys").mkdir()
    publisher_key = make_key(tmp_path / "keys" / "publisher.key")
    attacker_key = make_key(tmp_path / "keys" / "attacker.key")
    init_keys(tmp_path / "ada", "Ada Lovelace", "ada@example.org")
    ada = FileSigner(tmp_path / "ada")
    mallory = tmp_path / "mallory"
    init_keys(mallory, "Ada Lovelace", "ada@example.org")  # her own key, with a curator's name and e-mail
    team = frozenset({ada.keyid})
    acme = Publisher.of(None, "tofu6")
    fingerprint = key_fingerprint(publisher_key.with_suffix(".pub"))[0]

    with Ledger(tmp_path / "ledger.db") as ledger:
        first = review(_key_signed(tmp_path / "m1", publisher_key, b"v1"), "tofu6/model", policy, ledger,
                       tmp_path / "w1", curators=team)
        assert first.evidence["first_use"]["recorded"], first.evidence
        # the attack: a well-formed, signed forget written straight into the shared ledger
        forget(ledger, acme, FileSigner(mallory), team)
        assert ledger.events(kind=FORGOTTEN)
        assert record_of(ledger, acme, curators=team) is not None
        swapped = review(_key_signed(tmp_path / "m2", attacker_key, b"evil"), "tofu6/model", policy, ledger,
                         tmp_path / "w2", curators=team)
        assert swapped.status == Status.FAILED and swapped.evidence["trust"]["decision"] == "mismatch"
        assert fingerprint in swapped.evidence["trust"]["why"]
        assert not swapped.evidence["first_use"]["recorded"]
        # a forget by a curator of the team still resets the record
        forget(ledger, acme, ada, team)
        assert record_of(ledger, acme, curators=team) is None
        renewed = review(_key_signed(tmp_path / "m3", attacker_key, b"v3"), "tofu6/model", policy, ledger,
                         tmp_path / "w3", curators=team)
        assert renewed.evidence["trust"]["decision"] == "tofu-new"
        assert renewed.evidence["first_use"]["recorded"]


def test_trust_list_marks_a_forget_by_an_untrusted_key_as_ignored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = Workspace.open(os.environ["CURATOR_HOME"])
    team = isolated_checklists(tmp_path / "checklists")
    init_keys(ws.keys_dir, "Ada Lovelace", "ada@example.org")
    add_to_team(team, "Ada Lovelace", "ada@example.org", public_key_of(ws.keys_dir))
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(team))
    init_keys(tmp_path / "mallory", "Mallory", "mallory@example.org")
    acme = Publisher.of(None, "acme")
    with Ledger(ws.ledger_path) as ledger:
        ledger.append("signer_seen", {"publisher": "acme", "endpoint": acme.endpoint,
                                      "signer": {"kind": "key", "fingerprint": "sha256:" + "a" * 64}}, "r1")
        forget(ledger, acme, FileSigner(tmp_path / "mallory"), frozenset())
    listed = cli("trust", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    assert [r["org"] for r in doc["records"]] == ["acme"]  # still on record
    (reset,) = doc["forgotten"]
    assert reset["holds"] is False and "not a trusted curator" in reset["ignored"]
    shown = cli("trust", "list")
    assert "ignored" in shown.stderr and "Mallory" in shown.stderr
    done = cli("trust", "forget", "acme")  # Ada's own forget holds
    assert done.returncode == 0, done.stderr
    doc = json.loads(cli("trust", "list", "--json").stdout)
    assert doc["records"] == [] and [f["holds"] for f in doc["forgotten"]] == [False, True]


def test_a_review_session_holds_forgets_to_the_unrevoked_curators_of_the_team(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curator.decision.decide import trusted_curator_keys
    from curator.review.session import Session

    ws = Workspace.open(os.environ["CURATOR_HOME"])
    team = isolated_checklists(tmp_path / "checklists")
    init_keys(tmp_path / "ada", "Ada Lovelace", "ada@example.org")
    init_keys(tmp_path / "bob", "Bob", "bob@example.org")
    add_to_team(team, "Ada Lovelace", "ada@example.org", public_key_of(tmp_path / "ada"))
    add_to_team(team, "Bob", "bob@example.org", public_key_of(tmp_path / "bob"), revoked="2026-01-01")
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(team))
    session = Session.open(ws)
    try:
        expected = frozenset({FileSigner(tmp_path / "ada").keyid})  # Bob's key was revoked
        assert session.trusted_curators() == expected  # what the TUI's session hands the stage
        assert trusted_curator_keys(session) == expected  # what the CLI sets (team root, else this)
    finally:
        session.close()
