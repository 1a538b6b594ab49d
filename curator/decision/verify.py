"""The deploy-time gate: registry bytes == what the team's signed state approves, or no.

``verify`` takes the registry's signed state as the TUF client workflow accepted it
(``TrustedState``): the reference resolves through the signed targets (``NAME:prod`` and
``NAME:TAG`` too; a registry tag that says otherwise is refused), a retired, rejected or
unknown digest is refused, and the manifest must have the signed hash and length. The
decision referrer(s) are then checked as evidence: each DSSE signature against the curator
keys of the trusted root, the decisions approve this exact manifest with enough distinct
approvers and unexpired waivers. Finally every blob is streamed and hashed. ``pull`` does
the same while writing the files into a temporary folder that becomes the destination
only when everything held.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curator.attest.dsse import MAX_ENVELOPE_BYTES, EnvelopeProblem, verify_envelope
from curator.attest.statement import Decision, Waiver
from curator.attest.trust import TrustedCurator, load_trusted
from curator.core.durable import sync_tree
from curator.core.errors import IntegrityError, NotInRegistry, UsageError
from curator.decision.rules import CUSTOM_CODE, DecisionRules
from curator.registry.artifact import DECISION_ARTIFACT_TYPE, Layer, read_decision, read_model
from curator.registry.interface import Descriptor, OnBytes, Reference, Registry, sha256_digest
from curator.state.client import TrustedState

if TYPE_CHECKING:
    from curator.core.policy import Policy


@dataclass(frozen=True)
class Problem:
    code: str  # e.g. tampered-blob, no-decision, forged-decision, untrusted-key, revoked-key, rejected
    message: str


@dataclass
class VerifyReport:
    """What the gate found. ``ok`` only when there is no problem at all."""

    ref: str
    registry: str
    manifest_digest: str | None = None
    problems: list[Problem] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    blobs_checked: bool = False
    seconds: float = 0.0
    state_version: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems and self.blobs_checked

    def to_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "registry": self.registry, "ok": self.ok,
                "manifest_digest": self.manifest_digest,
                "problems": [{"code": p.code, "message": p.message} for p in self.problems],
                "reason": self.problems[0].code if self.problems else None,
                "decisions": self.decisions, "files": self.files, "bytes": self.bytes,
                "blobs_checked": self.blobs_checked, "seconds": round(self.seconds, 3),
                "state_version": self.state_version}


def verify(registry: Registry, ref: Reference, trusted: TrustedState, rules: DecisionRules,
           dest: Path | None = None, on_bytes: OnBytes | None = None,
           today: dt.date | None = None) -> VerifyReport:
    """Run the gate; with ``dest``, also write the verified files under it."""
    started = time.perf_counter()
    report = VerifyReport(registry.describe(ref), registry.location)
    resolved = trusted.state.resolve(ref.name, ref.tag, ref.digest)
    report.manifest_digest = resolved.digest
    report.state_version = trusted.state.version
    if resolved.target is None or resolved.digest is None:
        report.problems.append(Problem(resolved.code, resolved.message))
        return report
    digest = resolved.digest
    if ref.tag:
        _check_tag(registry, ref, digest, report)
    try:
        body, _ = registry.get_manifest(ref.name, digest)
    except NotInRegistry as exc:
        report.problems.append(Problem("not-found", exc.diagnostics()))
        return report
    actual = sha256_digest(body)
    if actual != digest or len(body) != resolved.target.length:
        report.problems.append(Problem("tampered-manifest", f"the registry served {actual} "
                                       f"({len(body)} bytes) "
                                       f"for {ref.name}@{digest}, signed as {resolved.target.length} bytes"))
        return report
    try:
        config, layers = read_model(body)
    except IntegrityError as exc:
        report.problems.append(Problem("bad-manifest", exc.diagnostics()))
        return report
    report.files = len(layers)
    report.bytes = sum(layer.descriptor.size for layer in layers)
    _check_decisions(registry, ref.name, digest, layers, trusted.curators(), rules, today or dt.date.today(),
                     report)
    if not report.problems:
        _check_blobs(registry, ref.name, config.digest, config.size, layers, dest, on_bytes, report)
    report.seconds = time.perf_counter() - started
    return report


def _check_tag(registry: Registry, ref: Reference, signed: str, report: VerifyReport) -> None:
    """The registry's tag is a convenience: where it names another digest than the signed
    state, someone re-tagged without a signed change (a rollback or a swap by hand)."""
    try:
        body, _ = registry.get_manifest(ref.name, ref.tag or "")
    except NotInRegistry:
        return
    tagged = sha256_digest(body)
    if tagged != signed:
        report.problems.append(Problem("tag-mismatch", f"the registry's {ref} points at {tagged}, "
                                       "but the signed "
                                       f"state (targets v{report.state_version}) says {signed}"))


def _check_decisions(registry: Registry, name: str, digest: str, layers: tuple[Layer, ...],
                     trusted: dict[str, TrustedCurator], rules: DecisionRules, today: dt.date,
                     report: VerifyReport) -> None:
    found = _decisions(registry, name, digest, report)
    if not found and not report.problems:
        report.problems.append(Problem("no-decision", f"no signed decision is attached to {digest}"))
        return
    files = {layer.path: (layer.descriptor.digest, layer.descriptor.size) for layer in layers}
    # approvals add up per review and per person: a curator listed with two keys (a rotation)
    # is one approver, and pending approvals from different reviews were never one approval
    approvers: dict[str, set[str]] = {}
    approvals: list[tuple[Decision, TrustedCurator]] = []
    required = rules.approvals_required
    for descriptor, (subject, envelopes) in found:
        if subject != digest:
            report.problems.append(Problem("wrong-subject",
                                           f"decision {descriptor.digest} is about {subject}"))
        if not envelopes:
            report.problems.append(Problem("unsigned-decision",
                                           f"decision {descriptor.digest} has no envelope"))
        for env in envelopes:
            try:
                verified = verify_envelope(_read_small(registry, name, env.digest, env.size), trusted)
                decision = Decision.from_statement(verified.statement)
            except EnvelopeProblem as exc:
                report.problems.append(Problem(exc.code, exc.message))
                continue
            except (IntegrityError, NotInRegistry) as exc:
                report.problems.append(Problem("tampered-decision", exc.diagnostics()))
                continue
            except ValueError as exc:
                report.problems.append(Problem("malformed-decision", str(exc)))
                continue
            report.decisions.append({"decision_id": verified.decision_id, "outcome": decision.outcome,
                                     "curator": decision.curator.to_dict(), "time": decision.time,
                                     "rationale": decision.rationale,
                                     "waivers": [w.to_dict() for w in decision.waivers]})
            report.problems += _judge(decision, name, digest, files, today)
            report.problems += _waivers_within(decision, rules)
            if decision.outcome == "approved":
                report.problems += _stages_within(decision, rules)
            if decision.curator.keyid != verified.signer.keyid:
                report.problems.append(Problem("forged-decision", f"{decision.curator.label} is named in a "
                                               f"decision signed by {verified.signer.identity.label}"))
            elif decision.outcome == "approved":
                approvers.setdefault(decision.review_id, set()).add(verified.signer.identity.person)
                approvals.append((decision, verified.signer))
            required = max(required, decision.approvals_required)
    report.problems += _separation(approvals, trusted, required, rules)
    most = max((len(people) for people in approvers.values()), default=0)
    if not report.problems and most < required:
        report.problems.append(Problem("insufficient-approvals",
                                       f"{most} trusted approver(s) in one review; {required} required"))


def _separation(approvals: list[tuple[Decision, TrustedCurator]], trusted: dict[str, TrustedCurator],
                required: int, rules: DecisionRules) -> list[Problem]:
    """Separation of duties, from the opener signed into each approval (``separation.py``)."""
    from curator.decision.separation import separation_problems

    return [Problem(code, message) for code, message in
            separation_problems(approvals, trusted, required, rules.separation_of_duties)]


def _decisions(registry: Registry, name: str, digest: str,
               report: VerifyReport) -> list[tuple[Descriptor, tuple[str, tuple[Descriptor, ...]]]]:
    """The decision referrers of ``digest``, each manifest checked against its digest.

    Index entries without ``artifactType`` are read too: some copy tools (skopeo 1.9)
    drop that field when they rewrite a referrers index.
    """
    found = []
    for descriptor in registry.referrers(name, digest):
        if descriptor.artifact_type not in (DECISION_ARTIFACT_TYPE, None):
            continue
        try:
            body, _ = registry.get_manifest(name, descriptor.digest)
            if sha256_digest(body) != descriptor.digest:
                raise IntegrityError(f"decision manifest {descriptor.digest} was altered", "")
            parsed = read_decision(body)
        except (NotInRegistry, IntegrityError) as exc:
            report.problems.append(Problem("tampered-decision", exc.diagnostics()))
            continue
        if parsed is not None:
            found.append((descriptor, parsed))
    return found


def _judge(decision: Decision, name: str, digest: str, files: dict[str, tuple[str, int]],
           today: dt.date) -> list[Problem]:
    problems = []
    if decision.subject_digest != digest:
        problems.append(Problem("wrong-subject", f"decision {decision.review_id} approves "
                                f"{decision.subject_digest}, not {digest}"))
    if decision.subject_name != name:  # approved bytes copied under another model's name
        problems.append(Problem("wrong-subject", f"decision {decision.review_id} approves this model "
                                f"as {decision.subject_name}, not as {name}"))
    if decision.outcome != "approved":
        problems.append(Problem("rejected", f"{decision.curator.label} rejected this model: "
                                f"{decision.rationale}"))
    for waiver in decision.waivers:
        if _expired(waiver, today):
            problems.append(Problem("waiver-expired", f"the waiver for {waiver.stage} expired on "
                                    f"{waiver.expires}; re-review the model"))
    signed = {f["path"]: ("sha256:" + f["sha256"], int(f["size"])) for f in decision.files}
    if signed != files:
        changed = sorted(set(signed.items()) ^ set(files.items()))
        problems.append(Problem("files-mismatch", "the manifest's files differ from the approved ones: "
                                + ", ".join(sorted({p for p, _ in changed}))[:300]))
    return problems


def _expired(waiver: Waiver, today: dt.date) -> bool:
    try:
        return waiver.expired(today)
    except ValueError:  # an unreadable date never reads as 'still valid'
        return True


def _waivers_within(decision: Decision, rules: DecisionRules) -> list[Problem]:
    """The team's waiver rules, applied again here: a curator's own checklists may have been
    looser when they signed (fetch made waivable, a waiver for ten years)."""
    try:
        signed_on = dt.date.fromisoformat(decision.time[:10])
        ends = [(w, dt.date.fromisoformat(w.expires)) for w in decision.waivers]
    except ValueError:
        return [Problem("malformed-decision", f"decision {decision.review_id} has an unreadable date")]
    problems = []
    longest = signed_on + dt.timedelta(days=rules.max_waiver_days)
    for waiver, expires in ends:
        if waiver.stage in rules.unwaivable:
            problems.append(Problem("policy-violation", f"decision {decision.review_id} waives "
                                    f"{waiver.stage}, which the team's policy (decision.unwaivable) "
                                    "never allows"))
        elif expires > longest:
            problems.append(Problem("policy-violation", f"the waiver for {waiver.stage} runs to {expires}, "
                                    f"beyond the team's {rules.max_waiver_days} days from {signed_on}"))
    return problems


def _stages_within(decision: Decision, rules: DecisionRules) -> list[Problem]:
    """The team's stages, each shown in the signed decision with a status that does not block,
    or waived in it: what ``decide`` requires, held again against whatever checklists (or
    tool) the curator signed with."""
    waived = {w.stage for w in decision.waivers}
    if CUSTOM_CODE in waived:  # a scan that fails only for the code it ships is waived as custom code
        waived.add("scan")
    problems = []
    for stage in rules.stages:
        status = decision.stages.get(stage)
        blocks = (status in rules.block_on or (rules.missing_blocks and status in (None, "skipped")))
        if not blocks or stage in waived:
            continue
        what = f"does not show the {stage} stage" if status is None else f"approves with {stage} {status}"
        problems.append(Problem("policy-violation", f"decision {decision.review_id} {what} and waives "
                                f"nothing for it; the team's policy ({rules.source}) requires it"))
    return problems


def _read_small(registry: Registry, name: str, digest: str, size: int) -> bytes:
    if size > MAX_ENVELOPE_BYTES:
        raise IntegrityError(f"decision blob {digest} is {size} bytes, too large", "")
    data = b""
    with registry.open_blob(name, digest) as chunks:
        for chunk in chunks:
            data += chunk
            if len(data) > MAX_ENVELOPE_BYTES:
                raise IntegrityError(f"decision blob {digest} is larger than declared", "")
    if sha256_digest(data) != digest:
        raise IntegrityError(f"decision blob {digest} was altered in the registry", "")
    return data


def _check_blobs(registry: Registry, name: str, config_digest: str, config_size: int,
                 layers: tuple[Layer, ...], dest: Path | None, on_bytes: OnBytes | None,
                 report: VerifyReport, workers: int = 4) -> None:
    targets: list[tuple[str, int, str, Path | None]] = [(config_digest, config_size, "(model config)", None)]
    targets += [(layer.descriptor.digest, layer.descriptor.size, layer.path,
                 dest / layer.path if dest else None) for layer in layers]
    # biggest first, several at once: hashing releases the GIL, so blobs overlap on the cores
    targets.sort(key=lambda t: t[1], reverse=True)
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(targets)))) as pool:
        found = list(pool.map(lambda t: _check_blob(registry, name, t[0], t[1], t[2], t[3], on_bytes),
                              targets))
    report.problems += [p for p in found if p is not None]
    report.blobs_checked = True


def _check_blob(registry: Registry, name: str, digest: str, size: int, label: str, out: Path | None,
                on_bytes: OnBytes | None) -> Problem | None:
    """Stream one blob, hashing it (and writing it to ``out``); a Problem if it is not as approved."""
    hasher, seen = hashlib.sha256(), 0
    try:
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
        with registry.open_blob(name, digest) as chunks, \
                (open(out, "wb") if out else open(os.devnull, "wb")) as sink:
            for chunk in chunks:
                hasher.update(chunk)
                seen += len(chunk)
                if seen > size:
                    break
                if out is not None:
                    sink.write(chunk)
                if on_bytes:
                    on_bytes(len(chunk))
            if out is not None:  # on disk before the folder is renamed into place
                sink.flush()
                os.fsync(sink.fileno())
    except NotInRegistry:
        return Problem("missing-blob", f"{label} ({digest}) is missing from the registry")
    except OSError as exc:  # e.g. a manifest naming both 'a' and 'a/b'
        return Problem("bad-manifest", f"cannot write {label} ({exc.strerror})")
    actual = "sha256:" + hasher.hexdigest()
    if actual != digest or seen != size:
        return Problem("tampered-blob", f"{label} in the registry is not the approved bytes: {actual} "
                       f"({seen} bytes), approved {digest} ({size} bytes)")
    return None


def pull(registry: Registry, ref: Reference, dest: Path, trusted: TrustedState,
         rules: DecisionRules, on_bytes: OnBytes | None = None) -> VerifyReport:
    """Verify and write the files into ``dest`` (new or empty), all or nothing."""
    if dest.is_symlink():  # the rename would follow nothing and land nowhere the user meant
        raise UsageError(f"{dest} is a symbolic link (to {os.readlink(dest)})",
                         "pass a new or empty folder that is not a link")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UsageError(f"{dest} exists and is not an empty folder", "pass a new or empty folder")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the model folder is not a secret
    try:
        report = verify(registry, ref, trusted, rules, dest=staging, on_bytes=on_bytes)
        if report.ok:
            sync_tree(staging)
            if dest.exists():
                dest.rmdir()
            os.replace(staging, dest)
            sync_tree(dest.parent, recursive=False)
        return report
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def trusted_curators(policy: Policy) -> dict[str, TrustedCurator]:
    """The team's curators (checklists/curators.yaml): whose signatures a report or a
    checkpoint shows as trusted. Keys in a workspace are never trusted."""
    return load_trusted(policy.directory)
