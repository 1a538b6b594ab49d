"""MessagePack (Flax ``flax_model.msgpack``): stepped over value by value, never decoded into objects.

A file is MessagePack only if it is exactly one well-formed value, read to its last byte.
"""

from __future__ import annotations

from typing import BinaryIO

MAX_DEPTH = 64
MAX_VALUES = 10_000_000
# first byte -> (length-field width, what follows: "bytes" | "map" | "array" | "ext" | fixed size)
_SIZED = {0xC4: (1, "bytes"), 0xC5: (2, "bytes"), 0xC6: (4, "bytes"), 0xD9: (1, "bytes"),
          0xDA: (2, "bytes"), 0xDB: (4, "bytes"), 0xDC: (2, "array"), 0xDD: (4, "array"),
          0xDE: (2, "map"), 0xDF: (4, "map"), 0xC7: (1, "ext"), 0xC8: (2, "ext"), 0xC9: (4, "ext")}
_FIXED = {0xC0: 0, 0xC2: 0, 0xC3: 0, 0xCA: 4, 0xCB: 8, 0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1,
          0xD1: 2, 0xD2: 4, 0xD3: 8, 0xD4: 2, 0xD5: 3, 0xD6: 5, 0xD7: 9, 0xD8: 17}


class _Bad(Exception):
    pass


def is_msgpack(fh: BinaryIO, size: int) -> bool:
    fh.seek(0)
    pending = 1  # values still to read at the current level, as a stack
    stack: list[int] = []
    count = 0
    try:
        while True:
            while pending == 0:
                if not stack:
                    return fh.tell() == size
                pending = stack.pop()
            pending -= 1
            count += 1
            if count > MAX_VALUES:
                return False
            children = _value(fh, size)
            if children:
                if len(stack) >= MAX_DEPTH:
                    return False
                stack.append(pending)
                pending = children
    except _Bad:
        return False


def _value(fh: BinaryIO, size: int) -> int:
    """Step over one value's own bytes; returns how many child values follow it."""
    raw = fh.read(1)
    if not raw:
        raise _Bad
    tag = raw[0]
    if tag <= 0x7F or tag >= 0xE0:
        return 0
    if 0x80 <= tag <= 0x8F:
        return 2 * (tag & 0x0F)
    if 0x90 <= tag <= 0x9F:
        return tag & 0x0F
    if 0xA0 <= tag <= 0xBF:
        _skip(fh, size, tag & 0x1F)
        return 0
    if tag in _FIXED:
        _skip(fh, size, _FIXED[tag])
        return 0
    if tag not in _SIZED:
        raise _Bad
    width, kind = _SIZED[tag]
    field = fh.read(width)
    if len(field) != width:
        raise _Bad
    length = int.from_bytes(field, "big")
    if kind == "bytes":
        _skip(fh, size, length)
    elif kind == "ext":
        _skip(fh, size, length + 1)
    else:
        return length * (2 if kind == "map" else 1)
    return 0


def _skip(fh: BinaryIO, size: int, n: int) -> None:
    if fh.tell() + n > size:
        raise _Bad
    fh.seek(n, 1)
