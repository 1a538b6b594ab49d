"""Format detection by content: magic bytes and structure decide, the file name only breaks ties.

A raw pickle named ``pytorch_model.bin``, ``tokenizer.model`` or ``config.json`` is a pickle:
every file that is not identified otherwise is walked as a pickle from its first byte to its
last (bounded by the opcode budget). Content nothing recognises is ``data``, which the scan
leaves unscanned unless the policy lists it as inert.
"""

from __future__ import annotations

import codecs
import io
import json
import lzma
import struct
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from curator.stages.scan.checks.msgpack import is_msgpack
from curator.stages.scan.checks.pickle_walk import walk_file
from curator.stages.scan.checks.protobuf import ProtobufUnreadable, message_fields
from curator.stages.scan.checks.tf_graph import looks_like_meta_graph, looks_like_saved_model
from curator.stages.scan.rules import GlobalRules

HEAD_BYTES = 1 << 16
#: the end-of-central-directory record sits in the last 64 KiB + 22 bytes of a zip
EOCD_WINDOW = (1 << 16) + 22
TF_TABLE_MAGIC = struct.pack("<Q", 0xDB4775248B80FB57)

#: formats a loader can be made to run code from, or that can attack the loader itself
CODE_CAPABLE = frozenset({
    "pickle", "zip", "tar", "gzip", "bz2", "xz", "lzma", "zlib", "lz4", "zstd", "7z", "rar", "snappy",
    "hdf5", "gguf", "onnx", "numpy", "json", "jinja", "python", "savedmodel", "savedmodel-text",
    "keras-metadata", "safetensors", "data", "tflite", "tf-meta-graph", "python-bytecode", "native-code",
})
#: compressed streams curator inflates to look inside
COMPRESSED = ("gzip", "bz2", "xz", "zlib", "lzma", "lz4", "zstd")
_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"), (b"PK\x05\x06", "zip"), (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x1f\x8b", "gzip"), (b"\xfd7zXZ\x00", "xz"), (b"\x04\x22\x4d\x18", "lz4"),
    (b"\x02\x21\x4c\x18", "lz4-legacy"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"Rar!\x1a\x07", "rar"),
    (b"\x89HDF\r\n\x1a\n", "hdf5"), (b"GGUF", "gguf"), (b"\x93NUMPY", "numpy"),
    (b"\xff\x06\x00\x00sNaPpY", "snappy"),
    (b"\x89PNG\r\n\x1a\n", "image"), (b"\xff\xd8\xff", "image"), (b"GIF87a", "image"), (b"GIF89a", "image"),
    (b"\x1a\x45\xdf\xa3", "video"), (b"%PDF-", "document"), (b"ARROW1\x00\x00", "arrow"),
    # llama.cpp's pre-GGUF files: ggml, ggmf, ggjt, as little-endian magics
    (b"lmgg", "ggml-legacy"), (b"fmgg", "ggml-legacy"), (b"tjgg", "ggml-legacy"),
    # native code and compiled Python: code, and nothing curator reads
    (b"\x7fELF", "native-code"), (b"\xcf\xfa\xed\xfe", "native-code"), (b"\xce\xfa\xed\xfe", "native-code"),
    (b"\xfe\xed\xfa\xce", "native-code"), (b"\xfe\xed\xfa\xcf", "native-code"),
    (b"\xca\xfe\xba\xbe", "native-code"),  # a universal (fat) Mach-O, or a Java class
    (b"\x00asm", "native-code"),  # WebAssembly
)
_TEXT_SUFFIXES = {".jinja": "jinja", ".j2": "jinja", ".py": "python"}


@dataclass(frozen=True)
class Sniffed:
    """What a file is, and a few words on how that was decided."""

    format: str
    detail: str = ""
    #: the bytes also walk as a pickle from byte 0 that imports or calls something: ``pickle.load``
    #: (and numpy, joblib, legacy torch, which fall back to it) reads that face whatever the magic says
    pickle_face: bool = False

    @property
    def code_capable(self) -> bool:
        return self.format in CODE_CAPABLE


