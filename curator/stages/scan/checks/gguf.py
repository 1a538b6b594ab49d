"""GGUF metadata: read the key/value header (never the tensors) and hand its chat templates on."""

from __future__ import annotations

import struct
from typing import BinaryIO

_SCALARS = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
STRING, ARRAY = 8, 9
MAX_KV = 1 << 20
MAX_NESTING = 16
MAX_DIMS = 4  # GGML_MAX_DIMS: loaders index fixed arrays with n_dims


class GGUFUnreadable(Exception):
    """The header does not parse: the loader's behaviour on it cannot be judged."""


def read_gguf(fh: BinaryIO, size: int) -> tuple[dict[str, str], list[str]]:
    """(string metadata worth inspecting, structural problems) of a GGUF v2/v3 file.

    Only ``tokenizer.chat_template*`` strings are kept; other values are stepped over.
    """
    reader = _Reader(fh, size)
    if reader.take(4) != b"GGUF":
        raise GGUFUnreadable("no GGUF magic")
    version = reader.u32()
    if version not in (2, 3):
        raise GGUFUnreadable(f"GGUF version {version} is not supported by the check")
    tensors, kvs = reader.u64(), reader.u64()
    problems: list[str] = []
    if kvs > MAX_KV:
        raise GGUFUnreadable(f"header claims {kvs} metadata entries")
    kept: dict[str, str] = {}
    seen: dict[str, int] = {}
    for _ in range(kvs):
        key = reader.string(limit=1 << 16)
        vtype = reader.u32()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 2:
            problems.append(f"metadata key {key!r} appears more than once: readers disagree on which "
                            "value wins (llama.cpp's lookup takes the first, a dict the last)")
        if key.startswith("tokenizer.chat_template") and vtype == STRING:
            # every copy is checked: which one a loader renders depends on the loader
            kept[key if seen[key] == 1 else f"{key} (copy {seen[key]})"] = reader.string(limit=16 << 20)
        else:
            reader.skip_value(vtype)
    if tensors > size // 16:
        problems.append(f"header claims {tensors} tensors, more than the file can hold")
        return kept, problems
    for _ in range(tensors):
        name = reader.string(limit=1 << 16)
        n_dims = reader.u32()
        if n_dims > MAX_DIMS:
            problems.append(f"tensor {name!r} claims {n_dims} dimensions (loaders allow {MAX_DIMS})")
            break
        reader.take(8 * n_dims + 4)
        if reader.u64() > size:
            problems.append(f"tensor {name!r} has a data offset past the end of the file")
    return kept, problems


class _Reader:
    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh = fh
        self.size = size
        self.depth = 0
        fh.seek(0)

    def take(self, n: int) -> bytes:
        if n < 0 or self.fh.tell() + n > self.size:
            raise GGUFUnreadable(f"field of {n} bytes runs past the end of the file")
        return self.fh.read(n)

    def u32(self) -> int:
        return int(struct.unpack("<I", self.take(4))[0])

    def u64(self) -> int:
        return int(struct.unpack("<Q", self.take(8))[0])

    def string(self, limit: int) -> str:
        length = self.u64()
        if length > limit:
            raise GGUFUnreadable(f"a {length}-byte string where at most {limit} is plausible")
        return self.take(length).decode("utf-8", "replace")

    def skip_value(self, vtype: int) -> None:
        if vtype in _SCALARS:
            self.take(_SCALARS[vtype])
        elif vtype == STRING:
            self.fh.seek(self._checked(self.u64()), 1)
        elif vtype == ARRAY:
            item, count = self.u32(), self.u64()
            if item in _SCALARS:
                self.fh.seek(self._checked(count * _SCALARS[item]), 1)
            elif item in (STRING, ARRAY):  # the spec allows arrays of strings and of arrays
                if count > self.size // 8:
                    raise GGUFUnreadable(f"array claims {count} items of at least 8 bytes")
                self.depth += 1
                if self.depth > MAX_NESTING:
                    raise GGUFUnreadable("arrays nested deeper than the check follows")
                for _ in range(count):
                    if item == STRING:
                        self.fh.seek(self._checked(self.u64()), 1)
                    else:
                        self.skip_value(ARRAY)
                self.depth -= 1
            else:
                raise GGUFUnreadable(f"array of value type {item} is not in the GGUF spec")
        else:
            raise GGUFUnreadable(f"value type {vtype} is not in the GGUF spec")

    def _checked(self, n: int) -> int:
        if self.fh.tell() + n > self.size:
            raise GGUFUnreadable(f"value of {n} bytes runs past the end of the file")
        return n
