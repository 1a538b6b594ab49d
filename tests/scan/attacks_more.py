"""More malicious samples, written as an attacker who has read every scanner's deny-list and curator's policy.

Re-exports and aliases of process, file and network functions in modules nobody lists, py2
names, call gadgets among allowed functions, every compression format, polyglots, nested
loaders, ``.nemo`` / ``.mar`` archives, TensorFlow graphs, Keras references. Payloads are
harmless (``true``, ``print``) and written byte by byte; nothing is ever loaded.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import struct
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from tests.scan import formats, pickles, tf_formats
from tests.scan.attacks import (
    _joblib_with_array_then_reduce,
    _npy_object_array,
    _tar_bytes,
    _write,
    _zip_bytes,
)
from tests.scan.corpus import BLOCKED, INPUT_LAYER, Sample, _dir, _keras_zip
from tests.scan.pickles import Ops

Writer = Callable[[Path], Path]


def call(module: str, name: str, *args: str, protocol: int = 2) -> bytes:
    """``module.name(*args)`` as GLOBAL + tuple + REDUCE."""
    ops = Ops(protocol).global_(module, name).mark()
    for arg in args:
        ops.string(arg)
    return ops.tuple_().reduce().stop().bytes_()


def call0(module: str, name: str, arg: str) -> bytes:
    """The same in protocol 0 text: ``cmodule\\nname\\n(S'arg'\\ntR.``."""
    return f"c{module}\n{name}\n(S'{arg}'\ntR.".encode()


def _randomstate_ctor() -> bytes:
    """``__randomstate_ctor(name, bit_generator_ctor)`` calls ``bit_generator_ctor(name)``."""
    ops = Ops(2).global_("numpy.random._pickle", "__randomstate_ctor").mark().string("x")
    return ops.global_("transformers.utils.hub", "cached_file").tuple_().reduce().stop().bytes_()


def _rebuild_from_type_v2() -> bytes:
    ops = Ops(2).global_("torch._tensor", "_rebuild_from_type_v2").mark()
    ops.global_("torch.utils.cpp_extension", "load_inline").global_("torch", "Tensor")
    ops.mark().string("x").string("int main(){}").tuple_().empty_dict().tuple_().reduce().stop()
    return ops.bytes_()


def _copyreg_reconstructor() -> bytes:
    ops = Ops(2).global_("copyreg", "_reconstructor").mark().global_("torch.nn.modules.linear", "Linear")
    ops.global_("torch.utils.cpp_extension", "_run_ninja_build").string("true").tuple_().reduce().stop()
    return ops.bytes_()


def _rebuild_parameter_hooks() -> bytes:
    ops = Ops(2).global_("torch._utils", "_rebuild_parameter").mark().none().bool_(False)
    ops.global_("collections", "OrderedDict").empty_tuple().reduce()
    ops.int_(0).global_("doctest", "debug_script").setitem().tuple_().reduce().stop()
    return ops.bytes_()


def _module_forward_hook() -> bytes:
    """A whole-module torch.save whose ``_forward_hooks`` holds a function: it runs on every forward."""
    ops = Ops(2).global_("torch.nn.modules.linear", "Linear").empty_tuple().newobj().empty_dict().mark()
    ops.string("training").bool_(False).string("_forward_hooks")
    ops.global_("collections", "OrderedDict").empty_tuple().reduce()
    ops.int_(0).global_("torch.utils.cpp_extension", "load_inline").setitem()
    return ops.setitems().build().stop().bytes_()


def _defaultdict_factory() -> bytes:
    return (Ops(2).global_("collections", "defaultdict").global_("IPython", "embed").tuple1().reduce()
            .stop().bytes_())


def _headerless_long_first_value() -> bytes:
    """Protocol 1, no PROTO: a 100 KiB string first, so a 64 KiB window sees only text."""
    ops = Ops(None).string("A" * 100_000).raw(b"0")  # POP
    return ops.raw(call0("os", "system", "true")).bytes_()


def _ext_opcode() -> bytes:
    return Ops(2).raw(b"\x82\x01").string("true").tuple1().reduce().stop().bytes_()


def _global_setattr() -> bytes:
    ops = Ops(2).global_("torch.nn.modules.linear", "Linear").empty_dict()
    ops.string("forward").global_("builtins", "print").setitem().build().stop()
    return ops.bytes_()


def _joblib_object_array() -> bytes:
    """A joblib NumpyArrayWrapper of dtype object: the array is a nested pickle that calls os.system."""
    ops = Ops(4).short_string("joblib.numpy_pickle").short_string("NumpyArrayWrapper").stack_global()
    ops.empty_tuple().newobj().empty_dict().mark()
    ops.short_string("subclass").short_string("numpy").short_string("ndarray").stack_global()
    ops.short_string("shape").int_(1).tuple1().short_string("order").short_string("C")
    ops.short_string("dtype").short_string("numpy").short_string("dtype").stack_global()
    ops.short_string("O8").bool_(False).bool_(True).tuple3().reduce()
    ops.mark().int_(3).short_string("|").none().none().none().int_(-1 & 0x7F).int_(-1 & 0x7F).int_(63)
    ops.tuple_().build().short_string("allow_mmap").bool_(False).setitems().build()
    return ops.raw(pickles.os_system_call(protocol=4)).stop().bytes_()


def _png_bytes() -> bytes:
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
            + chunk(b"IEND", b""))


def _h5_with_user_block(model_config: dict[str, object], block: int, prefix: bytes = b"") -> bytes:
    import h5py
    import numpy as np

    buffer = io.BytesIO()
    with h5py.File(buffer, "w", userblock_size=block) as h5:
        h5.attrs["model_config"] = json.dumps(model_config)
        h5.create_dataset("model_weights/w", data=np.ones((2, 2), dtype="float32"))
    data = bytearray(buffer.getvalue())
    data[:len(prefix)] = prefix
    return bytes(data)


def _lambda_h5_config() -> dict[str, object]:
    layer = {"class_name": "Lambda", "config": {"name": "lambda", "function": ["4wEAAAAAAAAA", None, None],
                                                "function_type": "lambda"}}
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": [layer]}}


def _keras_layer(module: str, cls: str, **config: object) -> dict[str, object]:
    return {"module": module, "class_name": cls, "registered_name": None, "config": {"name": "x", **config}}


def _onnx_subgraph_traversal(path: Path) -> Path:
    from tests.scan.formats import field_bytes, field_varint

    tensor = field_varint(1, 4) + field_varint(2, 1) + field_bytes(8, "w")
    for key, value in (("location", "../../../etc/passwd"), ("offset", "0"), ("length", "4")):
        tensor += field_bytes(13, field_bytes(1, key) + field_bytes(2, value))
    tensor += field_varint(14, 1)
    branch = field_bytes(2, "then") + field_bytes(5, tensor)
    attribute = field_bytes(1, "then_branch") + field_bytes(6, branch) + field_varint(20, 5)
    node = field_bytes(1, "cond") + field_bytes(2, "y") + field_bytes(4, "If") + field_bytes(5, attribute)
    graph = field_bytes(1, node) + field_bytes(2, "main")
    path.write_bytes(field_varint(1, 8) + field_bytes(2, "curator-test") + field_bytes(7, graph)
                     + field_bytes(8, field_bytes(1, "") + field_varint(2, 17)))
    return path


def _tar_with_dot(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        root = tarfile.TarInfo(".")
        root.type = tarfile.DIRTYPE
        tf.addfile(root)
        for name, blob in members.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    return buffer.getvalue()


def _torch_zip_bytes(data_pkl: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("model_weights/data.pkl", data_pkl)
        zf.writestr("model_weights/byteorder", "little")
        zf.writestr("model_weights/version", "3\n")
    return buffer.getvalue()


MAR_MANIFEST = json.dumps({"createdOn": "01/01/2026 00:00:00", "runtime": "python",
                           "model": {"modelName": "m", "serializedFile": "model.pt", "handler": "handler.py",
                                     "modelVersion": "1.0"}, "archiverVersion": "0.9.0"}).encode()


def writers() -> dict[str, tuple[Writer, str]]:
    import lz4.frame  # type: ignore[import-untyped]
    import zstandard

    payload = pickles.os_system_call()
    joblib_payload = _joblib_with_array_then_reduce()
    config_get_file = [INPUT_LAYER, _keras_layer("keras.layers", "Dense", units=2, activation={
        "module": "keras.utils", "class_name": "function", "config": "get_file",
        "registered_name": "function"})]
    return {
        # compression formats joblib and others write
        "lzma_alone_joblib": (_write("model.joblib", lzma.compress(joblib_payload, format=lzma.FORMAT_ALONE)),
                              BLOCKED),
        "lz4_frame_joblib": (_write("model.joblib", lz4.frame.compress(joblib_payload)), BLOCKED),
        "bz2_joblib": (_write("model.joblib", bz2.compress(joblib_payload)), BLOCKED),
        "zstd_wrapped_pickle": (_write("model.pt", zstandard.ZstdCompressor().compress(payload)), BLOCKED),
        "gzip_member_in_zip": (_write("weights.zip", _zip_bytes({"weights.bin.gz": gzip.compress(payload)})),
                               BLOCKED),
        "xz_in_gzip_in_tar": (_write("model.tar", _tar_bytes({"m.tgz": gzip.compress(
            _tar_bytes({"inner.xz": lzma.compress(payload)}))})), BLOCKED),
        # what a 64 KiB probe and a magic table miss
        "headerless_pickle_long_first_value": (_write("model.bin", _headerless_long_first_value()), BLOCKED),
        "protocol0_pickle_named_txt": (_write("notes.txt", call0("os", "system", "true")), BLOCKED),
        "zip_with_prefix": (_write("model.bin", b"\x00" * 100 + _zip_bytes({"data.pkl": payload})), BLOCKED),
        "png_zip_polyglot": (_write("logo.png", _png_bytes() + _zip_bytes({"data.pkl": payload})), BLOCKED),
        "zip_member_named_png_is_pickle": (_write("assets.zip", _zip_bytes({"assets/logo.png": payload})),
                                           BLOCKED),
        "safetensors_named_but_pickle": (_write("model.safetensors", payload), BLOCKED),
        "safetensors_huge_header_length": (_write("model.safetensors", b"\xff" * 8 + b"{}" + b"\x00" * 64),
                                           BLOCKED),
        "safetensors_header_not_json": (_write("model.safetensors", struct.pack("<Q", 16)
                                               + b"not json at all!" + b"\x00" * 16), BLOCKED),
        # HDF5 after a user block, and a pickle living in that user block
        "hdf5_user_block_lambda": (_write("model.h5", _h5_with_user_block(_lambda_h5_config(), 4096)),
                                   BLOCKED),
        "pickle_in_hdf5_user_block": (_write("model.h5", _h5_with_user_block(
            {"class_name": "Sequential", "config": {"name": "s", "layers": []}}, 512, payload)), BLOCKED),
        # allow-listed modules that re-export process, network and file functions
        "sklearn_check_output_alias": (_write("model.joblib", call("sklearn.utils._testing", "check_output",
                                                                   "true")), BLOCKED),
        "sklearn_urlretrieve_alias": (_write("model.joblib", call(
            "sklearn.datasets._base", "urlretrieve", "http://127.0.0.1:9/x", "/tmp/x")), BLOCKED),
        "dotted_name_via_allowed_module": (_write("model.pkl", Ops(4).short_string("sklearn.base")
                                                              .short_string("np.load").stack_global()
                                                              .short_string("x.npy").tuple1().reduce().stop()
                                                              .bytes_()), BLOCKED),
        "torch_fx_exec_with_source": (_write("model.pt", call(
            "torch.fx.graph_module", "_exec_with_source", "print('curator-test')", "{}")), BLOCKED),
        "numpy_load_alias": (_write("model.pkl", call("numpy.lib._npyio_impl", "load", "x.npy")),
                             BLOCKED),
        "torch_serialization_load": (_write("model.pt", call("torch.serialization", "load", "x.pt")),
                                     BLOCKED),
        "joblib_load_alias": (_write("model.joblib", call("joblib.numpy_pickle", "load", "x.joblib")),
                              BLOCKED),
        "asyncio_subprocess_alias": (_write("model.pkl", call("asyncio.subprocess", "create_subprocess_shell",
                                                              "true")), BLOCKED),
        "distutils_spawn_alias": (_write("model.pkl", call("distutils.spawn", "spawn", "true")), BLOCKED),
        "pip_main_alias": (_write("model.pkl", call("pip._internal.cli.main", "main", "--version")), BLOCKED),
        "pty_spawn": (_write("model.pkl", call("pty", "spawn", "true")), BLOCKED),
        # py2 names a protocol 0-2 unpickler maps
        "py2_builtin_eval": (_write("model.pkl", call0("__builtin__", "eval", "1+1")), BLOCKED),
        "py2_builtin_apply": (_write("model.pkl", call0("__builtin__", "apply", "true")), BLOCKED),
        "py2_commands_getoutput": (_write("model.pkl", call0("commands", "getoutput", "true")), BLOCKED),
        # allowed functions that call what they are given
        "rebuild_from_type_v2_gadget": (_write("model.pt", _rebuild_from_type_v2()), BLOCKED),
        "copyreg_reconstructor_gadget": (_write("model.pkl", _copyreg_reconstructor()), BLOCKED),
        "randomstate_ctor_gadget": (_write("rng_state.pth", _randomstate_ctor()), BLOCKED),
        "rebuild_parameter_hooks_gadget": (_write("model.pt", _rebuild_parameter_hooks()), BLOCKED),
        "defaultdict_factory_gadget": (_write("model.pkl", _defaultdict_factory()), BLOCKED),
        "module_forward_hook": (_write("model.pt", _module_forward_hook()), BLOCKED),
        "ufunc_reconstruct_importer": (_write("model.joblib", Ops(2).global_(
            "numpy.core", "_ufunc_reconstruct").string("subprocess").string("getoutput").tuple2().reduce()
            .string("true").tuple1().reduce().stop().bytes_()), BLOCKED),
        # opcodes that reach code without a plain call
        "ext_opcode_registry": (_write("model.pkl", _ext_opcode()), BLOCKED),
        "global_setattr_build": (_write("model.pkl", _global_setattr()), BLOCKED),
        # nested loaders
        "joblib_object_array_nested_pickle": (_write("model.joblib", _joblib_object_array()), BLOCKED),
        "npy_object_array_in_tar": (_write("arrays.tar", _tar_bytes({"w.npy": _npy_object_array(payload)})),
                                    BLOCKED),
        "nemo_torch_zip_in_tar": (_write("model.nemo", _tar_with_dot({
            "model_config.yaml": b"target: nemo.collections.asr.models.EncDecCTCModel\n",
            "model_weights.ckpt": _torch_zip_bytes(payload)})), BLOCKED),
        "mar_handler_py": (_write("model.mar", _zip_bytes({
            "MAR-INF/MANIFEST.json": MAR_MANIFEST, "model.pt": _torch_zip_bytes(
                pickles.benign_state_dict({"w": ("FloatStorage", (2,))})),
            "handler.py": b"import os\nos.system('true')\n"})), BLOCKED),
        "mar_serialized_pickle": (_write("model.mar", _zip_bytes({"MAR-INF/MANIFEST.json": MAR_MANIFEST,
                                                                  "model.pt": payload})), BLOCKED),
        # TensorFlow graphs
        "savedmodel_writefile_op": (lambda d: tf_formats.savedmodel_folder(
            d, graph=[*tf_formats.GRAPH, ("WriteFile", "WriteFile", {})]), BLOCKED),
        "savedmodel_pyfunc_in_function": (lambda d: tf_formats.savedmodel_folder(d, functions=tf_formats.
            benign_functions(__inference_call_77=[("PyFunc", "PyFunc", {"token": "pyfunc_0"})])), BLOCKED),
        "savedmodel_print_to_file": (lambda d: tf_formats.savedmodel_folder(d, functions=tf_formats.
            benign_functions(__inference_call_78=[("PrintV2", "PrintV2", {"output_stream": "file:///tmp/x"})])),
            BLOCKED),
        "savedmodel_readfile_in_serving": (lambda d: tf_formats.savedmodel_folder(d, functions={
            **tf_formats.benign_functions(), "__inference_serving_default_105": [
                *tf_formats.SERVING, ("ReadFile", "ReadFile", {})]}), BLOCKED),
        "savedmodel_restore_outside_saver": (lambda d: tf_formats.savedmodel_folder(d, functions={
            **tf_formats.benign_functions(), "__inference_serving_default_105": [
                *tf_formats.SERVING, ("RestoreV2", "RestoreV2", {})]}), BLOCKED),
        "keras_metadata_lambda": (lambda d: tf_formats.savedmodel_folder(d, keras_layers=[
            {"class_name": "Lambda", "config": {"name": "l", "function": ["4wEAAAAAAAAA", None, None]}}]) and
            d / "keras_metadata.pb", BLOCKED),
        # Keras 3 references
        "keras_get_file_function_ref": (lambda d: _keras_zip(d / "model.keras", config_get_file), BLOCKED),
        "keras_evil_module_prefix": (lambda d: _keras_zip(d / "model.keras", [
            INPUT_LAYER, _keras_layer("keras_evil.layers", "Dense", units=2)]), BLOCKED),
        "keras_tfsmlayer": (lambda d: _keras_zip(d / "model.keras", [
            INPUT_LAYER, _keras_layer("keras.layers", "TFSMLayer", filepath="/tmp/other_model")]), BLOCKED),
        # ONNX
        "onnx_subgraph_external_traversal": (lambda d: _onnx_subgraph_traversal(d / "model.onnx"), BLOCKED),
        # chat templates
        "template_self_reference_injection": (_write("chat_template.jinja", (
            b"{% for m in messages %}{{ m.content }}{% endfor %}"
            b"{{ self._TemplateReference__context.cycler.__init__.__globals__.os.popen('true').read() }}"
        )), BLOCKED),
    }


def malicious_more(root: Path) -> list[Sample]:
    out = []
    for name, (writer, expected) in writers().items():
        folder = _dir(root, "malicious", name)
        path = writer(folder)
        out.append(Sample(name, path.relative_to(root).as_posix(), expected))
    return out


_ = formats  # the byte-level writers the samples above build on
