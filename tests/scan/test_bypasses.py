"""One test per bypass technique of issue #14, named for it: each sample must come out blocked.

The samples are built in ``attacks_more.py`` with harmless payloads and scanned once, for real,
through ``curator scan --json`` with modelscan, picklescan and modelaudit (conftest). Each test
also names the finding curator's *own* checks must raise, so a sample blocked only because a
scanner happened to catch it does not pass for curator's coverage.
"""

from __future__ import annotations

from typing import Any

from tests.scan import corpus
from tests.scan.conftest import verdict_of

Scanned = dict[str, Any]
Samples = dict[str, corpus.Sample]


def _blocked_by_curator(scanned: Scanned, samples: Samples, name: str, code: str) -> dict[str, Any]:
    report = verdict_of(scanned, samples, name)
    assert report["verdict"] == "blocked", report
    own = {f["code"] for f in report["findings"]
           if f["tool"] == "curator" and f["severity"] in ("high", "critical")}
    assert code in own, f"{name}: expected curator's own {code} finding, got {sorted(own)}"
    return report


def test_lzma_alone_joblib(scanned: Scanned, samples: Samples) -> None:
    """joblib.dump(compress='lzma') writes LZMA-alone (5d 00 00): no magic a table knows."""
    _blocked_by_curator(scanned, samples, "lzma_alone_joblib", "pickle-dangerous-global")

def test_lz4_frame_joblib(scanned: Scanned, samples: Samples) -> None:
    """joblib.dump(compress='lz4'): an lz4 frame around the joblib stream."""
    _blocked_by_curator(scanned, samples, "lz4_frame_joblib", "pickle-dangerous-global")

def test_bz2_joblib(scanned: Scanned, samples: Samples) -> None:
    """joblib.dump(compress='bz2')."""
    _blocked_by_curator(scanned, samples, "bz2_joblib", "pickle-dangerous-global")

def test_zstd_wrapped_pickle(scanned: Scanned, samples: Samples) -> None:
    """a Zstandard frame around a raw pickle named .pt."""
    _blocked_by_curator(scanned, samples, "zstd_wrapped_pickle", "pickle-dangerous-global")

def test_gzip_member_in_zip(scanned: Scanned, samples: Samples) -> None:
    """a gzip member inside a zip: two layers before the pickle."""
    _blocked_by_curator(scanned, samples, "gzip_member_in_zip", "pickle-dangerous-global")

def test_xz_in_gzip_in_tar(scanned: Scanned, samples: Samples) -> None:
    """tar > gzip > tar > xz > pickle."""
    _blocked_by_curator(scanned, samples, "xz_in_gzip_in_tar", "pickle-dangerous-global")

def test_headerless_pickle_long_first_value(scanned: Scanned, samples: Samples) -> None:
    """no PROTO, a 100 KiB first value: a 64 KiB probe sees only text."""
    _blocked_by_curator(scanned, samples, "headerless_pickle_long_first_value", "pickle-dangerous-global")

def test_protocol0_pickle_named_txt(scanned: Scanned, samples: Samples) -> None:
    """a protocol-0 pickle is ASCII text; named notes.txt."""
    _blocked_by_curator(scanned, samples, "protocol0_pickle_named_txt", "pickle-dangerous-global")

def test_zip_with_prefix(scanned: Scanned, samples: Samples) -> None:
    """bytes in front of a zip: zip readers find it by its end record."""
    _blocked_by_curator(scanned, samples, "zip_with_prefix", "pickle-dangerous-global")

def test_png_zip_polyglot(scanned: Scanned, samples: Samples) -> None:
    """a valid PNG with a zip appended: image viewers and zip loaders both read it."""
    _blocked_by_curator(scanned, samples, "png_zip_polyglot", "pickle-dangerous-global")

