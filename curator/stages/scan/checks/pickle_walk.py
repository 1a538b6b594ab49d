"""Walk pickle streams opcode by opcode on a symbolic stack: see every global and call, run nothing.

The walk mirrors what ``pickle.Unpickler`` would do (stack, marks, memo) but pushes
placeholders instead of objects, so a ``STACK_GLOBAL`` whose names come out of the memo is
still resolved, and a call of something computed at load time is still seen. It also knows
the two model formats whose files are not one clean pickle: legacy ``torch.save`` (five
pickles, then raw storages) and joblib (array bytes written into the middle of the stream).
"""

from __future__ import annotations

import pickletools
import struct
from typing import Any, BinaryIO

from curator.stages.scan.checks.pickle_ops import apply
from curator.stages.scan.checks.pickle_values import (
    LEGACY_TORCH_MAGIC,
    Blob,
    Global,
    StreamState,
    Walk,
    WalkError,
)

__all__ = ["LEGACY_TORCH_MAGIC", "Global", "Walk", "WalkError", "walk_file"]

#: byte arguments larger than this are skipped over, not read into memory
BIG_ARG = 1 << 20
LINE_LIMIT = 1 << 16
CODE2OP = {op.code.encode("latin-1"): op for op in pickletools.opcodes}
_LENGTH_PREFIXED = {"bytes4": 4, "bytes8": 8, "bytearray8": 8, "string4": 4,
                    "unicodestring4": 4, "unicodestring8": 8}


def walk_file(fh: BinaryIO, size: int, max_opcodes: int = 50_000_000, probe: bool = False) -> Walk:
    """Walk every pickle stream from the start of ``fh`` (``size`` bytes long).

    Stops at the first malformed opcode (recorded in ``error``), after the fifth stream of a
    legacy torch file, or where the bytes after a stream are not another pickle. With
    ``probe`` the walk stops at the end of the first stream (format sniffing).
    """
    walk = Walk()
    budget = [max_opcodes]
    fh.seek(0)
    while True:
        start = fh.tell()
        globals_before = len(walk.globals)
        try:
            top = _stream(fh, size, walk, budget)
        except WalkError as exc:
            later_stream_is_junk = (walk.streams and len(walk.globals) == globals_before
                                    and exc.offset - start < 64)
            if later_stream_is_junk:
                del walk.globals[globals_before:]  # bytes after the last pickle, not a pickle
                break
            walk.error = exc
            walk.end = exc.offset
            return walk
        walk.streams.append((start, fh.tell()))
        walk.end = fh.tell()
        if len(walk.streams) == 1 and top == LEGACY_TORCH_MAGIC:
            walk.kind = "torch-legacy"
        if probe or walk.end >= size or (walk.kind == "torch-legacy" and len(walk.streams) == 5):
            break
    if walk.end < size and walk.kind == "torch-legacy":
        walk.skipped.append((walk.end, size))
    return walk


def _stream(fh: BinaryIO, size: int, walk: Walk, budget: list[int]) -> Any:
    state = StreamState(walk, lambda: _stream(fh, size, walk, budget))
    while True:
        offset = fh.tell()
        code = fh.read(1)
        if not code:
            raise WalkError(offset, "stream ends before STOP")
        op = CODE2OP.get(code)
        if op is None:
            raise WalkError(offset, f"byte {code!r} is not a pickle opcode")
        budget[0] -= 1
        walk.opcodes += 1
        if budget[0] < 0:
            walk.exhausted = True
            raise WalkError(offset, "more opcodes than the walk allows")
        arg = _read_arg(fh, op, offset, size)
        if op.name == "STOP":
            return state.pop(offset)
        apply(state, op.name, arg, offset, fh, size)


def _read_arg(fh: BinaryIO, op: pickletools.OpcodeInfo, offset: int, size: int) -> Any:
    if op.arg is None:
        return None
    if op.name in ("GLOBAL", "INST"):
        return (_line(fh, offset), _line(fh, offset))
    width = _LENGTH_PREFIXED.get(op.arg.name)
    if width is not None:
        raw = fh.read(width)
        if len(raw) != width:
            raise WalkError(offset, f"{op.name} length truncated")
        length = int.from_bytes(raw, "little", signed=op.arg.name == "string4")
        if length < 0 or fh.tell() + length > size:
            raise WalkError(offset, f"{op.name} claims {length} bytes past the end of the data")
        if length > BIG_ARG:
            fh.seek(length, 1)
            return Blob(length)
        data = fh.read(length)
        if "unicode" in op.arg.name:
            return data.decode("utf-8", "surrogatepass")
        # protocol 0-2 str: the unpickler decodes it (ASCII by default), so STACK_GLOBAL accepts it
        return data.decode("latin-1") if op.arg.name == "string4" else data
    try:
        return op.arg.reader(fh)
    except (ValueError, UnicodeDecodeError, struct.error) as exc:
        raise WalkError(offset, f"{op.name}: {exc}") from exc


def _line(fh: BinaryIO, offset: int) -> str:
    raw = fh.readline(LINE_LIMIT)
    if not raw.endswith(b"\n"):
        raise WalkError(offset, "GLOBAL/INST name is not terminated")
    try:
        return raw[:-1].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WalkError(offset, "GLOBAL/INST name is not UTF-8") from exc


