"""Who may sign for whom: ``checklists/publishers.yaml``, and trust on first use via the ledger.

A verified signature proves *someone* signed; this module says whether that someone is
the one this organisation expects for the publisher. Decisions:
``expected`` (listed signer), ``mismatch`` (another signer than the listed or first-seen
one), ``tofu-new`` (unlisted publisher, first signer seen), ``tofu-match`` (unlisted
publisher, same signer as first seen), ``unknown`` (no list, no ledger). The first-seen
record itself is ``tofu.py``'s.
"""

from __future__ import annotations

import fnmatch
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator.core.errors import UsageError
from curator.stages.signature.verify import Anchor, ca_fingerprint, key_fingerprint

if TYPE_CHECKING:
    pass

PUBLISHERS_FILE = "publishers.yaml"
RULE_KEYS = {"match", "required", "signers", "note"}
SIGNER_KEYS = {"sigstore": {"identity", "issuer"}, "certificate": {"ca", "subject"}, "key": {"public_key"}}
TRUSTED = ("expected", "tofu-match")


@dataclass(frozen=True)
class PublisherRule:
    """One entry of publishers.yaml: a hub org or repo pattern and who may sign for it."""

    match: str
    required: bool
    signers: tuple[Anchor, ...]
    note: str = ""

    def applies_to(self, repo_id: str) -> bool:
        """An org matches every repo under it; a pattern with ``/`` or ``*`` matches repo ids.

        The Hub resolves repo ids whatever their case, so a rule does too: ``ACME/x`` is
        acme's repo and may not dodge acme's required signers; nor may ``ａｃｍｅ/x`` (fullwidth
        or other compatibility forms of the same letters, see ``fold``).
        """
        match = fold(self.match)
        if "/" in match or any(c in match for c in "*?["):
            return fnmatch.fnmatchcase(fold(repo_id), match)
        return publisher_of(repo_id) == match


@dataclass(frozen=True)
class TrustDecision:
    decision: str  # expected | mismatch | tofu-new | tofu-match | unknown
    why: str
    expected: list[dict[str, Any]] = field(default_factory=list)
    first_seen: dict[str, Any] | None = None

    @property
    def trusted(self) -> bool:
        return self.decision in TRUSTED

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"decision": self.decision, "why": self.why, "expected": self.expected}
        if self.first_seen is not None:
            out["first_seen"] = self.first_seen
        return out


