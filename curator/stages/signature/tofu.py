"""Trust on first use, kept in the ledger: the first verified signer of an unlisted publisher.

A record is keyed by (hub endpoint, folded org: case and Unicode compatibility forms, see
``trust.fold``): the same org name on another hub is
another publisher, and the Hub resolves org names whatever their case. Only a signer whose
signature verified *and* whose signed digests matched the pinned files is recorded (the
stage records after judging), so a tampered candidate cannot become the first signer.
``curator trust forget`` closes a record with a signed ``trust_forgotten`` event; the next
verified signer is then the first again. The ledger is shared, so a forget counts only when
its key is one of the team's trusted curators (their key ids are handed in, never read here).
"""

from __future__ import annotations

import fnmatch
import hashlib
import time
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from curator.core.errors import UsageError
from curator.core.events import SignerSeen, TrustForgotten
from curator.stages.signature.trust import TrustDecision, fold, signer_label

if TYPE_CHECKING:
    from curator.attest.keys import Signer
    from curator.core.stage import ReviewLedger

SEEN = SignerSeen.KIND
FORGOTTEN = TrustForgotten.KIND
#: where candidates come from when a record (or an old sighting) names no hub
DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_PORTS = {"https": 443, "http": 80}
#: what a recorded signer keeps: enough to name it and to hold a later one to it
FORGET_PREDICATE = "https://curator.dev/attestation/trust-forget/v1"
KEPT = ("kind", "identity", "issuer", "subject", "fingerprint", "anchor_fingerprint", "public_key_pem")


def endpoint_key(endpoint: str | None) -> str:
    """A hub endpoint as one publisher namespace, however it is spelled.

    Scheme and host case-folded, credentials, the scheme's default port, a host's trailing dot,
    query, fragment and trailing slashes dropped: ``https://user@HuggingFace.co.:443/`` is
    ``https://huggingface.co``. Another port, scheme or host stays another hub.
    """
    raw = (endpoint or DEFAULT_ENDPOINT).strip()
    parts = urlsplit(raw)
    try:
        port = parts.port
    except ValueError:  # not a port number: keep the spelling, it names no hub we can fold
        port, parts = None, urlsplit("")
    if not parts.scheme or not parts.hostname:
        return raw.rstrip("/").casefold()
    scheme = parts.scheme.casefold()
    host = parts.hostname.rstrip(".")
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


@dataclass(frozen=True)
class Publisher:
    """Whose signer is on record: an org on one hub."""

    endpoint: str
    org: str

    @classmethod
    def of(cls, endpoint: str | None, org: str) -> Publisher:
        return cls(endpoint_key(endpoint), fold(org))

    @property
    def label(self) -> str:
        return f"{self.org} at {self.endpoint}"

    def holds(self, event: SignerSeen | TrustForgotten) -> bool:
        # sightings recorded before endpoints were kept came from the default hub
        return fold(event.publisher) == self.org and endpoint_key(event.endpoint) == self.endpoint


@dataclass(frozen=True)
class Record:
    """The signer on record for a publisher, from the ledger event that recorded it."""

    publisher: Publisher
    signer: dict[str, Any]
    review_id: str | None
    time: float
    seq: int

    @property
    def when(self) -> str:
        return time.strftime("%Y-%m-%d", time.gmtime(self.time))

    @property
    def first_seen(self) -> dict[str, Any]:
        """The record as trust evidence shows it."""
        return {"signer": shown(self.signer), "review_id": self.review_id, "time": self.time,
                "seq": self.seq, "endpoint": self.publisher.endpoint}

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.publisher.endpoint, "org": self.publisher.org,
                "signer": {k: v for k, v in self.signer.items() if k != "public_key_pem"},
                "signer_label": signer_label(self.signer), "review_id": self.review_id,
                "time": self.time, "seq": self.seq}


