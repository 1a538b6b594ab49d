"""What ``decide`` re-checks before it signs, instead of trusting what the ledger says.

The ledger is evidence, not authority: anyone with write access to its database can edit a
stage result and re-chain the rows after the last checkpoint. So before a decision is
signed: the ledger must verify (chain, recorded head, checkpoints in the registry); and
before an approval, whatever is cheap to re-derive is re-derived from the pinned files and
today's policy and inventory:

- the pinned files are hashed again against the manifest;
- curator's own scan checks (in process, never deserializing) run again on them: a file
  they block under a recorded "passed" scan means the record does not describe the files;
- the name check runs against the inventory as it is now (approved, non-retired models)
  and the publisher check against publishers.yaml as it is now: what the stages did not
  see when they ran blocks like a stage (``--waive name-check=…`` / ``publisher=…``);
- a newer review of the same commit, or a rejection of that commit or of the artifact, refuses
  the approval unless the curator supersedes it with a reason (signed into the decision);
- a waived critical finding needs ``decision.critical_waiver_approvals`` curators.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from curator.core.errors import DecisionRefused
from curator.core.events import DecisionMade, QuarterlyActionTaken, Recorded
from curator.core.evidence import CardEvidence, FetchEvidence, ScanEvidence, SignatureEvidence
from curator.core.models import Finding, Manifest, Review, Severity, StageResult
from curator.decision.checkpoints import LedgerCheck, checkpoint_repository, verify_ledger
from curator.decision.rules import CUSTOM_CODE, Blocker, DecisionRules
from curator.ledger.audit import LedgerHead

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from curator.attest.statement import Waiver
    from curator.core.policy import Policy
    from curator.core.workspace import Workspace
    from curator.decision.decide import Assessment
    from curator.ledger.base import LedgerBase
    from curator.registry.interface import Registry
    from curator.review.session import Session

#: blockers the re-check adds (each waivable like a stage, by these names)
NAME_CHECK, PUBLISHER = "name-check", "publisher"


def ledger_check(ledger: LedgerBase, workspace: Workspace, policy: Policy, registry_url: str | None = None,
                 anchor: LedgerHead | None = None, registry: Registry | None = None) -> LedgerCheck:
    """``curator ledger verify`` in full: the chain held to ``anchor`` (a head recorded outside the
    ledger), the checkpoints in the configured registry (or ``registry``), and the ledger head the
    registry's signed state recorded."""
    from curator.decision.signed_state import ledger_against_state
    from curator.decision.verify import trusted_curators
    from curator.registry import open_registry

    target = registry or open_registry(workspace.registry_dir, policy, registry_url)
    check = verify_ledger(ledger, target, checkpoint_repository(policy), trusted_curators(policy), anchor)
    if not check.chain.ok:
        return check
    anchored, note = ledger_against_state(ledger, target, policy)
    return replace(check, anchored=anchored, anchor_note=note)


def refuse_broken_ledger(session: Session) -> None:
    """Refuse to sign anything on a ledger that fails ``curator ledger verify`` (its checkpoints
    read from the configured registry, where ``curator ledger checkpoint`` puts them)."""
    check = ledger_check(session.ledger, session.workspace, session.policy)
    if not check.ok:
        raise DecisionRefused(f"{check.reason}: nothing was signed",
                              "run 'curator ledger verify' and find out what happened before deciding")


def refuse_changed_files(files_dir: Path, manifest: Manifest) -> None:
    """Re-hash the review's files: what is signed and pushed is what fetch pinned."""
    from curator.core.hashing import changed_files

    changed = changed_files(files_dir, [(f.path, f.sha256) for f in manifest.files])
    if changed:
        raise DecisionRefused(f"{', '.join(repr(p) for p in changed[:5])} changed since fetch pinned "
                              f"them in {files_dir}: nothing was signed", "open a new review with --fresh")


