"""Fetch & hash-pin: every file of the pinned commit, SHA-256'd in the pass that writes it.

A local folder is copied into the review's own folder in the same pass, so every later
stage (scan, signature, card, eval, push) reads the bytes that were pinned, not a folder
someone may still be editing.
"""

from __future__ import annotations

import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from curator.core.errors import IntegrityError, UsageError
from curator.core.evidence.fetch import FetchEvidence, Mismatch
from curator.core.hashing import hash_files
from curator.core.models import FileEntry, Finding, Manifest, Severity, StageResult, Status
from curator.core.paths import collisions, escapes, unsafe_reason
from curator.core.progress import Progress
from curator.core.stage import ReviewContext, Stage
from curator.stages.fetch.download import Downloaded, Source, fetch_file, partial_dir
from curator.stages.fetch.hub import RemoteFile, endpoint_of, hf_token_for, remote_files
from curator.stages.fetch.pinned_copy import copy_pinned

MISMATCH_TEXT = {
    "sha256-mismatch": "SHA-256 differs from the hub's LFS pointer",
    "git-sha1-mismatch": "git blob SHA-1 differs from the hub's blob id",
    "size-mismatch": "size differs from the hub's metadata",
    "etag-mismatch": "the server's X-Linked-Etag differs from the hub's LFS pointer",
    "wrong-commit": "served from another commit than the pinned one",
    "file-too-large": "larger than the policy's size cap",
}
UNVERIFIED_TEXT = {
    "size-only": "the hub declared no SHA-256 or git blob id for it: only its size was compared",
    "unchecked": "the hub declared no size, SHA-256 or git blob id for it: nothing was compared",
}


