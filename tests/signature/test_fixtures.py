"""The six real signed models verify offline with the README's anchors, and only with them."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from curator.stages.signature.check import CheckOptions, check_signature
from curator.stages.signature.trust import against_anchors
from curator.stages.signature.verify import Anchor
from tests.signature.helpers import (
    IDENTITY,
    ISSUER,
    SIGSTORE_FIXTURES,
    TRUST_CONFIG,
    cli,
    sigstore_args,
)


def _ignore(name: str) -> list[str]:
    return ["--ignore", "ignore-me"] if name == "v1.0.1-sigstore" else []


@pytest.mark.parametrize("name", SIGSTORE_FIXTURES)
def test_sigstore_fixture_verifies_offline_with_its_identity(signed: Path, name: str) -> None:
    run = cli("signature", signed / name, *sigstore_args(), *_ignore(name), "--json")
    assert run.code == 0, run.err
    doc = run.json
    assert doc["status"] == "verified" and doc["error"] is None
    assert doc["signer"]["identity"] == IDENTITY and doc["signer"]["issuer"] == ISSUER
    assert {f["path"]: f["state"] for f in doc["files"] if f["state"] == "match"} == {
        "signme-1": "match", "signme-2": "match"}
    assert doc["transparency"]["log_index"] > 0 and doc["transparency"]["integrated_time"] > 1.7e9
    assert doc["trust"]["decision"] == "expected"


def test_certificate_fixture_verifies_against_its_ca(signed: Path) -> None:
    run = cli("signature", signed / "v1.1.0-certificate", "--certificate-chain",
              signed / "keys" / "ca-cert.pem", "--json")
    assert run.code == 0, run.err
    doc = run.json
    assert doc["mode"] == "certificate" and doc["status"] == "verified"
    assert doc["signer"]["anchor_fingerprint"].startswith("sha256:")
    assert [f["path"] for f in doc["files"] if f["state"] == "ignored"] == ["ignore-me", "model.sig"]


def test_key_fixture_verifies_against_its_key(signed: Path) -> None:
    run = cli("signature", signed / "v1.1.0-elliptic-key", "--public-key",
              signed / "keys" / "signing-key-pub.pem", "--json")
    assert run.code == 0, run.err
    assert run.json["mode"] == "key" and run.json["signer"]["fingerprint"].startswith("sha256:")


@pytest.mark.parametrize(("identity", "issuer", "named"), [
    ("mallory@example.com", ISSUER, "mallory@example.com"),
    (IDENTITY, "https://github.com/login/oauth", "https://github.com/login/oauth"),
])
def test_wrong_identity_or_issuer_fails_naming_both(signed: Path, identity: str, issuer: str,
                                                   named: str) -> None:
    run = cli("signature", signed / "v1.1.0-sigstore", *sigstore_args(identity, issuer))
    assert run.code == 1
    assert IDENTITY in run.err and named in run.err
    assert run.err.count("\n") <= 2  # one headline, at most one detail line


def test_unlisted_ignored_file_fails_until_ignored(signed: Path) -> None:
    """v1.0.1's signer did not put ignore-me in the signed ignore list: the reviewer must."""
    run = cli("signature", signed / "v1.0.1-sigstore", *sigstore_args(), "--json")
    assert run.code == 1
    assert run.json["status"] == "failed" and "ignore-me" in run.json["error"]


def test_certificate_fixture_fails_against_another_ca(signed: Path, tmp_path: Path) -> None:
    from tests.signature.helpers import make_ca_and_leaf

    other = make_ca_and_leaf(tmp_path / "pki")
    run = cli("signature", signed / "v1.1.0-certificate", "--certificate-chain", other["ca"])
    assert run.code == 1 and "does not verify against the CA" in run.err and "acme-root.pem" in run.err


def test_key_fixture_fails_with_another_key(signed: Path, tmp_path: Path) -> None:
    from tests.signature.helpers import make_key

    key = make_key(tmp_path / "other.pem")
    run = cli("signature", signed / "v1.1.0-elliptic-key", "--public-key", key.with_suffix(".pub"))
    assert run.code == 1 and "other.pub" in run.err


@pytest.mark.parametrize("name", [*SIGSTORE_FIXTURES, "v1.1.0-certificate", "v1.1.0-elliptic-key"])
def test_each_fixture_verifies_well_under_a_second_after_start_up(signed: Path, name: str) -> None:
    anchor = {"v1.1.0-certificate": Anchor("certificate", certificates=(signed / "keys/ca-cert.pem",)),
              "v1.1.0-elliptic-key": Anchor("key", public_key=signed / "keys/signing-key-pub.pem")
              }.get(name, Anchor("sigstore", identity=IDENTITY, issuer=ISSUER))

    def once() -> str:
        return check_signature(signed / name, signed / name / "model.sig", [anchor], TRUST_CONFIG,
                               lambda s: against_anchors([anchor], s, name),
                               CheckOptions(extra_ignore=("ignore-me",))).status

    assert once() == "verified"  # start-up: imports, trust root parse
    started = time.perf_counter()
    assert once() == "verified"
    seconds = time.perf_counter() - started
    print(f"{name}: {seconds * 1000:.1f} ms")
