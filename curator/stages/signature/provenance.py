"""Provenance attestations shipped with a model: ``*.intoto.jsonl`` (DSSE envelopes, one a line)
and Sigstore bundles of in-toto statements (``*.sigstore.json``, ``*.sigstore``).

Each one's signature is checked with the signature stage's trust machinery: a DSSE envelope
against the publisher's listed keys (publishers.yaml), a Sigstore bundle against the
offline trust root, its signer then held to the listed signers (or, for an unlisted
publisher, to the signer of the model signature). Its subjects must be pinned files with
the pinned digests. What a verified, trusted, matching SLSA provenance attests (builder,
source repo and commit, parameters, dependencies) is evidence the card stage may use;
a tampered attestation, or one about other bytes, fails the stage.

Each attestation's evidence lists the pinned files it covers; it is usable (its facts may
verify the card) only when every pinned weight file (``signature.weight_suffixes``) is
among its subjects: an attestation of ``config.json`` says nothing about the weights. An
attestation signed by someone other than the publisher's listed signer is graded alike
whether the signer is a key or a keyless identity (high).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.models import Finding, Manifest, Severity, Status
from curator.stages.signature.coverage import WEIGHT_SUFFIXES
from curator.stages.signature.problems import SignatureProblem
from curator.stages.signature.slsa import provenance_facts
from curator.stages.signature.tofu import tofu_key
from curator.stages.signature.trust import TRUSTED, against_anchors, signer_label
from curator.stages.signature.verify import Anchor, key_fingerprint

SUFFIXES = (".intoto.jsonl", ".intoto.json", ".sigstore.json", ".sigstore")
PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_BYTES = 16 << 20
MAX_LINES = 200
MAX_SUBJECTS = 200
TOOL = "curator-provenance"


@dataclass
class ProvenanceReport:
    """Every attestation found, and what it means for the signature stage."""

    attestations: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def status(self, current: Status) -> Status:
        """The stage status once attestations count: a high finding fails, a medium one warns."""
        worst = max((f.severity.rank for f in self.findings), default=-1)
        if worst >= Severity.HIGH.rank and current != Status.ERRORED:
            return Status.FAILED
        if worst >= Severity.MEDIUM.rank and current == Status.PASSED:
            return Status.WARNED
        return current

    def evidence(self) -> dict[str, Any]:
        return {"attestations": self.attestations,
                "usable": sum(1 for a in self.attestations if a.get("usable"))}


def attestation_files(manifest: Manifest | None, files_dir: Path, signature_file: str) -> list[str]:
    """Pinned files (else files on disk) named like attestations; the model signature is not one."""
    names = [f.path for f in manifest.files] if manifest is not None else [
        p.relative_to(files_dir).as_posix() for p in files_dir.rglob("*") if p.is_file()]
    return sorted(n for n in names if n.lower().endswith(SUFFIXES) and n != signature_file)


def _documents(path: Path) -> tuple[list[tuple[int, Any]], int]:
    """(line, parsed JSON) of each envelope or bundle in the file, and how many lines past
    ``MAX_LINES`` were left unread; raises ValueError if unreadable."""
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path.stat().st_size} bytes, far larger than any attestation")
    text = path.read_text(encoding="utf-8")
    if not path.name.lower().endswith(".jsonl"):
        return [(1, json.loads(text))], 0
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip()]
    return [(n, json.loads(line)) for n, line in lines[:MAX_LINES]], max(0, len(lines) - MAX_LINES)


def _sha256(path: Path) -> str:
    import hashlib

    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def verify_with_keys(envelope: dict[str, Any], anchors: list[Anchor]) -> tuple[dict[str, Any], bytes]:
    """Check a DSSE envelope against the listed keys: the signer and the payload, or SignatureProblem."""
    from cryptography.hazmat.primitives import serialization

    from curator.attest.dsse import pae, signature_matches

    try:
        payload = base64.b64decode(envelope["payload"], validate=True)
        payload_type = str(envelope["payloadType"])
        signatures = [base64.b64decode(s["sig"]) for s in envelope["signatures"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise SignatureProblem("unreadable", f"not a DSSE envelope ({type(exc).__name__}: {exc})") from exc
    if payload_type != PAYLOAD_TYPE:
        raise SignatureProblem("unreadable", f"payload type {payload_type!r} is not an in-toto statement")
    keys = [a for a in anchors if a.kind == "key" and a.public_key is not None]
    if not signatures:
        raise SignatureProblem("rejected", "the envelope carries no signature")
    if not keys:
        raise SignatureProblem("unverifiable", "signed with a key, and publishers.yaml lists no key for this "
                               "publisher to check it with")
    data = pae(payload_type, payload)
    for anchor in keys:
        assert anchor.public_key is not None
        try:
            public = serialization.load_pem_public_key(anchor.public_key.read_bytes())
        except (OSError, ValueError):
            continue
        if any(signature_matches(public, sig, data) for sig in signatures):
            return {"kind": "key", "fingerprint": key_fingerprint(anchor.public_key)[0],
                    "public_key": str(anchor.public_key)}, payload
    raise SignatureProblem("rejected", "no signature verifies with the publisher's listed keys "
                           "(edited after signing, or signed with another key)")


def verify_sigstore(path: Path, trust_config: Path) -> tuple[dict[str, Any], bytes]:
    """Check a Sigstore bundle of a DSSE statement against the offline trust root."""
    from curator.stages.signature.bundle import read_bundle
    from curator.stages.signature.trust_config import check_trust_config

    bundle = read_bundle(path)
    if bundle.mode != "sigstore":
        raise SignatureProblem("unverifiable", f"a {bundle.mode}-signed bundle: ship it as a DSSE envelope "
                               "(.intoto.jsonl) checked against the publisher's listed key")
    check_trust_config(trust_config)
    from sigstore.models import Bundle, ClientTrustConfig
    from sigstore.verify import Verifier, policy

    claimed = bundle.claimed_signer
    try:
        parsed = Bundle.from_json(path.read_bytes())
        verifier = Verifier(trusted_root=ClientTrustConfig.from_json(trust_config.read_text()).trusted_root)
        payload_type, payload = verifier.verify_dsse(
            parsed, policy.Identity(identity=claimed["identity"], issuer=claimed["issuer"]))
    except Exception as exc:  # untrusted input: whatever sigstore raises, it does not verify
        raise SignatureProblem("rejected", f"does not verify against the Sigstore trust root: {exc}") from exc
    if payload_type != PAYLOAD_TYPE:
        raise SignatureProblem("unreadable", f"payload type {payload_type!r} is not an in-toto statement")
    return {k: v for k, v in claimed.items()}, payload


def _subjects(statement: dict[str, Any], pinned: dict[str, str] | None) -> list[dict[str, Any]]:
    by_digest = {sha: path for path, sha in (pinned or {}).items()}
    out = []
    for item in (statement.get("subject") or [])[:MAX_SUBJECTS]:
        if not isinstance(item, dict):
            continue
        name = str(item.get("name", ""))
        digest = str((item.get("digest") or {}).get("sha256", "")).lower()
        if pinned is None:
            state = "unchecked"
        elif name in pinned:
            state = "match" if pinned[name] == digest else "mismatch"
        else:
            state = "match" if digest in by_digest else "unknown"
        entry = {"name": name, "sha256": digest, "state": state}
        if name not in (pinned or {}) and digest in by_digest:
            entry["pinned_as"] = by_digest[digest]
        out.append(entry)
    return out


class Checker:
    """Checks the attestations of one candidate with the signature stage's anchors and trust."""

    def __init__(self, anchors: list[Anchor], trust_config: Path, whose: str,
                 model_signer: dict[str, Any] | None, pinned: dict[str, str] | None,
                 must_cover: tuple[str, ...] = ()) -> None:
        self.anchors, self.trust_config, self.whose = anchors, trust_config, whose
        self.model_signer, self.pinned, self.must_cover = model_signer, pinned, must_cover
        self.report = ProvenanceReport()

    def _finding(self, severity: Severity, code: str, message: str, file: str) -> None:
        self.report.findings.append(Finding(severity, code, message, TOOL, "", file))

    def _trust(self, signer: dict[str, Any]) -> tuple[str, str]:
        if self.anchors:
            decision = against_anchors(self.anchors, signer, self.whose)
            return decision.decision, decision.why
        if self.model_signer and tofu_key(signer) == tofu_key(self.model_signer):  # fields, never labels
            return "expected", f"{signer_label(signer)} also signed the model, a signer the stage trusts"
        return "unknown", (f"{self.whose} lists no signer, and {signer_label(signer)} is not the model's "
                           "trusted signer")

    def check(self, rel: str, path: Path) -> None:
        try:
            if self.pinned is not None and rel in self.pinned and _sha256(path) != self.pinned[rel]:
                raise ValueError("its bytes on disk are not the pinned ones; run the review again")
            documents, unread = _documents(path)
        except (OSError, ValueError, RecursionError) as exc:
            if isinstance(exc, RecursionError):
                exc = ValueError("its JSON nests deeper than any attestation does")
            self._finding(Severity.HIGH, "provenance-unreadable", f"{rel} is not readable as an attestation "
                          f"({' '.join(str(exc).split())[:300]})", rel)
            self.report.attestations.append({"file": rel, "status": "unreadable", "error": str(exc)[:300]})
            return
        for line, doc in documents:
            self.one(rel, path, line, doc)
        if unread:
            self._finding(Severity.MEDIUM, "provenance-not-read", f"{rel} holds {unread} attestation(s) past "
                          f"the first {MAX_LINES}: they were not read, so not checked", rel)

    def one(self, rel: str, path: Path, line: int, doc: object) -> None:
        entry: dict[str, Any] = {"file": rel, "line": line, "usable": False}
        self.report.attestations.append(entry)
        where = f"{rel}:{line}" if rel.lower().endswith(".jsonl") else rel
        try:
            if isinstance(doc, dict) and "dsseEnvelope" in doc and "publicKey" not in (
                    doc.get("verificationMaterial") or {}):
                entry["format"] = "sigstore-bundle"
                if line != 1 or rel.lower().endswith(".jsonl"):
                    raise SignatureProblem("unverifiable", "a Sigstore bundle inside a .jsonl file: ship it "
                                           "as its own .sigstore.json file")
                signer, payload = verify_sigstore(path, self.trust_config)
            else:
                envelope = doc.get("dsseEnvelope", doc) if isinstance(doc, dict) else {}
                entry["format"] = "dsse"
                signer, payload = verify_with_keys(envelope, self.anchors)
            statement = json.loads(payload)
            if not isinstance(statement, dict):
                raise SignatureProblem("unreadable", "the signed payload is not an in-toto statement")
        except SignatureProblem as problem:
            entry.update(status="failed" if problem.code == "rejected" else problem.code,
                         error=problem.message)
            high = problem.code in ("rejected", "unreadable")
            self._finding(Severity.HIGH if high else Severity.MEDIUM,
                          "provenance-invalid" if high else "provenance-unverifiable",
                          f"{where}: {problem.message}", rel)
            return
        except (ValueError, RecursionError) as exc:
            entry.update(status="unreadable", error=str(exc)[:300] or type(exc).__name__)
            self._finding(Severity.HIGH, "provenance-invalid", f"{where}: the signed payload is not JSON",
                          rel)
            return
        decision, why = self._trust(signer)
        subjects = _subjects(statement, self.pinned)
        named = statement.get("subject")
        if isinstance(named, list) and len(named) > MAX_SUBJECTS:
            self._finding(Severity.MEDIUM, "provenance-not-read", f"{where} names {len(named)} subjects; "
                          f"only the first {MAX_SUBJECTS} were read, what it says of the rest is not checked",
                          rel)
        facts = provenance_facts(statement)
        covers = sorted({s.get("pinned_as", s["name"]) for s in subjects if s["state"] == "match"})
        uncovered = [f for f in self.must_cover if f not in covers]
        entry.update(status="verified", signer=signer, trust={"decision": decision, "why": why},
                     predicate_type=str(statement.get("predicateType", ""))[:200], subjects=subjects,
                     covers=covers, weights_not_covered=uncovered, facts=facts)
        self._judge(entry, where, rel, decision, subjects, facts)

    def _judge(self, entry: dict[str, Any], where: str, rel: str, decision: str,
               subjects: list[dict[str, Any]], facts: dict[str, Any] | None) -> None:
        wrong = [s["name"] for s in subjects if s["state"] == "mismatch"]
        uncovered = entry["weights_not_covered"]
        if wrong:
            self._finding(Severity.HIGH, "provenance-subject-mismatch", f"{where} attests other bytes for "
                          f"{', '.join(wrong[:5])} than the pinned files", rel)
        elif decision == "mismatch":  # the same grade as a key the publisher does not list
            self._finding(Severity.HIGH, "provenance-untrusted-signer", f"{where} verifies, but "
                          f"{entry['trust']['why']}", rel)
        elif not any(s["state"] == "match" for s in subjects):
            self._finding(Severity.MEDIUM, "provenance-not-about-these-files", f"{where} names none of the "
                          "pinned files: what it attests is not about this candidate", rel)
        elif decision not in TRUSTED:
            self._finding(Severity.MEDIUM, "provenance-untrusted-signer", f"{where} verifies, but "
                          f"{entry['trust']['why']}: its claims are shown, not used", rel)
        elif uncovered:
            self._finding(Severity.MEDIUM, "provenance-partial", f"{where} attests only "
                          f"{', '.join(entry['covers'][:5]) or 'none of the pinned files'}, not the weights "
                          f"{', '.join(uncovered[:5])}: its claims are shown, not used", rel)
        elif facts is None:
            self._finding(Severity.INFO, "attestation-not-provenance", f"{where} is a verified "
                          f"{entry['predicate_type']} attestation, not SLSA provenance", rel)
        else:
            entry["usable"] = True


