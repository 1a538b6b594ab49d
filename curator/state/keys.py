"""Curator keys as TUF keys: the same ECDSA P-256 key pairs, seen through securesystemslib.

A TUF key id is normally derived from the key's JSON; curator keeps its own key id (the
SHA-256 of the public key's DER) so that a decision envelope, a ledger entry and a root
role all name a key the same way. Who holds a key (name, e-mail) rides along in the key's
``x-curator`` field, inside the signed root: the gate learns identities only from there.
"""

from __future__ import annotations

from typing import Any

from securesystemslib.signer import Key, SecretsHandler, Signature, SSlibKey
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


#: the private-key URI scheme of a curator key folder (``securesystemslib`` signer URIs)
URI_SCHEME = "curator-key"


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
        cls, priv_key_uri: str, public_key: Key, secrets_handler: SecretsHandler | None = None
    ) -> SslibSigner:
        """``curator-key:DIR``: the curator key folder DIR (as ``--key-dir`` names it), which must
        hold the private half of ``public_key``."""
        from pathlib import Path

        from curator.attest.keys import FileSigner
        from curator.core.errors import UsageError

        scheme, _, folder = priv_key_uri.partition(":")
        if scheme != URI_SCHEME or not folder:
            raise UsageError(f"'{priv_key_uri}' is not a curator key URI", f"use {URI_SCHEME}:KEY_DIR")
        signer = cls(FileSigner(Path(folder)))
        if signer.keyid != public_key.keyid:
            raise UsageError(f"the key in {folder} is {signer.keyid[:16]}, not {public_key.keyid[:16]}",
                             "pass the key folder of the curator this key belongs to")
        return signer
