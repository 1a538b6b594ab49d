"""Tampering with a signed model or its bundle: each case exits 1 and names the file or identity."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.signature.helpers import cli, make_key, sigstore_args

Copy = Callable[[str], Path]
SIGSTORE = "v1.1.0-sigstore"


def _sigstore(folder: Path, *extra: str) -> tuple[int, str, dict[str, Any]]:
    run = cli("signature", folder, *sigstore_args(), *extra, "--json")
    return run.code, run.err, run.json


def test_a_changed_byte_fails_with_both_digests(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    original = (model / "signme-1").read_bytes()
    (model / "signme-1").write_bytes(bytes([original[0] ^ 1]) + original[1:])
    code, _, doc = _sigstore(model)
    assert code == 1 and doc["status"] == "failed"
    row = next(f for f in doc["files"] if f["path"] == "signme-1")
    assert row["state"] == "mismatch" and row["signed_sha256"] != row["actual_sha256"]
    assert "signme-1" in doc["error"] and row["signed_sha256"] in doc["error"]
    assert row["actual_sha256"] in doc["error"]


def test_an_added_file_fails_as_unsigned(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    (model / "extra.bin").write_bytes(b"print('not signed')")
    code, _, doc = _sigstore(model)
    assert code == 1 and "extra.bin" in doc["error"]
    assert {f["path"]: f["state"] for f in doc["files"]}["extra.bin"] == "unsigned"


def test_a_deleted_file_fails_as_missing(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    (model / "signme-2").unlink()
    code, _, doc = _sigstore(model)
    assert code == 1 and "signme-2" in doc["error"] and "is signed" in doc["error"]
    assert {f["path"]: f["state"] for f in doc["files"]}["signme-2"] == "missing"


def test_a_renamed_file_fails_as_missing_and_unsigned(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    (model / "signme-1").rename(model / "renamed")
    code, _, doc = _sigstore(model)
    states = {f["path"]: f["state"] for f in doc["files"]}
    assert code == 1 and states["signme-1"] == "missing" and states["renamed"] == "unsigned"
    messages = " ".join(f["message"] for f in doc["findings"])
    assert "signme-1" in messages and "renamed" in messages


def _edit_payload(sig: Path, edit: Callable[[dict[str, object]], None]) -> None:
    bundle = json.loads(sig.read_text())
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    edit(statement)
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    sig.write_text(json.dumps(bundle))


def _forge_digest(statement: dict[str, object]) -> None:
    resources = statement["predicate"]["resources"]  # type: ignore[index]
    resources[0]["digest"] = "0" * 64


def test_an_edited_sigstore_payload_fails_as_an_invalid_signature(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    _edit_payload(model / "model.sig", _forge_digest)
    code, _, doc = _sigstore(model)
    assert code == 1 and doc["status"] == "failed"
    assert "does not verify" in doc["error"] and "model.sig" in doc["error"]
    assert doc["files"] == []  # nothing from an unverified statement is shown as signed


@pytest.mark.parametrize(("name", "flag", "anchor"), [
    ("v1.1.0-elliptic-key", "--public-key", "keys/signing-key-pub.pem"),
    ("v1.1.0-certificate", "--certificate-chain", "keys/ca-cert.pem"),
])
def test_an_edited_payload_fails_for_keys_and_certificates(copy_fixture: Copy, signed: Path, name: str,
                                                          flag: str, anchor: str) -> None:
    model = copy_fixture(name)
    _edit_payload(model / "model.sig", _forge_digest)
    run = cli("signature", model, flag, signed / anchor)
    assert run.code == 1 and "model.sig does not verify" in run.err


def test_an_ignore_list_widened_after_signing_fails(copy_fixture: Copy, signed: Path) -> None:
    """The signer's ignore list is signed data: adding a path to it breaks the signature."""
    model = copy_fixture("v1.1.0-elliptic-key")

    def widen(statement: dict[str, object]) -> None:
        statement["predicate"]["serialization"]["ignore_paths"].append("payload.pkl")  # type: ignore[index]

    _edit_payload(model / "model.sig", widen)
    (model / "payload.pkl").write_bytes(b"\x80\x04]\x94.")
    run = cli("signature", model, "--public-key", signed / "keys/signing-key-pub.pem")
    assert run.code == 1 and "does not verify" in run.err


