"""The malicious half of the scan corpus: one sample per technique, harmless payloads, written byte by byte.

Nothing here pickles a live object or loads anything: payloads are ``os.system('true')`` and
``builtins.print`` built from opcodes (tests/scan/pickles.py).
"""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import marshal
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from tests.scan import formats, pickles
from tests.scan.corpus import (
    ATTR_FILTER_TEMPLATE,
    BLOCKED,
    INJECTED_TEMPLATE,
    INPUT_LAYER,
    UNSCANNED,
    Sample,
    _dir,
    _h5_bytes,
    _keras_zip,
)
from tests.scan.pickles import Ops


def _tar_bytes(members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for name, blob in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return buffer.getvalue()


def _joblib_with_array_then_reduce() -> bytes:
    """A joblib stream as NumpyPickler writes it (array bytes inside the stream), then os.system."""
    ops = Ops(4).empty_dict().memoize().mark().short_string("w").memoize()
    ops.short_string("joblib.numpy_pickle").memoize().short_string("NumpyArrayWrapper").memoize()
    ops.stack_global().memoize().empty_tuple().newobj().memoize().empty_dict().memoize().mark()
    ops.short_string("subclass").short_string("numpy").short_string("ndarray").stack_global()
    ops.short_string("shape").int_(4).tuple1().short_string("order").short_string("C")
    ops.short_string("dtype").short_string("numpy").short_string("dtype").stack_global()
    ops.short_string("f8").bool_(False).bool_(True).tuple3().reduce()
    ops.mark().int_(3).short_string("<").none().none().none().raw(b"J\xff\xff\xff\xffJ\xff\xff\xff\xff")
    ops.int_(0).tuple_().build()
    ops.short_string("allow_mmap").bool_(True).short_string("numpy_array_alignment_bytes").int_(16)
    ops.setitems().build()
    # the array: one padding-length byte, padding, then 4 float64s written raw into the stream
    ops.raw(b"\x0c" + b"\xff" * 12 + struct.pack("<4d", 0.0, 1.0, 2.0, 3.0))
    ops.short_string("hook").global_("os", "system").string("true").tuple1().reduce()
    return ops.setitems().stop().bytes_()


def _zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zf:
        for name, blob in members.items():
            zf.writestr(zipfile.ZipInfo(name), blob, compress_type=compression)
    return buffer.getvalue()


def _npy_object_array(payload: bytes) -> bytes:
    header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


def _keras_lambda_layer() -> dict[str, object]:
    code = marshal.dumps(compile("lambda x: print('curator-test') or x", "<lambda>", "eval"))

    return {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
            "config": {"name": "lambda", "function": {"class_name": "__lambda__", "config": {
                "code": base64.b64encode(code).decode(), "defaults": None, "closure": None}},
                "output_shape": None, "arguments": {}}}


def _h5_lambda_config() -> dict[str, object]:
    layer = {"class_name": "Lambda", "config": {"name": "lambda", "function": ["4wEAAAAAAAAA", None, None],
                                                "function_type": "lambda"}}
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": [layer]}}


MaliciousWriter = Callable[[Path], Path]


def _write(name: str, blob: bytes) -> MaliciousWriter:
    def writer(folder: Path) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        return path
    return writer


def _malicious_writers() -> dict[str, tuple[MaliciousWriter, str]]:
    payload = pickles.os_system_call()
    legit = pickles.benign_state_dict({"w": ("FloatStorage", (2, 2))})
    legit_legacy = pickles.benign_state_dict({"w": ("FloatStorage", (2, 2))}, legacy=True)
    return {
        "plain_reduce_pkl": (_write("model.pkl", payload), BLOCKED),
        "dotted_stack_global": (_write("model.pkl", pickles.dotted_stack_global()), BLOCKED),
        "memo_hidden_stack_global": (_write("model.pkl", pickles.memo_hidden_stack_global()), BLOCKED),
        "inst_opcode": (_write("model.pkl", pickles.inst_call()), BLOCKED),
        "obj_opcode": (_write("model.pkl", pickles.obj_call()), BLOCKED),
        "getattr_import_gadget": (_write("model.pkl", pickles.getattr_gadget()), BLOCKED),
        "builtins_print_call": (_write("model.pkl", pickles.print_call()), BLOCKED),
        "protocol5_framed": (_write("model.pkl", pickles.os_system_call(protocol=5)), BLOCKED),
        "second_pickle_in_stream": (_write("model.pkl", Ops(2).none().stop().bytes_() + payload), BLOCKED),
        "raw_pickle_named_bin": (_write("pytorch_model.bin", payload), BLOCKED),
        "raw_pickle_named_pt": (_write("model.pt", payload), BLOCKED),
        "raw_pickle_named_ckpt": (_write("last.ckpt", payload), BLOCKED),
        "raw_pickle_named_tokenizer_model": (_write("tokenizer.model", payload), BLOCKED),
        "raw_pickle_no_extension": (_write("weights", payload), BLOCKED),
        "raw_pickle_named_json": (_write("config.json", payload), BLOCKED),
        "nullifai_broken_pickle": (_write("pytorch_model.bin", pickles.broken_after_payload()), BLOCKED),
        "gzip_wrapped_pickle": (_write("model.pkl.gz", gzip.compress(payload)), BLOCKED),
        "bz2_wrapped_pickle": (_write("model.bin", bz2.compress(payload)), BLOCKED),
        "xz_wrapped_pickle": (_write("model.ckpt", lzma.compress(payload)), BLOCKED),
        "tar_wrapped_pickle": (_write("model.tar", _tar_bytes({"model/data.pkl": payload})), BLOCKED),
        "tar_gz_wrapped_pickle": (_write("model.tgz", gzip.compress(_tar_bytes({"data.pkl": payload}))),
                                  BLOCKED),
        "torch_zip_reduce": (lambda d: formats.torch_zip(d / "model.pt", payload, []), BLOCKED),
        "torch_zip_extra_pickle": (lambda d: formats.torch_zip(
            d / "model.pt", legit, [b"\x00" * 16], extra={"constants.pkl": payload}), BLOCKED),
        "torch_zip_pickle_member_misnamed": (lambda d: formats.torch_zip(
            d / "model.pt", legit, [b"\x00" * 16], extra={"extra/state": payload}), BLOCKED),
        "legacy_torch_sys_info_payload": (lambda d: formats.legacy_torch(
            d / "model.pt", legit_legacy, {"0": b"\x00" * 16}, sys_info=payload), BLOCKED),
        "joblib_reduce": (_write("model.joblib", _joblib_with_array_then_reduce()), BLOCKED),
        "joblib_reduce_compressed": (_write("model.joblib", zlib.compress(_joblib_with_array_then_reduce())),
                                     BLOCKED),
        "numpy_object_array_pickle": (_write("array.npy", _npy_object_array(payload)), BLOCKED),
        "npz_object_array_pickle": (_write("arrays.npz", _zip_bytes({"a.npy": _npy_object_array(payload)})),
                                    BLOCKED),
        "keras3_lambda_layer": (lambda d: _keras_zip(d / "model.keras", [INPUT_LAYER, _keras_lambda_layer()]),
                                BLOCKED),
        "keras_h5_lambda_layer": (_write("model.h5", _h5_bytes(_h5_lambda_config())), BLOCKED),
        "zip_slip_member": (_write("model.zip", _zip_bytes({"../../outside/evil.txt": b"harmless"})),
                            BLOCKED),
        "zip_absolute_member": (_write("model.zip", _zip_bytes({"/tmp/evil.txt": b"harmless"})), BLOCKED),
        "tar_symlink_escape": (_write("model.tar", _tar_bytes({}, {"link": "../../../etc/passwd"})), BLOCKED),
        "zip_bomb_is_finding": (_write("weights.zip", _zip_bytes({"zeros.bin": b"\x00" * (64 << 20)},
                                                                 zipfile.ZIP_DEFLATED)), BLOCKED),
        "seven_zip_wrapped_model": (_write("pytorch_model.bin", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 24),
                                    UNSCANNED),
        "safetensors_lying_header": (lambda d: formats.safetensors(
            d / "model.safetensors", {"w": ("F32", (4,))},
            header_override={"w": {"dtype": "F32", "shape": [1024], "data_offsets": [0, 4096]}}), BLOCKED),
        "safetensors_overlapping_tensors": (lambda d: formats.safetensors(
            d / "model.safetensors", {"a": ("F32", (4,)), "b": ("F32", (4,))},
            header_override={"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                             "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}), BLOCKED),
        "safetensors_trailing_pickle": (lambda d: formats.safetensors(
            d / "model.safetensors", {"w": ("F32", (4,))}, trailing=payload), BLOCKED),
        "onnx_external_data_traversal": (lambda d: formats.onnx_model(
            d / "model.onnx", external_location="../../../../etc/passwd"), BLOCKED),
        "onnx_external_data_absolute": (lambda d: formats.onnx_model(
            d / "model.onnx", external_location="/etc/passwd"), BLOCKED),
        "gguf_jinja_injection": (lambda d: formats.gguf(d / "model.gguf", {
            "general.architecture": "llama", "tokenizer.chat_template": INJECTED_TEMPLATE}), BLOCKED),
        "tokenizer_config_jinja_injection": (_write("tokenizer_config.json", json.dumps(
            {"chat_template": INJECTED_TEMPLATE}).encode()), BLOCKED),
        "tokenizer_config_attr_filter_injection": (_write("tokenizer_config.json", json.dumps(
            {"chat_template": [{"name": "default", "template": ATTR_FILTER_TEMPLATE}]}).encode()), BLOCKED),
        "chat_template_jinja_file_injection": (_write("chat_template.jinja", INJECTED_TEMPLATE.encode()),
                                               BLOCKED),
    }


def malicious(root: Path, only: set[str] | None = None) -> list[Sample]:
    """Every malicious sample, each in its own folder named for its technique."""
    out = []
    for name, (writer, expected) in _malicious_writers().items():
        if only is not None and name not in only:
            continue
        path = writer(_dir(root, "malicious", name))
        out.append(Sample(name, path.relative_to(root).as_posix(), expected))
    return out

