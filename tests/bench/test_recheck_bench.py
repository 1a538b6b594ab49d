"""What ``decide``'s re-check costs, as a ratio of hashing the same bytes (which decide already
pays to re-hash the pinned files).

Reported, never asserted on timing: ``make bench`` prints the figures. The re-check runs
curator's own scan checks (in process) over the pinned files: a few safetensors shards,
a config and a pickle (where the scan's cost lies: it scales with the pickle, not the weights).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
import time
from dataclasses import replace
from pathlib import Path

from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.stages.scan import ScanConfig
from curator.stages.scan.run import files_under, scan_paths
from tests.decision.helpers import isolated_checklists

MIB = 1 << 20
SHARDS = 4
SHARD_FLOATS = 64 * MIB  # 256 MiB of float32 per shard: 1 GiB in all


def _model(folder: Path) -> list[Path]:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"model_type": "bench"}\n')
    for i in range(SHARDS):
        header = (b'{"w": {"dtype": "F32", "shape": [%d], "data_offsets": [0, %d]}}'
                  % (SHARD_FLOATS, 4 * SHARD_FLOATS))
        header += b" " * (-len(header) % 8)
        with open(folder / f"model-{i}.safetensors", "wb") as fh:
            fh.write(len(header).to_bytes(8, "little") + header)
            chunk = os.urandom(16 * MIB)
            for _ in range(4 * SHARD_FLOATS // len(chunk)):
                fh.write(chunk)
    # a plain-data pickle of ~20 MB: many small objects, as an optimizer state would be
    data = {f"p{i}": [float(i), i, str(i)] for i in range(400_000)}
    (folder / "optimizer.pkl").write_bytes(pickle.dumps(data, protocol=2))
    return sorted(p for p in folder.iterdir())


def test_recheck_against_hashing(tmp_path: Path) -> None:
    paths = _model(tmp_path / "model")
    started = time.perf_counter()
    for p in paths:
        with open(p, "rb") as fh:
            hashlib.file_digest(fh, "sha256")
    hashing = time.perf_counter() - started
    policy = Policy.load(isolated_checklists(tmp_path / "checklists", ["fetch", "scan"]))
    config = replace(ScanConfig.from_section(policy.section("scan"), policy.directory), scanners=())
    started = time.perf_counter()
    report = scan_paths(tmp_path / "model", files_under(tmp_path / "model", config), config,
                        Progress("scan", [], threading.Event()), scratch_parent=tmp_path / "scratch")
    rescan = time.perf_counter() - started
    total = sum(p.stat().st_size for p in paths)
    print(f"\nre-check on {total / MIB:.0f} MiB: hashing {hashing:.2f} s, own scan checks {rescan:.2f} s "
          f"(ratio {rescan / hashing:.2f}); verdicts {sorted({f.verdict.value for f in report.files})}")
    assert {f.verdict.value for f in report.files} <= {"clean", "blocked", "unscanned"}
