"""Fetch & hash-pin: every file of the pinned commit, SHA-256'd in the pass that writes it."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from curator.core.hashing import hash_files
from curator.core.models import FileEntry, Finding, Manifest, Severity, StageResult, Status
from curator.core.paths import escapes, unsafe_reason
from curator.core.progress import Progress
from curator.core.stage import ReviewContext, Stage
from curator.stages.fetch.download import PARTIAL_DIR, Downloaded, Source, fetch_file
from curator.stages.fetch.hub import RemoteFile, endpoint_of, remote_files

MISMATCH_TEXT = {
    "sha256-mismatch": "SHA-256 differs from the hub's LFS pointer",
    "git-sha1-mismatch": "git blob SHA-1 differs from the hub's blob id",
    "size-mismatch": "size differs from the hub's metadata",
    "etag-mismatch": "the server's X-Linked-Etag differs from the hub's LFS pointer",
    "wrong-commit": "served from another commit than the pinned one",
    "file-too-large": "larger than the policy's size cap",
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
        refused = _refusals(remotes, max_bytes)
        evidence: dict[str, Any] = {
            "repo_id": candidate.repo_id, "revision": candidate.revision,
            "commit": candidate.commit, "endpoint": endpoint_of(candidate),
        }
        if refused:  # nothing is written for a repo whose file list is unsafe
            return self._result(Status.FAILED, refused, evidence, [], [])
        progress.set_total(sum(r.size or 0 for r in remotes))
        source = Source(
            session=get_session(), endpoint=endpoint_of(candidate), repo_id=candidate.repo_id,
            commit=candidate.commit, headers=build_hf_headers(token=os.environ.get("HF_TOKEN")),
            max_bytes=max_bytes, retries=int(cfg.get("retries", 4)),
            timeout=float(cfg.get("timeout_seconds", 30)),
        )
        ctx.files_dir.mkdir(parents=True, exist_ok=True)
        workers = int(cfg.get("parallel_files", 4))
        biggest_first = sorted(remotes, key=lambda r: r.size or 0, reverse=True)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            outcomes = list(pool.map(lambda r: fetch_file(source, r, ctx.files_dir, progress),
                                     biggest_first))
        shutil.rmtree(ctx.files_dir / PARTIAL_DIR, ignore_errors=True)
        stray = _stray_files(ctx.files_dir, {r.path for r in remotes})
        findings = [f for o in outcomes for f in _mismatch_findings(o)]
        findings += [Finding(Severity.HIGH, "unexpected-file", f"{p} is not in the pinned commit",
                             file=p) for p in stray]
        evidence["checks"] = {o.path: o.check for o in outcomes}
        evidence["resumed"] = {o.path: o.resumed_from for o in outcomes if o.resumed_from}
        status = Status.FAILED if findings else Status.PASSED
        return self._result(status, findings, evidence, [o for o in outcomes if o.ok],
                            [o for o in outcomes if not o.ok])

    # -- a local folder -------------------------------------------------------------------
    def _local(self, ctx: ReviewContext, progress: Progress, cfg: dict[str, Any]) -> StageResult:
        root = ctx.files_dir
        ignore = set(cfg.get("local_ignore", []))
        findings: list[Finding] = []
        paths: list[Path] = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d not in ignore)
            for name in sorted(filenames + [d for d in dirnames if os.path.islink(Path(dirpath, d))]):
                path = Path(dirpath, name)
                rel = path.relative_to(root).as_posix()
                if path.is_symlink() and escapes(root, path):
                    findings.append(Finding(Severity.CRITICAL, "symlink-escapes",
                                            f"{rel} links outside the model folder "
                                            f"(to {os.path.realpath(path)})", file=rel))
                elif path.is_file():
                    paths.append(path)
        too_big = [p for p in paths if p.stat().st_size > int(cfg.get("max_file_bytes", 64 << 30))]
        findings += [Finding(Severity.HIGH, "file-too-large",
                             f"{p.relative_to(root)} is larger than the policy's size cap",
                             file=p.relative_to(root).as_posix()) for p in too_big]
        progress.set_total(sum(p.stat().st_size for p in paths))
        hashed = hash_files(paths, int(cfg.get("parallel_files", 4)), lambda n: progress.advance(n))
        files = [Downloaded(p.relative_to(root).as_posix(), size, digest, check="local")
                 for p, (size, digest) in hashed.items()]
        evidence = {"path": str(root), "repo_id": ctx.candidate.repo_id}
        status = Status.FAILED if findings else Status.PASSED
        return self._result(status, findings, evidence, files, [])

    def _result(self, status: Status, findings: list[Finding], evidence: dict[str, Any],
                good: list[Downloaded], bad: list[Downloaded]) -> StageResult:
        manifest = Manifest(tuple(FileEntry(o.path, o.size, o.sha256) for o in good))
        evidence = {
            **evidence,
            "files": manifest.to_list(),
            "manifest_digest": manifest.digest,
            "total_bytes": manifest.total_size,
            "mismatches": [{"path": o.path, "size": o.size, "sha256": o.sha256,
                            "problems": o.problems} for o in bad],
        }
        import huggingface_hub

        return StageResult(stage=self.name, status=status, findings=tuple(findings),
                           evidence=evidence,
                           tool_versions={"huggingface_hub": huggingface_hub.__version__})


def _refusals(remotes: list[RemoteFile], max_bytes: int) -> list[Finding]:
    findings = []
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
    return findings


def _mismatch_findings(outcome: Downloaded) -> list[Finding]:
    findings = []
    for p in outcome.problems:
        what = MISMATCH_TEXT.get(p["code"], p["code"])
        detail = f": expected {p['expected']}, got {p['actual']}" if "expected" in p else ""
        findings.append(Finding(Severity.CRITICAL, p["code"], f"{outcome.path}: {what}{detail}",
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