def sniff_file(path: Path, name: str | None = None, max_opcodes: int = 50_000_000) -> Sniffed:
    """Sniff a file on disk: its head for magic bytes, all of it for the pickle probe."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        return sniff_stream(fh, size, name or path.name, max_opcodes, path)


def sniff(data: bytes, name: str, max_opcodes: int = 50_000_000) -> Sniffed:
    """Sniff a whole (small) file held in memory."""
    return sniff_stream(io.BytesIO(data), len(data), name, max_opcodes)


def sniff_stream(fh: BinaryIO, size: int, name: str, max_opcodes: int = 50_000_000,
                 path: Path | None = None) -> Sniffed:
    """The format of ``size`` bytes readable from ``fh``; ``name`` only settles ties."""
    if size == 0:
        return Sniffed("empty")
    fh.seek(0)
    head = fh.read(HEAD_BYTES)
    lower = name.lower()
    found = _by_structure(head, fh, size)
    if found is not None:
        if found.format != "pickle" and _has_pickle_face(fh, size, max_opcodes):
            return Sniffed(found.format, f"{found.detail}; also walks as a pickle from byte 0",
                           pickle_face=True)
        return found
    walked = _walks_as_pickle(fh, size, max_opcodes)
    text = _as_text(head, size)
    if text is not None and len(head) < size and not _all_text(fh):
        text = None  # text up front, then binary: loaders that seek (zip, HDF5) read what follows
    if walked == "stream" or (walked == "imports" and text is None):
        return Sniffed("pickle", "opcodes parse as a pickle")
    if text is not None:
        for suffix, fmt in _TEXT_SUFFIXES.items():
            if lower.endswith(suffix):
                return Sniffed(fmt, f"text named {suffix}")
        if lower.endswith("saved_model.pbtxt"):
            return Sniffed("savedmodel-text", "SavedModel in protobuf text format")
        if text.lstrip()[:1] in ("{", "[") and (lower.endswith(".json") or _parses_as_json(text, head, size)):
            return Sniffed("json", "JSON text")
        if lower.endswith(".safetensors"):
            return Sniffed("safetensors", "named .safetensors, header does not parse")
        return Sniffed("text", "UTF-8 text")
    return _binary(fh, head, size, lower, path)


def _by_structure(head: bytes, fh: BinaryIO, size: int) -> Sniffed | None:
    """What the first bytes say, before any pickle probe: magic numbers, a safetensors header, compression."""
    found = _by_magic(head, fh, size)
    if found is not None:
        return found
    if _is_safetensors(head, size):  # before the pickle header: a header length 0x0280.. starts b"\x80\x02"
        return Sniffed("safetensors", "header length and JSON header")
    if head[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"):
        return Sniffed("pickle", f"protocol {head[1]} header")
    if _is_zlib(head):
        return Sniffed("zlib", "zlib header that inflates")
    if _is_lzma_alone(head):
        return Sniffed("lzma", "LZMA-alone header that decodes")
    return None


def _by_magic(head: bytes, fh: BinaryIO, size: int) -> Sniffed | None:
    for magic, fmt in _MAGICS:
        if head.startswith(magic):
            return Sniffed(fmt, "magic bytes")
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return Sniffed("bz2", "magic bytes")
    if len(head) >= 4 and head[1:4] == b"\x2a\x4d\x18" and head[0] & 0xF0 == 0x50:
        return Sniffed("zstd", "skippable frame")
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return Sniffed("image" if head[8:12] == b"WEBP" else "audio", "RIFF container")
    if head[:4] in (b"fLaC", b"OggS") or head[:3] == b"ID3":
        return Sniffed("audio", "magic bytes")
    if head[4:8] == b"ftyp":
        return Sniffed("video", "ISO media ftyp box")
    if head[:4] == b"PAR1" and size > 8 and _tail(fh, size, 4) == b"PAR1":
        return Sniffed("parquet", "PAR1 at both ends")
    if head[:2] == b"MZ" and len(head) > 0x40:
        (pe,) = struct.unpack("<I", head[0x3C:0x40])
        if head[pe:pe + 4] == b"PE\x00\x00":
            return Sniffed("native-code", "a Windows PE executable")
    if head[2:4] == b"\r\n" and len(head) >= 16 and head[:2] != b"\r\n" and not _printable(head[:2]):
        return Sniffed("python-bytecode", "a .pyc header")
    if len(head) > 262 and head[257:262] == b"ustar":
        return Sniffed("tar", "ustar header")
    if is_tar_header(head):
        return Sniffed("tar", "tar header whose checksum holds (no ustar magic)")
    return None


def is_tar_header(head: bytes) -> bool:
    """A first 512-byte block tarfile accepts as a header: pre-POSIX tars carry no magic at all, and
    ``torch.load`` (legacy format), NeMo and ``tarfile.open`` read them all the same."""
    if len(head) < 512 or not head[148:156].strip(b" \x00"):
        return False
    try:
        tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        return False
    return True


def find_hdf5(fh: BinaryIO, size: int) -> int | None:
    """libhdf5 looks for its signature at 0 and after a user block of any power of two from 512."""
    offset = 512
    while offset + 8 <= size:
        fh.seek(offset)
        if fh.read(8) == b"\x89HDF\r\n\x1a\n":
            return offset
        offset *= 2
    return None


def _binary(fh: BinaryIO, head: bytes, size: int, lower: str, path: Path | None) -> Sniffed:
    base = lower.rsplit("/", 1)[-1]
    if base.endswith(".pb") or (_looks_like_onnx(head) and size <= 64 << 20):
        data = _whole(fh, size)
        if data is not None and looks_like_saved_model(data, size):
            return Sniffed("savedmodel", "SavedModel protobuf (schema version, MetaGraphDef with ops)")
        if base == "keras_metadata.pb" and data is not None and _parses(data):
            return Sniffed("keras-metadata", "Keras SavedModel metadata protobuf")
        if base == "fingerprint.pb" and data is not None and _is_fingerprint(data):
            return Sniffed("tf-fingerprint", "SavedModel fingerprint protobuf")
    if base.endswith(".meta"):
        meta = _whole(fh, size)
        if meta is not None and looks_like_meta_graph(meta, size):
            return Sniffed("tf-meta-graph", "TF1 MetaGraphDef (graph ops)")
    if _looks_like_onnx(head) or (lower.endswith(".onnx") and head[:1] == b"\x08"):
        return Sniffed("onnx", "ModelProto fields")
    if lower.endswith(".pb") and head[:1] in (b"\x08", b"\x12"):
        return Sniffed("savedmodel", "protobuf named .pb")
    if len(head) >= 8 and head[4:8] == b"TFL3":
        return Sniffed("tflite", "TFL3 identifier")
    if head[:1] == b"\x0a" and _is_sentencepiece(fh, size):
        return Sniffed("sentencepiece", "SentencePiece ModelProto")
    if size >= 48 and _tail(fh, size, 8) == TF_TABLE_MAGIC:
        return Sniffed("tf-variables", "TensorFlow checkpoint index (table footer)")
    if path is not None and _is_variables_shard(path):
        return Sniffed("tf-variables", "TensorFlow checkpoint shard beside its index")
    if path is not None and base.endswith(".bin") and _beside_openvino_xml(path):
        return Sniffed("openvino-weights", "weights beside an OpenVINO IR .xml")
    if head[:1] and (0x80 <= head[0] <= 0x8F or head[0] in (0xDE, 0xDF)) and is_msgpack(fh, size):
        return Sniffed("msgpack", "one MessagePack map, read to its end")
    if find_eocd(fh, size) is not None:
        return Sniffed("zip", "end-of-central-directory record after other bytes")
    if (block := find_hdf5(fh, size)) is not None:
        return Sniffed("hdf5", f"magic bytes after a {block}-byte user block")
    if lower.endswith(".safetensors"):
        return Sniffed("safetensors", "named .safetensors, header does not parse")
    if base.startswith("events.out.tfevents.") and _is_tfrecord(fh, size):
        return Sniffed("tfevents", "TensorBoard event records, framed to the end")
    if _is_legacy_text(head, size):
        for suffix, fmt in _TEXT_SUFFIXES.items():
            if lower.endswith(suffix):
                return Sniffed(fmt, f"text named {suffix}, not UTF-8")
        return Sniffed("text", "text in a legacy 8-bit or UTF-16 encoding")
    return Sniffed("data", "no known structure")


def _printable(data: bytes) -> bool:
    return all(32 <= b < 127 or b in (9, 10, 13) for b in data)


def _is_legacy_text(head: bytes, size: int) -> bool:
    """UTF-16 with a byte-order mark, or 8-bit text (Latin-1, cp1252) without control bytes."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            head[:len(head) - len(head) % 2].decode("utf-16")
        except UnicodeDecodeError:
            return False
        return True
    if b"\x00" in head:
        return False
    return not any(c in head for c in _CONTROL) and len(head) > 0


