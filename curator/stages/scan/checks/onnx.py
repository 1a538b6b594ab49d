"""ONNX external data: a tensor may name a file to read its bytes from; it must stay in the model folder.

The protobuf is walked by hand (no ``onnx`` package): only the fields on the way to
``TensorProto.external_data`` are opened, tensor bytes are stepped over.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import BinaryIO

from curator.core.models import Finding, Severity
from curator.stages.scan.checks import protobuf

# message -> {field number: message type of that field} for the path to every TensorProto
_SCHEMA: dict[str, dict[int, str]] = {
    "model": {7: "graph", 20: "training", 25: "function"},
    "training": {1: "graph", 2: "graph"},
    "function": {7: "node"},
    "graph": {1: "node", 5: "tensor", 15: "sparse"},
    "node": {5: "attribute"},
    "attribute": {5: "tensor", 6: "graph", 10: "tensor", 11: "graph", 22: "sparse", 23: "sparse"},
    "sparse": {1: "tensor", 2: "tensor"},
    "tensor": {13: "entry"},
    "entry": {},
}
MAX_NESTING = 64


class OnnxUnreadable(Exception):
    """The file is not a protobuf ModelProto the walk can follow."""


def external_locations(fh: BinaryIO, size: int) -> list[str]:
    """Every ``location`` an ONNX model's tensors point their data at."""
    if size == 0:
        raise OnnxUnreadable("empty file")
    with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        found: list[str] = []
        _message(buf, 0, size, "model", found, 0)
        return found


def check_external_data(locations: list[str], model_dir: Path | None, where: str) -> list[Finding]:
    """A location that is absolute, climbs with ``..`` or resolves outside the model folder is a finding."""
    findings = []
    for location in sorted(set(locations)):
        reason = _escape_reason(location, model_dir)
        if reason:
            findings.append(Finding(Severity.HIGH, "onnx-external-data-escapes",
                                    f"{where}: tensor data is read from {location!r}, {reason}"))
    return findings


def _escape_reason(location: str, model_dir: Path | None) -> str | None:
    parts = location.replace("\\", "/").split("/")
    if not location or "\x00" in location:
        return "an empty or NUL-bearing path"
    if location.startswith(("/", "\\")) or (len(location) > 1 and location[1] == ":"):
        return "an absolute path outside the model folder"
    if ".." in parts:
        return "a path that climbs out of the model folder"
    if model_dir is not None:
        real_root = os.path.realpath(model_dir)
        real = os.path.realpath(model_dir / location)
        if os.path.commonpath([real_root, real]) != real_root:
            return "a path that resolves (through a link) outside the model folder"
    return None


def _message(buf: mmap.mmap, pos: int, end: int, kind: str, found: list[str], depth: int) -> None:
    if depth > MAX_NESTING:
        raise OnnxUnreadable("graphs nested deeper than the walk allows")
    nested = _SCHEMA[kind]
    entry: dict[int, bytes] = {}
    try:
        for number, wire, start, stop in protobuf.fields(buf, pos, end):
            if wire != 2:
                continue
            if number in nested:
                _message(buf, start, stop, nested[number], found, depth + 1)
            elif kind == "entry" and number in (1, 2):
                entry[number] = bytes(buf[start:stop])
    except protobuf.ProtobufUnreadable as exc:
        raise OnnxUnreadable(f"a {kind} is not ONNX protobuf ({exc})") from exc
    if kind == "entry" and entry.get(1) == b"location":
        found.append(entry.get(2, b"").decode("utf-8", "replace"))
