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


def _varint(buf: mmap.mmap, pos: int, end: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise OnnxUnreadable(f"truncated varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _message(buf: mmap.mmap, pos: int, end: int, kind: str, found: list[str], depth: int) -> None:
    if depth > MAX_NESTING:
        raise OnnxUnreadable("graphs nested deeper than the walk allows")
    fields = _SCHEMA[kind]
    entry: dict[int, bytes] = {}
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            _, pos = _varint(buf, pos, end)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if pos + length > end:
                raise OnnxUnreadable(f"field {number} of a {kind} runs past its end at byte {pos}")
            if number in fields:
                _message(buf, pos, pos + length, fields[number], found, depth + 1)
            elif kind == "entry" and number in (1, 2):
                entry[number] = bytes(buf[pos:pos + length])
            pos += length
        else:
            raise OnnxUnreadable(f"wire type {wire} at byte {pos} is not ONNX protobuf")
        if pos > end:
            raise OnnxUnreadable(f"a {kind} runs past its end")
    if kind == "entry" and entry.get(1) == b"location":
        found.append(entry.get(2, b"").decode("utf-8", "replace"))