def _is_tfrecord(fh: BinaryIO, size: int, max_records: int = 1_000_000) -> bool:
    """length (8) + crc (4) + data + crc (4), record after record, ending exactly at the end."""
    pos = 0
    for _ in range(max_records):
        if pos == size:
            return True
        fh.seek(pos)
        raw = fh.read(8)
        if len(raw) != 8:
            return False
        (length,) = struct.unpack("<Q", raw)
        pos += 16 + length
        if pos > size:
            return False
    return False


def find_eocd(fh: BinaryIO, size: int) -> int | None:
    """Offset of a zip end-of-central-directory record whose directory lies inside the file."""
    window = min(size, EOCD_WINDOW)
    tail = _tail(fh, size, window)
    at = tail.rfind(b"PK\x05\x06")
    while at >= 0:
        if at + 22 <= len(tail):
            (cd_size,) = struct.unpack("<I", tail[at + 12:at + 16])
            absolute = size - window + at
            if 0 < cd_size <= absolute:  # zip readers find the directory just before this record
                fh.seek(absolute - cd_size)
                if fh.read(4) == b"PK\x01\x02":
                    return absolute
            elif cd_size == 0xFFFFFFFF and absolute >= 20:  # zip64: a locator sits in front
                fh.seek(absolute - 20)
                if fh.read(4) == b"PK\x06\x07":
                    return absolute
        at = tail.rfind(b"PK\x05\x06", 0, at)
    return None


