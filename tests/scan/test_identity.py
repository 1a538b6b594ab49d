"""Fail closed on identity: every format is recognised by its structure, or it is ``data`` (unscanned).

Sniffing and the allow-list's semantics, one rule per test; the corpus tests scan whole samples.
"""

from __future__ import annotations

import bz2
import io
import lzma
import threading
import zipfile
from pathlib import Path

import pytest

from curator.core.errors import UsageError
from curator.core.policy import Policy
from curator.core.progress import Progress
from curator.stages.scan import ScanConfig, files_under, scan_paths
from curator.stages.scan.checks.pickle_walk import walk_file
from curator.stages.scan.checks.pickles import judge_pickle
from curator.stages.scan.rules import GlobalRules
from curator.stages.scan.sniff import sniff, sniff_file
from tests.scan import attacks_more, formats, pickles, tf_formats
from tests.scan.pickles import Ops


# -- sniffing ----------------------------------------------------------------------------------------
def test_headerless_pickle_is_walked_past_any_window() -> None:
    data = Ops(None).string("A" * 200_000).raw(b"0").raw(attacks_more.call0("os", "system", "true")).bytes_()
    assert sniff(data, "model.bin").format == "pickle"


def test_protocol0_pickle_is_a_pickle_even_named_txt() -> None:
    assert sniff(attacks_more.call0("os", "system", "true"), "notes.txt").format == "pickle"
    # importing a module with side effects is enough, even if the stream then breaks
    assert sniff(b"cantigravity\ngeohash\n-- notes --\n", "notes.txt").format == "pickle"


def test_a_label_list_that_reads_as_one_import_stays_text() -> None:
    # "cat\ndog\n" is GLOBAL('at', 'dog') to a pickle walk, then nothing: a label file, not a pickle
    assert sniff(b"cat\ndog\nbird\nfish\n", "labels.txt").format == "text"


@pytest.mark.parametrize(("compress", "fmt"), [
    (lambda b: lzma.compress(b, format=lzma.FORMAT_ALONE), "lzma"),
    (lambda b: __import__("lz4.frame").frame.compress(b), "lz4"),
    (lambda b: __import__("zstandard").ZstdCompressor().compress(b), "zstd"),
    (bz2.compress, "bz2"),
    (lzma.compress, "xz"),
])
def test_every_compression_format_is_recognised(compress: object, fmt: str) -> None:
    assert sniff(compress(pickles.os_system_call()), "model.joblib").format == fmt  # type: ignore[operator]


def test_zip_is_found_by_its_end_record_behind_other_bytes() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("data.pkl", pickles.os_system_call())
    assert sniff(b"\x00" * 1000 + buffer.getvalue(), "weights").format == "zip"


@pytest.mark.parametrize("block", [512, 8192, 65536])
def test_hdf5_after_a_user_block_of_any_power_of_two(tmp_path: Path, block: int) -> None:
    path = tmp_path / "model.h5"
    path.write_bytes(attacks_more._h5_with_user_block({"class_name": "Sequential", "config": {}}, block))
    assert sniff_file(path).format == "hdf5"


def test_saved_model_is_not_taken_for_onnx(tmp_path: Path) -> None:
    pb = tf_formats.savedmodel_folder(tmp_path / "sm")
    onnx = formats.onnx_model(tmp_path / "model.onnx")
    assert pb.read_bytes()[:2] == onnx.read_bytes()[:1] + b"\x01"  # both open with field 1 = small int
    assert sniff_file(pb).format == "savedmodel"
    assert sniff_file(onnx).format == "onnx"
    renamed = tmp_path / "graph.bin"
    renamed.write_bytes(pb.read_bytes())
    assert sniff_file(renamed).format == "savedmodel"  # by structure, not only by name


def test_invalid_safetensors_header_is_never_clean(tmp_path: Path) -> None:
    blobs = {"huge.safetensors": b"\xff" * 8 + b"{}",
             "text.safetensors": b"\x10" + b"\x00" * 7 + b"not json!"}
    for name, blob in blobs.items():
        (tmp_path / name).write_bytes(blob + b"\x00" * 32)
    config = ScanConfig.from_section(Policy.load().section("scan"))
    progress = Progress("scan", [], threading.Event())
    report = scan_paths(tmp_path, files_under(tmp_path, config), config, progress)
    assert {f.path: f.verdict.value for f in report.files} == {"huge.safetensors": "blocked",
                                                               "text.safetensors": "blocked"}


