"""Trust on first use inside one signature check: which keys to try, how to judge, what to record.

The stage builds one ``FirstUse`` for a hub candidate of a publisher that publishers.yaml
does not pin to signers. Before the check it offers key-mode anchors (the key on record,
and public keys the candidate ships); the check's ``decide`` asks it to judge the verified
signer; after the check it records a first signer only when everything checked out, and
holds an unsigned candidate of a publisher with a signer on record to that signer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator.core.models import Finding, Severity
from curator.stages.signature.bundle import read_bundle
from curator.stages.signature.check import SignatureReport
from curator.stages.signature.problems import SignatureProblem
from curator.stages.signature.tofu import (
    Publisher,
    Record,
    judge,
    record_of,
    recorded_key,
    remember,
    shipped_keys,
    shown,
)
from curator.stages.signature.trust import TrustDecision, signer_label
from curator.stages.signature.verify import Anchor, key_fingerprint, signing_key_problem

if TYPE_CHECKING:
    from curator.core.stage import ReviewLedger

#: top-level files a candidate may ship its signing public key in (policy: publisher_key_files)
KEY_FILES = ("*.pub", "*.pub.pem", "public_key.pem", "public-key.pem")
#: the only states in which every pinned file is as the signer signed it
CLEAN = ("match", "ignored")
TOOL = "curator"


@dataclass
class FirstUse:
    """Trust on first use for one review of one publisher (an org on one hub)."""

    ledger: ReviewLedger
    publisher: Publisher
    review_id: str
    files_dir: Path
    keys_dir: Path
    pinned: list[str]
    key_patterns: list[str]
    unsigned_after_first: str = "fail"  # fail | warn
    #: key ids of the team's trusted curators (whose signed forgets reset a record)
    curators: frozenset[str] = frozenset()
    recorded: bool = False
    record: Record | None = field(init=False)
    #: shipped key files that are no key: told, never tried, never an error of curator's set-up
    problems: list[Finding] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.record = record_of(self.ledger, self.publisher, self.review_id, curators=self.curators)

    def key_anchors(self, signature: Path) -> list[Anchor]:
        """For a key-mode signature: the key on record first, then keys the candidate ships."""
        try:
            if read_bundle(signature).mode != "key":
                return []
        except (SignatureProblem, OSError):
            return []  # the check reads it again and reports what is wrong with it
        keys = [k for k in (recorded_key(self.record, self.keys_dir),) if k is not None]
        keys += [k for k in shipped_keys(self.pinned, self.files_dir, self.key_patterns) if self._readable(k)]
        return [Anchor("key", public_key=k) for k in keys]

    def _readable(self, key: Path) -> bool:
        problem = signing_key_problem(key)
        if problem:
            rel = key.relative_to(self.files_dir).as_posix()
            message = (f"{rel} is named like a signing public key but {problem}: it was not tried "
                       "(signature.publisher_key_files)")
            self.problems.append(Finding(Severity.MEDIUM, "publisher-key-unreadable", message, TOOL,
                                         file=rel))
        return problem is None

    def judge(self, signer: dict[str, Any]) -> TrustDecision:
        return judge(self.record, self.publisher, signer)

    def settle(self, report: SignatureReport, pinned: bool, signature: str) -> None:
        """Record a first signer that fully checked out; hold an unsigned candidate to the record."""
        report.findings.extend(self.problems)
        trust = report.trust
        if trust is not None and trust.decision == "tofu-new":
            unclean = [f.path for f in report.files if f.state not in CLEAN]
            if report.status != "verified" or not pinned or unclean:
                why = ("its signature does not hold" if report.status != "verified" else
                       "no fetch manifest pinned the files" if not pinned else
                       f"{', '.join(unclean[:5])} are not as signed")
                report.trust = TrustDecision("tofu-new", f"{trust.why}; not recorded: {why}")
            else:
                self.recorded = remember(self.ledger, self.publisher, self._kept(report.signer),
                                         self.review_id, self.curators)
                report.trust = TrustDecision("tofu-new", f"{self.publisher.label} is not in publishers.yaml; "
                                             f"{signer_label(report.signer)} is the first signer seen for it "
                                             "and is now recorded (trust on first use)")
        if self.record is not None and report.status == "unsigned":
            self._unsigned_after_first(report, signature)

    def _kept(self, signer: dict[str, Any]) -> dict[str, Any]:
        """A key-mode signer is kept with its public key, so a later candidate can be checked."""
        path = signer.get("public_key")
        if signer.get("kind") != "key" or not path:
            return signer
        pem = Path(str(path)).read_text(encoding="ascii")
        if key_fingerprint(Path(str(path)))[0] != signer.get("fingerprint"):
            raise SignatureProblem("rejected", f"{path} changed while it was being checked")
        return {**signer, "public_key_pem": pem}

    def _unsigned_after_first(self, report: SignatureReport, signature: str) -> None:
        assert self.record is not None
        strict = self.unsigned_after_first == "fail"
        how = (f"has no {signature}" if report.problem == "missing"
               else f"carries a signature curator cannot check ({report.error})")
        message = (f"{self.publisher.label} was first seen signed by {signer_label(self.record.signer)} on "
                   f"{self.record.when} (review {self.record.review_id}), but this candidate {how}: "
                   "not signing is no way around the signer on record")
        severity = Severity.HIGH if strict else Severity.MEDIUM
        report.findings.append(Finding(severity, "unsigned-after-first-use", message, TOOL))
        report.trust = TrustDecision("mismatch" if strict else "unknown", message,
                                     [shown(self.record.signer)], self.record.first_seen)
        if strict:
            report.status, report.error = "failed", message

    def evidence(self) -> dict[str, Any]:
        return {"endpoint": self.publisher.endpoint, "org": self.publisher.org, "recorded": self.recorded,
                "on_record": self.record.to_dict() if self.record else None}