def test_zip_member_named_png_is_pickle(scanned: Scanned, samples: Samples) -> None:
    """a pickle member named like an image."""
    _blocked_by_curator(scanned, samples, "zip_member_named_png_is_pickle", "pickle-dangerous-global")

def test_safetensors_named_but_pickle(scanned: Scanned, samples: Samples) -> None:
    """a pickle named model.safetensors."""
    _blocked_by_curator(scanned, samples, "safetensors_named_but_pickle", "pickle-dangerous-global")

def test_safetensors_huge_header_length(scanned: Scanned, samples: Samples) -> None:
    """header length 2^64-1: never valid, never clean."""
    _blocked_by_curator(scanned, samples, "safetensors_huge_header_length", "safetensors-bad-header")

def test_safetensors_header_not_json(scanned: Scanned, samples: Samples) -> None:
    """a header that is not JSON."""
    _blocked_by_curator(scanned, samples, "safetensors_header_not_json", "safetensors-bad-header")

def test_hdf5_user_block_lambda(scanned: Scanned, samples: Samples) -> None:
    """an HDF5 file behind a 4 KiB user block, a Lambda layer in its config."""
    _blocked_by_curator(scanned, samples, "hdf5_user_block_lambda", "keras-lambda-layer")

def test_pickle_in_hdf5_user_block(scanned: Scanned, samples: Samples) -> None:
    """a pickle in the HDF5 user block: pickle.load reads it, libhdf5 skips it."""
    _blocked_by_curator(scanned, samples, "pickle_in_hdf5_user_block", "pickle-dangerous-global")

def test_sklearn_check_output_alias(scanned: Scanned, samples: Samples) -> None:
    """sklearn.utils._testing.check_output *is* subprocess.check_output."""
    _blocked_by_curator(scanned, samples, "sklearn_check_output_alias", "pickle-unknown-call")

def test_sklearn_urlretrieve_alias(scanned: Scanned, samples: Samples) -> None:
    """sklearn.datasets._base.urlretrieve is urllib's."""
    _blocked_by_curator(scanned, samples, "sklearn_urlretrieve_alias", "pickle-unknown-call")

def test_dotted_name_via_allowed_module(scanned: Scanned, samples: Samples) -> None:
    """STACK_GLOBAL ('sklearn.base', 'np.load'): attribute traversal."""
    _blocked_by_curator(scanned, samples, "dotted_name_via_allowed_module", "pickle-dotted-global")

def test_torch_fx_exec_with_source(scanned: Scanned, samples: Samples) -> None:
    """torch.fx.graph_module._exec_with_source runs source text."""
    _blocked_by_curator(scanned, samples, "torch_fx_exec_with_source", "pickle-unknown-call")

def test_numpy_load_alias(scanned: Scanned, samples: Samples) -> None:
    """numpy.lib._npyio_impl.load: numpy.load under its private name."""
    _blocked_by_curator(scanned, samples, "numpy_load_alias", "pickle-unknown-call")

def test_torch_serialization_load(scanned: Scanned, samples: Samples) -> None:
    """torch.serialization.load: a nested torch.load."""
    _blocked_by_curator(scanned, samples, "torch_serialization_load", "pickle-dangerous-global")

def test_joblib_load_alias(scanned: Scanned, samples: Samples) -> None:
    """joblib.numpy_pickle.load: joblib.load under its module name."""
    _blocked_by_curator(scanned, samples, "joblib_load_alias", "pickle-unknown-call")

def test_asyncio_subprocess_alias(scanned: Scanned, samples: Samples) -> None:
    """asyncio.subprocess.create_subprocess_shell."""
    _blocked_by_curator(scanned, samples, "asyncio_subprocess_alias", "pickle-dangerous-global")

def test_distutils_spawn_alias(scanned: Scanned, samples: Samples) -> None:
    """distutils.spawn.spawn."""
    _blocked_by_curator(scanned, samples, "distutils_spawn_alias", "pickle-dangerous-global")

