"""Attacks on who the signer is taken to be: identities near the expected one, publishers named
another way (case, Unicode compatibility forms, another spelling of the same hub), key
fingerprints that differ only in case or length."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from curator.core.errors import UsageError
from curator.core.models import Status
from curator.ledger import Ledger
from curator.stages.signature.tofu import Publisher, Record, judge
from curator.stages.signature.trust import load_publishers, matches
from curator.stages.signature.verify import Anchor, key_fingerprint
from tests.signature.helpers import (
    IDENTITY,
    ISSUER,
    checklists,
    cli,
    make_key,
    make_model,
    review,
    sign_with_key,
    sigstore_args,
)

Copy = Callable[[str], Path]
SIGSTORE = "v1.1.0-sigstore"
MAINTAINER = {"kind": "sigstore", "identity": "maintainer@tofu2.example", "issuer": ISSUER}
FILES = {"model.safetensors": b"\x00" * 32, "config.json": b"{}"}


# -- identities near the expected one ---------------------------------------------------------
@pytest.mark.parametrize(("identity", "issuer"), [
    ("stefanb@us.ibm", ISSUER),                            # the real identity contains it
    ("us.ibm.com", ISSUER),                                # a suffix of it
    ("STEFANB@US.IBM.COM", ISSUER),                        # another case
    ("*@us.ibm.com", ISSUER),                              # a wildcard is no pattern here
    (IDENTITY, ISSUER + "/"),                              # the issuer with a trailing slash
    (IDENTITY, "https://sigstore.verify.ibm.com"),         # the issuer's host alone
    (IDENTITY, "https://token.actions.githubusercontent.com"),  # another issuer
])
def test_an_identity_or_issuer_near_the_signers_does_not_verify(signed: Path, identity: str,
                                                                issuer: str) -> None:
    run = cli("signature", signed / SIGSTORE, *sigstore_args(identity, issuer), "--ignore", "ignore-me")
    assert run.code == 1, run.err
    assert IDENTITY in run.err


@pytest.mark.parametrize(("signer", "words"), [
    ({"identity": "*@acme.example", "issuer": ISSUER}, "exact identity"),
    ({"identity": "https://github.com/acme/*", "issuer": ISSUER}, "exact identity"),
    ({"identity": "release@acme.example", "issuer": "accounts.google.com"}, "https:// URL"),
    ({"identity": " release@acme.example", "issuer": ISSUER}, "exact identity"),
])
def test_a_publisher_signer_that_is_a_pattern_is_refused(tmp_path: Path, signer: dict[str, str],
                                                        words: str) -> None:
    """A pattern would never match (identities compare exactly): say so, rather than fail every review."""
    import yaml

    (tmp_path / "publishers.yaml").write_text(yaml.safe_dump(
        {"publishers": [{"match": "acme", "signers": [{"sigstore": signer}]}]}))
    with pytest.raises(UsageError) as caught:
        load_publishers(tmp_path)
    assert words in str(caught.value) and "publishers.yaml" in str(caught.value)


def test_only_the_verified_identity_counts_not_another_name_in_the_certificate() -> None:
    """Sigstore verified the certificate for its first identity; a second SAN proves nothing more."""
    anchor = Anchor("sigstore", identity="release@acme.example", issuer=ISSUER)
    signer = {"kind": "sigstore", "identity": "mallory@evil.example", "issuer": ISSUER,
              "all_identities": ["mallory@evil.example", "release@acme.example"]}
    assert not matches(anchor, signer)
    assert matches(anchor, {**signer, "identity": "release@acme.example"})


def _two_san_certificate() -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigstore.dev")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(minutes=10))
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name("mallory@evil.example"),
                                                        x509.RFC822Name(IDENTITY)]), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


def test_a_signing_certificate_naming_two_identities_is_refused(copy_fixture: Copy) -> None:
    model = copy_fixture(SIGSTORE)
    bundle = json.loads((model / "model.sig").read_text())
    forged = base64.b64encode(_two_san_certificate()).decode()
    bundle["verificationMaterial"]["certificate"]["rawBytes"] = forged
    (model / "model.sig").write_text(json.dumps(bundle))
    run = cli("signature", model, *sigstore_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 1 and run.json["status"] == "failed"
    assert "2 identities" in run.json["error"] and "model.sig" in run.json["error"]


# -- key fingerprints that look alike ---------------------------------------------------------
def _near(fingerprint: str) -> list[str]:
    hexed = fingerprint.split(":", 1)[1]
    return [fingerprint.upper(), "SHA256:" + hexed, fingerprint[:-1], fingerprint[:23], fingerprint + "0",
            "sha256:" + hexed.upper(), hexed]


def test_a_key_whose_fingerprint_differs_only_in_case_or_length_is_another_key(tmp_path: Path) -> None:
    public = make_key(tmp_path / "acme.pem").with_suffix(".pub")
    fingerprint = key_fingerprint(public)[0]
    anchor = Anchor("key", public_key=public)
    assert matches(anchor, {"kind": "key", "fingerprint": fingerprint})
    for near in _near(fingerprint):
        assert not matches(anchor, {"kind": "key", "fingerprint": near}), near


def test_a_first_use_record_holds_a_key_to_its_exact_fingerprint(tmp_path: Path) -> None:
    fingerprint = key_fingerprint(make_key(tmp_path / "acme.pem").with_suffix(".pub"))[0]
    who = Publisher.of(None, "tofu9")
    record = Record(who, {"kind": "key", "fingerprint": fingerprint}, "r-1", 0.0, 1)
    assert judge(record, who, {"kind": "key", "fingerprint": fingerprint}).decision == "tofu-match"
    for near in _near(fingerprint):
        assert judge(record, who, {"kind": "key", "fingerprint": near}).decision == "mismatch", near


# -- the publisher named another way ----------------------------------------------------------
@pytest.mark.parametrize("repo_id", ["ac\uff4de/tiny", "\u1d2c\u1d9c\u1d39\u1d31/tiny", "ACME/tiny"])
def test_a_required_rule_holds_for_the_org_in_any_compatibility_form(tmp_path: Path, ledger: Ledger,
                                                                     repo_id: str) -> None:
    """Fullwidth or superscript letters fold (NFKC) to acme: the rule for acme applies."""
    (tmp_path / "cl").mkdir()
    make_key(tmp_path / "cl" / "acme.pem")
    model = make_model(tmp_path / "m", FILES)
    sign_with_key(model, make_key(tmp_path / "other.pem"))
    policy = checklists(tmp_path / "cl", [{"match": "acme", "required": True,
                                           "signers": [{"key": "acme.pub"}]}])
    result = review(model, repo_id, policy, ledger, tmp_path / "w")
    assert result.status == Status.FAILED, result.findings
    assert result.evidence["publisher"] == "acme"
    assert any("acme.pub" in f.message for f in result.findings)


def _record_maintainer(ledger: Ledger) -> None:
    ledger.append("signer_seen", {"publisher": "tofu2", "endpoint": "https://huggingface.co",
                                  "signer": MAINTAINER}, "r-real")


@pytest.mark.parametrize("endpoint", ["https://huggingface.co:443", "https://user@huggingface.co",
                                      "https://huggingface.co./", "HTTPS://HUGGINGFACE.CO//",
                                      "https://huggingface.co/?x=1", "https://huggingface.co/#top"])
def test_the_same_hub_spelled_another_way_keeps_its_record(copy_fixture: Copy, tmp_path: Path,
                                                           ledger: Ledger, endpoint: str) -> None:
    _record_maintainer(ledger)
    result = review(copy_fixture(SIGSTORE), "tofu2/model", checklists(tmp_path / "cl", []), ledger,
                    tmp_path / "w", endpoint=endpoint)
    assert result.status == Status.FAILED, result.evidence["trust"]
    assert result.evidence["trust"]["decision"] == "mismatch"
    assert "maintainer@tofu2.example" in result.evidence["trust"]["why"]
    assert len(ledger.events(kind="signer_seen")) == 1


@pytest.mark.parametrize("org", ["TOFU2", "tofu\u00b2", "\uff54ofu2", "tofu\u2082"])
def test_the_same_org_in_another_form_keeps_its_record(copy_fixture: Copy, tmp_path: Path, ledger: Ledger,
                                                       org: str) -> None:
    _record_maintainer(ledger)
    result = review(copy_fixture(SIGSTORE), f"{org}/model", checklists(tmp_path / "cl", []), ledger,
                    tmp_path / "w")
    assert result.status == Status.FAILED, result.evidence["trust"]
    assert result.evidence["trust"]["decision"] == "mismatch"


def test_another_hub_stays_another_publisher(copy_fixture: Copy, tmp_path: Path, ledger: Ledger) -> None:
    """Folding spellings must not merge real namespaces: another host or port is another hub."""
    _record_maintainer(ledger)
    model = copy_fixture(SIGSTORE)
    for n, endpoint in enumerate(["https://huggingface.co:8443", "http://huggingface.co",
                                  "https://huggingface.co.evil.example"]):
        result = review(model, "tofu2/model", checklists(tmp_path / "cl", []), ledger,
                        tmp_path / f"w{n}", endpoint=endpoint)
        assert result.evidence["trust"]["decision"] == "tofu-new", (endpoint, result.evidence["trust"])



# -- keys the candidate ships -----------------------------------------------------------------
def _other_kind_of_key(kind: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key = rsa.generate_private_key(65537, 2048) if kind == "rsa" else ed25519.Ed25519PrivateKey.generate()
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


BAD_PEM = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"


@pytest.mark.parametrize("junk", [b"not a key", BAD_PEM, b"\xff\xfe" * 40, "rsa", "ed25519"],
                         ids=["text", "bad-pem", "binary", "rsa", "ed25519"])
def test_a_junk_key_shipped_beside_another_signers_key_still_fails_as_a_mismatch(
        tmp_path: Path, ledger: Ledger, junk: bytes | str) -> None:
    """A candidate's key file is the publisher's claim, not curator's configuration: one that does not
    parse is skipped with a finding, it neither errors the stage nor hides the signer on record."""
    policy = checklists(tmp_path / "cl", [])
    (tmp_path / "keys").mkdir()
    publisher = make_key(tmp_path / "keys" / "publisher.pem")
    shipped = publisher.with_suffix(".pub").read_bytes()
    first = make_model(tmp_path / "m1", {**FILES, "signing-key.pub": shipped})
    sign_with_key(first, publisher)
    assert review(first, "tofu6/model", policy, ledger, tmp_path / "w1").evidence["first_use"]["recorded"]
    attacker = make_key(tmp_path / "keys" / "attacker.pem")
    junk = _other_kind_of_key(junk) if isinstance(junk, str) else junk
    second = make_model(tmp_path / "m2", {**FILES, "aaa.pub": junk,
                                          "signing-key.pub": attacker.with_suffix(".pub").read_bytes()})
    sign_with_key(second, attacker)
    result = review(second, "tofu6/model", policy, ledger, tmp_path / "w2")
    assert result.status == Status.FAILED, result.findings
    assert result.evidence["trust"]["decision"] == "mismatch"
    assert any(f.code == "publisher-key-unreadable" and f.file == "aaa.pub" for f in result.findings)


WORKFLOW = "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/v1.2"
GITHUB = "https://token.actions.githubusercontent.com"


@pytest.mark.parametrize("identity", [
    "https://github.com/evil/models/.github/workflows/release.yml@refs/tags/v1.2",   # a fork
    "https://github.com/acme/models/.github/workflows/release.yml@refs/heads/pr-7",   # another ref
    "https://github.com/acme/models/.github/workflows/release.yml@refs/tags/v1.2.1",  # a longer ref
    "https://github.com/acme/models/.github/workflows/debug.yml@refs/tags/v1.2",      # another workflow
    "https://github.com/ACME/models/.github/workflows/release.yml@refs/tags/v1.2",    # another case
])
def test_a_workflow_identity_from_a_fork_or_another_ref_is_not_the_publishers(identity: str) -> None:
    anchor = Anchor("sigstore", identity=WORKFLOW, issuer=GITHUB)
    assert matches(anchor, {"kind": "sigstore", "identity": WORKFLOW, "issuer": GITHUB})
    assert not matches(anchor, {"kind": "sigstore", "identity": identity, "issuer": GITHUB})


def test_a_log_time_moved_after_the_log_signed_it_is_refused(copy_fixture: Copy) -> None:
    """Moving the integrated time (into the certificate's validity, say) breaks the log's promise."""
    model = copy_fixture(SIGSTORE)
    bundle = json.loads((model / "model.sig").read_text())
    entry = bundle["verificationMaterial"]["tlogEntries"][0]
    entry["integratedTime"] = str(int(entry["integratedTime"]) + 3600)
    (model / "model.sig").write_text(json.dumps(bundle))
    run = cli("signature", model, *sigstore_args(), "--ignore", "ignore-me", "--json")
    assert run.code == 1 and run.json["status"] == "failed" and "model.sig" in run.json["error"]


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_a_configured_key_that_is_no_ec_key_is_a_usage_error(signed: Path, tmp_path: Path, kind: str) -> None:
    key = tmp_path / f"{kind}.pub"
    key.write_bytes(_other_kind_of_key(kind))
    run = cli("signature", signed / "v1.1.0-elliptic-key", "--public-key", key, "--ignore", "ignore-me")
    assert run.code == 2, (run.code, run.err)
    assert f"{kind}.pub" in run.err and "EC" in run.err and "Traceback" not in run.err
