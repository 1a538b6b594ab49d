"""One code path for the stage and for ``curator scan PATH``: examine every file, run the scanners, judge."""

from __future__ import annotations

import os
import posixpath
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from curator.core.models import Finding, Severity
from curator.core.paths import escapes
from curator.core.progress import Progress
from curator.stages.scan.adapters import Scanner, ScannerRun, TargetOutcome, build_scanners
from curator.stages.scan.config import ScanConfig
from curator.stages.scan.examine import Examiner
from curator.stages.scan.report import ScanReport
from curator.stages.scan.targets import FileExam, ScanTarget
from curator.stages.scan.verdict import judge_file


@dataclass(frozen=True)
class FileToScan:
    """A file of the candidate: its path relative to the model folder, and its pinned size if known."""

    path: str
    expected_size: int | None = None


def files_under(root: Path, config: ScanConfig) -> list[FileToScan]:
    """Every file under a folder (or the file itself), skipping the policy's ignored folder names."""
    if root.is_file():
        return [FileToScan(root.name)]
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in config.ignore)
        for name in sorted(filenames):
            found.append(FileToScan(Path(dirpath, name).relative_to(root).as_posix()))
    return found


def scan_paths(root: Path, files: list[FileToScan], config: ScanConfig, progress: Progress,
               scratch_parent: Path | None = None) -> ScanReport:
    """Scan ``files`` of the model folder ``root`` (a folder, or one file's parent).

    Raises ``Cancelled`` if the user stops it; scratch copies are always removed.
    """
    started = time.monotonic()
    scanners = build_scanners(config)
    if scratch_parent is not None:
        scratch_parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="curator-scan-", dir=scratch_parent))
    try:
        progress.set_total(len(files) + len(scanners), unit="steps")
        examiner = Examiner(config, scratch / "units")
        exams = []
        for item in files:
            progress.check()
            exams.append(_examine(examiner, root, item))
            progress.advance(1, f"examined {item.path}")
        _claim_external_data(exams)
        runs = _run_scanners(scanners, [t for e in exams for t in e.targets], scratch, progress)
        progress.check()
        reports = tuple(judge_file(exam, runs, config) for exam in exams)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    policy = {"block_severities": sorted(s.value for s in config.block_severities),
              "allowed_formats": sorted(config.allowed_formats) if config.allowed_formats else "any",
              "scanners": list(config.scanners)}
    return ScanReport(reports, runs, time.monotonic() - started, policy, examiner.unpacked)


def _examine(examiner: Examiner, root: Path, item: FileToScan) -> FileExam:
    model_dir = root if root.is_dir() else root.parent
    path = model_dir / item.path if root.is_dir() else root
    if path.is_symlink() and escapes(model_dir, path):
        return FileExam(item.path, 0, "link", findings=[Finding(
            Severity.HIGH, "symlink-escapes", f"{item.path} links outside the model folder; not followed",
            file=item.path)])
    if not path.is_file():
        return FileExam(item.path, 0, "missing",
                        unread=[f"{item.path} is missing from the files folder or is not a regular file"])
    try:
        exam = examiner.examine(item.path, path, model_dir)
    except Exception as exc:  # a check that crashes must leave the file unscanned, never clean  # noqa: BLE001
        exam = FileExam(item.path, path.stat().st_size, "unknown",
                        unread=[f"curator's own check crashed on it ({exc!r})"])
    if item.expected_size is not None and exam.size != item.expected_size:
        exam.findings.append(Finding(Severity.HIGH, "file-changed-since-fetch",
                                     f"{item.path} is {exam.size} bytes; the manifest pinned "
                                     f"{item.expected_size}", file=item.path))
    return exam


def _claim_external_data(exams: list[FileExam]) -> None:
    """Raw bytes an ONNX model of the candidate reads its tensors from are that model's data, not unknowns."""
    referenced = set()
    for onnx in (e for e in exams if e.format == "onnx"):
        for part in onnx.parts:
            locations = part.get("external_data")
            folder = posixpath.dirname(onnx.path)
            for location in locations if isinstance(locations, list) else []:
                referenced.add(posixpath.normpath(posixpath.join(folder, str(location))))
    for exam in exams:
        if exam.format == "data" and exam.path in referenced and not exam.findings:
            exam.format = "onnx-external-data"
            exam.detail = "tensor bytes an ONNX model of the candidate reads"
            exam.unread = [u for u in exam.unread if not u.startswith(f"{exam.path}: data ")]


def _run_scanners(scanners: list[Scanner], targets: list[ScanTarget], scratch: Path,
                  progress: Progress) -> dict[str, ScannerRun]:
    """Every scanner over the targets it reads, in parallel child processes."""

    def one(scanner: Scanner) -> ScannerRun:
        mine, skipped = [], {}
        for target in targets:
            reason = scanner.accepts(target)
            if reason is None:
                mine.append(target)
            else:
                skipped[target.key] = reason
        # a file already given as a routed target needs no second, as-is reading
        routed = {t.path.resolve() for t in mine if t.format != "file"}
        for target in [t for t in mine if t.format == "file" and t.path.resolve() in routed]:
            mine.remove(target)
            skipped[target.key] = "already read as curator routed it"
        if not scanner.available():
            run = ScannerRun(scanner.name, "missing", "missing", skipped=skipped, outcomes={
                t.key: TargetOutcome(error=f"{scanner.name} is not installed") for t in mine})
        elif not mine:
            run = ScannerRun(scanner.name, scanner.version(), "idle", skipped=skipped)
        else:
            run = scanner.scan(mine, scratch / scanner.name, lambda: progress.cancelled)
            run = ScannerRun(run.name, run.version, run.status, run.seconds, run.exit_code, run.stderr_tail,
                             run.command, run.outcomes, skipped,
                             routed=sum(1 for t in mine if t.format != "file"))
        progress.advance(1, f"{scanner.name}: {run.status} on {len(mine)} targets in {run.seconds:.1f}s")
        return run

    if not scanners:
        return {}
    with ThreadPoolExecutor(max_workers=len(scanners)) as pool:
        return {run.name: run for run in pool.map(one, scanners)}