def rescan(session: Session, review: Review, manifest: Manifest, recorded: StageResult | None,
           rules: DecisionRules) -> tuple[Finding, ...]:
    """Curator's own scan checks on the pinned files again; their blocking findings.

    Refuses when the recorded scan result does not block but lists blocking findings or
    verdicts, or when the re-check blocks a file it says nothing against: the record was
    edited, or describes other files. A scan that was never recorded blocks as missing.
    """
    from curator.core.progress import Progress
    from curator.stages.scan import ScanConfig, Verdict
    from curator.stages.scan.run import FileToScan, scan_paths

    config = ScanConfig.from_section(session.policy.section("scan"), session.policy.directory)
    blocking = recorded is not None and recorded.status.value in rules.block_on
    if recorded is not None and not blocking:
        listed = [f.message for f in recorded.findings if config.blocks(f.severity)]
        listed += [f"{f.path} is {f.verdict}" for f in ScanEvidence.of(recorded).files
                   if f.verdict != Verdict.CLEAN.value]
        if listed:
            raise DecisionRefused(f"the scan result of review {review.id} says {recorded.status.value} but "
                                  f"lists {listed[0]!r}: it was edited; nothing was signed",
                                  "run 'curator ledger verify', then open a new review with --fresh")
    ctx = session.context(review)
    report = scan_paths(ctx.files_dir, [FileToScan(f.path, f.size) for f in manifest.files],
                        replace(config, scanners=()), Progress("scan", [], threading.Event()),
                        scratch_parent=ctx.work_dir)
    blocked = [f for f in report.files if f.verdict == Verdict.BLOCKED]
    if blocked and recorded is not None and not blocking:
        first = blocked[0]
        raise DecisionRefused(
            f"curator's own checks block {first.path} ({first.reasons[0] if first.reasons else 'blocked'}) "
            f"but the scan result recorded for review {review.id} says {recorded.status.value}: the record "
            "does not describe the pinned files; nothing was signed",
            "run 'curator ledger verify', then open a new review with --fresh")
    return tuple(f for r in blocked for f in r.findings if config.blocks(f.severity))


def name_blocker(session: Session, review: Review, card: StageResult | None) -> Blocker | None:
    """Look-alikes of the current inventory (approved, non-retired) and trusted publishers
    that the card stage did not report when it ran."""
    from curator.ledger.standings import standings
    from curator.stages.card.grade import CardSettings
    from curator.stages.card.lookalike import near_misses, trusted_publishers

    repo_id = review.candidate.repo_id
    if repo_id.startswith("local/"):
        return None
    section = session.policy.section("card")
    settings = CardSettings.from_section(section)
    trusted, _ = trusted_publishers(session.policy.directory, section)
    inventory = sorted(set(standings(session.ledger).approved()) - {repo_id})
    seen = {(m.kind, m.resembles) for m in CardEvidence.of(card).lookalike}
    new = [m for m in near_misses(repo_id, trusted, inventory, settings.max_distance, settings.short_name)
           if (m.kind, m.resembles) not in seen and m.severity.rank >= Severity.HIGH.rank]
    if not new:
        return None
    return Blocker(NAME_CHECK, "lookalike", tuple(m.finding() for m in new))


def publisher_blocker(session: Session, review: Review, signature: StageResult | None,
                      rules: DecisionRules) -> Blocker | None:
    """The review's signer held to publishers.yaml as it is now (it may have changed since the
    signature stage ran): a signer no longer listed, or a publisher now required to sign."""
    from curator.stages.signature.trust import against_anchors, load_publishers, rule_for

    rule = rule_for(load_publishers(session.policy.directory), review.candidate.repo_id)
    if rule is None or review.candidate.repo_id.startswith("local/"):
        return None  # a folder the curator did not name after a publisher: no publisher to hold
    if signature is not None and signature.status.value in rules.block_on:
        return None  # the signature stage blocks already; its waiver covers it
    evidence = SignatureEvidence.of(signature)
    status, signer = evidence.status or "unsigned", evidence.signer
    findings = []
    if status == "verified" and rule.signers:
        trust = against_anchors(list(rule.signers), dict(signer), f"publisher {rule.match}")
        if not trust.trusted:
            findings.append(Finding(Severity.HIGH, "publisher-mismatch", f"publishers.yaml now: {trust.why}"))
    elif rule.required and status != "verified":
        findings.append(Finding(Severity.HIGH, "publisher-unsigned",
                                f"publishers.yaml now requires {rule.match} to sign, but this review's "
                                f"signature is {status}"))
    return Blocker(PUBLISHER, "mismatch", tuple(findings)) if findings else None


@dataclass(frozen=True)
class Contradiction:
    """A later review of the same repo, or a rejection of the same commit or artifact."""

    kind: str  # newer-review | rejected
    review_id: str
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "review_id": self.review_id, "text": self.text}


