"""Round 2 attacks on the signature gate, each against the real CLI and model-signing."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.signature.helpers import SIGNED, cli, make_key, make_model, sign_with_certificate, sign_with_key

Copy = Callable[[str], Path]
KEY_FIXTURE = "v1.1.0-elliptic-key"
FILES = {"weights.bin": b"\x00" * 64, "config.json": b'{"model_type": "gpt2"}'}


def _key_args() -> list[str]:
    return ["--public-key", str(SIGNED / "keys" / "signing-key-pub.pem")]


# -- entries that are neither files nor folders ---------------------------------------------
def test_a_fifo_beside_the_signed_files_is_unsigned(copy_fixture: Copy) -> None:
    model = copy_fixture(KEY_FIXTURE)
    os.mkfifo(model / "evil.pkl")
    run = cli("signature", model, *_key_args(), "--json")
    assert run.code == 1, run.err
    [row] = [f for f in run.json["files"] if f["path"] == "evil.pkl"]
    assert row["state"] == "unsigned"


def test_a_socket_beside_the_signed_files_is_unsigned(tmp_path: Path) -> None:
    key = make_key(tmp_path / "k.pem")
    model = make_model(Path("/tmp") / f"m{os.getpid()}", FILES)  # AF_UNIX paths are short
    try:
        sign_with_key(model, key)
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(model / "listener"))
            run = cli("signature", model, "--public-key", key.with_suffix(".pub"), "--json")
        assert run.code == 1, run.err
        assert {f["path"]: f["state"] for f in run.json["files"]}["listener"] == "unsigned"
    finally:
        for path in sorted(model.rglob("*"), reverse=True):
            path.unlink()
        model.rmdir()


# -- certificates outside their validity ------------------------------------------------------
def _pki(folder: Path, leaf_days: tuple[int, int], ca_days: tuple[int, int] = (-400, 400),
         usage: str = "code-signing") -> dict[str, Path]:
    """A CA and a leaf (code-signing, or TLS server) valid from/to these day offsets from now."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def day(n: int) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(days=n)

    folder.mkdir(parents=True, exist_ok=True)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acme-root")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(day(ca_days[0])).not_valid_after(day(ca_days[1]))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "release-signer")]))
            .issuer_name(ca_name).public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(day(leaf_days[0])).not_valid_after(day(leaf_days[1]))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING if usage == "code-signing"
                                                  else ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    paths = {"ca": folder / "ca.pem", "leaf": folder / "leaf.pem", "key": folder / "leaf.key"}
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["leaf"].write_bytes(leaf.public_bytes(pem))
    paths["key"].write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    return paths


@pytest.mark.parametrize(("leaf_days", "ca_days", "word"), [
    ((-200, -100), (-400, 400), "expired"),   # a leaf that expired 100 days ago, its key maybe leaked
    ((100, 200), (-400, 400), "not yet valid"),  # a leaf that is not valid yet
    ((-200, 100), (-400, -1), "expired"),     # the CA itself expired yesterday
])
def test_a_certificate_outside_its_validity_does_not_verify(tmp_path: Path, leaf_days: tuple[int, int],
                                                            ca_days: tuple[int, int], word: str) -> None:
    pki = _pki(tmp_path / "pki", leaf_days, ca_days)
    model = make_model(tmp_path / "m", FILES)
    sign_with_certificate(model, pki)
    run = cli("signature", model, "--certificate-chain", pki["ca"], "--json")
    assert run.code == 1, run.err
    assert run.json["status"] == "failed"
    assert word in run.json["error"], run.json["error"]


def test_a_tls_server_certificate_from_the_ca_cannot_sign_models(tmp_path: Path) -> None:
    """Any web server's key under the same CA would otherwise sign for the publisher."""
    pki = _pki(tmp_path / "pki", (-10, 10), usage="tls-server")
    model = make_model(tmp_path / "m", FILES)
    sign_with_certificate(model, pki)
    run = cli("signature", model, "--certificate-chain", pki["ca"], "--json")
    assert run.code == 1, run.err
    assert "code signing" in run.json["error"], run.json["error"]


def test_a_certificate_inside_its_validity_still_verifies(tmp_path: Path) -> None:
    pki = _pki(tmp_path / "pki", (-10, 10))
    model = make_model(tmp_path / "m", FILES)
    sign_with_certificate(model, pki)
    run = cli("signature", model, "--certificate-chain", pki["ca"], "--json")
    assert run.code == 0, run.err


# -- a publisher's rule dodged by spelling its name another way -------------------------------
@pytest.mark.parametrize(("match", "repo_id"), [("acme", "ACME/tiny"), ("acme", "Acme/tiny"),
                                              ("acme/tiny", "acme/Tiny"), ("acme/*", "ACME/tiny")])
def test_a_required_signer_rule_holds_whatever_the_case_of_the_repo_id(tmp_path: Path, match: str,
                                                                       repo_id: str) -> None:
    """The Hub resolves repo ids case-insensitively: ``ACME/tiny`` is acme's repo, held to acme's rule."""
    from curator.core.models import Status
    from curator.ledger import Ledger
    from tests.signature.helpers import checklists, review

    (tmp_path / "cl").mkdir()
    make_key(tmp_path / "cl" / "acme.pem")
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, make_key(tmp_path / "other.pem"))
    rule = {"match": match, "required": True, "signers": [{"key": "acme.pub"}]}
    policy = checklists(tmp_path / "cl", [rule])
    ledger = Ledger(tmp_path / "ledger.db")
    try:
        result = review(model, repo_id, policy, ledger, tmp_path / "w")
    finally:
        ledger.close()
    assert result.status == Status.FAILED, result.findings
    assert any("acme.pub" in f.message for f in result.findings)

