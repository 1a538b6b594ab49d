"""DSSE envelopes around decision statements: sign with a curator key, verify against trust.

The envelope is the standard DSSE JSON (``payload``, ``payloadType``, ``signatures
[{keyid, sig}]``); signatures are over DSSE's pre-authentication encoding, checked with
securesystemslib. Any change to the payload, or a key nobody trusts, fails.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from curator.attest.keys import SCHEME, Signer
from curator.attest.trust import TrustedCurator
from curator.core.models import canonical_json

PAYLOAD_TYPE = "application/vnd.in-toto+json"
#: envelopes larger than this are refused before parsing (a decision is a few KiB)
MAX_ENVELOPE_BYTES = 4 << 20


class EnvelopeProblem(Exception):
    """Why an envelope cannot be accepted; ``code`` is the verify gate's reason code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"{code}: {message}")


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding: what the signature actually covers."""
    from securesystemslib.dsse import Envelope

    return bytes(Envelope(payload, payload_type, {}).pae())


def sign_statement(statement: dict[str, Any], signer: Signer) -> bytes:
    """Serialise ``statement`` canonically, sign it, and return the envelope's JSON bytes."""
    payload = canonical_json(statement)
    signature = signer.sign(pae(PAYLOAD_TYPE, payload))
    envelope = {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [{"keyid": signer.keyid, "sig": base64.b64encode(signature).decode()}],
    }
    return canonical_json(envelope)


def decision_id(envelope: bytes) -> str:
    """A short, stable id for a decision: the SHA-256 of its signed payload, 16 hex."""
    payload = base64.b64decode(json.loads(envelope)["payload"])
    return hashlib.sha256(payload).hexdigest()[:16]


@dataclass(frozen=True)
class Verified:
    """An envelope whose signature checked out against a trusted, unrevoked curator key."""

    statement: dict[str, Any]
    signer: TrustedCurator
    decision_id: str


def verify_envelope(envelope: bytes, trusted: dict[str, TrustedCurator]) -> Verified:
    """Check one signed decision; raises ``EnvelopeProblem`` with the reason it fails."""
    from securesystemslib.dsse import Envelope
    from securesystemslib.exceptions import VerificationError
    from securesystemslib.signer import SSlibKey  # type: ignore[attr-defined]

    if len(envelope) > MAX_ENVELOPE_BYTES:
        raise EnvelopeProblem("forged-decision", f"the decision is {len(envelope)} bytes, too large")
    try:
        parsed = Envelope.from_dict(json.loads(envelope))
    except (ValueError, KeyError, TypeError) as exc:
        raise EnvelopeProblem("forged-decision", f"the decision is not a DSSE envelope ({exc})") from exc
    if parsed.payload_type != PAYLOAD_TYPE:
        raise EnvelopeProblem("forged-decision", f"payload type {parsed.payload_type!r} is not in-toto")
    if not parsed.signatures:
        raise EnvelopeProblem("unsigned-decision", "the decision carries no signature")
    keyids = list(parsed.signatures)
    known = [k for k in keyids if k in trusted]
    if not known:
        raise EnvelopeProblem("untrusted-key",
                              f"signed by key {keyids[0][:16]}, which is not a trusted curator key; if that "
                              "curator is one of yours, add the entry 'curator keys show' prints on their "
                              "machine to checklists/curators.yaml (the team's trust root)")
    signer = trusted[known[0]]
    if signer.revoked:
        raise EnvelopeProblem("revoked-key", f"signed by {signer.identity.label}, whose key "
                              f"{signer.keyid[:16]} was revoked ({signer.revoked})")
    from cryptography.hazmat.primitives import serialization

    public = serialization.load_pem_public_key(signer.public_key_pem.encode())
    key = SSlibKey.from_crypto(public, keyid=signer.keyid, scheme=SCHEME)
    try:
        parsed.verify([key], 1)
    except VerificationError as exc:
        raise EnvelopeProblem("forged-decision",
                              f"the signature of {signer.identity.label} does not match the decision "
                              "(edited, or signed with another key)") from exc
    try:
        statement = json.loads(parsed.payload)
    except ValueError as exc:
        raise EnvelopeProblem("forged-decision", "the signed payload is not JSON") from exc
    if not isinstance(statement, dict):
        raise EnvelopeProblem("forged-decision", "the signed payload is not a statement")
    return Verified(statement, signer, hashlib.sha256(parsed.payload).hexdigest()[:16])


def signature_matches(public_key: object, signature: bytes, data: bytes) -> bool:
    """Does ``signature`` over ``data`` (a DSSE PAE) verify with ``public_key``? EC (hash by curve
    size), Ed25519 and RSA (PSS or PKCS#1 v1.5): the one check every DSSE envelope curator reads
    (publishers' provenance attestations) goes through; curator's own decisions use
    securesystemslib's envelope with the same keys (``verify_envelope``)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            size = public_key.curve.key_size
            algorithm: hashes.HashAlgorithm = hashes.SHA256() if size <= 256 else hashes.SHA384()
            if size > 384:
                algorithm = hashes.SHA512()
            public_key.verify(signature, data, ec.ECDSA(algorithm))
            return True
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
            return True
        if isinstance(public_key, rsa.RSAPublicKey):
            for pad in (padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO), padding.PKCS1v15()):
                try:
                    public_key.verify(signature, data, pad, hashes.SHA256())
                    return True
                except InvalidSignature:
                    continue
    except (InvalidSignature, ValueError):
        return False
    return False