def must_cover(pinned: dict[str, str] | None, weight_suffixes: tuple[str, ...],
               not_content: list[str]) -> tuple[str, ...]:
    """The pinned files an attestation must name to vouch for the model: every weight file, or,
    when no file looks like weights, every file but the signature and attestations themselves."""
    if pinned is None:
        return ()
    suffixes = tuple("." + s.lower().lstrip(".") for s in weight_suffixes)
    weights = tuple(sorted(p for p in pinned if p.lower().endswith(suffixes)))
    return weights or tuple(sorted(p for p in pinned if p not in not_content))


def check_provenance(files_dir: Path, manifest: Manifest | None, signature_file: str, anchors: list[Anchor],
                     trust_config: Path, whose: str, model_signer: dict[str, Any] | None,
                     weight_suffixes: tuple[str, ...] = WEIGHT_SUFFIXES) -> ProvenanceReport:
    """Every attestation of the candidate, checked; an empty report when it ships none."""
    pinned = {f.path: f.sha256 for f in manifest.files} if manifest is not None else None
    files = attestation_files(manifest, files_dir, signature_file)
    cover = must_cover(pinned, weight_suffixes, [*files, signature_file])
    checker = Checker(anchors, trust_config, whose, model_signer, pinned, cover)
    for rel in files:
        checker.check(rel, files_dir / rel)
    return checker.report
