"""Scan-stage cost against hashlib.file_digest of the same bytes, and against running the three
scanners by hand on the same files, measured in the same run.

Reported, never asserted on timing: ``make bench`` prints the ratios. Targets: on a ~2 GiB
safetensors model and a ~1 GiB torch zip, scanning costs <= 1.0x of hashing them (issue #3),
and on those and on a folder of 200 small pickles, ``curator scan`` (its own checks plus the
three scanners, in parallel) costs no more than modelscan + picklescan + modelaudit run one
after the other by hand (issue #14). The bench files are generated under /tmp by the bench.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.stages.scan import ScanConfig, ScanReport, files_under, scan_paths
from tests.scan.pickles import Ops, benign_state_dict

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


def _by_hand(folder: Path) -> dict[str, float]:
    """Seconds each scanner takes on the folder when run by hand, one after the other."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PROMPTFOO_DISABLE_TELEMETRY": "1", "NO_COLOR": "1"}
    out = folder.parent / f"{folder.name}-by-hand"
    out.mkdir(exist_ok=True)
    commands = {
        "modelscan": [str(bin_dir / "modelscan"), "-p", str(folder), "-r", "json", "-o",
                      str(out / "ms.json")],
        "picklescan": [str(bin_dir / "picklescan"), "-p", str(folder)],
        "modelaudit": [str(bin_dir / "modelaudit"), "scan", str(folder), "--no-cache", "-f", "json", "-o",
                       str(out / "ma.json")],
    }
    seconds = {}
    for name, command in commands.items():
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env, timeout=3600, check=False)
        seconds[name] = time.perf_counter() - start
    return seconds


@pytest.fixture(scope="module")
def small_pickles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 small pickles as repos hold them: torch state dicts, plain dicts, pickles of allowed classes.

    The last kind is what modelaudit reads (curator skips it only for plain state dicts).
    """
    folder = tmp_path_factory.mktemp("scan-bench-small") / "pickles"
    folder.mkdir()
    for i in range(200):
        if i % 3 == 0:
            ops = Ops(2).global_("argparse", "Namespace").empty_tuple().newobj().empty_dict().mark()
            for j in range(20):
                ops.string(f"arg{j}").global_("numpy.core.multiarray", "_reconstruct")
                ops.global_("numpy", "ndarray").mark().int_(0).tuple_().string("b").tuple3().reduce()
            (folder / f"args{i:03d}.pkl").write_bytes(ops.setitems().build().stop().bytes_())
        elif i % 3 == 1:
            tensors = {f"layer{j}.weight": ("FloatStorage", (4, 4)) for j in range(8)}
            with zipfile.ZipFile(folder / f"shard{i:03d}.bin", "w") as zf:
                zf.writestr(f"shard{i:03d}/data.pkl", benign_state_dict(tensors))
                for key in range(8):
                    zf.writestr(f"shard{i:03d}/data/{key}", b"\x00" * 64)
                zf.writestr(f"shard{i:03d}/version", b"3\n")
        else:
            ops = Ops(2).empty_dict().mark()
            for j in range(50):
                ops.string(f"step{j}").int_(j).string(f"lr{j}").float_(1e-3 / (j + 1))
            (folder / f"state{i:03d}.pkl").write_bytes(ops.setitems().stop().bytes_())
    return folder


def test_scan_against_the_scanners_run_by_hand(models: dict[str, Path], small_pickles: Path) -> None:
    cases = {"2 GiB safetensors + 1 GiB torch zip": list(models.values()),
             "200 small pickles": [small_pickles]}
    rows = []
    for label, paths in cases.items():
        curator_s = hand_s = 0.0
        per_tool: dict[str, float] = {}
        for path in paths:
            folder = path if path.is_dir() else path.parent
            scanned, _, report = _scan(folder)
            assert {f.verdict.value for f in report.files} == {"clean"}, [f.reasons for f in report.files]
            curator_s += scanned
            for tool, seconds in _by_hand(folder).items():
                per_tool[tool] = per_tool.get(tool, 0.0) + seconds
                hand_s += seconds
        tools = "  ".join(f"{t} {s:6.2f}s" for t, s in per_tool.items())
        rows.append(f"  {label:36s} curator scan {curator_s:7.2f}s  by hand {hand_s:7.2f}s "
                    f"({tools})  ratio {curator_s / hand_s:5.2f}x")
    print("\ncurator scan (own checks + the three scanners) vs the three scanners run by hand, same files")
    print("\n".join(rows))
    print("  target <= 1.0x: curator reads what the scanners read, once, and more")