def records(ledger: ReviewLedger, skip_review: str | None = None, *,
            curators: AbstractSet[str] = frozenset()) -> dict[Publisher, Record]:
    """Every publisher's signer on record, replaying sightings and forgets in chain order.

    Sightings by ``skip_review`` are not "earlier": re-running a review must not turn its
    own first sight into a match. Only forgets signed by a key in ``curators`` (the key ids of
    the team's trusted curators) reset a record: the ledger is shared, so a row alone proves nothing.
    """
    return _replay(ledger, skip_review, curators)[0]


def _replay(ledger: ReviewLedger, skip_review: str | None,
            curators: AbstractSet[str]) -> tuple[dict[Publisher, Record], set[int]]:
    """The records standing, and the rows of the forgets that reset one."""
    found: dict[Publisher, Record] = {}
    held: set[int] = set()
    for row in ledger.read_kinds(SignerSeen, TrustForgotten):
        event = row.event
        assert isinstance(event, SignerSeen | TrustForgotten)
        who = Publisher.of(event.endpoint, event.publisher)
        if isinstance(event, TrustForgotten):
            if who in found and forget_holds(event, who, found[who].seq, curators):
                del found[who]
                held.add(row.seq)
        elif who not in found and row.review_id != skip_review:
            found[who] = Record(who, dict(event.signer or {}), row.review_id, row.time, row.seq)
    return found, held


def record_of(ledger: ReviewLedger, publisher: Publisher, skip_review: str | None = None, *,
              curators: AbstractSet[str] = frozenset()) -> Record | None:
    return records(ledger, skip_review, curators=curators).get(publisher)


def tofu_key(signer: dict[str, Any]) -> list[str]:
    """What must stay the same between two signers of one publisher (not the short-lived cert)."""
    kind = str(signer.get("kind"))
    if kind == "sigstore":
        return [kind, str(signer.get("identity")), str(signer.get("issuer"))]
    if kind == "certificate":
        return [kind, str(signer.get("subject")), str(signer.get("anchor_fingerprint"))]
    return [kind, str(signer.get("fingerprint"))]


def judge(record: Record | None, publisher: Publisher, signer: dict[str, Any]) -> TrustDecision:
    """tofu-new (nobody on record), tofu-match (the one on record) or mismatch (anyone else)."""
    label = signer_label(signer)
    if record is None:
        return TrustDecision("tofu-new", f"{publisher.label} is not in publishers.yaml; {label} is the "
                             "first signer seen for it (recorded only once its signature and digests "
                             "check out: trust on first use)")
    first = record.signer
    first_seen, expected = record.first_seen, [shown(first)]
    if tofu_key(first) == tofu_key(signer):
        return TrustDecision("tofu-match", f"{label} also signed {publisher.label}'s candidate first seen "
                             f"on {record.when} (review {record.review_id}; trust on first use)",
                             expected, first_seen)
    return TrustDecision("mismatch", f"signed by {label}, but {publisher.label} was first seen signed by "
                         f"{signer_label(first)} on {record.when} (review {record.review_id})",
                         expected, first_seen)


def shown(signer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in signer.items() if k in KEPT and k != "public_key_pem"}


def remember(ledger: ReviewLedger, publisher: Publisher, signer: dict[str, Any], review_id: str,
             curators: AbstractSet[str]) -> bool:
    """Record the first signer of ``publisher``; False when one is already on record.

    The caller has checked that the signature verified and its digests matched.
    """
    if record_of(ledger, publisher, curators=curators) is not None:
        return False
    kept = {k: v for k, v in signer.items() if k in KEPT}
    ledger.record(SignerSeen(publisher.org, publisher.endpoint, kept), review_id)
    return True


def recorded_key(record: Record | None, folder: Path) -> Path | None:
    """A key-mode signer on record, as a PEM file the verifier can read (written under ``folder``)."""
    if record is None or record.signer.get("kind") != "key" or not record.signer.get("public_key_pem"):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"recorded-{str(record.signer.get('fingerprint', 'key')).split(':')[-1][:16]}.pub"
    path.write_text(str(record.signer["public_key_pem"]), encoding="ascii")
    return path


