"""model_signing wrappers: check a bundle offline against a Sigstore root, a CA, or an EC key.

Only the *signature* is checked here; the files it names are compared by ``compare``.
model-signing is pinned (pyproject), so its internal signer/verifier modules are used
directly: its public ``verifying.Config.verify`` hashes the folder and returns nothing,
while curator needs the verified statement itself to cross-check the fetch manifest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curator.core.errors import UsageError
from curator.stages.signature.bundle import Bundle
from curator.stages.signature.problems import SignatureProblem
from curator.stages.signature.trust_config import check_trust_config

MODES = ("sigstore", "certificate", "key")


@dataclass(frozen=True)
class Anchor:
    """One way a signer is trusted: a Sigstore identity, a CA (with optional subject), or a key."""

    kind: str  # sigstore | certificate | key
    identity: str = ""
    issuer: str = ""
    certificates: tuple[Path, ...] = ()
    subject: str = ""
    public_key: Path | None = None

    def describe(self) -> dict[str, Any]:
        """JSON facts about this anchor, for evidence and messages."""
        if self.kind == "sigstore":
            return {"kind": "sigstore", "identity": self.identity, "issuer": self.issuer}
        if self.kind == "certificate":
            out: dict[str, Any] = {"kind": "certificate",
                                   "ca": [str(p) for p in self.certificates],
                                   "ca_fingerprints": [ca_fingerprint(p) for p in self.certificates]}
            if self.subject:
                out["subject"] = self.subject
            return out
        assert self.public_key is not None
        return {"kind": "key", "public_key": str(self.public_key),
                "fingerprint": key_fingerprint(self.public_key)[0]}


@dataclass(frozen=True)
class SignedResource:
    """One entry of the signed statement: a file (or shard) and its digest."""

    name: str
    algorithm: str
    digest: str  # hex


@dataclass(frozen=True)
class SignedStatement:
    """What a verified signature vouches for, and who signed it."""

    signer: dict[str, Any]
    model_name: str
    serialization: dict[str, Any]
    resources: tuple[SignedResource, ...]
    #: the trust root, CA or key the signature was checked against
    verified_against: dict[str, Any]

    @property
    def signed_ignore_paths(self) -> list[str]:
        return sorted(str(p) for p in self.serialization.get("ignore_paths", []) or [])


def key_fingerprint(path: Path) -> tuple[str, str]:
    """``sha256:<hex>`` of the key's DER SubjectPublicKeyInfo, and model-signing's PEM hint."""
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the public key {path} ({exc})",
                         "pass a PEM-encoded EC public key (P-256, P-384 or P-521)") from exc
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256:" + hashlib.sha256(der).hexdigest(), hashlib.sha256(pem).hexdigest()


def signing_key_problem(path: Path) -> str | None:
    """Why ``path`` cannot check a model signature (model-signing verifies EC P-256/384/521 keys
    only), or None when it can."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError, TypeError):
        return "does not parse as a PEM public key"
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return f"is a {type(key).__name__.removeprefix('_').replace('PublicKey', '')} key, not an EC key"
    if key.curve.name not in ("secp256r1", "secp384r1", "secp521r1"):
        return f"is an EC key on {key.curve.name}, not P-256, P-384 or P-521"
    return None


