"""Curator's own look at each file: sniff it, run the checks its format needs, pick scanner targets.

Large weight files are read once at most, and mostly not at all: safetensors and GGUF only
their headers, zips their directory and their pickles, legacy torch and joblib files only
their pickle streams.
"""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

from curator.core.models import Finding, Severity
from curator.stages.scan import unwrap
from curator.stages.scan.checks.custom_code import config_findings, python_finding
from curator.stages.scan.checks.gguf import GGUFUnreadable, read_gguf
from curator.stages.scan.checks.json_objects import check_json_objects
from curator.stages.scan.checks.keras import (
    KerasUnreadable,
    check_keras_config,
    keras_metadata_configs,
    looks_like_keras,
    read_h5_model_config,
)
from curator.stages.scan.checks.numpy_npy import NpyUnreadable, read_npy_header
from curator.stages.scan.checks.onnx import OnnxUnreadable, check_external_data, external_locations
from curator.stages.scan.checks.pickle_walk import walk_file
from curator.stages.scan.checks.pickles import judge_pickle
from curator.stages.scan.checks.safetensors import check_safetensors
from curator.stages.scan.checks.templates import TemplateUnreadable, check_template, templates_in_json
from curator.stages.scan.checks.tf_graph import (
    SavedModelUnreadable,
    check_graph,
    ops_in_pbtxt,
    read_saved_model,
)
from curator.stages.scan.checks.tflite import TFLiteUnreadable, check_custom_ops, custom_ops
from curator.stages.scan.config import ScanConfig
from curator.stages.scan.rules import TORCH_STATE_DICT
from curator.stages.scan.scratch import Scratch
from curator.stages.scan.sniff import COMPRESSED, Sniffed, find_eocd, find_hdf5, is_tar_header, sniff_file
from curator.stages.scan.targets import FileExam, ScanTarget

MAX_JSON_BYTES = 256 << 20
UNOPENABLE = {"7z": "7-Zip", "rar": "RAR", "lz4-legacy": "legacy LZ4", "snappy": "Snappy"}
#: formats curator itself reads completely (directly, or by looking inside)
CHECKED = frozenset({"pickle", "zip", "tar", *COMPRESSED, "safetensors", "gguf", "hdf5", "onnx", "numpy",
                     "json", "jinja", "python", "savedmodel", "savedmodel-text", "tf-meta-graph",
                     "keras-metadata", "tflite"})