def fold(name: str) -> str:
    """A name as one publisher, however it is spelled: Unicode compatibility forms (NFKC) and case
    folded away, so ``ACME``, ``ａｃｍｅ`` and ``ᴬᶜᴹᴱ`` are all ``acme``. Folding only ever merges
    spellings into the rule or record of the plain name, never away from it."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


def publisher_of(repo_id: str) -> str:
    """The hub org of ``org/name``, folded as one publisher (``fold``); a bare name is its own."""
    return fold(repo_id.split("/", 1)[0] if "/" in repo_id else repo_id)


def load_publishers(directory: Path) -> list[PublisherRule]:
    """Read publishers.yaml from the checklists folder; key and CA paths are relative to it."""
    from curator.core.policy import load_yaml

    where = directory / PUBLISHERS_FILE
    data = load_yaml(PUBLISHERS_FILE, directory) or {}
    if not isinstance(data, dict) or not isinstance(data.get("publishers") or [], list):
        raise UsageError(f"checklist {where} must be a mapping with a 'publishers' list", "fix the file")
    return [_rule(entry, i, where, directory) for i, entry in enumerate(data.get("publishers") or [])]


def _rule(entry: object, index: int, where: Path, directory: Path) -> PublisherRule:
    label = f"checklist {where}, publisher #{index + 1}"
    if not isinstance(entry, dict) or not entry.get("match"):
        raise UsageError(f"{label} needs a 'match' (hub org or repo pattern)", "fix the file")
    unknown = set(entry) - RULE_KEYS
    if unknown:
        raise UsageError(f"{label} ({entry['match']}) has unknown keys: {', '.join(sorted(unknown))}",
                         f"use only {', '.join(sorted(RULE_KEYS))}")
    signers = [_anchor(s, f"{label} ({entry['match']})", directory) for s in entry.get("signers") or []]
    return PublisherRule(str(entry["match"]), bool(entry.get("required", False)), tuple(signers),
                         str(entry.get("note", "")))


def _anchor(spec: object, label: str, directory: Path) -> Anchor:
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SIGNER_KEYS:
        raise UsageError(f"{label}: each signer is one of {', '.join(SIGNER_KEYS)}", "fix the file")
    kind, body = next(iter(spec.items()))
    if kind == "key" and isinstance(body, str):
        body = {"public_key": body}
    if not isinstance(body, dict) or set(body) - SIGNER_KEYS[kind]:
        raise UsageError(f"{label}: a {kind} signer takes only {', '.join(sorted(SIGNER_KEYS[kind]))}",
                         "fix the file")
    if kind == "sigstore":
        if not body.get("identity") or not body.get("issuer"):
            raise UsageError(f"{label}: a sigstore signer needs both identity and issuer", "fix the file")
        identity, issuer = str(body["identity"]), str(body["issuer"])
        _exact_sigstore(identity, issuer, label)
        return Anchor("sigstore", identity=identity, issuer=issuer)
    if kind == "certificate":
        cas = body.get("ca") or []
        cas = [cas] if isinstance(cas, str) else list(cas)
        if not cas:  # never fall back to public web roots
            raise UsageError(f"{label}: a certificate signer needs its CA ('ca: path.pem')", "fix the file")
        return Anchor("certificate", certificates=tuple(directory / c for c in cas),
                      subject=str(body.get("subject", "")))
    if not body.get("public_key"):
        raise UsageError(f"{label}: a key signer needs 'public_key: path.pem'", "fix the file")
    return Anchor("key", public_key=directory / str(body["public_key"]))


def _exact_sigstore(identity: str, issuer: str, label: str) -> None:
    """Identities and issuers compare exactly, so a pattern would never match: refuse it here."""
    from urllib.parse import urlsplit

    if "*" in identity or identity != identity.strip() or any(c.isspace() for c in identity):
        raise UsageError(f"{label}: sigstore identity {identity!r} must be the exact identity a signing "
                         "certificate names (no '*', no spaces): patterns are never matched",
                         "list each identity (e-mail or workflow URI) in full")
    parts = urlsplit(issuer)
    if parts.scheme != "https" or not parts.netloc or issuer != issuer.strip():
        raise UsageError(f"{label}: sigstore issuer {issuer!r} must be the OIDC issuer's exact https:// URL",
                         "e.g. https://token.actions.githubusercontent.com or https://accounts.google.com")


def rule_for(rules: list[PublisherRule], repo_id: str) -> PublisherRule | None:
    """The first rule that applies to the repo, in file order."""
    return next((r for r in rules if r.applies_to(repo_id)), None)


def signer_label(signer: dict[str, Any]) -> str:
    """A signer as a curator reads it, in one phrase."""
    kind = signer.get("kind")
    if kind == "sigstore":
        return f"{signer.get('identity')} (issuer {signer.get('issuer')})"
    if kind == "certificate":
        where = f", CA {signer['anchor_fingerprint']}" if signer.get("anchor_fingerprint") else ""
        return f"certificate '{signer.get('subject')}'{where}"
    if kind == "key":
        return f"key {signer.get('fingerprint') or signer.get('hint')}"
    return "nobody"


def matches(anchor: Anchor, signer: dict[str, Any]) -> bool:
    """Does a verified signer satisfy this anchor?"""
    if anchor.kind != signer.get("kind"):
        return False
    if anchor.kind == "sigstore":  # the identity Sigstore verified, never another name beside it
        return anchor.identity == signer.get("identity") and anchor.issuer == signer.get("issuer")
    if anchor.kind == "certificate":
        anchors = {ca_fingerprint(p) for p in anchor.certificates}
        return (signer.get("anchor_fingerprint") in anchors
                and (not anchor.subject or anchor.subject == signer.get("subject")))
    return (anchor.public_key is not None
            and signer.get("fingerprint") == key_fingerprint(anchor.public_key)[0])


def against_anchors(anchors: list[Anchor], signer: dict[str, Any], whose: str) -> TrustDecision:
    """Expected or mismatch, against an explicit list (publishers.yaml, or the CLI's flags)."""
    expected = [a.describe() for a in anchors]
    if any(matches(a, signer) for a in anchors):
        return TrustDecision("expected", f"{signer_label(signer)} is a listed signer for {whose}", expected)
    wanted = " or ".join(_anchor_label(a) for a in anchors)
    return TrustDecision("mismatch", f"signed by {signer_label(signer)}, but {whose} must be signed by "
                         f"{wanted}", expected)


def _anchor_label(anchor: Anchor) -> str:
    if anchor.kind == "sigstore":
        return f"{anchor.identity} (issuer {anchor.issuer})"
    if anchor.kind == "certificate":
        subject = f" with subject '{anchor.subject}'" if anchor.subject else ""
        return f"a certificate from CA {', '.join(map(str, anchor.certificates))}{subject}"
    return f"the key {anchor.public_key}"
