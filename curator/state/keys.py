"""Curator keys as TUF keys: the same ECDSA P-256 key pairs, seen through securesystemslib.

A TUF key id is normally derived from the key's JSON; curator keeps its own key id (the
SHA-256 of the public key's DER) so that a decision envelope, a ledger entry and a root
role all name a key the same way. Who holds a key (name, e-mail) rides along in the key's
``x-curator`` field, inside the signed root: the gate learns identities only from there.
"""

from __future__ import annotations

from typing import Any

from securesystemslib.signer import Key, Signature, SSlibKey
from securesystemslib.signer import Signer as SslibSigner

from curator.attest.keys import SCHEME, Signer, fingerprint
from curator.attest.trust import TrustedCurator

IDENTITY_FIELD = "x-curator"


def tuf_key(curator: TrustedCurator) -> SSlibKey:
    """The root's entry for one curator's public key."""
    return SSlibKey(
        fingerprint(curator.public_key_pem),
        "ecdsa",
        SCHEME,
        {"public": curator.public_key_pem.strip() + "\n"},
        {IDENTITY_FIELD: {"name": curator.name, "email": curator.email}},
    )


def curator_of(key: Key) -> TrustedCurator:
    """Who a root key belongs to, as the signed root says; the key id is recomputed."""
    who: dict[str, Any] = key.unrecognized_fields.get(IDENTITY_FIELD) or {}
    pem = str(key.keyval.get("public", ""))
    keyid = fingerprint(pem)
    return TrustedCurator(
        name=str(who.get("name", "unknown curator")),
        email=str(who.get("email", "")),
        keyid=keyid,
        public_key_pem=pem,
        source="the registry's signed root",
    )


class CuratorSigner(SslibSigner):
    """A curator ``Signer`` (a key file today) signing TUF metadata."""

    def __init__(self, signer: Signer) -> None:
        self.curator = signer
        self._public = tuf_key(
            TrustedCurator(
                signer.identity.name, signer.identity.email, signer.identity.keyid, signer.public_key_pem
            )
        )

    @property
    def public_key(self) -> Key:
        return self._public

    @property
    def keyid(self) -> str:
        return self.curator.keyid

    def sign(self, payload: bytes) -> Signature:
        return Signature(self.curator.keyid, self.curator.sign(payload).hex())

    @classmethod
    def from_priv_key_uri(
        cls, priv_key_uri: str, public_key: Key, secrets_handler: Any = None
    ) -> SslibSigner:
        raise NotImplementedError("curator keys are loaded with curator.attest.keys.FileSigner")
