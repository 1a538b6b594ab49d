"""Hub download with hashing in the same pass vs snapshot_download plus hashing afterwards.

Both run against the local hub, served by its own process on loopback (as a real hub is
elsewhere), in the same run, best of two each; reported, never asserted on timing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.core.hashing import hash_files
from curator.core.models import Candidate
from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.core.stage import ReviewContext
from curator.stages.fetch import FetchStage
from curator.stages.fetch.hub import pin

MIB = 1 << 20


@pytest.fixture
def served(hub_store: Any) -> Iterator[str]:
    block = os.urandom(16 * MIB)
    files = {f"model-{i:05d}-of-00004.safetensors": block * 16 for i in range(4)}  # 4 x 256 MiB
    files["config.json"] = b"{}"
    hub_store.publish("bench/model", files)
    log = hub_store.root.parent / "hub.log"
    with open(log, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "curator", "hub", "serve", str(hub_store.root)],
                                stderr=sink, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while not (url := re.search(r"http://127\.0\.0\.1:\d+", log.read_text())):
        assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    try:
        yield url.group(0)
    finally:
        proc.terminate()
        proc.wait(10)


def test_fetch_vs_snapshot_download_then_hash(served: str, tmp_path: Path) -> None:
    from huggingface_hub import snapshot_download

    reference = ours = downloaded = float("inf")
    for attempt in range(2):
        start = time.perf_counter()
        folder = snapshot_download("bench/model", endpoint=served, max_workers=4,
                                   cache_dir=tmp_path / f"cache{attempt}")
        downloaded = min(downloaded, time.perf_counter() - start)
        hash_files([p for p in Path(folder).rglob("*") if p.is_file()])
        reference = min(reference, time.perf_counter() - start)

        candidate = pin(Candidate("bench/model", "main", "hub", endpoint=served))
        ctx = ReviewContext("bench", candidate, tmp_path / f"files{attempt}", tmp_path, Policy.load())
        start = time.perf_counter()
        result = FetchStage().run(ctx, Progress("fetch", [], threading.Event()))
        ours = min(ours, time.perf_counter() - start)
        assert result.status.value == "passed"
    total = result.evidence["total_bytes"]
    print(f"\n[bench] 1 GiB over loopback: snapshot_download {downloaded:.2f}s + hashing after = "
          f"{reference:.2f}s; fetch stage (hash while downloading, verified) {ours:.2f}s "
          f"= {total / ours / 1e6:.0f} MB/s; ratio {reference / ours:.2f}x of the reference")
