"""Scan-stage cost against hashlib.file_digest of the same bytes, measured in the same run.

Reported, never asserted on timing: ``make bench`` prints the ratios. Target (issue #3): on a
~2 GiB safetensors model and a ~1 GiB torch zip, scanning costs <= 1.0x of hashing them, i.e.
curator reads each big weight file at most once more (here: only headers and pickles).
The bench files are generated under /tmp by the bench itself, never committed.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import threading
import time
import zipfile
from pathlib import Path

import pytest

from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.stages.scan import ScanConfig, ScanReport, files_under, scan_paths
from tests.scan.pickles import benign_state_dict

MIB, GIB = 1 << 20, 1 << 30
BLOCK = os.urandom(16 * MIB)


def _fill(fh: object, size: int) -> None:
    write = fh.write  # type: ignore[attr-defined]
    while size > 0:
        n = min(size, len(BLOCK))
        write(BLOCK[:n])
        size -= n


def _safetensors(path: Path, tensors: int, tensor_bytes: int) -> Path:
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    for i in range(tensors):
        header[f"layers.{i}.weight"] = {"dtype": "F16", "shape": [tensor_bytes // 2],
                                        "data_offsets": [i * tensor_bytes, (i + 1) * tensor_bytes]}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        _fill(fh, tensors * tensor_bytes)
    return path


def _torch_zip(path: Path, storages: int, storage_bytes: int) -> Path:
    tensors = {f"layers.{i}.weight": ("HalfStorage", (storage_bytes // 2,)) for i in range(storages)}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("pytorch_model/data.pkl", benign_state_dict(tensors))
        for key in range(storages):
            with zf.open(f"pytorch_model/data/{key}", "w", force_zip64=True) as member:
                _fill(member, storage_bytes)
        zf.writestr("pytorch_model/version", b"3\n")
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("scan-bench")
    (root / "safetensors").mkdir()
    (root / "torch").mkdir()
    return {"2 GiB safetensors": _safetensors(root / "safetensors" / "model.safetensors", 16, 128 * MIB),
            "1 GiB torch zip": _torch_zip(root / "torch" / "pytorch_model.bin", 8, 128 * MIB)}


def _hash_seconds(paths: list[Path]) -> float:
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        for path in paths:
            with open(path, "rb") as fh:
                hashlib.file_digest(fh, "sha256")
        best = min(best, time.perf_counter() - start)
    return best


def _rchar() -> int:
    """Bytes read through read() calls by this process and its reaped children (the scanners)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    return 0


def _scan(folder: Path) -> tuple[float, int, ScanReport]:
    config = ScanConfig.from_section(Policy.load().section("scan"))
    best, read, report = float("inf"), 0, None
    for _ in range(2):  # the second run's bytes: the first one also reads modules being imported
        before, start = _rchar(), time.perf_counter()
        progress = Progress("scan", [], threading.Event())
        report = scan_paths(folder, files_under(folder, config), config, progress)
        best = min(best, time.perf_counter() - start)
        read = _rchar() - before
    assert report is not None
    return best, read, report


def test_scan_cost_against_hashing(models: dict[str, Path]) -> None:
    rows = []
    total_hash = total_scan = 0.0
    for label, path in models.items():
        hashed = _hash_seconds([path])
        scanned, read, report = _scan(path.parent)
        assert [f.verdict.value for f in report.files] == ["clean"]
        total_hash += hashed
        total_scan += scanned
        slowest = max(report.runs.values(), key=lambda r: r.seconds, default=None)
        rows.append(f"  {label:18s} {path.stat().st_size / GIB:5.2f} GiB  hash {hashed:6.2f}s  "
                    f"scan {scanned:6.2f}s  ratio {scanned / hashed:5.2f}x  read by scan+scanners "
                    f"{read / MIB:7.1f} MiB  slowest scanner "
                    f"{slowest.name if slowest else '-'} {slowest.seconds if slowest else 0:.2f}s")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\nscan stage vs hashlib.file_digest (sha256, warm cache, best of 2; load average {load})")
    print("\n".join(rows))
    print(f"  {'both':18s}            hash {total_hash:6.2f}s  scan {total_scan:6.2f}s  "
          f"ratio {total_scan / total_hash:5.2f}x  (target <= 1.0x)")
