"""Fetch-stage hashing throughput against hashlib.file_digest, measured in the same run.

Reported, never asserted on timing: ``make bench`` prints the ratios. Targets (issue #2):
>= 0.9x of file_digest per core on one big file, and faster than one core on a multi-file model.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from curator.core.models import Candidate
from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.core.stage import ReviewContext
from curator.stages.fetch import FetchStage

GIB = 1 << 30


def _write(path: Path, size: int) -> None:
    block = os.urandom(1 << 24)
    with open(path, "wb") as fh:
        for _ in range(size // len(block)):
            fh.write(block)


def _reference(paths: list[Path]) -> float:
    """Single-core hashlib.file_digest over the same files, best of two."""
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        for p in paths:
            with open(p, "rb") as fh:
                hashlib.file_digest(fh, "sha256")
        best = min(best, time.perf_counter() - start)
    return best


def _fetch(folder: Path) -> float:
    import threading

    ctx = ReviewContext("bench", Candidate("local/bench", "local", "local", path=str(folder)),
                        folder, folder, Policy.load())
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        result = FetchStage().run(ctx, Progress("fetch", [], threading.Event()))
        best = min(best, time.perf_counter() - start)
        assert result.evidence["total_bytes"] >= GIB
    return best


@pytest.mark.parametrize("files", [1, 4])
def test_fetch_hashing_vs_file_digest(tmp_path_factory: pytest.TempPathFactory, files: int) -> None:
    folder = tmp_path_factory.mktemp(f"model{files}")
    paths = [folder / f"model-{i:05d}.safetensors" for i in range(files)]
    for p in paths:
        _write(p, GIB // files)
    ref = _reference(paths)
    ours = _fetch(folder)
    ratio = ref / ours
    print(f"\n[bench] fetch hashing, {files} file(s), 1 GiB: file_digest {GIB / ref / 1e6:.0f} MB/s "
          f"(1 core), fetch stage {GIB / ours / 1e6:.0f} MB/s on {os.cpu_count()} cores: "
          f"ratio {ratio:.2f}x (target {'>= 0.9' if files == 1 else '> 1.0'})")


def test_local_review_copy_vs_file_digest(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A review copies a local folder into its own while hashing (issue #16): the cost of that copy."""
    import threading

    folder = tmp_path_factory.mktemp("local-model")
    paths = [folder / f"model-{i:05d}.safetensors" for i in range(4)]
    for p in paths:
        _write(p, GIB // 4)
    ref = _reference(paths)
    best = float("inf")
    for attempt in range(2):
        review = tmp_path_factory.mktemp(f"review{attempt}")
        ctx = ReviewContext("bench", Candidate("local/bench", "local", "local", path=str(folder)),
                            review / "files", review, Policy.load())
        start = time.perf_counter()
        result = FetchStage().run(ctx, Progress("fetch", [], threading.Event()))
        best = min(best, time.perf_counter() - start)
        assert result.evidence["copied_to"] == str(review / "files")
        assert sorted(p.name for p in (review / "files").iterdir()) == [p.name for p in paths]
    print(f"\n[bench] local review copy+hash of 1 GiB in 4 files: {GIB / best / 1e6:.0f} MB/s; "
          f"file_digest {GIB / ref / 1e6:.0f} MB/s (1 core): ratio {ref / best:.2f}x")
