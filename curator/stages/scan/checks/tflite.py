"""TFLite flatbuffers: builtin ops are kernels compiled into the runtime; custom ops are the only way out.

The ``operator_codes`` table is read by hand (no ``tflite`` package). A ``Flex`` op runs the
TensorFlow op of that name through the Flex delegate, so TF's file and Python ops reach TFLite
that way; any other custom op needs a kernel the application registers itself.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from curator.core.models import Finding, Severity
from curator.stages.scan.checks.tf_graph import READS_FILES, RUNS_CODE_OR_FILES, SAVER_OPS

MAX_BYTES = 1 << 30


class TFLiteUnreadable(Exception):
    """The flatbuffer's tables do not lead where the schema says."""


def custom_ops(fh: BinaryIO, size: int) -> list[str]:
    """The custom_code of every operator code; empty for a model of builtin ops only."""
    if size > MAX_BYTES:
        raise TFLiteUnreadable(f"{size} bytes is more than the check reads into memory")
    fh.seek(0)
    buf = fh.read(size)
    try:
        model = _u32(buf, 0)
        codes = _field(buf, model, 1)
        if codes is None:
            return []
        vector = codes + _u32(buf, codes)
        found = []
        for i in range(_u32(buf, vector)):
            at = vector + 4 + 4 * i
            table = at + _u32(buf, at)
            custom = _field(buf, table, 1)
            if custom is not None:
                text = custom + _u32(buf, custom)
                found.append(buf[text + 4:text + 4 + _u32(buf, text)].decode("utf-8", "replace"))
        return found
    except (struct.error, IndexError) as exc:
        raise TFLiteUnreadable(f"table offsets run past the file ({exc})") from exc


def check_custom_ops(ops: list[str], where: str) -> list[Finding]:
    findings = []
    for op in sorted(set(ops)):
        tf_op = op[4:] if op.startswith("Flex") else None
        if tf_op is not None and tf_op in RUNS_CODE_OR_FILES | SAVER_OPS | READS_FILES:
            findings.append(Finding(Severity.CRITICAL, "tflite-flex-op", f"{where}: custom op {op} runs "
                                    f"TensorFlow's {tf_op} through the Flex delegate"))
        else:
            findings.append(Finding(Severity.MEDIUM, "tflite-custom-op",
                                    f"{where}: custom op {op} needs a kernel the application registers"))
    return findings


def _u32(buf: bytes, at: int) -> int:
    if at < 0 or at + 4 > len(buf):
        raise IndexError(at)
    return int(struct.unpack_from("<I", buf, at)[0])


def _field(buf: bytes, table: int, index: int) -> int | None:
    """Absolute position of field ``index`` of the table at ``table``, or None when absent."""
    vtable = table - struct.unpack_from("<i", buf, table)[0]
    (vsize,) = struct.unpack_from("<H", buf, vtable)
    if 4 + 2 * index >= vsize:
        return None
    (offset,) = struct.unpack_from("<H", buf, vtable + 4 + 2 * index)
    return table + offset if offset else None