def test_unrecognised_bytes_are_unscanned_unless_the_policy_says_inert(tmp_path: Path) -> None:
    (tmp_path / "weights.bin").write_bytes(bytes(range(256)) * 16)
    section = Policy.load().section("scan")
    config = ScanConfig.from_section({**section, "scanners": []})
    progress = Progress("scan", [], threading.Event())
    (item,) = scan_paths(tmp_path, files_under(tmp_path, config), config, progress).files
    assert item.verdict.value == "unscanned" and "inert_formats" in item.reasons[0]
    lenient = ScanConfig.from_section({**section, "scanners": [], "inert_formats": ["data"]})
    (item,) = scan_paths(tmp_path, files_under(tmp_path, lenient), lenient, progress).files
    assert item.verdict.value == "clean"


# -- the allow-list ----------------------------------------------------------------------------------
RULES = GlobalRules.build(["torch.*Storage", "sklearn.base.BaseEstimator", "collections.OrderedDict"], [])


def _codes(data: bytes, rules: GlobalRules = RULES) -> set[str]:
    return {f.code for f in judge_pickle(walk_file(io.BytesIO(data), len(data)), rules, "x")}


def test_a_glob_never_matches_a_dotted_name() -> None:
    assert RULES.is_safe("torch", "FloatStorage")
    assert not RULES.is_safe("torch", "fx.FloatStorage")
    dotted = Ops(4).short_string("torch").short_string("x.FloatStorage").stack_global().stop().bytes_()
    assert "pickle-dotted-global" in _codes(dotted)


def test_a_dotted_name_is_high_even_under_an_allowed_module() -> None:
    rules = GlobalRules.build(["sklearn.base.BaseEstimator", "sklearn.base.np"], [])
    data = Ops(4).short_string("sklearn.base").short_string("np.load").stack_global().stop().bytes_()
    assert "pickle-dotted-global" in _codes(data, rules)
    dunder = Ops(4).short_string("sklearn.base").short_string("BaseEstimator.__init__.__globals__")
    assert "pickle-dangerous-global" in _codes(dunder.stack_global().stop().bytes_(), rules)


@pytest.mark.parametrize("entry", ["sklearn.*", "torch.nn.modules.*", "*.Linear", "torch.nn.*.Linear"])
def test_allow_list_entries_name_exact_modules(entry: str) -> None:
    with pytest.raises(UsageError):
        GlobalRules.build([entry], [])


def test_builtins_data_constructors_are_data_and_the_rest_is_dangerous() -> None:
    rules = GlobalRules.build([], [])
    for name in ("set", "frozenset", "slice", "complex", "range", "bytearray", "bytes", "dict", "list",
                 "tuple", "int", "float", "str", "bool", "object"):
        for module in ("builtins", "__builtin__"):
            assert rules.is_safe(module, name) and not rules.is_dangerous(module, name)
    for name in ("eval", "exec", "compile", "getattr", "__import__", "open", "apply", "input", "breakpoint",
                 "print", "setattr", "globals"):
        assert rules.is_dangerous("builtins", name) and rules.is_dangerous("__builtin__", name)


def test_deny_entries_cover_submodules() -> None:
    rules = GlobalRules.build([], ["torch.hub.*"])
    assert rules.is_dangerous("os.path", "join") and rules.is_dangerous("torch.hub", "load")
    assert rules.is_dangerous("torch.hub.x", "y") and not rules.is_dangerous("torch.hubble", "y")


def test_shipped_lists_hold_no_module_wide_entry() -> None:
    config = ScanConfig.from_section(Policy.load().section("scan"))
    assert all("*" not in e.name or e.name != "*" for e in config.rules.safe)
    assert config.rules.is_safe("sklearn.linear_model._logistic", "LogisticRegression")
    assert config.rules.is_safe("torch.nn.modules.linear", "Linear")
    # re-exports of process and network functions are not classes defined there
    assert not config.rules.is_safe("sklearn.utils._testing", "check_output")
    assert not config.rules.is_safe("sklearn.datasets._base", "urlretrieve")
    assert not config.rules.is_safe("torch.nn.modules.module", "_exec_with_source")


def test_a_call_gadget_makes_its_callable_argument_called() -> None:
    data = (Ops(2).global_("copyreg", "_reconstructor").mark().global_("collections", "OrderedDict")
            .global_("mystery", "helper").none().tuple_().reduce().stop().bytes_())
    rules = GlobalRules.build(["copyreg._reconstructor", "collections.OrderedDict"], [])
    assert "pickle-unknown-call" in _codes(data, rules)


