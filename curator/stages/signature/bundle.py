"""What a signature file claims, read without trusting it: signing mode, signer, log entry.

Everything here is *claimed* until ``verify`` has checked the bundle; the stage only
shows these facts as the signer's after verification succeeded (or, when it failed,
as "the signature claims ...", so a curator sees who pretended to sign).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from curator.stages.signature.problems import SignatureProblem

#: a model signature is a few KiB; anything far larger is not one, and is not read whole
MAX_SIGNATURE_BYTES = 16 << 20
#: Fulcio's OIDC issuer extensions: v1 holds the raw string, v2 a DER UTF8String
OIDC_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1"
OIDC_ISSUER_V2 = "1.3.6.1.4.1.57264.1.8"
#: Sigstore's own SAN "other name" type
SIGSTORE_OTHERNAME = "1.3.6.1.4.1.57264.1.7"


@dataclass(frozen=True)
class Bundle:
    """A signature file's parsed content: nothing in it is trusted yet."""

    path: Path
    mode: str  # sigstore | certificate | key
    claimed_signer: dict[str, Any]
    transparency: dict[str, Any] | None
    statement: dict[str, Any] = field(default_factory=dict)


def read_bundle(path: Path) -> Bundle:
    """Parse a Sigstore bundle file; a file that is not one raises ``SignatureProblem("unreadable")``."""
    try:
        if path.stat().st_size > MAX_SIGNATURE_BYTES:
            raise SignatureProblem("unreadable", f"{path.name} is {path.stat().st_size} bytes, "
                                   "far larger than any model signature")
        data = json.loads(path.read_bytes())
        material = data["verificationMaterial"]
        statement = _statement(data)
    except SignatureProblem:
        raise
    except RecursionError as exc:  # hostile nesting: no signature is shaped like that
        raise SignatureProblem("unreadable", f"{path.name} is not a readable Sigstore bundle (its JSON "
                               "nests deeper than any signature does)") from exc
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SignatureProblem("unreadable", f"{path.name} is not a readable Sigstore bundle "
                               f"({type(exc).__name__}: {exc})") from exc
    if not isinstance(material, dict):
        raise SignatureProblem("unreadable", f"{path.name} has no verification material")
    entries = material.get("tlogEntries") or []
    try:
        if "certificate" in material or (entries and "x509CertificateChain" in material):
            return Bundle(path, "sigstore", _fulcio_signer(material), _log_entry(entries), statement)
        if "x509CertificateChain" in material:
            return Bundle(path, "certificate", _chain_signer(material), None, statement)
        if "publicKey" in material:
            hint = (material["publicKey"] or {}).get("hint") or ""
            return Bundle(path, "key", {"kind": "key", "hint": hint}, None, statement)
    except SignatureProblem as problem:
        raise SignatureProblem(problem.code, f"{path.name}: {problem.message}") from problem
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise SignatureProblem("unreadable", f"{path.name} carries an unreadable certificate "
                               f"({type(exc).__name__}: {exc})") from exc
    raise SignatureProblem("unreadable", f"{path.name} has neither a certificate nor a public key hint")


def _statement(data: dict[str, Any]) -> dict[str, Any]:
    """The DSSE payload (an in-toto statement), decoded but unverified."""
    envelope = data["dsseEnvelope"]
    statement = json.loads(base64.b64decode(envelope["payload"], validate=True))
    if not isinstance(statement, dict):
        raise ValueError("the DSSE payload is not a JSON object")
    return statement


def _der(raw: str) -> bytes:
    return base64.b64decode(raw, validate=True)


def certificate_facts(der: bytes) -> dict[str, Any]:
    """Subject, issuer, validity and SHA-256 fingerprint of one DER certificate."""
    from cryptography import x509

    cert = x509.load_der_x509_certificate(der)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issued_by": cert.issuer.rfc4514_string(),
        "fingerprint": "sha256:" + hashlib.sha256(der).hexdigest(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }


def _fulcio_signer(material: dict[str, Any]) -> dict[str, Any]:
    """Identity (SAN) and OIDC issuer of a Sigstore signing certificate."""
    from cryptography import x509

    if "certificate" in material:
        der = _der(material["certificate"]["rawBytes"])
    else:  # bundles v0.1/v0.2 carry the leaf first in a chain
        der = _der(material["x509CertificateChain"]["certificates"][0]["rawBytes"])
    cert = x509.load_der_x509_certificate(der)
    sans: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans += san.get_values_for_type(x509.RFC822Name)
        sans += san.get_values_for_type(x509.UniformResourceIdentifier)
        sans += [o.value.decode() for o in san.get_values_for_type(x509.OtherName)
                 if o.type_id.dotted_string == SIGSTORE_OTHERNAME]
    except x509.ExtensionNotFound:
        pass
    if len(sans) > 1:  # Fulcio names exactly one; which of several would be the signer?
        raise SignatureProblem("rejected", f"the signing certificate names {len(sans)} identities "
                               f"({', '.join(sans[:4])}); a Sigstore signing certificate names exactly one")
    facts = certificate_facts(der)
    return {
        "kind": "sigstore",
        "identity": sans[0] if sans else "",
        "issuer": _oidc_issuer(cert),
        "all_identities": sans,
        "certificate_fingerprint": facts["fingerprint"],
        "certificate_issued_by": facts["issued_by"],
        "certificate_not_before": facts["not_before"],
    }


def _oidc_issuer(cert: Any) -> str:
    from cryptography import x509

    for oid, is_der in ((OIDC_ISSUER_V1, False), (OIDC_ISSUER_V2, True)):
        try:
            value = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(oid)).value.value
        except x509.ExtensionNotFound:
            continue
        # v2 is a DER UTF8String: tag 0x0c, a short length, then the text
        if is_der and len(value) > 2 and value[0] == 0x0C and value[1] < 0x80:
            value = value[2:]
        return bytes(value).decode("utf-8", "replace")
    return ""


def _chain_signer(material: dict[str, Any]) -> dict[str, Any]:
    certs = material["x509CertificateChain"]["certificates"]
    leaf = certificate_facts(_der(certs[0]["rawBytes"]))
    chain = [certificate_facts(_der(c["rawBytes"]))["subject"] for c in certs[1:]]
    return {"kind": "certificate", "subject": leaf["subject"], "fingerprint": leaf["fingerprint"],
            "issued_by": leaf["issued_by"], "not_before": leaf["not_before"],
            "not_after": leaf["not_after"], "chain": chain}


def _log_entry(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The Rekor entry: log index and integrated time, as a curator reads them.

    The integrated time is the log's word only when the log signed it (the entry's
    ``inclusionPromise``); an inclusion proof alone proves the entry is in the log, not when it
    got there, so an unsigned time is kept as the bundle's claim and never shown as the log's.
    """
    if not entries:
        return None
    entry = entries[0]
    claimed = int(entry.get("integratedTime", 0) or 0)
    signed = bool(entry.get("inclusionPromise"))
    when = claimed if signed else 0
    return {
        "log_index": int(entry.get("logIndex", 0) or 0),
        "integrated_time": when,
        "integrated_time_utc": datetime.fromtimestamp(when, UTC).isoformat() if when else None,
        "time_signed_by_log": signed,
        "claimed_integrated_time": claimed,
        "log_id": (entry.get("logId") or {}).get("keyId", ""),
        "entries": len(entries),
    }
