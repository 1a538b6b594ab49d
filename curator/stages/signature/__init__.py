"""Signature stage: OpenSSF model signature verified offline, signer held to the publishers list.

Evidence keys (other stages and the TUI read them; keep them stable):
``status`` verified | failed | unsigned; ``mode`` sigstore | certificate | key | none;
``signer`` ({kind, identity, issuer, ...} | {kind, subject, fingerprint, anchor_fingerprint, ...}
| {kind, fingerprint}); ``publisher``; ``trust`` {decision: expected | unknown | tofu-new |
tofu-match | mismatch, why, expected[]}; ``transparency`` {log_index, integrated_time, ...}
when the bundle has a Rekor entry; ``files[{path, signed_sha256, manifest_sha256, state}]``
with state match | mismatch | missing | unsigned | ignored; ``ignore_paths``;
``provenance`` {attestations[{file, line, format, status, signer, trust, predicate_type,
subjects[{name, sha256, state}], facts{builder, build_type, source{repo, commit}, parameters,
dependencies[]}, usable}], usable} when the candidate ships attestations (``provenance.py``).
A publisher's identity is proven only when status == verified and trust.decision is
expected or tofu-match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curator.core.errors import UsageError
from curator.core.models import Finding, Severity, StageResult, Status
from curator.core.progress import Progress
from curator.core.stage import ReviewContext, Stage
from curator.stages.signature.check import CheckOptions, SignatureReport, check_signature, evidence
from curator.stages.signature.provenance import check_provenance
from curator.stages.signature.trust import (
    PublisherRule,
    TrustDecision,
    against_anchors,
    load_publishers,
    on_first_use,
    publisher_of,
    rule_for,
)
from curator.stages.signature.trust_config import TRUST_CONFIG_FILE

SECTION_KEYS = {"file", "trust_config", "require_unlisted", "trust_on_first_use", "unsigned_files",
                "ignore_paths", "card_files"}


class SignatureStage(Stage):
    """Verify the candidate's model signature and hold its signer to publishers.yaml."""

    name = "signature"
    title = "Signature & publisher"
    requires = ("fetch",)

    def run(self, ctx: ReviewContext, progress: Progress) -> StageResult:
        cfg = _section(ctx)
        directory: Path = ctx.policy.directory
        progress.set_total(3, unit="steps")
        rules = load_publishers(directory)
        rule = rule_for(rules, ctx.candidate.repo_id)
        publisher = rule.match if rule else publisher_of(ctx.candidate.repo_id)
        required = rule.required if rule else bool(cfg.get("require_unlisted", False))
        anchors = list(rule.signers) if rule else []
        signature = ctx.files_dir / str(cfg.get("file", "model.sig"))
        manifest = ctx.manifest
        options = CheckOptions(
            extra_ignore=tuple(str(p) for p in cfg.get("ignore_paths") or []),
            unsigned_files=str(cfg.get("unsigned_files", "fail")),
            card_files=tuple(str(p) for p in cfg.get("card_files", ["README.md"])),
        )
        progress.advance(1, f"verifying {signature.name}")
        progress.check()

        def decide(signer: dict[str, Any]) -> TrustDecision:
            if anchors:
                return against_anchors(anchors, signer, f"publisher {publisher}")
            if ctx.candidate.source == "local":  # a folder name is no publisher to hold to a signer
                return TrustDecision("unknown", f"{ctx.candidate.repo_id} is a local folder, not a hub "
                                     "publisher's repo: the signer is shown, not vouched for")
            if ctx.ledger is not None and cfg.get("trust_on_first_use", True):
                return on_first_use(ctx.ledger, publisher, signer, ctx.review_id)
            return TrustDecision("unknown", f"{publisher} is not in publishers.yaml and no earlier "
                                 "signer is on record: the signer is shown, not vouched for")

        report = check_signature(
            ctx.files_dir, signature, anchors, directory / str(cfg.get("trust_config", TRUST_CONFIG_FILE)),
            decide, options, {f.path: f.sha256 for f in manifest.files} if manifest else None)
        progress.advance(1, "comparing signed digests")
        progress.check()
        status = _status(report, required, rule, publisher, signature)
        facts = evidence(report, signature)
        facts.update({
            "publisher": publisher,
            "publisher_rule": ({"match": rule.match, "required": rule.required, "note": rule.note}
                               if rule else None),
            "required": required,
            "compared_with": "fetch manifest" if manifest else "folder",
        })
        trusted = report.status == "verified" and report.trust is not None and report.trust.trusted
        trusted_signer = report.signer if trusted else None
        attested = check_provenance(ctx.files_dir, manifest, signature.name, anchors,
                                    directory / str(cfg.get("trust_config", TRUST_CONFIG_FILE)),
                                    f"publisher {publisher}", trusted_signer)
        if attested.attestations:
            facts["provenance"] = attested.evidence()
            status = attested.status(status)
        progress.advance(1, report.status)
        return StageResult(stage=self.name, status=status, findings=(*report.findings, *attested.findings),
                           evidence=facts, tool_versions=_versions())


def _section(ctx: ReviewContext) -> dict[str, Any]:
    cfg: dict[str, Any] = ctx.policy.section("signature")
    unknown = set(cfg) - SECTION_KEYS
    if unknown:
        raise UsageError(f"checklist section 'signature' has unknown keys: {', '.join(sorted(unknown))}",
                         f"use only {', '.join(sorted(SECTION_KEYS))}")
    if cfg.get("unsigned_files", "fail") not in ("fail", "warn"):
        raise UsageError("checklist signature.unsigned_files must be 'fail' or 'warn'", "fix default.yaml")
    return cfg


def _status(report: SignatureReport, required: bool, rule: PublisherRule | None, publisher: str,
            signature: Path) -> Status:
    """passed / warned / failed / errored, from what the check found and the publisher's rule."""
    if report.problem == "unreadable":
        return Status.ERRORED
    if report.status == "unsigned":
        why = "is listed as required to sign" if rule and rule.required else "must sign (require_unlisted)"
        if required:
            report.findings.append(Finding(
                Severity.HIGH, "unsigned-required",
                f"{publisher} {why}, but {report.error or 'no signature verifies'}", "curator",
                file=signature.name))
            return Status.FAILED
        if report.problem == "missing":
            report.findings.append(Finding(
                Severity.MEDIUM, "unsigned",
                f"no {signature.name}: nothing vouches that these are {publisher}'s bytes", "curator"))
        return Status.WARNED
    if report.status == "failed":
        return Status.FAILED
    if any(f.severity.rank >= Severity.MEDIUM.rank for f in report.findings):
        return Status.WARNED
    return Status.PASSED


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("model-signing", "sigstore"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = ""
    return out