class FetchStage(Stage):
    """Pin, download (or hash in place) and cross-check every file of a candidate."""

    name = "fetch"
    title = "Download & hash-pin"
    requires = ()

    def run(self, ctx: ReviewContext, progress: Progress) -> StageResult:
        cfg = ctx.policy.section("fetch")
        if ctx.candidate.source == "local":
            return self._local(ctx, progress, cfg)
        return self._hub(ctx, progress, cfg)

    # -- a hub repo -----------------------------------------------------------------------
    def _hub(self, ctx: ReviewContext, progress: Progress, cfg: dict[str, Any]) -> StageResult:
        from huggingface_hub import get_session
        from huggingface_hub.utils._headers import build_hf_headers

        candidate = ctx.candidate
        assert candidate.commit, "the review opens with a pinned commit"
        remotes = remote_files(candidate)
        max_bytes = int(cfg.get("max_file_bytes", 64 << 30))
        refused = _refusals(remotes, max_bytes, int(cfg.get("max_total_bytes", 256 << 30)))
        pin = FetchEvidence(repo_id=candidate.repo_id, revision=candidate.revision, commit=candidate.commit,
                            endpoint=endpoint_of(candidate))
        if refused:  # nothing is written for a repo whose file list is unsafe
            return self._result(Status.FAILED, refused, pin, [], [])
        progress.set_total(sum(r.size or 0 for r in remotes))
        endpoint = endpoint_of(candidate)
        source = Source(
            session=get_session(), endpoint=endpoint, repo_id=candidate.repo_id,
            commit=candidate.commit, headers=build_hf_headers(token=hf_token_for(endpoint)),
            max_bytes=max_bytes, retries=int(cfg.get("retries", 4)),
            timeout=float(cfg.get("timeout_seconds", 30)),
            file_seconds=float(cfg.get("file_timeout_seconds", 3600)),
            deadline=time.monotonic() + float(cfg.get("stage_timeout_seconds", 6 * 3600)),
        )
        ctx.files_dir.mkdir(parents=True, exist_ok=True)
        workers = int(cfg.get("parallel_files", 4))
        biggest_first = sorted(remotes, key=lambda r: r.size or 0, reverse=True)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(lambda r: fetch_file(source, r, ctx.files_dir, progress),
                                     biggest_first))
        shutil.rmtree(partial_dir(ctx.files_dir), ignore_errors=True)
        stray = _stray_files(ctx.files_dir, {r.path for r in remotes})
        findings = [f for o in outcomes for f in _mismatch_findings(o)]
        findings += [Finding(Severity.HIGH, "unexpected-file", f"{p} is not in the pinned commit",
                             file=p) for p in stray]
        unverified = [Finding(Severity.MEDIUM, "unverified-file", f"{o.path}: {UNVERIFIED_TEXT[o.check]}",
                              file=o.path) for o in outcomes if o.ok and o.check in UNVERIFIED_TEXT]
        pin = replace(pin, checks={o.path: o.check for o in outcomes},
                      resumed={o.path: o.resumed_from for o in outcomes if o.resumed_from}, downloaded=True)
        status = Status.FAILED if findings else Status.WARNED if unverified else Status.PASSED
        findings += unverified
        return self._result(status, findings, pin, [o for o in outcomes if o.ok],
                            [o for o in outcomes if not o.ok])

    # -- a local folder -------------------------------------------------------------------
    def _local(self, ctx: ReviewContext, progress: Progress, cfg: dict[str, Any]) -> StageResult:
        source = Path(ctx.candidate.path) if ctx.candidate.path else ctx.files_dir
        dest = ctx.files_dir
        if not source.is_dir():
            raise UsageError(f"the local candidate {source} is not a folder (moved or deleted?)",
                             "restore it, or review the folder where it is now")
        # only the one-off commands hash a folder where it is; a review always copies it
        in_place = dest.exists() and os.path.samefile(source, dest)
        paths, findings = _local_files(source, set(cfg.get("local_ignore", [])))
        too_big = [p for p in paths if p.stat().st_size > int(cfg.get("max_file_bytes", 64 << 30))]
        findings += [Finding(Severity.HIGH, "file-too-large",
                             f"{p.relative_to(source)} is larger than the policy's size cap",
                             file=p.relative_to(source).as_posix()) for p in too_big]
        pin = FetchEvidence(repo_id=ctx.candidate.repo_id, path=str(source),
                            copied_to=None if in_place else str(dest))
        if findings:  # nothing is copied from a folder that is refused
            return self._result(Status.FAILED, findings, pin, [], [])
        progress.set_total(sum(p.stat().st_size for p in paths))
        workers = int(cfg.get("parallel_files", 4))
        if in_place:
            hashed = hash_files(paths, workers, lambda n: progress.advance(n))
        else:
            hashed = _copy_folder(source, dest, paths, workers, progress)
        files = [Downloaded(p.relative_to(source).as_posix(), size, digest, check="local")
                 for p, (size, digest) in hashed.items()]
        return self._result(Status.PASSED, findings, pin, files, [])

    def _result(self, status: Status, findings: list[Finding], pin: FetchEvidence,
                good: list[Downloaded], bad: list[Downloaded]) -> StageResult:
        manifest = Manifest(tuple(FileEntry(o.path, o.size, o.sha256) for o in good))
        evidence = pin.pinned(manifest, tuple(Mismatch(o.path, o.size, o.sha256, tuple(o.problems))
                                              for o in bad))
        import huggingface_hub

        return StageResult(stage=self.name, status=status, findings=tuple(findings),
                           evidence=evidence.to_evidence(),
                           tool_versions={"huggingface_hub": huggingface_hub.__version__})


def _refusals(remotes: list[RemoteFile], max_bytes: int, max_total: int) -> list[Finding]:
    findings = []
    declared = sum(r.size or 0 for r in remotes)
    if declared > max_total:  # many files each under the per-file cap still fill a disk
        findings.append(Finding(Severity.HIGH, "repo-too-large",
                                f"the hub lists {len(remotes)} files of {declared} bytes in all, over the "
                                f"cap of {max_total} (fetch.max_total_bytes); refusing the whole repo"))
    for r in remotes:
        reason = unsafe_reason(r.path)
        if reason:
            findings.append(Finding(Severity.CRITICAL, "unsafe-path",
                                    f"the hub lists {r.path!r}: {reason}; refusing the whole repo",
                                    file=r.path))
        elif r.size is not None and r.size > max_bytes:
            findings.append(Finding(Severity.HIGH, "file-too-large",
                                    f"{r.path} is {r.size} bytes, over the cap of {max_bytes}",
                                    file=r.path))
    return findings + _collision_findings([r.path for r in remotes], "the hub lists", "repo")