def ca_fingerprint(path: Path) -> str:
    """``sha256:<hex>`` of the first certificate in a PEM file (the trust anchor)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the CA certificate {path} ({exc})",
                         "pass a PEM file holding the CA that issued the signing certificate") from exc
    return "sha256:" + hashlib.sha256(certs[0].public_bytes(Encoding.DER)).hexdigest()


def verify_bundle(bundle: Bundle, anchors: list[Anchor], trust_config: Path | None) -> SignedStatement:
    """Check the bundle's signature; return the statement it vouches for.

    Sigstore bundles are checked against ``trust_config`` (Fulcio chain, Rekor entry,
    signed timestamp) for the identity their certificate names; whether that identity
    is the expected one is ``trust``'s question. Certificate and key bundles need an
    anchor of their own kind. Raises ``SignatureProblem`` when the signature does not
    verify, and ``UsageError`` when an anchor or the trust root cannot be read.
    """
    if bundle.mode == "sigstore":
        if trust_config is None and anchors and all(a.kind != "sigstore" for a in anchors):
            wanted = " or ".join(sorted({_noun(a.kind) for a in anchors}))
            raise SignatureProblem("wrong-mode", f"{bundle.path.name} is signed with a Sigstore "
                                   f"certificate ({_claim(bundle)}), but the expected signer uses {wanted}")
        return _sigstore(bundle, trust_config)
    mine = [a for a in anchors if a.kind == bundle.mode]
    if not mine:
        kinds = sorted({a.kind for a in anchors})
        if kinds:
            raise SignatureProblem("wrong-mode", f"{bundle.path.name} is signed with {_noun(bundle.mode)}, "
                                   f"but the expected signer uses {' or '.join(map(_noun, kinds))}")
        raise SignatureProblem("unverifiable", f"{bundle.path.name} is signed with {_noun(bundle.mode)} "
                               f"({_claim(bundle)}), and curator holds no "
                               f"{'CA' if bundle.mode == 'certificate' else 'public key'} to check it with")
    if bundle.mode == "key":  # try the key the bundle names first: the others will say "other key"
        hint = bundle.claimed_signer.get("hint", "")
        mine.sort(key=lambda a: a.public_key is None or key_fingerprint(a.public_key)[1] != hint)
    failures = []
    for anchor in mine:
        try:
            return _traditional(bundle, anchor)
        except SignatureProblem as problem:
            failures.append(problem.message)
    raise SignatureProblem("rejected", "; ".join(failures))


def _noun(mode: str) -> str:
    return {"sigstore": "a Sigstore certificate", "certificate": "an X.509 certificate chain",
            "key": "a bare public key"}.get(mode, mode)


def _claim(bundle: Bundle) -> str:
    s = bundle.claimed_signer
    if bundle.mode == "sigstore":
        return f"identity {s.get('identity')}, issuer {s.get('issuer')}"
    if bundle.mode == "key":
        return f"key hint {s.get('hint') or 'none'}"
    return f"certificate subject '{s.get('subject', '')}', issued by '{s.get('issued_by', '')}'"


def _sigstore(bundle: Bundle, trust_config: Path | None) -> SignedStatement:
    from model_signing._signing import sign_sigstore

    claimed = bundle.claimed_signer
    if trust_config is None:
        raise UsageError("no Sigstore trust root was given",
                         "pass --trust-config or restore checklists/sigstore-trust-config.json")
    root_digest = check_trust_config(trust_config)
    if not claimed.get("identity") or not claimed.get("issuer"):
        raise SignatureProblem("rejected", f"{bundle.path.name}: the signing certificate names no "
                               "identity or no OIDC issuer")
    try:
        signature = sign_sigstore.Signature.read(bundle.path)
    except Exception as exc:  # untrusted input: any parse failure means unreadable
        raise SignatureProblem("unreadable", f"{bundle.path.name} is not a valid Sigstore bundle "
                               f"({type(exc).__name__}: {exc})") from exc
    # Verify for the identity the certificate itself names: that proves Fulcio issued it
    # to that identity; comparing it with the expected one is trust's job, with both shown.
    verifier = sign_sigstore.Verifier(identity=claimed["identity"], oidc_issuer=claimed["issuer"],
                                      trust_config=trust_config)
    manifest = _verified_manifest(bundle, verifier, signature, "the Sigstore trust root")
    signer = {k: v for k, v in claimed.items() if k != "kind"}
    return _statement({"kind": "sigstore", **signer}, manifest,
                      {"trust_root": str(trust_config), "digest": root_digest})


def _traditional(bundle: Bundle, anchor: Anchor) -> SignedStatement:
    from model_signing._signing import sign_certificate, sign_ec_key, sign_sigstore_pb

    try:
        signature = sign_sigstore_pb.Signature.read(bundle.path)
    except Exception as exc:  # untrusted input: any parse failure means unreadable
        raise SignatureProblem("unreadable", f"{bundle.path.name} is not a valid signature bundle "
                               f"({type(exc).__name__}: {exc})") from exc
    if anchor.kind == "certificate":
        if not anchor.certificates:  # model-signing would silently trust the web PKI instead
            raise UsageError("a certificate signature needs an explicit CA",
                             "pass --certificate-chain CA.pem (public web roots are never trusted)")
        fingerprints = [ca_fingerprint(p) for p in anchor.certificates]
        verifier: Any = sign_certificate.Verifier([Path(p) for p in anchor.certificates])
        against = "the CA " + ", ".join(f"{p} ({f[:19]}…)" for p, f in zip(anchor.certificates,
                                                                            fingerprints, strict=True))
        manifest = _verified_manifest(bundle, verifier, signature, against)
        _chain_fit_today(bundle, anchor, against)
        chain = bundle.claimed_signer
        signer = {"kind": "certificate", **{k: v for k, v in chain.items() if k != "kind"},
                  "anchor": str(anchor.certificates[0]), "anchor_fingerprint": fingerprints[0]}
        if anchor.subject:
            signer["expected_subject"] = anchor.subject
        return _statement(signer, manifest,
                          {"ca": str(anchor.certificates[0]), "fingerprint": fingerprints[0]})
    assert anchor.public_key is not None
    fingerprint, _hint = key_fingerprint(anchor.public_key)
    problem = signing_key_problem(anchor.public_key)
    if problem:  # a configured key (flag, publishers.yaml): candidates' own keys are sifted before
        raise UsageError(f"the public key {anchor.public_key} {problem}",
                         "model signatures are checked with EC P-256, P-384 or P-521 public keys (PEM)")
    verifier = sign_ec_key.Verifier(anchor.public_key)
    manifest = _verified_manifest(bundle, verifier, signature,
                                  f"the public key {anchor.public_key} ({fingerprint})")
    return _statement({"kind": "key", "fingerprint": fingerprint, "public_key": str(anchor.public_key)},
                      manifest, {"public_key": str(anchor.public_key), "fingerprint": fingerprint})


def _chain_fit_today(bundle: Bundle, anchor: Anchor, against: str) -> None:
    """The signing certificate must chain to the CA *today*, and be one made to sign code.

    model-signing checks the chain at the leaf's own notBefore (a certificate bundle has
    no trusted timestamp), so a leaf or CA that expired years ago, whose key may since
    have leaked, would sign forever; a leaf dated in the future would pass as well. It
    also takes any leaf with the digitalSignature key usage, so every TLS server key the
    CA ever certified could sign models: a leaf restricted to other extended key usages
    is refused.
    """
    import base64
    import json

    from cryptography import x509
    from OpenSSL import crypto

    material = json.loads(bundle.path.read_bytes())["verificationMaterial"]
    ders = [base64.b64decode(c["rawBytes"]) for c in material["x509CertificateChain"]["certificates"]]
    certs = [crypto.X509.from_cryptography(x509.load_der_x509_certificate(d)) for d in ders]
    store = crypto.X509Store()
    for ca in x509.load_pem_x509_certificates(b"".join(p.read_bytes() for p in anchor.certificates)):
        store.add_cert(crypto.X509.from_cryptography(ca))
    try:
        crypto.X509StoreContext(store, certs[0], certs[1:]).verify_certificate()
    except crypto.X509StoreContextError as exc:
        leaf = bundle.claimed_signer
        raise SignatureProblem("rejected", f"{bundle.path.name} does not verify against {against} today: "
                               f"{exc} (the signing certificate '{leaf.get('subject', '')}' is valid "
                               f"{leaf.get('not_before')} to {leaf.get('not_after')})") from exc
    try:
        usages = x509.load_der_x509_certificate(ders[0]).extensions.get_extension_for_class(
            x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:  # no restriction: any use, code signing included (RFC 5280)
        return
    allowed = {x509.oid.ExtendedKeyUsageOID.CODE_SIGNING, x509.oid.ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
    if not allowed & set(usages):
        names = ", ".join(u.dotted_string for u in usages)
        raise SignatureProblem("rejected", f"{bundle.path.name}: the signing certificate "
                               f"'{bundle.claimed_signer.get('subject', '')}' is not for code signing "
                               f"(its extended key usage allows only {names})")


def _verified_manifest(bundle: Bundle, verifier: Any, signature: Any, against: str) -> Any:
    try:
        return verifier.verify(signature)
    except Exception as exc:  # untrusted input: whatever the crypto libraries raise, it does not verify
        detail = str(exc) or type(exc).__name__
        raise SignatureProblem("rejected", f"{bundle.path.name} does not verify against {against}: "
                               f"{detail}") from exc


def _statement(signer: dict[str, Any], manifest: Any, against: dict[str, Any]) -> SignedStatement:
    resources = tuple(
        SignedResource(str(rd.identifier), rd.digest.algorithm, rd.digest.digest_hex)
        for rd in manifest.resource_descriptors())
    serialization = dict(manifest.serialization_type)
    if "ignore_paths" in serialization:
        serialization["ignore_paths"] = sorted(str(p) for p in serialization["ignore_paths"])
    return SignedStatement(signer, manifest.model_name, serialization, resources, against)