def test_pip_main_alias(scanned: Scanned, samples: Samples) -> None:
    """pip's own main: installs anything."""
    _blocked_by_curator(scanned, samples, "pip_main_alias", "pickle-dangerous-global")

def test_pty_spawn(scanned: Scanned, samples: Samples) -> None:
    """pty.spawn."""
    _blocked_by_curator(scanned, samples, "pty_spawn", "pickle-dangerous-global")

def test_py2_builtin_eval(scanned: Scanned, samples: Samples) -> None:
    """__builtin__.eval, the py2 name the unpickler maps."""
    _blocked_by_curator(scanned, samples, "py2_builtin_eval", "pickle-dangerous-global")

def test_py2_builtin_apply(scanned: Scanned, samples: Samples) -> None:
    """__builtin__.apply (py2 call-anything)."""
    _blocked_by_curator(scanned, samples, "py2_builtin_apply", "pickle-dangerous-global")

def test_py2_commands_getoutput(scanned: Scanned, samples: Samples) -> None:
    """commands.getoutput (py2 subprocess)."""
    _blocked_by_curator(scanned, samples, "py2_commands_getoutput", "pickle-dangerous-global")

def test_rebuild_from_type_v2_gadget(scanned: Scanned, samples: Samples) -> None:
    """allowed torch._tensor._rebuild_from_type_v2 calls its first argument."""
    _blocked_by_curator(scanned, samples, "rebuild_from_type_v2_gadget", "pickle-unknown-call")

def test_copyreg_reconstructor_gadget(scanned: Scanned, samples: Samples) -> None:
    """allowed copyreg._reconstructor calls base.__init__."""
    _blocked_by_curator(scanned, samples, "copyreg_reconstructor_gadget", "pickle-unknown-call")

def test_randomstate_ctor_gadget(scanned: Scanned, samples: Samples) -> None:
    """allowed numpy __randomstate_ctor calls its bit_generator_ctor argument."""
    _blocked_by_curator(scanned, samples, "randomstate_ctor_gadget", "pickle-unknown-call")

def test_rebuild_parameter_hooks_gadget(scanned: Scanned, samples: Samples) -> None:
    """backward hooks handed to the allowed _rebuild_parameter run later."""
    _blocked_by_curator(scanned, samples, "rebuild_parameter_hooks_gadget", "pickle-dangerous-global")

def test_defaultdict_factory_gadget(scanned: Scanned, samples: Samples) -> None:
    """allowed defaultdict calls its factory on the first missing key."""
    _blocked_by_curator(scanned, samples, "defaultdict_factory_gadget", "pickle-unknown-call")

def test_ext_opcode_registry(scanned: Scanned, samples: Samples) -> None:
    """EXT1: a global by copyreg extension code, no name in the stream."""
    _blocked_by_curator(scanned, samples, "ext_opcode_registry", "pickle-extension-registry")

def test_global_setattr_build(scanned: Scanned, samples: Samples) -> None:
    """BUILD on an allowed class: overwrites its methods."""
    _blocked_by_curator(scanned, samples, "global_setattr_build", "pickle-global-setattr")

def test_joblib_object_array_nested_pickle(scanned: Scanned, samples: Samples) -> None:
    """a joblib object array: a second pickle stream inside the first."""
    _blocked_by_curator(scanned, samples, "joblib_object_array_nested_pickle", "pickle-dangerous-global")

def test_npy_object_array_in_tar(scanned: Scanned, samples: Samples) -> None:
    """an object .npy inside a tar."""
    _blocked_by_curator(scanned, samples, "npy_object_array_in_tar", "pickle-dangerous-global")

def test_nemo_torch_zip_in_tar(scanned: Scanned, samples: Samples) -> None:
    """a .nemo tar (with its '.' entry) holding a torch zip whose data.pkl runs code."""
    _blocked_by_curator(scanned, samples, "nemo_torch_zip_in_tar", "pickle-dangerous-global")

