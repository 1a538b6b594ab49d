"""curator's own checks, one by one: sniffing, safetensors, templates, GGUF, ONNX, NumPy, Keras."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from curator.core.models import Severity
from curator.stages.scan.checks.gguf import GGUFUnreadable, read_gguf
from curator.stages.scan.checks.keras import check_keras_config
from curator.stages.scan.checks.numpy_npy import read_npy_header
from curator.stages.scan.checks.onnx import OnnxUnreadable, check_external_data, external_locations
from curator.stages.scan.checks.safetensors import check_safetensors
from curator.stages.scan.checks.templates import TemplateUnreadable, check_template, templates_in_json
from curator.stages.scan.rules import GlobalRules
from curator.stages.scan.sniff import sniff, sniff_file
from tests.scan import corpus, formats, pickles


# -- sniffing by content ------------------------------------------------------------------------
@pytest.mark.parametrize(("head", "name", "expected"), [
    (pickles.os_system_call(), "config.json", "pickle"),
    (pickles.inst_call(), "README.md", "pickle"),
    (b"PK\x03\x04" + b"\x00" * 26, "model.safetensors", "zip"),
    (b"\x1f\x8b\x08\x00", "weights", "gzip"),
    (b"\x89HDF\r\n\x1a\n" + b"\x00" * 8, "model.bin", "hdf5"),
    (b"GGUF\x03\x00\x00\x00", "model.bin", "gguf"),
    (b"\x93NUMPY\x01\x00", "x", "numpy"),
    (b"7z\xbc\xaf\x27\x1c\x00\x04", "pytorch_model.bin", "7z"),
    (b'{"a": 1}', "notes", "json"),
    (b"copyright 2024\nAcme Corp\nall rights reserved\n", "LICENSE", "text"),
    (b"{{ messages }}", "chat_template.jinja", "jinja"),
    (b"", "empty", "empty"),
    (bytes(range(256)) * 4, "weights.bin", "data"),
])
def test_sniff_by_content(head: bytes, name: str, expected: str) -> None:
    assert sniff(head, name).format == expected


def test_sniff_safetensors_whose_length_looks_like_a_pickle_header(tmp_path: Path) -> None:
    # a 0x0280-byte header starts with b"\x80\x02", the pickle protocol 2 marker
    header = json.dumps({"__metadata__": {"pad": "x" * 600}}).encode()
    header += b" " * (0x280 - len(header))
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header)
    assert sniff_file(path).format == "safetensors"


def test_sniff_zlib_needs_a_stream_that_inflates() -> None:
    import zlib

    assert sniff(zlib.compress(b"hello" * 10), "x").format == "zlib"
    assert sniff(b"\x78\x9c\xff\xff\xff\xff", "x").format != "zlib"


# -- safetensors ------------------------------------------------------------------------------
def _safetensors(tmp_path: Path, **kwargs: object) -> list[str]:
    path = formats.safetensors(tmp_path / "m.safetensors", {"w": ("F32", (2, 2))}, **kwargs)  # type: ignore[arg-type]
    with open(path, "rb") as fh:
        return [f.message for f in check_safetensors(fh, path.stat().st_size, "m")]


def test_safetensors_honest_header_passes(tmp_path: Path) -> None:
    assert _safetensors(tmp_path) == []


@pytest.mark.parametrize(("override", "problem"), [
    ({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 64]}}, "spans 64 bytes"),
    ({"w": {"dtype": "Q9", "shape": [2, 2], "data_offsets": [0, 16]}}, "unknown dtype"),
    ({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 16]}}, "malformed shape"),
    ({"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [16, 0]}}, "malformed data_offsets"),
    ({"w": {"dtype": "F32", "shape": [2, 2]}}, "is not {dtype, shape, data_offsets}"),
    ({"__metadata__": {"n": 1}, "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}},
     "__metadata__"),
])
def test_safetensors_header_lies(tmp_path: Path, override: dict[str, object], problem: str) -> None:
    assert any(problem in m for m in _safetensors(tmp_path, header_override=override))


def test_safetensors_duplicate_keys_and_absurd_length(tmp_path: Path) -> None:
    one = b'{"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}'
    dup = b'{"w": ' + one + b', "w": ' + one + b"}"
    fh = io.BytesIO(struct.pack("<Q", len(dup)) + dup + b"\x00" * 4)
    assert "duplicate key" in check_safetensors(fh, len(fh.getvalue()), "m")[0].message
    fh = io.BytesIO(struct.pack("<Q", 1 << 40) + b"{}")
    assert "claims a" in check_safetensors(fh, 10, "m")[0].message


# -- chat templates -------------------------------------------------------------------------
@pytest.mark.parametrize("template", [corpus.ORDINARY_TEMPLATE, corpus.LLAMA3_TEMPLATE,
                                      "{% for m in messages %}{% generation %}{{ m.content }}"
                                      "{% endgeneration %}{% if loop.last %}{% break %}{% endif %}"
                                      "{% endfor %}"])
def test_ordinary_chat_templates_pass(template: str) -> None:
    assert check_template(template, "t") == []


@pytest.mark.parametrize(("template", "severity"), [
    ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", Severity.CRITICAL),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", Severity.CRITICAL),
    ("{{ messages['__cla' ~ 'ss__'] }}", Severity.CRITICAL),
    ("{{ lipsum | attr('x') }}", Severity.HIGH),
    ("{% include 'other.j2' %}", Severity.HIGH),
    ("{{ self }}", Severity.HIGH),
])
def test_injected_templates_are_flagged(template: str, severity: Severity) -> None:
    assert max(f.severity.rank for f in check_template(template, "t")) == severity.rank


def test_template_variable_named_like_a_jinja_global_is_fine() -> None:
    assert check_template("{% for config in messages %}{{ config.content }}{% endfor %}", "t") == []


def test_unparseable_template_cannot_be_judged() -> None:
    with pytest.raises(TemplateUnreadable):
        check_template("{% for m in messages %}{{ m }", "t")


def test_templates_in_json_finds_every_shape() -> None:
    assert [n for n, _ in templates_in_json({"chat_template": "a"})] == ["chat_template"]
    assert [n for n, _ in templates_in_json({"chat_template": [{"name": "tool_use", "template": "b"}]})] \
        == ["chat_template[tool_use]"]
    assert templates_in_json({"other": "x"}) == []


# -- GGUF -------------------------------------------------------------------------------------
def test_gguf_header_is_read_without_the_tensors(tmp_path: Path) -> None:
    path = formats.gguf(tmp_path / "m.gguf", {"general.architecture": "llama",
                                              "tokenizer.ggml.tokens": ["a"] * 1000,
                                              "tokenizer.chat_template": "{{ x }}",
                                              "tokenizer.chat_template.tool_use": "{{ y }}"},
                        tensor_bytes=4096)
    with open(path, "rb") as fh:
        kept, problems = read_gguf(fh, path.stat().st_size)
    assert kept == {"tokenizer.chat_template": "{{ x }}", "tokenizer.chat_template.tool_use": "{{ y }}"}
    assert problems == []


def test_gguf_truncated_header_is_unreadable(tmp_path: Path) -> None:
    path = formats.gguf(tmp_path / "m.gguf", {"tokenizer.chat_template": "{{ x }}"})
    data = path.read_bytes()[:40]
    with pytest.raises(GGUFUnreadable):
        read_gguf(io.BytesIO(data), len(data))


# -- ONNX ---------------------------------------------------------------------------------------
def test_onnx_external_data_locations(tmp_path: Path) -> None:
    inline = formats.onnx_model(tmp_path / "a.onnx")
    external = formats.onnx_model(tmp_path / "b.onnx", external_location="weights/b.data")
    with open(inline, "rb") as fh:
        assert external_locations(fh, inline.stat().st_size) == []
    with open(external, "rb") as fh:
        assert external_locations(fh, external.stat().st_size) == ["weights/b.data"]
    assert check_external_data(["weights/b.data"], tmp_path, "b") == []


def test_onnx_external_data_through_a_symlink_escapes(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "link").symlink_to("/etc")
    findings = check_external_data(["link/passwd"], tmp_path / "model", "m")
    assert findings and "through a link" in findings[0].message


def test_onnx_garbage_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "x.onnx"
    path.write_bytes(b"\x08\x07\x3a\xff\xff\xff\x0f")
    with open(path, "rb") as fh, pytest.raises(OnnxUnreadable):
        external_locations(fh, path.stat().st_size)


# -- NumPy and Keras ----------------------------------------------------------------------------
def test_npy_header_tells_object_arrays_apart(tmp_path: Path) -> None:
    np.save(tmp_path / "plain.npy", np.zeros((2, 3), dtype=[("Object", "<f4"), ("b", "<i8")]))
    with open(tmp_path / "plain.npy", "rb") as fh:
        assert not read_npy_header(fh, (tmp_path / "plain.npy").stat().st_size).holds_objects
    np.save(tmp_path / "obj.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    with open(tmp_path / "obj.npy", "rb") as fh:
        assert read_npy_header(fh, (tmp_path / "obj.npy").stat().st_size).holds_objects


def test_keras_foreign_module_is_flagged() -> None:
    config = {"module": "keras", "class_name": "Sequential", "config": {"layers": [
        {"module": "os", "class_name": "system", "config": {}},
        {"module": "mylab.layers", "class_name": "Fancy", "config": {}}]}}
    found = {(f.code, f.severity) for f in check_keras_config(config, GlobalRules(), "m")}
    assert found == {("keras-foreign-object", Severity.CRITICAL), ("keras-foreign-object", Severity.HIGH)}
