"""Hand-written model file formats for the scan corpus: torch zip and legacy, GGUF, ONNX, safetensors.

Written from the formats' specifications, byte by byte, so the tests need neither torch nor
onnx nor any loader; nothing here ever reads a file back through a deserializer.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

from tests.scan.pickles import Ops

LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C


# -- torch -------------------------------------------------------------------------------------
def torch_zip(path: Path, data_pkl: bytes, storages: list[bytes], extra: dict[str, bytes] | None = None,
              prefix: str = "archive") -> Path:
    """torch.save's zip layout: ``<prefix>/data.pkl``, ``data/N`` storages, version, byteorder."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(f"{prefix}/data.pkl", data_pkl)
        zf.writestr(f"{prefix}/byteorder", b"little")
        for key, blob in enumerate(storages):
            zf.writestr(f"{prefix}/data/{key}", blob)
        zf.writestr(f"{prefix}/version", b"3\n")
        zf.writestr(f"{prefix}/.data/serialization_id", b"1234567890123456789012345678901234567890")
        for name, blob in (extra or {}).items():
            zf.writestr(f"{prefix}/{name}", blob)
    return path


def legacy_torch(path: Path, data_pkl: bytes, storages: dict[str, bytes],
                 sys_info: bytes | None = None) -> Path:
    """The pre-1.6 torch.save layout: five pickles back to back, then raw storages."""
    magic = Ops(2).long1(LEGACY_TORCH_MAGIC).stop().bytes_()
    version = Ops(2).int_(1001).stop().bytes_()
    if sys_info is None:
        sys_info = (Ops(2).empty_dict().mark().string("protocol_version").int_(1001)
                    .string("little_endian").bool_(True).string("type_sizes").empty_dict().mark()
                    .string("short").int_(2).string("int").int_(4).string("long").int_(4)
                    .setitems().setitems().stop().bytes_())
    keys = Ops(2).empty_list().mark()
    for key in storages:
        keys.string(key)
    body = bytearray(magic + version + sys_info + data_pkl + keys.appends().stop().bytes_())
    for blob in storages.values():
        body += struct.pack("<q", len(blob) // 4) + blob
    path.write_bytes(bytes(body))
    return path


# -- safetensors -------------------------------------------------------------------------------
DTYPE_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1,
               "U8": 1, "BOOL": 1}


def safetensors(path: Path, tensors: dict[str, tuple[str, tuple[int, ...]]],
                header_override: dict[str, object] | None = None, trailing: bytes = b"",
                fill: int = 0) -> Path:
    """A safetensors file; ``header_override`` replaces the honest header (to make it lie)."""
    header: dict[str, object] = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        numel = 1
        for dim in shape:
            numel *= dim
        size = numel * DTYPE_SIZES[dtype]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header_override if header_override is not None else header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        _write_fill(fh, offset, fill)
        fh.write(trailing)
    return path


def _write_fill(fh: io.BufferedWriter, size: int, fill: int) -> None:
    chunk = bytes([fill]) * min(size, 8 << 20)
    while size > 0:
        n = min(size, len(chunk))
        fh.write(chunk[:n])
        size -= n


# -- GGUF --------------------------------------------------------------------------------------
def _gguf_string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("<Q", len(raw)) + raw


def gguf(path: Path, metadata: dict[str, object], tensor_bytes: int = 64) -> Path:
    """GGUF v3: header, metadata KVs (str, int, list of str), one f32 tensor."""
    kvs = bytearray()
    for key, value in metadata.items():
        kvs += _gguf_string(key)
        if isinstance(value, str):
            kvs += struct.pack("<I", 8) + _gguf_string(value)
        elif isinstance(value, int):
            kvs += struct.pack("<I", 4) + struct.pack("<I", value)
        elif isinstance(value, list):
            kvs += struct.pack("<IIQ", 9, 8, len(value)) + b"".join(_gguf_string(str(v)) for v in value)
        else:
            raise TypeError(f"unsupported GGUF value {value!r}")
    numel = tensor_bytes // 4
    tensor_info = _gguf_string("token_embd.weight") + struct.pack("<IQIQ", 1, numel, 0, 0)
    head = b"GGUF" + struct.pack("<IQQ", 3, 1, len(metadata)) + bytes(kvs) + tensor_info
    head += b"\x00" * (-len(head) % 32)
    path.write_bytes(head + b"\x00" * tensor_bytes)
    return path


# -- protobuf (ONNX, sentencepiece) ------------------------------------------------------------
def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def field_bytes(number: int, value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def onnx_model(path: Path, external_location: str | None = None) -> Path:
    """A one-MatMul ONNX model; its weight inline, or in external data at ``external_location``."""
    tensor = field_varint(1, 4) + field_varint(1, 2) + field_varint(2, 1) + field_bytes(8, "w")
    if external_location is None:
        tensor += field_bytes(9, struct.pack("<8f", *range(8)))
    else:
        for key, value in (("location", external_location), ("offset", "0"), ("length", "32")):
            tensor += field_bytes(13, field_bytes(1, key) + field_bytes(2, value))
        tensor += field_varint(14, 1)
    node = field_bytes(1, "x") + field_bytes(1, "w") + field_bytes(2, "y") + field_bytes(4, "MatMul")
    graph = (field_bytes(1, node) + field_bytes(2, "main") + field_bytes(5, tensor)
             + field_bytes(11, field_bytes(1, "x")) + field_bytes(12, field_bytes(1, "y")))
    model = (field_varint(1, 8) + field_bytes(2, "curator-test") + field_bytes(7, graph)
             + field_bytes(8, field_bytes(1, "") + field_varint(2, 17)))
    path.write_bytes(model)
    return path


def sentencepiece_model(path: Path) -> Path:
    """A tiny sentencepiece ModelProto: a few pieces and a trainer spec."""
    pieces = b"".join(
        field_bytes(1, field_bytes(1, p) + b"\x15" + struct.pack("<f", -1.0) + field_varint(3, 1))
        for p in ("<unk>", "<s>", "</s>", "▁the", "▁a"))
    path.write_bytes(pieces + field_bytes(2, field_bytes(1, "corpus.txt") + field_varint(3, 8000)))
    return path


# -- TFLite ------------------------------------------------------------------------------------
def tflite(path: Path, custom_ops: list[str | None]) -> Path:
    """A TFLite flatbuffer whose operator_codes hold these custom ops (None: a builtin op)."""
    out = bytearray(b"\x00" * 4 + b"TFL3")
    model_vtable = len(out)
    out += struct.pack("<HHHH", 8, 12, 4, 8)
    model = len(out)
    out += struct.pack("<iII", model - model_vtable, 3, 0)  # version 3, operator_codes patched below
    vector = len(out)
    struct.pack_into("<I", out, model + 8, vector - (model + 8))
    out += struct.pack("<I", len(custom_ops)) + b"\x00" * 4 * len(custom_ops)
    for i, op in enumerate(custom_ops):
        vtable = len(out)
        out += struct.pack("<HHHHHH", 12, 12, 4, 8 if op else 0, 0, 0) if op else struct.pack("<HHH", 6, 8, 4)
        table = len(out)
        struct.pack_into("<I", out, vector + 4 + 4 * i, table - (vector + 4 + 4 * i))
        out += struct.pack("<ib3xI", table - vtable, 32 if op is None else 0, 0)
        if op:
            text = len(out)
            struct.pack_into("<I", out, table + 8, text - (table + 8))
            out += struct.pack("<I", len(op)) + op.encode() + b"\x00"
    struct.pack_into("<I", out, 0, model)
    path.write_bytes(bytes(out))
    return path
