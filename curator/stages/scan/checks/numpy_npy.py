"""NumPy ``.npy`` headers: plain arrays are bytes; object arrays are a pickle after the header."""

from __future__ import annotations

import ast
import re
import struct
from dataclasses import dataclass
from typing import BinaryIO


class NpyUnreadable(Exception):
    """The header is not a NumPy array header."""


@dataclass(frozen=True)
class NpyHeader:
    """What the header says: where data starts, and whether that data is a pickle."""

    data_offset: int
    holds_objects: bool
    shape: tuple[int, ...]
    descr: str


def read_npy_header(fh: BinaryIO, size: int) -> NpyHeader:
    """Parse the header with ``ast.literal_eval`` (a literal, never code), nothing else."""
    fh.seek(0)
    head = fh.read(10)
    if head[:6] != b"\x93NUMPY" or len(head) < 10:
        raise NpyUnreadable("no NumPy magic")
    major = head[6]
    if major == 1:
        (length,) = struct.unpack("<H", head[8:10])
        start = 10
    elif major in (2, 3):
        fh.seek(8)
        (length,) = struct.unpack("<I", fh.read(4))
        start = 12
    else:
        raise NpyUnreadable(f"format version {major} is unknown")
    if start + length > size or length > 1 << 20:
        raise NpyUnreadable("header runs past the end of the file")
    fh.seek(start)
    try:
        header = ast.literal_eval(fh.read(length).decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise NpyUnreadable(f"header is not a literal dict ({type(exc).__name__})") from exc
    if not isinstance(header, dict) or not {"descr", "shape"} <= set(header):
        raise NpyUnreadable("header lacks descr/shape")
    shape = header["shape"]
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise NpyUnreadable(f"shape {shape!r} is malformed")
    return NpyHeader(start + length, _has_objects(header["descr"]), shape, repr(header["descr"]))


#: dtype strings of plain values (numbers, bytes, text, dates): anything else either holds objects
#: or is not understood; NumPy also accepts names ("object", "float32") and (dtype, shape) tuples
_PLAIN = re.compile(r"([biufcSUVa?]\d*|[mM]8(\[\d*[a-zA-Z]+\])?"
                    r"|(bool|int|uint|float|complex|str|bytes|void|datetime64|timedelta64)\d*(\[\d*[a-zA-Z]+\])?)")


def _has_objects(descr: object) -> bool:
    """True for an object dtype however it is spelled: ``'|O'``, ``'object'``, a ``(dtype, shape)``
    subarray of objects, a structured dtype ``[(name, dtype[, shape]), ...]`` with an object field.
    A descr that is none of the plain forms is not understood (unscanned, never clean)."""
    if isinstance(descr, str):
        base = descr.lstrip("<>|=")
        if base.startswith("O") or base.lower().startswith("object"):
            return True
        if _PLAIN.fullmatch(base):
            return False
    elif isinstance(descr, tuple) and len(descr) == 2:
        return _has_objects(descr[0])
    elif isinstance(descr, list):
        fields = [f for f in descr if isinstance(f, tuple) and len(f) in (2, 3)]
        if len(fields) == len(descr):
            return any(_has_objects(f[1]) for f in fields)
    raise NpyUnreadable(f"dtype {descr!r} is not one the check understands")
