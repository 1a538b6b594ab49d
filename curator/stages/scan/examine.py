"""Curator's own look at each file: sniff it, run the checks its format needs, pick scanner targets.

Large weight files are read once at most, and mostly not at all: safetensors and GGUF only
their headers, zips their directory and their pickles, legacy torch and joblib files only
their pickle streams.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import IO

from curator.core.models import Finding, Severity
from curator.stages.scan import unwrap
from curator.stages.scan.checks.custom_code import config_findings, python_finding
from curator.stages.scan.checks.gguf import GGUFUnreadable, read_gguf
from curator.stages.scan.checks.keras import (
    KerasUnreadable,
    check_keras_config,
    looks_like_keras,
    read_h5_model_config,
)
from curator.stages.scan.checks.numpy_npy import NpyUnreadable, read_npy_header
from curator.stages.scan.checks.onnx import OnnxUnreadable, check_external_data, external_locations
from curator.stages.scan.checks.pickle_walk import walk_file
from curator.stages.scan.checks.pickles import judge_pickle
from curator.stages.scan.checks.safetensors import check_safetensors
from curator.stages.scan.checks.templates import TemplateUnreadable, check_template, templates_in_json
from curator.stages.scan.config import ScanConfig
from curator.stages.scan.sniff import COMPRESSED, Sniffed, sniff_file
from curator.stages.scan.targets import FileExam, ScanTarget

MAX_JSON_BYTES = 256 << 20
UNOPENABLE = {"7z": "7-Zip", "rar": "RAR", "lz4": "LZ4", "zstd": "Zstandard", "lzma": "LZMA"}


class Examiner:
    """Examines the files of one scan; owns the scratch folder its extracted copies go to."""

    def __init__(self, config: ScanConfig, scratch: Path) -> None:
        self.config = config
        self.scratch = scratch
        self.unpacked = 0  # bytes written to scratch, against config.max_unpacked_bytes
        self._keys = itertools.count(1)
        self._dirs = itertools.count(1)

    def examine(self, rel: str, path: Path, model_dir: Path) -> FileExam:
        """Curator's findings and scanner targets for one file of the candidate."""
        sniffed = sniff_file(path)
        exam = FileExam(rel, path.stat().st_size, sniffed.format, sniffed.detail)
        allowed = self.config.allowed_formats
        if allowed is not None and sniffed.format not in allowed:
            exam.findings.append(Finding(Severity.HIGH, "format-not-allowed",
                                         f"{rel} is {sniffed.format}; the policy allows only "
                                         f"{', '.join(sorted(allowed))}"))
        self.dispatch(exam, path, None, sniffed, 0, model_dir)
        return exam

    # -- routing ---------------------------------------------------------------------------
    def dispatch(self, exam: FileExam, path: Path, member: str | None, sniffed: Sniffed, depth: int,
                 model_dir: Path | None) -> None:
        """Look inside ``path`` (the file itself, or a scratch copy of ``member``) by format."""
        where = f"{exam.path}!{member}" if member else exam.path
        fmt = sniffed.format
        if member is not None:
            exam.parts.append({"member": member, "format": fmt})
        if depth > self.config.max_depth:
            exam.unread.append(f"{where}: nested more than {self.config.max_depth} containers deep")
            return
        size = path.stat().st_size
        if fmt == "pickle":
            self._pickle(exam, path, member, where)
        elif fmt == "zip":
            unwrap.examine_zip(self, exam, path, member, depth)
        elif fmt == "tar":
            unwrap.examine_tar(self, exam, path, member, depth)
        elif fmt in COMPRESSED:
            unwrap.examine_compressed(self, exam, path, member, fmt, depth)
        elif fmt in UNOPENABLE:
            exam.unread.append(f"{where}: {UNOPENABLE[fmt]} archives cannot be opened by curator or its "
                               "scanners here, and may hold pickles")
        elif fmt == "safetensors":
            with open(path, "rb") as fh:
                exam.findings += check_safetensors(fh, size, where)
        elif fmt == "gguf":
            self._gguf(exam, path, member, where, size)
        elif fmt == "hdf5":
            self._hdf5(exam, path, member, where, size)
        elif fmt == "onnx":
            self._onnx(exam, path, where, size, model_dir)
        elif fmt == "numpy":
            self._numpy(exam, path, member, where, size)
        elif fmt in ("json", "jinja"):
            self._text(exam, path, member, where, size, fmt)
        elif fmt == "python":
            finding, summary = python_finding(path, where)
            exam.findings.append(finding)
            exam.parts.append({"member": member or "", "format": "python",
                               "custom_code": {"summary": summary}})
        elif fmt == "savedmodel":
            self.target(exam, path, member, "savedmodel", ".pb")

    def target(self, exam: FileExam, path: Path, member: str | None, fmt: str, suffix: str,
               allowlisted: bool = False) -> None:
        """Hand ``path`` to the scanners that read ``fmt``."""
        exam.targets.append(ScanTarget(f"t{next(self._keys):05d}", path, exam.path, member, fmt,
                                       path.stat().st_size, suffix, allowlisted))

    def scratch_path(self, name: str) -> Path:
        """A fresh scratch file path keeping ``name``'s base name (scanners look at extensions)."""
        folder = self.scratch / f"x{next(self._dirs):05d}"
        folder.mkdir(parents=True)
        return folder / (Path(name).name or "member")

    def copy_bounded(self, src: IO[bytes], dest: Path, limit: int) -> int | None:
        """Copy at most ``limit`` bytes (and what the unpack budget allows); None if more was there."""
        budget = min(limit, self.config.max_unpacked_bytes - self.unpacked)
        written = 0
        with open(dest, "wb") as out:
            while True:
                # one byte past the budget tells "exactly full" from "more was there"
                chunk = src.read(min(1 << 20, max(budget - written, 0) + 1))
                if not chunk:
                    break
                written += len(chunk)
                if written > budget:
                    break
                out.write(chunk)
        if written > budget:
            dest.unlink()
            return None
        self.unpacked += written
        return written

    # -- formats ---------------------------------------------------------------------------
    def _pickle(self, exam: FileExam, path: Path, member: str | None, where: str) -> None:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            walk = walk_file(fh, size, self.config.max_pickle_opcodes)
        judged = judge_pickle(walk, self.config.rules, where)
        exam.findings += judged
        exam.parts.append({"member": member or "", "format": walk.kind, "streams": len(walk.streams),
                           "opcodes": walk.opcodes,
                           "globals": sorted({g.dotted for g in walk.globals})[:200]})
        trailing = size - walk.end if walk.error is None and walk.kind != "torch-legacy" else 0
        if trailing and not walk.skipped:
            exam.findings.append(Finding(Severity.LOW, "pickle-trailing-data",
                                         f"{where}: {trailing} bytes after the last pickle stream"))
        allowed = not judged and not trailing
        if walk.kind == "torch-legacy":
            self.target(exam, path, member, "pickle", ".pt", allowed)  # scanners know the legacy layout
        elif walk.error is None and (walk.skipped or trailing):
            # joblib array bytes (or trailing bytes) break other parsers: give them the streams only
            copy = self.scratch_path((member or Path(exam.path).name) + ".streams.pkl")
            with open(path, "rb") as src, open(copy, "wb") as out:
                for start, end in _keep_ranges(walk.streams, walk.skipped):
                    src.seek(start)
                    out.write(src.read(end - start))
            self.target(exam, copy, f"{member or ''}(pickle streams)", "pickle", ".pkl", allowed)
        else:
            self.target(exam, path, member, "pickle", ".pkl", allowed)

    def _gguf(self, exam: FileExam, path: Path, member: str | None, where: str, size: int) -> None:
        try:
            with open(path, "rb") as fh:
                templates, problems = read_gguf(fh, size)
        except GGUFUnreadable as exc:
            exam.unread.append(f"{where}: GGUF header does not parse ({exc})")
            return
        exam.findings += [Finding(Severity.HIGH, "gguf-malformed", f"{where}: {p}") for p in problems]
        for key, source in templates.items():
            self._template(exam, source, f"{where} {key}")
        self.target(exam, path, member, "gguf", ".gguf")

    def _hdf5(self, exam: FileExam, path: Path, member: str | None, where: str, size: int) -> None:
        try:
            config = read_h5_model_config(path, self.config.timeout_seconds)
        except KerasUnreadable as exc:
            exam.unread.append(f"{where}: {exc}")
            return
        if config is None:
            return  # weights only (a .keras zip's model.weights.h5): arrays, nothing that runs
        exam.findings += check_keras_config(config, self.config.rules, f"{where} model_config")
        self.target(exam, path, member, "hdf5", ".h5")

    def _onnx(self, exam: FileExam, path: Path, where: str, size: int, model_dir: Path | None) -> None:
        try:
            with open(path, "rb") as fh:
                locations = external_locations(fh, size)
        except OnnxUnreadable as exc:
            exam.unread.append(f"{where}: ONNX protobuf does not parse ({exc})")
            return
        exam.parts.append({"member": "", "format": "onnx", "external_data": sorted(set(locations))})
        exam.findings += check_external_data(locations, model_dir, where)

    def _numpy(self, exam: FileExam, path: Path, member: str | None, where: str, size: int) -> None:
        try:
            with open(path, "rb") as fh:
                header = read_npy_header(fh, size)
                if not header.holds_objects:
                    return
                copy = self.scratch_path(Path(member or exam.path).name + ".objects.pkl")
                fh.seek(header.data_offset)
                copied = self.copy_bounded(fh, copy, self.config.max_member_bytes)
        except NpyUnreadable as exc:
            exam.unread.append(f"{where}: NumPy header does not parse ({exc})")
            return
        if copied is None:
            exam.unread.append(f"{where}: object array pickle is larger than the unpack budget")
            return
        exam.findings.append(Finding(Severity.MEDIUM, "numpy-object-array",
                                     f"{where}: object array ({header.descr}) is stored as a pickle"))
        self.dispatch(exam, copy, f"{member or ''}(object array pickle)", Sniffed("pickle", "npy objects"),
                      1, None)

    def _text(self, exam: FileExam, path: Path, member: str | None, where: str, size: int, fmt: str) -> None:
        if size > MAX_JSON_BYTES:
            exam.unread.append(f"{where}: {size} bytes of {fmt} is more than the check reads")
            return
        text = path.read_text(encoding="utf-8", errors="replace")
        if fmt == "jinja":
            self._template(exam, text, where)
            self.target(exam, path, member, "template", ".jinja")
            return
        try:
            doc = json.loads(text)
        except ValueError:
            return  # named like JSON, reads as no JSON: no loader will get a template out of it
        code, facts = config_findings(doc, where, path.parent if member is None else None)
        exam.findings += code
        if facts:
            exam.parts.append({"member": member or "", "format": "json", "custom_code": facts})
        templates = templates_in_json(doc)
        for label, source in templates:
            self._template(exam, source, f"{where} {label}")
        if looks_like_keras(doc):
            exam.findings += check_keras_config(doc, self.config.rules, where)
        if templates:
            self.target(exam, path, member, "template", ".json")

    def _template(self, exam: FileExam, source: str, where: str) -> None:
        try:
            exam.findings += check_template(source, where)
        except TemplateUnreadable as exc:
            exam.unread.append(str(exc))


def _keep_ranges(streams: list[tuple[int, int]], skipped: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The streams' byte ranges with the skipped (array) ranges cut out."""
    keep = []
    for start, end in streams:
        cursor = start
        for cut_start, cut_end in sorted(skipped):
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                keep.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
        if cursor < end:
            keep.append((cursor, end))
    return keep
