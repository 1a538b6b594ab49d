"""The demo's publisher: a small certificate authority, and signing in the OpenSSF format.

``acme-labs`` signs its releases with a code-signing certificate its own CA issued; the
demo policy trusts that CA *and* the release signer's subject. The same CA also issued a
certificate to a contractor's CI bot, which signs a re-upload: a signature that verifies,
by the wrong signer. Keys are generated once per demo workspace, labelled as demo keys,
and never leave it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

#: the signature file, as the signature stage looks for it
SIGNATURE_FILE = "model.sig"
#: long enough for a demo workspace to keep working; short enough to be obviously not real
VALID_DAYS = 3650


@dataclass(frozen=True)
class DemoPublisher:
    """A demo signer: the CA a policy trusts, its leaf certificate and private key."""

    slug: str
    subject: str  # RFC 4514, as the signature stage reports it
    ca: Path
    leaf: Path
    key: Path


def demo_publisher(folder: Path, organisation: str, signers: dict[str, str]) -> dict[str, DemoPublisher]:
    """A CA for ``organisation`` and one code-signing certificate per ``{slug: common name}``.

    Created on first use in ``folder`` and reused afterwards, so a workspace keeps its keys.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    ca_path, ca_key_path = folder / "ca.pem", folder / "ca.key"
    if not (ca_path.is_file() and ca_key_path.is_file()):
        _write_ca(ca_path, ca_key_path, organisation)
    ca_key: Any = serialization.load_pem_private_key(ca_key_path.read_bytes(), None)
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    made = {}
    for slug, common_name in signers.items():
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
        leaf_path, key_path = folder / f"{slug}.pem", folder / f"{slug}.key"
        if not (leaf_path.is_file() and key_path.is_file()):
            _write_leaf(leaf_path, key_path, subject, ca, ca_key)
        made[slug] = DemoPublisher(slug, subject.rfc4514_string(), ca_path, leaf_path, key_path)
    return made


def _private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    from cryptography.hazmat.primitives import serialization

    path.touch(mode=0o600)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _write_ca(ca_path: Path, key_path: Path, organisation: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} demo root CA (demo only)"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
          .public_key(key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
          .sign(key, hashes.SHA256()))
    _private(key_path, key)
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))


def _write_leaf(leaf_path: Path, key_path: Path, subject: x509.Name, ca: x509.Certificate,
                ca_key: ec.EllipticCurvePrivateKey) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False)
            .sign(ca_key, hashes.SHA256()))
    _private(key_path, key)
    leaf_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))


def sign_folder(folder: Path, publisher: DemoPublisher) -> bytes:
    """Sign every file of ``folder`` with model-signing's certificate signer; the bundle's bytes."""
    from model_signing import hashing, signing

    target = folder / SIGNATURE_FILE
    config: Any = hashing.Config()  # type: ignore[no-untyped-call]
    config.set_ignored_paths(paths=[SIGNATURE_FILE])
    signing.Config().use_certificate_signer(  # type: ignore[no-untyped-call]
        private_key=publisher.key, signing_certificate=publisher.leaf, certificate_chain=[publisher.ca],
    ).set_hashing_config(config).sign(folder, target)
    data = target.read_bytes()
    target.unlink()
    return data
