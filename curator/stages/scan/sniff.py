"""Format detection by content: magic bytes and structure decide, the file name only breaks ties.

A raw pickle named ``pytorch_model.bin``, ``tokenizer.model`` or ``config.json`` is a pickle.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from curator.stages.scan.checks.pickle_walk import walk_file

HEAD_BYTES = 1 << 16

#: formats a loader can be made to run code from, or that can attack the loader itself
CODE_CAPABLE = frozenset({
    "pickle", "zip", "tar", "gzip", "bz2", "xz", "lzma", "zlib", "lz4", "zstd", "7z", "rar",
    "hdf5", "gguf", "onnx", "numpy", "json", "jinja", "python", "savedmodel", "safetensors",
})
#: formats curator can open to look inside
COMPRESSED = ("gzip", "bz2", "xz", "zlib")
_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"\x04\x22\x4d\x18", "lz4"),
    (b"\x28\xb5\x2f\xfd", "zstd"), (b"Rar!\x1a\x07", "rar"), (b"\x89HDF\r\n\x1a\n", "hdf5"),
    (b"GGUF", "gguf"), (b"\x93NUMPY", "numpy"),
)
_TEXT_SUFFIXES = {".jinja": "jinja", ".j2": "jinja", ".py": "python"}


@dataclass(frozen=True)
class Sniffed:
    """What a file is, and a few words on how that was decided."""

    format: str
    detail: str = ""

    @property
    def code_capable(self) -> bool:
        return self.format in CODE_CAPABLE


def sniff_file(path: Path, name: str | None = None) -> Sniffed:
    """Sniff a file on disk from its first 64 KiB."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    return sniff(head, name or path.name, size)


def sniff(head: bytes, name: str, size: int) -> Sniffed:
    """The format of a file whose first bytes are ``head``; ``name`` only settles text formats."""
    if size == 0:
        return Sniffed("empty")
    for magic, fmt in _MAGICS:
        if head.startswith(magic):
            return Sniffed(fmt, "magic bytes")
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return Sniffed("bz2", "magic bytes")
    if len(head) > 262 and head[257:262] == b"ustar":
        return Sniffed("tar", "ustar header")
    if any(head[at:at + 8] == b"\x89HDF\r\n\x1a\n" for at in (512, 1024, 2048)):
        return Sniffed("hdf5", "magic bytes after a user block")
    # before the pickle header: a header length like 0x0280 starts with b"\x80\x02"
    if _is_safetensors(head, size):
        return Sniffed("safetensors", "header length and JSON header")
    if head[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"):
        return Sniffed("pickle", f"protocol {head[1]} header")
    if _is_zlib(head):
        return Sniffed("zlib", "zlib header that inflates")
    if _walks_as_pickle(head, size):
        return Sniffed("pickle", "opcodes parse as a pickle")
    text = _as_text(head)
    lower = name.lower()
    if text is not None:
        for suffix, fmt in _TEXT_SUFFIXES.items():
            if lower.endswith(suffix):
                return Sniffed(fmt, f"text named {suffix}")
        if text.lstrip()[:1] in ("{", "[") and (lower.endswith(".json") or _parses_as_json(text, head, size)):
            return Sniffed("json", "JSON text")
        return Sniffed("text", "UTF-8 text")
    if _looks_like_onnx(head) or (lower.endswith(".onnx") and head[:1] == b"\x08"):
        return Sniffed("onnx", "ModelProto fields")
    if lower.endswith(".pb") and head[:1] in (b"\x08", b"\x12"):
        return Sniffed("savedmodel", "protobuf named .pb")
    if len(head) >= 8 and head[4:8] == b"TFL3":
        return Sniffed("tflite", "TFL3 identifier")
    return Sniffed("data", "no known structure")


def _is_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 9:
        return False
    (length,) = struct.unpack("<Q", head[:8])
    return 2 <= length <= size - 8 and head[8:9] == b"{"


def _is_zlib(head: bytes) -> bool:
    if len(head) < 2 or head[0] & 0x0F != 8 or head[0] >> 4 > 7 or ((head[0] << 8) | head[1]) % 31:
        return False
    try:
        out = zlib.decompressobj().decompress(head, 64)
    except zlib.error:
        return False
    return len(out) > 0


def _walks_as_pickle(head: bytes, size: int) -> bool:
    """Protocol 0/1 pickles have no header: they are pickles if they parse like one."""
    walk = walk_file(io.BytesIO(head), len(head), max_opcodes=100_000, probe=True)
    if walk.streams:
        return True
    if walk.invoked:  # broken after a call (nullifAI): the call still runs at load
        return True
    truncated_by_window = walk.error is not None and len(head) < size and walk.error.offset >= len(head) - 1
    return truncated_by_window and walk.opcodes >= 64


def _as_text(head: bytes) -> str | None:
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the 64 KiB window
            return head[:exc.start].decode("utf-8")
        return None


def _parses_as_json(text: str, head: bytes, size: int) -> bool:
    if len(head) < size:
        return True  # too big to check from the head; the JSON check parses the whole file
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _looks_like_onnx(head: bytes) -> bool:
    """ModelProto starts with ir_version (field 1, varint 1..20) then another known field."""
    return (len(head) > 3 and head[0] == 0x08 and 1 <= head[1] <= 20
            and head[2] in (0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A, 0x42))
