"""Curator identity and signing keys: an ECDSA P-256 key pair behind one ``Signer`` interface.

``curator keys init`` writes ``curator.key`` (PKCS#8 PEM, 0600), ``curator.pub`` and
``identity.json`` into a key folder (the workspace's ``keys/`` by default). A key held
elsewhere (a hardware token over PKCS#11, a KMS) plugs in as another ``Signer``.
"""

from __future__ import annotations

import abc
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from curator.core.errors import IntegrityError, UsageError

KEY_FILE = "curator.key"
PUBLIC_FILE = "curator.pub"
IDENTITY_FILE = "identity.json"
#: optional passphrase for an encrypted key file; never stored by curator
PASSPHRASE_ENV = "CURATOR_KEY_PASSPHRASE"
#: the DSSE / securesystemslib scheme name of every curator key
SCHEME = "ecdsa-sha2-nistp256"


@dataclass(frozen=True)
class CuratorIdentity:
    """Who signs: a name and e-mail bound to the fingerprint of one public key."""

    name: str
    email: str
    keyid: str  # sha256 hex of the public key's DER SubjectPublicKeyInfo

    @property
    def label(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def person(self) -> str:
        """Who this is, whichever key: approvals and separation of duties count people."""
        return person_of(self.email)

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CuratorIdentity:
        return cls(name=str(data["name"]), email=str(data["email"]), keyid=str(data["keyid"]))


def person_of(email: str) -> str:
    """An e-mail as the one person it names: a curator's keys (a rotation, a second laptop)
    and spellings of the address ('Ada@X.org ') are still one approver."""
    return email.strip().casefold()


def fingerprint(public_pem: str | bytes) -> str:
    """The key id used everywhere: SHA-256 hex of the public key's DER encoding."""
    from cryptography.hazmat.primitives import serialization

    data = public_pem.encode() if isinstance(public_pem, str) else public_pem
    key = serialization.load_pem_public_key(data)
    der = key.public_bytes(serialization.Encoding.DER,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


class Signer(abc.ABC):
    """Anything that can sign for a curator: a key file today, PKCS#11 or a KMS later."""

    identity: CuratorIdentity
    public_key_pem: str

    @property
    def keyid(self) -> str:
        return self.identity.keyid

    @abc.abstractmethod
    def sign(self, data: bytes) -> bytes:
        """A DER-encoded ECDSA P-256 / SHA-256 signature over ``data``."""


class FileSigner(Signer):
    """A curator key held in a PEM file on disk (0600)."""

    def __init__(self, key_dir: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key_path = key_dir / KEY_FILE
        if not key_path.is_file():
            raise UsageError(f"no curator key in {key_dir}",
                             "run 'curator keys init --name NAME --email EMAIL' first")
        if key_path.stat().st_mode & 0o077:
            raise IntegrityError(f"the curator key {key_path} is readable by other users",
                                 f"run 'chmod 600 {key_path}' and check who copied it")
        passphrase = os.environ.get(PASSPHRASE_ENV)
        try:
            key = serialization.load_pem_private_key(
                key_path.read_bytes(), passphrase.encode() if passphrase else None)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"cannot read the curator key {key_path} ({exc})",
                             f"check the file, or set {PASSPHRASE_ENV} if it is encrypted") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise UsageError(f"the curator key {key_path} is not an ECDSA P-256 key",
                             "create one with 'curator keys init'")
        self._key = key
        self.public_key_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self.identity = read_identity(key_dir)
        if self.identity.keyid != fingerprint(self.public_key_pem):
            raise IntegrityError(f"{key_dir / IDENTITY_FILE} names another key than {key_path}",
                                 "restore the pair, or create a new one in an empty folder")

    def sign(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))


def read_identity(key_dir: Path) -> CuratorIdentity:
    """The identity recorded next to a key; a missing one means keys were never initialised."""
    path = key_dir / IDENTITY_FILE
    try:
        return CuratorIdentity.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise UsageError(f"no curator identity in {key_dir}",
                         "run 'curator keys init --name NAME --email EMAIL' first") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a curator identity ({exc})",
                         "restore it, or create new keys in an empty folder") from exc


def init_keys(key_dir: Path, name: str, email: str) -> CuratorIdentity:
    """Create a new P-256 key pair and identity in ``key_dir``; never overwrites a key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    if not name.strip() or "@" not in email:
        raise UsageError(f"'{name}' <{email}> is not a usable curator identity",
                         "pass --name 'Full Name' --email you@example.org")
    key_dir.mkdir(parents=True, exist_ok=True)
    key_dir.chmod(0o700)
    key_path = key_dir / KEY_FILE
    if key_path.exists():
        raise UsageError(f"a curator key already exists at {key_path}",
                         "keep it (see 'curator keys show'), or pass --key-dir for a new folder")
    key = ec.generate_private_key(ec.SECP256R1())
    passphrase = os.environ.get(PASSPHRASE_ENV)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
        else serialization.NoEncryption())
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   encryption)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    # O_EXCL: a concurrent init cannot silently replace the key another one just wrote
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise UsageError(f"a curator key already exists at {key_path}", "keep it") from exc
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem)
    (key_dir / PUBLIC_FILE).write_bytes(public_pem)
    identity = CuratorIdentity(name.strip(), email.strip(), fingerprint(public_pem))
    (key_dir / IDENTITY_FILE).write_text(json.dumps(identity.to_dict(), indent=2) + "\n",
                                         encoding="utf-8")
    return identity


def public_key_of(key_dir: Path) -> str:
    """The PEM public key stored next to a curator key."""
    path = key_dir / PUBLIC_FILE
    try:
        return path.read_text(encoding="ascii")
    except FileNotFoundError as exc:
        raise UsageError(f"no curator public key in {key_dir}",
                         "run 'curator keys init --name NAME --email EMAIL' first") from exc


def current_identity(key_dir: Path) -> dict[str, str] | None:
    """The identity of the curator whose keys are in ``key_dir``, or None before 'keys init'.

    Meant for recording who opened a review (``Ledger.create_review(opened_by=...)``),
    which separation of duties needs.
    """
    try:
        return read_identity(key_dir).to_dict()
    except UsageError:
        return None
