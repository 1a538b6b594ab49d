"""Curator keys: created 0600, never overwritten, identity bound to the key, shown as a trust entry."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
import yaml

from curator.attest.keys import FileSigner, fingerprint, init_keys, read_identity
from curator.attest.trust import load_trusted
from curator.core.errors import IntegrityError, UsageError
from tests.decision.helpers import cli


def test_init_writes_private_key_0600_and_identity(tmp_path: Path) -> None:
    identity = init_keys(tmp_path / "k", "Ada Lovelace", "ada@example.org")
    key = tmp_path / "k" / "curator.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "k").stat().st_mode) == 0o700
    assert b"BEGIN PRIVATE KEY" in key.read_bytes()
    assert read_identity(tmp_path / "k") == identity
    assert identity.keyid == fingerprint((tmp_path / "k" / "curator.pub").read_text())


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    init_keys(tmp_path / "k", "Ada", "ada@example.org")
    before = (tmp_path / "k" / "curator.key").read_bytes()
    with pytest.raises(UsageError, match="already exists"):
        init_keys(tmp_path / "k", "Eve", "eve@example.org")
    assert (tmp_path / "k" / "curator.key").read_bytes() == before


def test_bad_identity_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        init_keys(tmp_path / "k", "Ada", "not-an-email")


def test_signer_refuses_a_key_others_can_read(tmp_path: Path) -> None:
    init_keys(tmp_path / "k", "Ada", "ada@example.org")
    (tmp_path / "k" / "curator.key").chmod(0o644)
    with pytest.raises(IntegrityError, match="readable by other users"):
        FileSigner(tmp_path / "k")


def test_signer_refuses_identity_of_another_key(tmp_path: Path) -> None:
    init_keys(tmp_path / "a", "Ada", "ada@example.org")
    init_keys(tmp_path / "b", "Bob", "bob@example.org")
    (tmp_path / "a" / "identity.json").write_text((tmp_path / "b" / "identity.json").read_text())
    with pytest.raises(IntegrityError, match="names another key"):
        FileSigner(tmp_path / "a")


def test_missing_key_says_to_run_keys_init(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="keys init"):
        FileSigner(tmp_path / "none")


def test_encrypted_key_needs_its_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CURATOR_KEY_PASSPHRASE", "correct horse")
    init_keys(tmp_path / "k", "Ada", "ada@example.org")
    assert b"ENCRYPTED" in (tmp_path / "k" / "curator.key").read_bytes()
    assert FileSigner(tmp_path / "k").sign(b"x")
    monkeypatch.setenv("CURATOR_KEY_PASSPHRASE", "wrong")
    with pytest.raises(UsageError, match="cannot read"):
        FileSigner(tmp_path / "k")


def test_cli_init_then_show_gives_a_trust_entry(tmp_path: Path) -> None:
    made = cli("keys", "init", "--name", "Ada: Lovelace #1", "--email", "ada@example.org", "--json")
    assert made.returncode == 0, made.stderr
    identity = json.loads(made.stdout)
    again = cli("keys", "init", "--name", "Ada", "--email", "ada@example.org")
    assert again.returncode == 2
    assert len(again.stderr.strip().splitlines()) == 1 and "already exists" in again.stderr
    shown = cli("keys", "show")
    assert shown.returncode == 0, shown.stderr
    assert identity["keyid"] in shown.stderr
    assert shown.stdout.endswith("-----END PUBLIC KEY-----\n")  # the shell prompt starts on its own line
    entry = yaml.safe_load(shown.stdout)  # the stdout is a ready curators.yaml list entry
    assert entry[0]["name"] == "Ada: Lovelace #1"
    (tmp_path / "curators.yaml").write_text(yaml.safe_dump({"curators": entry}))
    trusted = load_trusted(tmp_path)
    assert list(trusted) == [identity["keyid"]]
    assert trusted[identity["keyid"]].email == "ada@example.org"
    as_json = json.loads(cli("keys", "show", "--json").stdout)
    assert as_json["keyid"] == identity["keyid"] and "BEGIN PUBLIC KEY" in as_json["public_key"]


def test_curators_file_with_unknown_keys_is_refused(tmp_path: Path) -> None:
    init_keys(tmp_path / "k", "Ada", "ada@example.org")
    pem = (tmp_path / "k" / "curator.pub").read_text()
    (tmp_path / "curators.yaml").write_text(yaml.safe_dump(
        {"curators": [{"name": "Ada", "email": "a@x.org", "public_key": pem, "keyid": "f00"}]}))
    with pytest.raises(UsageError, match="unknown keys keyid"):
        load_trusted(tmp_path)


def test_a_revoked_entry_wins_over_a_trusting_one(tmp_path: Path) -> None:
    identity = init_keys(tmp_path / "k", "Ada", "ada@example.org")
    pem = (tmp_path / "k" / "curator.pub").read_text()
    entry = {"name": "Ada", "email": "ada@example.org", "public_key": pem}
    revoked = {**entry, "revoked": "2026-01-01"}
    (tmp_path / "curators.yaml").write_text(yaml.safe_dump({"curators": [entry, revoked]}))
    assert load_trusted(tmp_path)[identity.keyid].revoked == "2026-01-01"