def contradictions(ledger: LedgerBase, review: Review, subject_digest: str) -> list[Contradiction]:
    """What speaks against approving ``review`` now: newer reviews of its commit of the repo
    (case-folded, as the Hub resolves ids), rejections (and retirements) of that commit or
    of its artifact."""
    import datetime as dt

    repo = review.candidate.repo_id.casefold()
    reviews = {r.id: r for r in ledger.reviews()}

    def revision(r: Review) -> str | None:
        # a hub commit; a local folder's pinned content (its manifest digest) stands for one
        if r.candidate.commit:
            return r.candidate.commit
        fetch = ledger.results(r.id).get("fetch")
        return FetchEvidence.of(fetch).manifest_digest or None if fetch else None

    commit = revision(review)

    def same_commit(other: Review | None) -> bool:
        return bool(other and commit and other.candidate.repo_id.casefold() == repo
                    and revision(other) == commit)

    def when(r: Review) -> str:
        return f"{dt.datetime.fromtimestamp(r.created, dt.UTC):%Y-%m-%d %H:%M} UTC"

    # a newer review of another commit is another candidate (reviewing v1 and v2 side by side,
    # then adopting v1, is a normal swap); of the same commit it is the current judgment
    found = [Contradiction("newer-review", r.id, f"review {r.id} of the same commit of {r.candidate.repo_id} "
                           f"was opened {when(r)}, after this one")
             for r in reviews.values() if r.id != review.id and r.created > review.created and same_commit(r)]
    rulings: list[Recorded[DecisionMade] | Recorded[QuarterlyActionTaken]] = [
        *ledger.read(DecisionMade), *ledger.read(QuarterlyActionTaken)]
    for row in rulings:
        p, rid = row.event, str(row.review_id or "")
        retired = isinstance(p, QuarterlyActionTaken) and p.action == "retire"
        rejected = retired or (isinstance(p, DecisionMade) and p.outcome == "rejected")
        digest = p.subject_digest if isinstance(p, DecisionMade) else p.digest
        if rid == review.id or not rejected:
            continue
        if digest != subject_digest and not same_commit(reviews.get(rid)):
            continue
        who = str((p.curator or {}).get("name", "a curator"))
        verb = "retired" if retired else "rejected"
        found.append(Contradiction("rejected", rid, f"{who} {verb} the same "
                                   f"{'artifact' if digest == subject_digest else 'commit'} in review {rid}: "
                                   f"{p.rationale[:120]!r}"))
    return found


def refuse_contradicted(found: list[Contradiction], review: Review, supersede: str) -> dict[str, Any] | None:
    """Refuse unless the curator supersedes them with a reason; what is signed into the decision."""
    if not found:
        return None
    if not supersede.strip():
        raise DecisionRefused(f"review {review.id} is contradicted: " + "; ".join(c.text for c in found[:3]),
                              "decide the newer review instead, or pass --supersede 'why this one still "
                              "stands' (signed into the decision)")
    return {"reason": supersede.strip(), "over": [c.to_dict() for c in found]}


def critical_stages(blocking: list[Blocker], waivers: tuple[Waiver, ...],
                    rescanned: tuple[Finding, ...]) -> list[str]:
    """Waived stages with a critical finding (the scan's own re-check counts for ``scan``)."""
    waived = {w.stage for w in waivers}
    found = []
    for b in blocking:
        extra = rescanned if b.stage in ("scan", CUSTOM_CODE) else ()
        if b.stage in waived and any(f.severity == Severity.CRITICAL for f in (*b.findings, *extra)):
            found.append(b.stage)
    return found


def uncovered(rescanned: tuple[Finding, ...], waivers: tuple[Waiver, ...]) -> list[Finding]:
    """Blocking findings of the re-scan that no signed waiver accepts."""
    waived = {w.stage for w in waivers}
    if "scan" in waived:
        return []
    return [f for f in rescanned if not (f.code.startswith(CUSTOM_CODE) and CUSTOM_CODE in waived)]


@dataclass(frozen=True)
class Rechecked:
    """What an approval carries after the re-check: its waivers, how many curators it needs,
    and what it supersedes (None when nothing contradicts it)."""

    waivers: tuple[Waiver, ...]
    approvals_required: int
    supersedes: dict[str, Any] | None = None


def recheck_approval(session: Session, a: Assessment, asked: dict[str, str], until: dt.date | None,
                     supersede: str, subject_digest: str, today: dt.date) -> Rechecked:
    """Everything an approval is re-checked against (``a`` is the decide module's Assessment)."""
    from curator.decision.rules import waivers_for

    assert a.manifest is not None
    refuse_changed_files(session.context(a.review).files_dir, a.manifest)
    # re-derived only where the policy asks for a scan: a team without one has no verdict to hold
    rescanned = rescan(session, a.review, a.manifest, a.results.get("scan"), a.rules) \
        if "scan" in {*session.policy.stages, *a.rules.stages} else ()
    extra = [b for b in (name_blocker(session, a.review, a.results.get("card")),
                         publisher_blocker(session, a.review, a.results.get("signature"), a.rules)) if b]
    blocking = [*a.blockers, *extra]
    waivers = waivers_for(blocking, asked, until, a.rules, today)
    missed = uncovered(rescanned, waivers)
    if missed:
        first = missed[0]
        raise DecisionRefused(f"curator's own checks block {first.file or 'a file'} ({first.message}) "
                              "and no scan waiver accepts it: nothing was signed",
                              "open a new review with --fresh and read its scan stage")
    required = a.rules.approvals_required
    critical = critical_stages(blocking, waivers, rescanned)
    if critical:
        required = max(required, a.rules.critical_waiver_approvals)
    supersedes = refuse_contradicted(contradictions(session.ledger, a.review, subject_digest), a.review,
                                     supersede)
    return Rechecked(waivers, required, supersedes)