def test_swapped_keys_fail_naming_the_key(copy_fixture: Copy, tmp_path: Path) -> None:
    """Re-signed by an attacker's key, verified with the publisher's: the key names differ."""
    from tests.signature.helpers import sign_with_key

    model = copy_fixture("v1.1.0-elliptic-key")
    publisher, attacker = make_key(tmp_path / "publisher.pem"), make_key(tmp_path / "attacker.pem")
    (model / "model.sig").unlink()
    sign_with_key(model, attacker, ignore=["ignore-me"])
    run = cli("signature", model, "--public-key", publisher.with_suffix(".pub"))
    assert run.code == 1 and "publisher.pub" in run.err and "Key mismatch" in run.err
    assert cli("signature", model, "--public-key", attacker.with_suffix(".pub")).code == 0


def test_a_bundle_with_a_swapped_key_hint_still_fails(copy_fixture: Copy, tmp_path: Path) -> None:
    """Forging the key hint to point at the trusted key does not make the signature verify."""
    from curator.stages.signature.verify import key_fingerprint
    from tests.signature.helpers import sign_with_key

    model = copy_fixture("v1.1.0-elliptic-key")
    publisher, attacker = make_key(tmp_path / "publisher.pem"), make_key(tmp_path / "attacker.pem")
    (model / "model.sig").unlink()
    sig = sign_with_key(model, attacker, ignore=["ignore-me"])
    bundle = json.loads(sig.read_text())
    bundle["verificationMaterial"]["publicKey"]["hint"] = key_fingerprint(publisher.with_suffix(".pub"))[1]
    sig.write_text(json.dumps(bundle))
    run = cli("signature", model, "--public-key", publisher.with_suffix(".pub"))
    assert run.code == 1 and "does not verify" in run.err


def test_a_certificate_swapped_into_a_sigstore_bundle_fails(copy_fixture: Copy, signed: Path) -> None:
    """Another bundle's Fulcio certificate does not make this signature verify."""
    model = copy_fixture(SIGSTORE)
    other = json.loads((signed / "v1.0.0-sigstore" / "model.sig").read_text())
    bundle = json.loads((model / "model.sig").read_text())
    bundle["verificationMaterial"]["certificate"] = other["verificationMaterial"]["certificate"]
    (model / "model.sig").write_text(json.dumps(bundle))
    code, _, doc = _sigstore(model)
    assert code == 1 and doc["status"] == "failed" and "does not verify" in doc["error"]


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"mediaType": "x"}'])
def test_an_unreadable_bundle_fails(copy_fixture: Copy, damage: bytes) -> None:
    model = copy_fixture(SIGSTORE)
    (model / "model.sig").write_bytes(damage)
    code, _, doc = _sigstore(model)
    assert code == 1 and doc["status"] == "failed" and "model.sig" in doc["error"]


def test_a_deleted_signature_is_unsigned(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    (model / "model.sig").unlink()
    code, _, doc = _sigstore(model)
    assert code == 1 and doc["status"] == "unsigned" and "model.sig" in doc["error"]


def test_a_symlink_to_outside_never_matches(copy_fixture: Copy, tmp_path: Path) -> None:
    model = copy_fixture(SIGSTORE)
    outside = tmp_path / "outside"
    outside.write_bytes((model / "signme-1").read_bytes())
    (model / "signme-1").unlink()
    (model / "signme-1").symlink_to(outside)
    code, _, doc = _sigstore(model)
    assert code == 1 and {f["path"]: f["state"] for f in doc["files"]}["signme-1"] == "mismatch"
