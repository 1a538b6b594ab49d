"""Signature stage: OpenSSF model signature verified offline, signer held to the publishers list.

Evidence keys (other stages and the TUI read them; keep them stable):
``status`` verified | failed | unsigned; ``mode`` sigstore | certificate | key | none;
``signer`` ({kind, identity, issuer, ...} | {kind, subject, fingerprint, anchor_fingerprint, ...}
| {kind, fingerprint}); ``publisher``; ``trust`` {decision: expected | unknown | tofu-new |
tofu-match | mismatch, why, expected[]}; ``transparency`` {log_index, integrated_time, ...}
when the bundle has a Rekor entry; ``files[{path, signed_sha256, manifest_sha256, state}]``
with state match | mismatch | missing | unsigned | ignored; ``ignore_paths``;
``provenance`` {attestations[{file, line, format, status, signer, trust, predicate_type,
subjects[{name, sha256, state}], covers[], weights_not_covered[], facts{builder, build_type,
source{repo, commit}, parameters, dependencies[], base_models[]}, usable}], usable} when the
candidate ships attestations (``provenance.py``); ``first_use`` {endpoint, org, recorded,
on_record} for a hub publisher held to its first signer (``first_use.py``, ``tofu.py``).
A publisher's identity is proven only when status == verified and trust.decision is
expected or tofu-match.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curator.core.errors import UsageError
from curator.core.evidence.fetch import FetchEvidence
from curator.core.models import Finding, Severity, StageResult, Status
from curator.core.progress import Progress
from curator.core.stage import ReviewContext, Stage
from curator.stages.signature.check import CheckOptions, SignatureReport, check_signature, evidence
from curator.stages.signature.coverage import CODE_SUFFIXES, WEIGHT_SUFFIXES, suffixes
from curator.stages.signature.first_use import KEY_FILES, FirstUse
from curator.stages.signature.provenance import check_provenance
from curator.stages.signature.tofu import Publisher
from curator.stages.signature.trust import (
    PublisherRule,
    TrustDecision,
    against_anchors,
    load_publishers,
    publisher_of,
    rule_for,
)
from curator.stages.signature.trust_config import TRUST_CONFIG_FILE
from curator.stages.signature.verify import Anchor
from curator.stages.signature.withdrawn import withdrawn_findings

SECTION_KEYS = {"file", "trust_config", "require_unlisted", "trust_on_first_use", "unsigned_files",
                "ignore_paths", "card_files", "tofu_unsigned_after_first", "publisher_key_files",
                "weight_suffixes"}


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
        signature = ctx.files_dir / str(cfg.get("file", "model.sig"))
        manifest = ctx.manifest
        first_use = _first_use(ctx, cfg, rule, publisher)
        anchors = list(rule.signers) if rule and rule.signers else (
            first_use.key_anchors(signature) if first_use else [])
        options = CheckOptions(
            extra_ignore=tuple(str(p) for p in cfg.get("ignore_paths") or []),
            unsigned_files=str(cfg.get("unsigned_files", "fail")),
            card_files=tuple(str(p) for p in cfg.get("card_files", ["README.md"])),
            must_sign=suffixes((*_weights(cfg), *CODE_SUFFIXES)),
        )
        progress.advance(1, f"verifying {signature.name}")
        progress.check()

        def decide(signer: dict[str, Any]) -> TrustDecision:
            if rule and rule.signers:
                return against_anchors(list(rule.signers), signer, f"publisher {publisher}")
            if ctx.candidate.source == "local":  # a folder name is no publisher to hold to a signer
                return TrustDecision("unknown", f"{ctx.candidate.repo_id} is a local folder, not a hub "
                                     "publisher's repo: the signer is shown, not vouched for")
            if first_use is not None:
                return first_use.judge(signer)
            return TrustDecision("unknown", f"{publisher} is not in publishers.yaml and no earlier "
                                 "signer is on record: the signer is shown, not vouched for")

        report = check_signature(
            ctx.files_dir, signature, anchors, directory / str(cfg.get("trust_config", TRUST_CONFIG_FILE)),
            decide, options, {f.path: f.sha256 for f in manifest.files} if manifest else None)
        progress.advance(1, "comparing signed digests")
        progress.check()
        _withdrawn(report, ctx)  # before first use: a withdrawn release never becomes the first signer
        if first_use is not None:
            first_use.settle(report, manifest is not None, signature.name)
        status = _status(report, required, rule, publisher, signature)
        facts = evidence(report, signature)
        facts.update({
            "publisher": publisher,
            "publisher_rule": ({"match": rule.match, "required": rule.required, "note": rule.note}
                               if rule else None),
            "required": required,
            "compared_with": "fetch manifest" if manifest else "folder",
        })
        if first_use is not None:
            facts["first_use"] = first_use.evidence()
        trusted = report.status == "verified" and report.trust is not None and report.trust.trusted
        trusted_signer = report.signer if trusted else None
        attested = check_provenance(ctx.files_dir, manifest, signature.name,
                                    _provenance_anchors(rule, trusted_signer),
                                    directory / str(cfg.get("trust_config", TRUST_CONFIG_FILE)),
                                    f"publisher {publisher}", trusted_signer, _weights(cfg))
        if attested.attestations:
            facts["provenance"] = attested.evidence()
            status = attested.status(status)
        progress.advance(1, report.status)
        return StageResult(stage=self.name, status=status, findings=(*report.findings, *attested.findings),
                           evidence=facts, tool_versions=_versions())


def _first_use(ctx: ReviewContext, cfg: dict[str, Any], rule: PublisherRule | None,
               org: str) -> FirstUse | None:
    """Trust on first use applies to a hub candidate of an unlisted publisher, with a ledger."""
    if (rule is not None and rule.signers) or ctx.candidate.source == "local" or ctx.ledger is None:
        return None
    if not cfg.get("trust_on_first_use", True):
        return None
    endpoint = FetchEvidence.of(ctx.results.get("fetch")).endpoint or ctx.candidate.endpoint
    manifest = ctx.manifest
    return FirstUse(ctx.ledger, Publisher.of(str(endpoint) if endpoint else None, org), ctx.review_id,
                    ctx.files_dir, ctx.work_dir / "first-use-keys",
                    [f.path for f in manifest.files] if manifest else [],
                    [str(p) for p in cfg.get("publisher_key_files", KEY_FILES)],
                    str(cfg.get("tofu_unsigned_after_first", "fail")), curators=ctx.curators)


def _withdrawn(report: SignatureReport, ctx: ReviewContext) -> None:
    """A verified signature of a retired or rejected release fails, of a superseded one warns
    (``withdrawn.py``)."""
    if report.status != "verified":
        return
    signed = [(f.path, f.manifest_sha256) for f in report.files if f.state == "match" and f.manifest_sha256]
    found = withdrawn_findings(signed, ctx.standings, ctx.ledger, ctx.review_id)
    report.findings.extend(found)
    withdrawn = [f for f in found if f.severity.rank >= Severity.HIGH.rank]
    if withdrawn:
        report.status, report.error = "failed", withdrawn[0].message


def _provenance_anchors(rule: PublisherRule | None, trusted_signer: dict[str, Any] | None) -> list[Anchor]:
    """Who may sign attestations: the listed signers, else a key the stage trusts on first use."""
    if rule and rule.signers:
        return list(rule.signers)
    if trusted_signer and trusted_signer.get("kind") == "key" and trusted_signer.get("public_key"):
        return [Anchor("key", public_key=Path(str(trusted_signer["public_key"])))]
    return []


def _weights(cfg: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(s) for s in cfg.get("weight_suffixes", WEIGHT_SUFFIXES))


def _section(ctx: ReviewContext) -> dict[str, Any]:
    cfg: dict[str, Any] = ctx.policy.section("signature")
    unknown = set(cfg) - SECTION_KEYS
    if unknown:
        raise UsageError(f"checklist section 'signature' has unknown keys: {', '.join(sorted(unknown))}",
                         f"use only {', '.join(sorted(SECTION_KEYS))}")
    for key in ("unsigned_files", "tofu_unsigned_after_first"):
        if cfg.get(key, "fail") not in ("fail", "warn"):
            raise UsageError(f"checklist signature.{key} must be 'fail' or 'warn'", "fix default.yaml")
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
