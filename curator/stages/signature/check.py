"""One signature check, shared by the stage and ``curator signature``: read, verify, trust, compare."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.models import Finding, Severity
from curator.stages.signature.bundle import read_bundle
from curator.stages.signature.compare import (
    GIT_PATHS,
    FileCheck,
    compare,
    disk_sha256,
    effective_ignores,
    file_names,
    is_ignored,
    model_signing_digests,
    per_file_sha256,
)
from curator.stages.signature.coverage import (
    CODE_SUFFIXES,
    WEIGHT_SUFFIXES,
    must_be_signed,
    suffixes,
    why_outside,
)
from curator.stages.signature.problems import SignatureProblem
from curator.stages.signature.trust import TrustDecision, signer_label
from curator.stages.signature.verify import Anchor, SignedStatement, verify_bundle

TOOL = "model-signing"


@dataclass
class SignatureReport:
    """Everything one check found; ``status`` is verified | failed | unsigned."""

    status: str
    mode: str = "none"
    signer: dict[str, Any] = field(default_factory=dict)
    claimed_signer: dict[str, Any] | None = None
    transparency: dict[str, Any] | None = None
    trust: TrustDecision | None = None
    files: list[FileCheck] = field(default_factory=list)
    ignore_paths: list[str] = field(default_factory=list)
    serialization: dict[str, Any] = field(default_factory=dict)
    model_name: str = ""
    verified_against: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None  # missing | unreadable | rejected | wrong-mode | unverifiable
    error: str | None = None
    findings: list[Finding] = field(default_factory=list)

    def finding(self, severity: Severity, code: str, message: str, file: str | None = None) -> None:
        self.findings.append(Finding(severity, code, message, TOOL, tool_version(), file))


def tool_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("model-signing")
    except PackageNotFoundError:
        return ""


@dataclass(frozen=True)
class CheckOptions:
    """How to judge what the signature covers."""

    extra_ignore: tuple[str, ...] = ()
    unsigned_files: str = "fail"  # fail | warn
    card_files: tuple[str, ...] = ("README.md",)
    #: suffixes (``.safetensors``) of files no ignore path excuses: weights and code
    must_sign: tuple[str, ...] = suffixes((*WEIGHT_SUFFIXES, *CODE_SUFFIXES))


def check_signature(folder: Path, signature: Path, anchors: list[Anchor], trust_config: Path | None,
                    decide: Callable[[dict[str, Any]], TrustDecision], options: CheckOptions,
                    manifest: dict[str, str] | None = None) -> SignatureReport:
    """Check ``signature`` for the model in ``folder``.

    ``manifest`` (path -> SHA-256 hex, the fetch stage's) replaces hashing the folder
    when the signature signs whole files with SHA-256. ``decide`` judges the verified
    signer. Raises ``UsageError`` only when an anchor or the trust root is unusable.
    """
    if not signature.is_symlink() and not signature.exists():
        return SignatureReport("unsigned", problem="missing",
                               error=f"no signature file {signature.name} in {folder}")
    if signature.is_symlink() and signature.parent.resolve().is_relative_to(folder.resolve()):
        return _unverified(SignatureProblem("unreadable", f"{signature.name} is a symbolic link (to "
                                            f"{signature.resolve()}), so it could be any bundle on this "
                                            "machine: ship the signature itself as a regular file"),
                           SignatureReport("failed"))
    if not signature.is_file():
        return _unverified(SignatureProblem("unreadable", f"{signature.name} is not a file (a folder, FIFO "
                                            "or device): remove it and ship the signature bundle itself"),
                           SignatureReport("failed"))
    try:
        bundle = read_bundle(signature)
    except SignatureProblem as problem:
        return _unverified(problem, SignatureReport("failed"))
    report = SignatureReport("failed", mode=bundle.mode, claimed_signer=bundle.claimed_signer,
                             transparency=bundle.transparency)
    try:
        statement = verify_bundle(bundle, anchors, trust_config)
    except SignatureProblem as problem:
        return _unverified(problem, report)
    report.signer = statement.signer
    report.claimed_signer = None
    report.serialization = statement.serialization
    report.model_name = statement.model_name
    report.verified_against = statement.verified_against
    report.trust = decide(statement.signer)
    rel = signature.relative_to(folder).as_posix() if signature.is_relative_to(folder) else None
    report.ignore_paths = effective_ignores(statement, options.extra_ignore, rel)
    try:
        report.files = _compare(folder, statement, report.ignore_paths, manifest)
    except (OSError, ValueError) as exc:  # e.g. a symlink the signer did not allow
        report.error = f"cannot hash {folder} the way the signer did: {exc}"
        report.finding(Severity.HIGH, "signed-files-unhashable", report.error)
        return report
    _judge(report, options, "fetch manifest" if manifest is not None else "folder", rel)
    return report


def _unverified(problem: SignatureProblem, report: SignatureReport) -> SignatureReport:
    report.problem, report.error = problem.code, problem.message
    if problem.code == "unverifiable":
        report.status = "unsigned"
        report.finding(Severity.MEDIUM, "signature-unverifiable", problem.message)
    elif problem.code == "unreadable":
        report.finding(Severity.HIGH, "signature-unreadable", problem.message)
    elif problem.code == "wrong-mode":
        report.finding(Severity.HIGH, "signature-wrong-mode", problem.message)
    else:
        claimed = report.claimed_signer or {}
        report.finding(Severity.CRITICAL, "signature-invalid",
                       f"{problem.message} (the signature claims {signer_label(claimed)})")
    return report


def _compare(folder: Path, statement: SignedStatement, ignore: list[str],
             manifest: dict[str, str] | None) -> list[FileCheck]:
    if per_file_sha256(statement):
        actual: dict[str, str | None] = dict(manifest) if manifest is not None else disk_sha256(
            folder, ignore, bool(statement.serialization.get("allow_symlinks", False)))
        return compare(statement, actual, ignore)
    # another hash or shards: re-serialise the folder the signer's way; what it leaves out as
    # ignored is still listed, so weights hidden there are seen
    digests = model_signing_digests(folder, statement, ignore)
    listed = set(manifest) if manifest is not None else file_names(folder)
    digests.update({path: None for path in listed - set(digests) if is_ignored(path, ignore)})
    return compare(statement, digests, ignore, manifest or {})


def _judge(report: SignatureReport, options: CheckOptions, source: str, signature_rel: str | None) -> None:
    """Findings for every difference; the status is failed if any of them says no."""
    failed = False
    card = set(options.card_files)
    for row in report.files:
        signed = row.signed_sha256 or row.signed_digest
        outside = row.state in ("ignored", "unsigned") and row.path != signature_rel
        kind = must_be_signed(row.path, options.must_sign) if outside else None
        if kind is not None:
            failed = True
            why = why_outside(row.path, report.serialization.get("ignore_paths") or [],
                              options.extra_ignore, GIT_PATHS)
            report.finding(Severity.HIGH, "weights-not-signed",
                           f"{row.path} holds weights or code ({kind}) but is outside the signature "
                           f"({why}): only the publisher can vouch for it by signing it with the model; "
                           "remove it or get a signature that covers it", row.path)
        elif row.path in card and row.state in ("ignored", "unsigned"):
            report.finding(Severity.MEDIUM, "card-unsigned",
                           f"{row.path} (the model card) is outside the signature: the card can change "
                           "without breaking it", row.path)
        elif row.state == "mismatch":
            failed = True
            report.finding(Severity.CRITICAL, "signed-digest-mismatch",
                           f"{row.path} changed after signing ({source}): {row.difference()}", row.path)
        elif row.state == "missing":
            failed = True
            report.finding(Severity.HIGH, "signed-file-missing",
                           f"{row.path} is signed ({signed}) but is not in the {source}", row.path)
        elif row.state == "unsigned":
            strict = options.unsigned_files != "warn"
            failed = failed or strict
            digest = f" (SHA-256 {row.manifest_sha256})" if row.manifest_sha256 else ""
            report.finding(Severity.HIGH if strict else Severity.MEDIUM, "unsigned-file",
                           f"{row.path}{digest} is in the {source} but not covered by the signature "
                           "nor by its ignore paths", row.path)
    if not any(row.state in ("match", "mismatch", "missing") for row in report.files):
        failed = True
        report.finding(Severity.HIGH, "signature-covers-nothing",
                       f"the signature names none of the files in the {source} (its ignore paths cover "
                       "them all): it vouches for nothing; ask the publisher for one that signs the model")
    trust = report.trust
    assert trust is not None
    if trust.decision == "mismatch":
        failed = True
        report.finding(Severity.CRITICAL, "signer-mismatch", trust.why)
    elif trust.decision in ("unknown", "tofu-new"):
        report.finding(Severity.MEDIUM, "signer-unknown", trust.why)
    elif trust.decision == "tofu-match":
        report.finding(Severity.INFO, "signer-first-use", trust.why)
    report.status = "failed" if failed else "verified"
    if failed:
        worst = max((f for f in report.findings), key=lambda f: f.severity.rank)
        report.error = worst.message


def evidence(report: SignatureReport, signature: Path) -> dict[str, Any]:
    """The keys other stages and the TUI read (see the stage's docstring)."""
    out: dict[str, Any] = {
        "status": report.status,
        "mode": report.mode,
        "signer": report.signer,
        "trust": report.trust.to_dict() if report.trust else
        {"decision": "unknown", "why": report.error or "", "expected": []},
        "files": [f.to_dict() for f in report.files],
        "ignore_paths": report.ignore_paths,
        "signature_file": signature.name,
        "serialization": report.serialization,
        "model_name": report.model_name,
        "verified_against": report.verified_against,
        "error": report.error,
    }
    if report.transparency:
        out["transparency"] = report.transparency
    if report.claimed_signer:
        out["claimed_signer"] = report.claimed_signer
    if report.problem:
        out["problem"] = report.problem
    return out