def test_a_pickle_over_the_opcode_budget_is_blocked_and_not_handed_to_scanners(tmp_path: Path) -> None:
    ops = Ops(2).empty_list()
    for _ in range(3000):
        ops.none().raw(b"a")  # APPEND
    (tmp_path / "model.pkl").write_bytes(ops.stop().bytes_())
    config = ScanConfig.from_section({**Policy.load().section("scan"), "max_pickle_opcodes": 1000})
    progress = Progress("scan", [], threading.Event())
    (item,) = scan_paths(tmp_path, files_under(tmp_path, config), config, progress).files
    assert item.verdict.value == "blocked" and "pickle-broken" in {f.code for f in item.findings}
    assert all(v.status == "not-given" for n, v in item.voices.items() if n != "curator")


# -- the everyday binary files of model repos are recognised, not left as data ------------------------
def _tfrecord(records: list[bytes]) -> bytes:
    import struct

    return b"".join(struct.pack("<Q", len(r)) + b"\x00" * 4 + r + b"\x00" * 4 for r in records)


@pytest.mark.parametrize(("name", "blob", "expected"), [
    ("events.out.tfevents.1700000000.host", _tfrecord([b"\x09" * 20, b"\x12" * 40]), "tfevents"),
    ("vocab.txt", "café\nnaïve\n".encode("latin-1"), "text"),
    ("README.md", "\ufeffhello\n".encode("utf-16"), "text"),
    ("helper.cpython-311.pyc", b"\xa7\r\r\n" + b"\x00" * 12 + b"\xe3" + b"\x00" * 40, "python-bytecode"),
    ("libop.so", b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "native-code"),
    ("eval.parquet", b"PAR1" + b"\x15\x00" * 20 + b"PAR1", "parquet"),
    ("demo.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 40, "video"),
    ("paper.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "document"),
])
def test_everyday_repo_files_are_recognised(tmp_path: Path, name: str, blob: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(blob)
    assert sniff_file(path).format == expected


def test_latin1_python_file_is_still_python(tmp_path: Path) -> None:
    path = tmp_path / "modeling_x.py"
    path.write_bytes("# -*- coding: latin-1 -*-\nimport os\nos.system('true')  # café\n".encode("latin-1"))
    assert sniff_file(path).format == "python"


def test_openvino_weights_are_recognised_beside_their_ir(tmp_path: Path) -> None:
    (tmp_path / "openvino_model.xml").write_text('<?xml version="1.0"?>\n<net name="m" version="11"></net>\n')
    (tmp_path / "openvino_model.bin").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "other.bin").write_bytes(bytes(range(256)) * 8)
    assert sniff_file(tmp_path / "openvino_model.bin").format == "openvino-weights"
    assert sniff_file(tmp_path / "other.bin").format == "data"


def test_tf1_meta_graph_is_checked_like_a_saved_model(tmp_path: Path) -> None:
    from tests.scan.formats import field_bytes

    nodes = (("save/SaveV2", "SaveV2"), ("dense/MatMul", "MatMul"), ("evil", "WriteFile"))
    graph = b"".join(field_bytes(1, tf_formats.node_def(n, op)) for n, op in nodes)
    meta = tmp_path / "model.ckpt.meta"
    meta.write_bytes(field_bytes(1, field_bytes(4, "serve")) + field_bytes(2, graph))
    assert sniff_file(meta).format == "tf-meta-graph"
    config = ScanConfig.from_section({**Policy.load().section("scan"), "scanners": []})
    progress = Progress("scan", [], threading.Event())
    (item,) = scan_paths(tmp_path, files_under(tmp_path, config), config, progress).files
    ops = " ".join(f.message for f in item.findings)
    # SaveV2 in the save/ name scope is TF1's own saver
    assert item.verdict.value == "blocked" and "WriteFile" in ops and "SaveV2" not in ops


def test_tflite_custom_ops_are_read(tmp_path: Path) -> None:
    from curator.stages.scan.checks.tflite import custom_ops

    builtin = formats.tflite(tmp_path / "builtin.tflite", [None, None])
    flex = formats.tflite(tmp_path / "flex.tflite", [None, "FlexWriteFile", "MyCustomOp"])
    assert sniff_file(builtin).format == "tflite"
    with open(builtin, "rb") as fh:
        assert custom_ops(fh, builtin.stat().st_size) == []
    with open(flex, "rb") as fh:
        assert custom_ops(fh, flex.stat().st_size) == ["FlexWriteFile", "MyCustomOp"]
    config = ScanConfig.from_section({**Policy.load().section("scan"), "scanners": []})
    progress = Progress("scan", [], threading.Event())
    verdicts = {f.path: f.verdict.value for f in scan_paths(tmp_path, files_under(tmp_path, config), config,
                                                             progress).files}
    assert verdicts == {"builtin.tflite": "clean", "flex.tflite": "blocked"}