def _collision_findings(paths: list[str], where: str, what: str) -> list[Finding]:
    """Names that are one file on a case-insensitive or normalising file system.

    Which of them a consumer reads would depend on the order they land in, so the whole
    candidate is refused rather than one of them picked.
    """
    return [Finding(Severity.CRITICAL, "colliding-paths",
                    f"{where} {first!r} and {second!r}, one file (or a file and a folder) on a "
                    f"case-insensitive or Unicode-normalising file system; refusing the whole {what}",
                    file=second) for first, second in collisions(paths)]


def _mismatch_findings(outcome: Downloaded) -> list[Finding]:
    findings = []
    for p in outcome.problems:
        what = MISMATCH_TEXT.get(p.code, p.code)
        detail = f": expected {p.expected}, got {p.actual}" if p.limit is None else ""
        findings.append(Finding(Severity.CRITICAL, p.code, f"{outcome.path}: {what}{detail}",
                                file=outcome.path))
    return findings


def _stray_files(files_dir: Path, expected: set[str]) -> list[str]:
    """Files in the review folder that the pinned commit does not list."""
    stray = []
    for path in files_dir.rglob("*"):
        if path.is_file() or path.is_symlink():
            rel = path.relative_to(files_dir).as_posix()
            if rel not in expected:
                stray.append(rel)
    return sorted(stray)


def _local_files(root: Path, ignore: set[str]) -> tuple[list[Path], list[Finding]]:
    """The files of a local candidate, and why any of its names or links is refused."""
    findings: list[Finding] = []
    paths: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in ignore)
        for name in sorted(filenames + [d for d in dirnames if os.path.islink(Path(dirpath, d))]):
            path = Path(dirpath, name)
            rel = path.relative_to(root).as_posix()
            reason = unsafe_reason(rel)
            if reason:
                findings.append(Finding(Severity.CRITICAL, "unsafe-path",
                                        f"the folder holds {rel!r}: {reason}; refusing the whole folder",
                                        file=rel))
            elif path.is_symlink() and escapes(root, path):
                findings.append(Finding(Severity.CRITICAL, "symlink-escapes",
                                        f"{rel} links outside the model folder "
                                        f"(to {os.path.realpath(path)})", file=rel))
            elif path.is_file():
                paths.append(path)
            elif not path.is_dir():  # FIFO, socket, device, dangling link: no bytes to pin
                findings.append(Finding(Severity.HIGH, "not-a-file",
                                        f"{rel} is not a regular file (a FIFO, socket, device or "
                                        "dangling link); remove it from the folder", file=rel))
    findings += _collision_findings([p.relative_to(root).as_posix() for p in paths],
                                    "the folder holds", "folder")
    return paths, findings


def _copy_folder(source: Path, dest: Path, paths: list[Path], workers: int,
                 progress: Progress) -> dict[Path, tuple[int, str]]:
    """Copy ``paths`` (under ``source``) into a fresh ``dest``, hashing what lands there."""
    staging = partial_dir(dest)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)

    def one(path: Path) -> tuple[Path, tuple[int, str]]:
        # a link allowed inside the folder is copied as the file it names
        real = Path(os.path.realpath(path)) if path.is_symlink() else path
        if path.is_symlink() and escapes(source, real):
            raise IntegrityError(f"{path} now links outside the model folder", "fetch the folder again")
        return path, copy_pinned(real, staging / path.relative_to(source), lambda n: progress.advance(n))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        hashed = dict(pool.map(one, paths))
    shutil.rmtree(dest, ignore_errors=True)  # curator's own copy from an interrupted run
    os.replace(staging, dest)
    return hashed
