"""Safetensors header validation: the header is all the code-free format has to lie with."""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

from curator.core.models import Finding, Severity

#: the header must fit in this; the reference loader refuses larger ones too
MAX_HEADER_BYTES = 100 << 20
DTYPE_BITS = {"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16,
              "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "I64": 64, "U64": 64, "F64": 64,
              "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6}


def check_safetensors(fh: BinaryIO, size: int, where: str) -> list[Finding]:
    """Read only the header; every tensor must be typed, sized and placed inside the file, without overlap.

    Data after the last tensor, or gaps between tensors, is room to smuggle a second payload
    (a pickle, say) that another loader would read.
    """
    fh.seek(0)
    raw = fh.read(8)
    if len(raw) < 8:
        return [_lie(where, "is shorter than the 8-byte header length")]
    (length,) = struct.unpack("<Q", raw)
    if length > MAX_HEADER_BYTES or length > size - 8:
        return [_lie(where, f"claims a {length}-byte header in a {size}-byte file")]
    try:
        header = json.loads(fh.read(length), object_pairs_hook=_no_duplicates)
    except (ValueError, UnicodeDecodeError) as exc:
        return [_lie(where, f"header is not valid JSON ({exc})")]
    if not isinstance(header, dict):
        return [_lie(where, "header is not a JSON object")]
    data_size = size - 8 - length
    problems = _problems(header, data_size)
    return [_lie(where, p) for p in problems[:5]] + (
        [_lie(where, f"and {len(problems) - 5} more header problems")] if len(problems) > 5 else [])


def _problems(header: dict[str, Any], data_size: int) -> list[str]:
    problems: list[str] = []
    spans: list[tuple[int, int, str]] = []
    metadata = header.get("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        problems.append("__metadata__ is not a map of strings")
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            problems.append(f"tensor {name!r} is not {{dtype, shape, data_offsets}}")
            continue
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in DTYPE_BITS:
            problems.append(f"tensor {name!r} has unknown dtype {dtype!r}")
            continue
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            problems.append(f"tensor {name!r} has a malformed shape {shape!r}")
            continue
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and o >= 0 for o in offsets) or offsets[0] > offsets[1]):
            problems.append(f"tensor {name!r} has malformed data_offsets {offsets!r}")
            continue
        numel = 1
        for dim in shape:
            numel *= dim
        expected = (numel * DTYPE_BITS[dtype] + 7) // 8
        if offsets[1] - offsets[0] != expected:
            problems.append(f"tensor {name!r} spans {offsets[1] - offsets[0]} bytes but "
                            f"{dtype}{shape} needs {expected}")
        if offsets[1] > data_size:
            problems.append(f"tensor {name!r} ends at {offsets[1]}, past the {data_size}-byte data section")
        spans.append((offsets[0], offsets[1], name))
    spans.sort()
    cursor = 0
    for start, end, name in spans:
        if start < cursor:
            problems.append(f"tensor {name!r} overlaps the tensor before it")
        elif start > cursor:
            problems.append(f"{start - cursor} unaccounted bytes before tensor {name!r}")
        cursor = max(cursor, end)
    if cursor < data_size:
        problems.append(f"{data_size - cursor} bytes after the last tensor belong to no tensor")
    return problems


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"duplicate key {dup!r}: parsers disagree on which one wins")
    return dict(pairs)


def _lie(where: str, problem: str) -> Finding:
    return Finding(Severity.HIGH, "safetensors-bad-header", f"{where}: {problem}")