def test_mar_handler_py(scanned: Scanned, samples: Samples) -> None:
    """a TorchServe .mar whose handler.py runs at serve time."""
    _blocked_by_curator(scanned, samples, "mar_handler_py", "custom-code")

def test_mar_serialized_pickle(scanned: Scanned, samples: Samples) -> None:
    """a .mar whose serialized model is a raw pickle."""
    _blocked_by_curator(scanned, samples, "mar_serialized_pickle", "pickle-dangerous-global")

def test_savedmodel_writefile_op(scanned: Scanned, samples: Samples) -> None:
    """saved_model.pb (looks like ONNX to a naive sniffer) with a WriteFile op."""
    _blocked_by_curator(scanned, samples, "savedmodel_writefile_op", "tf-graph-op")

def test_savedmodel_pyfunc_in_function(scanned: Scanned, samples: Samples) -> None:
    """a PyFunc op inside a library function."""
    _blocked_by_curator(scanned, samples, "savedmodel_pyfunc_in_function", "tf-graph-op")

def test_savedmodel_print_to_file(scanned: Scanned, samples: Samples) -> None:
    """PrintV2 with output_stream file://."""
    _blocked_by_curator(scanned, samples, "savedmodel_print_to_file", "tf-graph-op")

def test_savedmodel_readfile_in_serving(scanned: Scanned, samples: Samples) -> None:
    """ReadFile in the serving function."""
    _blocked_by_curator(scanned, samples, "savedmodel_readfile_in_serving", "tf-graph-op")

def test_savedmodel_restore_outside_saver(scanned: Scanned, samples: Samples) -> None:
    """RestoreV2 outside TF's saver functions."""
    _blocked_by_curator(scanned, samples, "savedmodel_restore_outside_saver", "tf-graph-op")

def test_keras_metadata_lambda(scanned: Scanned, samples: Samples) -> None:
    """a Lambda layer in a Keras SavedModel's keras_metadata.pb."""
    _blocked_by_curator(scanned, samples, "keras_metadata_lambda", "keras-lambda-layer")

def test_keras_get_file_function_ref(scanned: Scanned, samples: Samples) -> None:
    """a Keras 3 function reference to keras.utils.get_file."""
    _blocked_by_curator(scanned, samples, "keras_get_file_function_ref", "keras-file-access")

def test_keras_evil_module_prefix(scanned: Scanned, samples: Samples) -> None:
    """module keras_evil.layers: 'keras' without a dot boundary."""
    _blocked_by_curator(scanned, samples, "keras_evil_module_prefix", "keras-foreign-object")

def test_keras_tfsmlayer(scanned: Scanned, samples: Samples) -> None:
    """TFSMLayer loads another SavedModel from a path."""
    _blocked_by_curator(scanned, samples, "keras_tfsmlayer", "keras-file-access")

def test_onnx_subgraph_external_traversal(scanned: Scanned, samples: Samples) -> None:
    """external data with ../ inside an If node's subgraph."""
    _blocked_by_curator(scanned, samples, "onnx_subgraph_external_traversal", "onnx-external-data-escapes")

def test_template_self_reference_injection(scanned: Scanned, samples: Samples) -> None:
    """Jinja self._TemplateReference__context reaches Python globals."""
    _blocked_by_curator(scanned, samples, "template_self_reference_injection", "template-injection")


def test_module_forward_hook(scanned: Scanned, samples: Samples) -> None:
    """A whole-module save whose _forward_hooks names a function: it runs on every forward pass."""
    _blocked_by_curator(scanned, samples, "module_forward_hook", "pickle-unknown-call")


def test_ufunc_reconstruct_importer(scanned: Scanned, samples: Samples) -> None:
    """Allowed numpy _ufunc_reconstruct('subprocess', 'getoutput') is an import of that function."""
    _blocked_by_curator(scanned, samples, "ufunc_reconstruct_importer", "pickle-dangerous-global")
