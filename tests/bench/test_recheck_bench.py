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


def _timed_scan(root: Path, names: list[str], config: ScanConfig, scratch: Path) -> tuple[float, set[str]]:
    started = time.perf_counter()
    report = scan_paths(root, [f for f in files_under(root, config) if f.path in names], config,
                        Progress("scan", [], threading.Event()), scratch_parent=scratch)
    return time.perf_counter() - started, {f.verdict.value for f in report.files}


def _timed_hash(paths: list[Path]) -> float:
    started = time.perf_counter()
    for p in paths:
        with open(p, "rb") as fh:
            hashlib.file_digest(fh, "sha256")
    return time.perf_counter() - started


def test_recheck_against_hashing(tmp_path: Path) -> None:
    root = tmp_path / "model"
    paths = _model(root)
    policy = Policy.load(isolated_checklists(tmp_path / "checklists", ["fetch", "scan"]))
    config = replace(ScanConfig.from_section(policy.section("scan"), policy.directory), scanners=())
    for label, chosen in (("safetensors shards + config", [p for p in paths if p.suffix != ".pkl"]),
                          ("a plain-data pickle", [p for p in paths if p.suffix == ".pkl"])):
        hashing = _timed_hash(chosen)
        rescan, verdicts = _timed_scan(root, [p.name for p in chosen], config, tmp_path / "scratch")
        size = sum(p.stat().st_size for p in chosen) / MIB
        print(f"\nre-check of {label} ({size:.0f} MiB): hashing {hashing:.2f} s, curator's own scan "
              f"checks {rescan:.2f} s (ratio {rescan / hashing:.2f}); verdicts {sorted(verdicts)}")
        assert verdicts == {"clean"}
