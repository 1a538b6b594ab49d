"""The scan stage: can any file of the candidate run code (or attack its loader) when loaded?

curator's own checks (sniffing by content, a symbolic pickle walk, header and template
checks, bounded unpacking) run first; modelscan, picklescan and modelaudit then read what
curator routes to them, each in its own child process. Nothing is ever deserialized here.
Code shipped with the model (``*.py``, ``auto_map``, unknown tokenizer classes) is a high
finding; the evidence's ``custom_code`` lists it (``checks/custom_code.py``).
"""

from __future__ import annotations

from dataclasses import replace

from curator.core.models import Finding, Severity, StageResult, Status
from curator.core.progress import Progress
from curator.core.stage import ReviewContext, Stage
from curator.stages.scan.checks.custom_code import custom_code_evidence
from curator.stages.scan.config import ScanConfig
from curator.stages.scan.report import ScanReport, Verdict
from curator.stages.scan.run import FileToScan, files_under, scan_paths

__all__ = ["FileToScan", "ScanConfig", "ScanReport", "ScanStage", "Verdict", "files_under", "scan_paths"]


class ScanStage(Stage):
    """Every file the fetch stage pinned gets a verdict: clean, blocked or unscanned."""

    name = "scan"
    title = "Scan for code"
    requires = ("fetch",)

    def run(self, ctx: ReviewContext, progress: Progress) -> StageResult:
        config = ScanConfig.from_section(ctx.policy.section("scan"), ctx.policy.directory)
        manifest = ctx.manifest
        if manifest is None:
            return StageResult(self.name, Status.ERRORED, (Finding(
                Severity.HIGH, "no-manifest", "the fetch stage left no manifest to scan; run fetch first"),))
        files = [FileToScan(f.path, f.size) for f in manifest.files]
        report = scan_paths(ctx.files_dir, files, config, progress, scratch_parent=ctx.work_dir)
        evidence = replace(report.evidence(manifest),
                           custom_code=custom_code_evidence(report.files, config.blocks))
        return StageResult(self.name, report.status, tuple(report.findings()), evidence.to_evidence(),
                           report.tool_versions)