class Examiner:
    """Examines the files of one scan; owns the scratch folder its extracted copies go to."""

    def __init__(self, config: ScanConfig, scratch: Path) -> None:
        self.config = config
        self.scratch = Scratch(scratch, config.max_unpacked_bytes)
        self._keys = itertools.count(1)

    @property
    def unpacked(self) -> int:
        return self.scratch.unpacked

    def examine(self, rel: str, path: Path, model_dir: Path) -> FileExam:
        """Curator's findings and scanner targets for one file of the candidate."""
        sniffed = sniff_file(path, max_opcodes=self.config.max_pickle_opcodes)
        exam = FileExam(rel, path.stat().st_size, sniffed.format, sniffed.detail)
        allowed = self.config.allowed_formats
        if allowed is not None and sniffed.format not in allowed:
            exam.findings.append(Finding(Severity.HIGH, "format-not-allowed",
                                         f"{rel} is {sniffed.format}; the policy allows only "
                                         f"{', '.join(sorted(allowed))}"))
        self.dispatch(exam, path, None, sniffed, 0, model_dir)
        if sniffed.format not in ("empty", "text", "json"):
            self._polyglot(exam, path)
        # a Python file is custom code: blocked by curator's own finding, which an approval must waive
        # by name; what a scanner reads in its source would only count it twice
        if not exam.exhausted and sniffed.format not in ("empty", "text", "python"):
            # the file as it is, to every scanner: whatever curator made of it, their findings count
            self.target(exam, path, None, "file", path.name,
                        state_dict=exam.pickles > 0 and exam.pickles == exam.state_dicts,
                        covered_by="the candidate's file as it is; curator read its content",
                        sniffed=sniffed.format)
        return exam

    def _polyglot(self, exam: FileExam, path: Path) -> None:
        """A second face: zip readers find a zip by its tail, libhdf5 an HDF5 file after a user block,
        tarfile a tar by a header checksum, whatever the magic bytes say. Each face is examined on its own."""
        with open(path, "rb") as fh:
            tar = 0 if is_tar_header(fh.read(512)) else None
            faces = {"zip": find_eocd(fh, exam.size), "hdf5": find_hdf5(fh, exam.size), "tar": tar}
        for fmt, at in faces.items():
            if at is None or fmt == exam.format:
                continue
            exam.findings.append(Finding(Severity.MEDIUM, f"polyglot-{fmt}",
                                         f"{exam.path}: is {exam.format} and also {fmt} (from byte {at}); "
                                         f"{fmt} loaders read the second face"))
            self.dispatch(exam, path, f"({fmt} face)", Sniffed(fmt, "second face"), 1, None)

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
        inner: list[unwrap.Member] = []
        if fmt == "pickle":
            self._pickle(exam, path, member, where)
        elif fmt == "zip":
            names: list[str] = []
            inner = list(unwrap.zip_members(self.config, self.scratch, exam, path, member, names))
            if {"config.json", "metadata.json"} <= set(names):  # a Keras 3 .keras archive
                self.target(exam, path, member, "keras", "model.keras")
        elif fmt == "tar":
            inner = list(unwrap.tar_members(self.config, self.scratch, exam, path, member))
        elif fmt in COMPRESSED:
            inner = list(unwrap.inflate(self.config, self.scratch, exam, path, member, fmt))
        elif fmt in UNOPENABLE:
            exam.unread.append(f"{where}: {UNOPENABLE[fmt]} data cannot be opened by curator or its "
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
        elif fmt in ("savedmodel", "savedmodel-text", "tf-meta-graph"):
            self._saved_model(exam, path, member, where, size, fmt)
        elif fmt == "keras-metadata":
            self._keras_metadata(exam, path, where)
        elif fmt == "tflite":
            try:
                with open(path, "rb") as fh:
                    exam.findings += check_custom_ops(custom_ops(fh, size), where)
            except TFLiteUnreadable as exc:
                exam.unread.append(f"{where}: TFLite flatbuffer does not parse ({exc})")
        elif fmt not in self.config.inert_formats:
            exam.unread.append(f"{where}: {fmt} ({sniffed.detail}) is content neither curator nor its "
                               "scanners read, and scan.inert_formats does not list it as inert")
        if sniffed.pickle_face:
            exam.findings.append(Finding(Severity.MEDIUM, "polyglot-pickle",
                                         f"{where}: is {fmt} and also a pickle from byte 0 that imports or "
                                         "calls something; pickle.load reads that face"))
            self._pickle(exam, path, f"{member or ''}(pickle face)", f"{where} (pickle face)")
        for item in inner:
            self.dispatch(exam, item.path, item.label,
                          sniff_file(item.path, item.name, self.config.max_pickle_opcodes), depth + 1, None)

    def target(self, exam: FileExam, path: Path, member: str | None, fmt: str, link_name: str,
               state_dict: bool = False, covered_by: str | None = None, sniffed: str = "") -> None:
        """Hand ``path`` to the scanners that read ``fmt``, under the file name ``link_name``."""
        exam.targets.append(ScanTarget(f"t{next(self._keys):05d}", path, exam.path, member, fmt,
                                       path.stat().st_size, link_name, state_dict, covered_by, sniffed))

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
        if walk.exhausted:
            # already blocked; a scanner would spend minutes and gigabytes on the same stream
            exam.exhausted = True
            return
        trailing = size - walk.end if walk.error is None and walk.kind != "torch-legacy" else 0
        if trailing and not walk.skipped:
            exam.findings.append(Finding(Severity.LOW, "pickle-trailing-data",
                                         f"{where}: {trailing} bytes after the last pickle stream"))
        state_dict = (not judged and not trailing and walk.error is None and walk.kind != "joblib"
                      and all(g.dotted in TORCH_STATE_DICT for g in walk.globals))
        exam.pickles += 1
        exam.state_dicts += state_dict
        # joblib nests arrays (raw bytes, or object arrays as streams inside the stream): other
        # parsers lose their way in what curator's walk follows to the end; their errors are notes
        joblib_walked = walk.kind == "joblib" and walk.error is None
        covered = "curator's pickle walk (joblib layout)" if joblib_walked else None
        if walk.kind == "torch-legacy":
            # scanners know the legacy layout
            self.target(exam, path, member, "pickle", "model.pt", state_dict)
        elif walk.error is None and (walk.skipped or trailing):
            # joblib array bytes (or trailing bytes) break other parsers: give them the streams only
            copy = self.scratch.path((member or Path(exam.path).name) + ".streams.pkl")
            with open(path, "rb") as src, open(copy, "wb") as out:
                for start, end in _keep_ranges(walk.streams, walk.skipped):
                    src.seek(start)
                    out.write(src.read(end - start))
            self.target(exam, copy, f"{member or ''}(pickle streams)", "pickle", "model.pkl", state_dict,
                        covered_by=covered)
        else:
            self.target(exam, path, member, "pickle", "model.pkl", state_dict, covered_by=covered)

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
        exam.parts.append({"member": member or "", "format": "gguf", "read_by": "curator's GGUF reader"})
        self.target(exam, path, member, "gguf", "model.gguf", covered_by="curator's GGUF reader")

    def _hdf5(self, exam: FileExam, path: Path, member: str | None, where: str, size: int) -> None:
        try:
            config, dotted = read_h5_model_config(path, self.config.timeout_seconds)
        except KerasUnreadable as exc:
            exam.unread.append(f"{where}: {exc}")
            return
        for label, value in dotted:
            walk = walk_file(io.BytesIO(value), len(value), self.config.max_pickle_opcodes)
            if walk.globals or walk.invoked or walk.exhausted:  # text that happens to end in "." is text
                exam.findings += judge_pickle(walk, self.config.rules, f"{where} attribute {label}")
        if config is None:
            return  # weights only (a .keras zip's model.weights.h5): arrays, nothing that runs
        exam.findings += check_keras_config(config, self.config.rules, f"{where} model_config")
        self.target(exam, path, member, "hdf5", "model.h5")

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
                copy = self.scratch.path(Path(member or exam.path).name + ".objects.pkl")
                fh.seek(header.data_offset)
                copied = self.scratch.copy(fh, copy, self.config.max_member_bytes)
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
            self.target(exam, path, member, "template", "chat_template.jinja")
            return
        try:
            doc = json.loads(text)
        except ValueError:
            return  # named like JSON, reads as no JSON: no loader will get a template out of it
        code, facts = config_findings(doc, where, path.parent if member is None else None)
        exam.findings += code
        exam.findings += check_json_objects(doc, self.config.rules, where)
        if facts:
            exam.parts.append({"member": member or "", "format": "json", "custom_code": facts})
        templates = templates_in_json(doc)
        for label, source in templates:
            self._template(exam, source, f"{where} {label}")
        if looks_like_keras(doc):
            exam.findings += check_keras_config(doc, self.config.rules, where)
        if templates:
            self.target(exam, path, member, "template", "tokenizer_config.json")

    def _saved_model(self, exam: FileExam, path: Path, member: str | None, where: str, size: int,
                     fmt: str) -> None:
        try:
            if fmt == "savedmodel-text":
                graph = ops_in_pbtxt(path.read_text(encoding="utf-8", errors="replace"))
            else:
                with open(path, "rb") as fh:
                    graph = read_saved_model(fh, size, meta_graph=fmt == "tf-meta-graph")
        except SavedModelUnreadable as exc:
            exam.unread.append(f"{where}: SavedModel protobuf does not parse ({exc})")
            return
        if not graph.nodes:
            exam.unread.append(f"{where}: no graph ops found where a SavedModel keeps them")
            return
        exam.parts.append({"member": member or "", "format": fmt, "ops": len(graph.nodes),
                           "functions": graph.functions, "read_by": "curator's SavedModel graph check"})
        exam.findings += check_graph(graph, where)
        self.target(exam, path, member, "savedmodel", "saved_model.pb",
                    covered_by="curator's SavedModel graph check")

    def _keras_metadata(self, exam: FileExam, path: Path, where: str) -> None:
        try:
            configs = keras_metadata_configs(path.read_bytes())
        except KerasUnreadable as exc:
            exam.unread.append(f"{where}: {exc}")
            return
        for label, doc in configs:
            exam.findings += check_keras_config(doc, self.config.rules, f"{where} {label}")

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