def _tail(fh: BinaryIO, size: int, n: int) -> bytes:
    fh.seek(max(size - n, 0))
    return fh.read(n)


def _whole(fh: BinaryIO, size: int, limit: int = 512 << 20) -> bytes | None:
    if size > limit:
        return None
    fh.seek(0)
    return fh.read(size)


def _parses(data: bytes) -> bool:
    try:
        message_fields(data, 0, len(data))
    except ProtobufUnreadable:
        return False
    return True


def _is_fingerprint(data: bytes) -> bool:
    try:
        found = message_fields(data, 0, len(data))
    except ProtobufUnreadable:
        return False
    return bool(found) and all((n <= 5 and w == 0) or (n == 6 and w == 2) for n, w, _, _ in found)


def _is_sentencepiece(fh: BinaryIO, size: int) -> bool:
    """ModelProto: pieces (1) of {piece string, score float, type enum}, then spec messages (2-5)."""
    data = _whole(fh, size, 64 << 20)
    if data is None:
        return False
    try:
        top = message_fields(data, 0, size)
        if not top or not all(n in (1, 2, 3, 4, 5) and w == 2 for n, w, _, _ in top):
            return False
        for n, _, start, end in top:
            if n == 1:
                piece = message_fields(data, start, end)
                if not all((pn, pw) in ((1, 2), (2, 5), (3, 0)) for pn, pw, _, _ in piece):
                    return False
    except ProtobufUnreadable:
        return False
    return any(n == 1 for n, _, _, _ in top)


def _is_variables_shard(path: Path) -> bool:
    stem, sep, rest = path.name.partition(".data-")
    if not sep or not rest.replace("-of-", "").isdigit():
        return False
    index = path.with_name(stem + ".index")
    try:
        with open(index, "rb") as fh:
            size = index.stat().st_size
            return size >= 48 and _tail(fh, size, 8) == TF_TABLE_MAGIC
    except OSError:
        return False


def _beside_openvino_xml(path: Path) -> bool:
    try:
        with open(path.with_suffix(".xml"), "rb") as fh:
            return b"<net " in fh.read(4096)
    except OSError:
        return False


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


def _is_lzma_alone(head: bytes) -> bool:
    """``.lzma`` (joblib's ``compress='lzma'``): properties byte, dictionary size, length, then a stream."""
    if len(head) < 14 or head[0] >= 225:
        return False
    (dict_size,) = struct.unpack("<I", head[1:5])
    if dict_size < 4096 or dict_size > 1 << 30:
        return False
    try:
        out = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE).decompress(head, 64)
    except lzma.LZMAError:
        return False
    return len(out) > 0


def _walks_as_pickle(fh: BinaryIO, size: int, max_opcodes: int) -> str | None:
    """Protocol 0/1 pickles have no header: walk the file as one, from its first byte on.

    ``stream``: a whole stream, a call, or more opcodes than the budget; ``imports``: it imports
    something and then breaks (a label list "cat\ndog\n..." reads as GLOBAL at.dog, so text with
    only that much to it stays text); None: not a pickle.
    """
    walk = walk_file(fh, size, max_opcodes=max_opcodes, probe=True)
    floor = GlobalRules()
    if walk.streams or walk.invoked or walk.exhausted or any(  # importing antigravity is enough
            floor.reaches_danger(g.module, g.name) for g in walk.globals):
        return "stream"
    return "imports" if walk.globals else None


def _has_pickle_face(fh: BinaryIO, size: int, max_opcodes: int) -> bool:
    """A magic number is only what *one* reader checks: ``GIF89a`` opens a pickle (BINFLOAT eats the
    next 8 bytes), a tar header's name field can hold one, ``ftyp`` at byte 4 sits inside a LONG1.
    Walked from byte 0 like any headerless file: a face that imports or calls something is a pickle."""
    walk = walk_file(fh, size, max_opcodes=max_opcodes, probe=True)
    return bool(walk.globals or walk.invoked or walk.exhausted)


#: control bytes text never holds (tab, newlines, form feed and escape are fine); protobuf is full of them
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def _as_text(head: bytes, size: int) -> str | None:
    if any(c in head for c in _CONTROL):
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if len(head) < size and exc.start >= len(head) - 3:  # a character cut by the 64 KiB window
            return head[:exc.start].decode("utf-8")
        return None


def _all_text(fh: BinaryIO) -> bool:
    """The whole file is UTF-8 without control bytes, not only the head the sniffer looked at."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    fh.seek(0)
    try:
        while chunk := fh.read(1 << 20):
            if any(c in chunk for c in _CONTROL):
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


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