def shipped_keys(files: list[str], files_dir: Path, patterns: list[str]) -> list[Path]:
    """Public keys the candidate ships at its top level (``signature.publisher_key_files``).

    Only pinned files are offered, and only to check a key-mode signature: on first use the
    key is the publisher's claim, recorded by fingerprint; afterwards it must be the same.
    """
    return [files_dir / f for f in sorted(files)
            if "/" not in f and any(fnmatch.fnmatchcase(f, p) for p in patterns)]


def forget(ledger: ReviewLedger, publisher: Publisher, signer: Signer, curators: AbstractSet[str]) -> Record:
    """Reset a publisher's record with a signed ``trust_forgotten`` event; the next verified
    signer is the first again (when ``signer`` is one of ``curators``, the team's trusted curator
    key ids: a forget by anyone else is written but never honoured). Returns the record forgotten."""
    from curator.attest.dsse import sign_statement
    from curator.attest.statement import STATEMENT_TYPE
    from curator.core.clock import utc_now
    from curator.core.models import canonical_json

    record = record_of(ledger, publisher, curators=curators)
    if record is None:
        raise UsageError(f"no signer is on record for {publisher.label}",
                         "see 'curator trust list' (an org on another hub is passed with --endpoint)")
    forgotten = record.to_dict()
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f"{publisher.endpoint}/{publisher.org}",
                     "digest": {"sha256": hashlib.sha256(canonical_json(forgotten)).hexdigest()}}],
        "predicateType": FORGET_PREDICATE,
        "predicate": {"endpoint": publisher.endpoint, "org": publisher.org, "forgotten_seq": record.seq,
                      "forgotten": forgotten, "curator": signer.identity.to_dict(), "time": utc_now()},
    }
    envelope = sign_statement(statement, signer)
    ledger.record(TrustForgotten(publisher.org, publisher.endpoint, record.seq, signer.identity.to_dict(),
                                 signer.public_key_pem, envelope.decode()))
    return record


def forget_holds(forget: TrustForgotten, publisher: Publisher, seq: int, curators: AbstractSet[str]) -> bool:
    """A forget counts only signed by a trusted curator's key (``curators``: key ids), about this
    publisher, and about the record now standing (a forget copied later cannot wipe a newer record)."""
    from curator.attest.dsse import EnvelopeProblem, verify_envelope
    from curator.attest.keys import fingerprint
    from curator.attest.trust import TrustedCurator

    curator, pem = forget.curator or {}, forget.public_key
    if pem is None or forget.envelope is None:
        return False
    try:
        keyid = fingerprint(pem)
        if keyid not in curators:
            return False
        signed = verify_envelope(forget.envelope.encode(), {keyid: TrustedCurator(
            str(curator["name"]), str(curator["email"]), keyid, pem)}).statement
    except (EnvelopeProblem, KeyError, TypeError, ValueError):
        return False
    facts = signed.get("predicate") if signed.get("predicateType") == FORGET_PREDICATE else None
    return (isinstance(facts, dict) and facts.get("org") == publisher.org
            and facts.get("endpoint") == publisher.endpoint and facts.get("forgotten_seq") == seq
            and forget.forgotten_seq == seq)


def forgets(ledger: ReviewLedger, curators: AbstractSet[str]) -> list[dict[str, Any]]:
    """Every forget written, for ``curator trust list``: who reset which record, when, and whether it
    holds; one that does not says why it is ignored."""
    from curator.attest.keys import fingerprint

    held = _replay(ledger, None, curators)[1]
    found = []
    for row in ledger.read(TrustForgotten):
        event, why = row.event, ""
        if row.seq not in held:
            try:
                trusted = event.public_key is not None and fingerprint(event.public_key) in curators
            except ValueError:
                trusted = False
            why = ("unsigned, or signed by a key that is not a trusted curator's" if not trusted
                   else "it does not verify, or names a record that was not standing")
        found.append({"endpoint": event.endpoint, "org": event.publisher, "seq": row.seq,
                      "forgotten_seq": event.forgotten_seq, "time": row.time, "curator": event.curator,
                      "holds": row.seq in held, "ignored": why})
    return found
