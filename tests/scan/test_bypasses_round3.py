"""Round 3 of the scan gate's bypasses (an attacker's review): one test per technique, samples built here.

Every sample is written into its own folder and the lot is scanned once, for real, through
``curator scan --json`` (all three scanners). Each test names the finding curator's *own* checks
must raise. Before the fixes, several came out ``clean`` from the whole gate, the others were
blocked only because modelaudit happened to read the bytes curator had called inert.
"""

from __future__ import annotations

import io
import json
import struct
import tarfile
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

from tests.scan import pickles
from tests.scan.folder_scan import blocked_by_curator, scan_folder
from tests.scan.pickles import Ops


def _tar(members: list[tuple[str, bytes]]) -> bytearray:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return bytearray(buffer.getvalue())


def _v7(raw: bytearray) -> bytes:
    """Drop the ``ustar`` magic (a pre-POSIX tar, which tarfile still reads) and fix the checksum."""
    raw[257:265] = b"\x00" * 8
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\x00 " % sum(raw[0:512])
    return bytes(raw)


def _legacy_torch_tar() -> bytes:
    """``torch.load`` tries a file as a legacy tar first and unpickles its ``storages`` member."""
    return _v7(_tar([("storages", pickles.os_system_call()), ("tensors", b"\x80\x02]q\x00.")]))


def _pdf_tar() -> bytes:
    """A tar whose first member's name starts ``%PDF-``: sniffed as an (inert) document by its magic."""
    raw = _tar([("placeholder", b"x" * 10), ("storages", pickles.os_system_call())])
    raw[0:9] = b"%PDF-1.7\n"
    return _v7(raw)


def _tar_unknown_member_type() -> bytes:
    """A member of type ``Z`` (no tar type): ``isfile()`` is False, yet ``extractfile`` and ``extract``
    (legacy ``torch.load``) read it as a regular file."""
    raw = _tar([("storages", pickles.os_system_call())])
    raw[156:157] = b"Z"
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\x00 " % sum(raw[0:512])
    return bytes(raw)


def _hdf5_pickled_attribute() -> bytes:
    """An HDF5 file with no Keras config (read as "weights only") whose group attribute is a protocol 0
    pickle: PyTables, under ``pandas.read_hdf``, unpickles every string attribute ending in ``.``."""
    import tempfile
    from pathlib import Path

    import h5py
    import numpy as np

    payload = b"cos\nsystem\n(S'true'\ntR."
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "store.h5")
        with h5py.File(path, "w") as f:
            f.create_dataset("embeddings", data=np.zeros((2, 2), dtype="float32"))
            f["embeddings"].attrs["note"] = np.bytes_(b"Trained on public data.")
            f.attrs["TITLE"] = np.bytes_(payload)
        return path.read_bytes()


def _onnx_model_with_external(location: str) -> Callable[[], bytes]:
    def build() -> bytes:
        import tempfile
        from pathlib import Path

        from tests.scan import formats

        with tempfile.TemporaryDirectory() as tmp:
            return formats.onnx_model(Path(tmp, "model.onnx"), external_location=location).read_bytes()

    return build


#: a 32-bit Mach-O header (only the 64-bit little-endian magic was known): native code, not "data"
MACHO_32 = b"\xce\xfa\xed\xfe" + bytes(28) + b"\x00" * 64


def _text_then_zip() -> bytes:
    """64 KiB and more of plain text, then a zip: zipfile (Keras, ...) finds the zip by its tail."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("archive/data.pkl", pickles.os_system_call())
        zf.writestr("archive/version", "3\n")
    return b"# release notes\n" * 5000 + archive.getvalue()


def _starmap_newobj() -> bytes:
    """``list(itertools.starmap(f, [('true',)]))``: NEWOBJ builds the iterator (a class, only
    "instantiated"), ``list`` (a data constructor) drains it, and ``f`` (an alias of
    ``subprocess.check_output`` no deny-list names) is only *referenced*, yet it is called."""
    ops = Ops(2).global_("builtins", "list").global_("itertools", "starmap")
    ops.global_("sklearn.utils._testing", "check_output")
    ops.empty_list().mark().string("true").tuple1().appends()
    return ops.tuple2().newobj().tuple1().reduce().stop().bytes_()


def _state_held_callable() -> bytes:
    """sklearn's test helper ``CheckingClassifier`` calls its ``check_X`` on every fit and predict;
    the callable sits in the object's state (BUILD), only *referenced*. The class was allow-listed."""
    ops = Ops(2).global_("sklearn.utils._mocking", "CheckingClassifier").empty_tuple().newobj()
    ops.empty_dict().mark().string("check_X").global_("sklearn.utils._testing", "check_output").setitems()
    return ops.build().stop().bytes_()


def _imports_only(module: str) -> Callable[[], bytes]:
    """A pickle that only imports: importing ``pkg.__main__`` (or IDLE) runs a program."""
    return lambda: Ops(2).global_(module, "main").stop().bytes_()


def _gguf_duplicate_template() -> bytes:
    """Two ``tokenizer.chat_template`` keys: llama.cpp's C lookup takes the first, a dict the last."""
    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    def entry(key: str, value: str) -> bytes:
        return string(key) + struct.pack("<I", 8) + string(value)

    bad = "{{ cycler.__init__.__globals__.os.popen('true').read() }}"
    good = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    return (b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + entry("tokenizer.chat_template", bad)
            + entry("tokenizer.chat_template", good))


def _keras_lambda_activation() -> bytes:
    """A Keras 3 ``.keras`` whose Dense activation is a ``__lambda__`` object (marshalled bytecode,
    here a harmless stand-in): ``load_model(..., safe_mode=False)`` turns it into code. Only
    layers of class ``Lambda`` were looked for."""
    import base64

    dense = {"name": "d", "units": 2, "activation": {"class_name": "__lambda__", "config": {
        "value": [base64.b64encode(b"\xe3stand-in for marshalled code").decode(), None, None]}}}
    config = {"module": "keras", "class_name": "Sequential", "registered_name": None, "config": {
        "name": "seq", "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4]}},
            {"module": "keras.layers", "class_name": "Dense", "config": dense}]}}
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr("metadata.json", json.dumps({"keras_version": "3.5.0"}))
    return archive.getvalue()


def _npy_objects(descr: object) -> Callable[[], bytes]:
    """An object array spelled otherwise than ``'|O'``: NumPy reads ``'object'`` and a ``(dtype, shape)``
    subarray of objects as object arrays, and ``np.load(allow_pickle=True)`` unpickles what follows."""
    def build() -> bytes:
        import numpy as np

        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": (1,)})
        return buffer.getvalue() + pickles.os_system_call()

    return build


def _jsonpickle(doc: object) -> Callable[[], bytes]:
    return lambda: json.dumps(doc).encode()


def _skops(loader: str, module: str, name: str) -> Callable[[], bytes]:
    """A ``.skops`` zip: ``schema.json`` names each object's module and class, and how to build it."""
    def build() -> bytes:
        schema = {"__class__": "Pipeline", "__module__": "sklearn.pipeline", "__loader__": "ObjectNode",
                  "protocol": 2, "_skops_version": "0.10.0", "content": {"__class__": "dict",
                  "__module__": "builtins", "__loader__": "DictNode", "content": {"steps": {
                      "__class__": name, "__module__": module, "__loader__": loader, "content": {}}}}}
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zf:
            zf.writestr("schema.json", json.dumps(schema))
        return archive.getvalue()

    return build


def _tokenizer_config(template: str) -> Callable[[], bytes]:
    return lambda: json.dumps({"bos_token": "<s>", "chat_template": template}).encode()


_LOOP = "{% for m in messages %}{{ m['content'] }}{% endfor %}"

SAMPLES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "text_then_zip": ("model.keras", _text_then_zip),
    "pdf_tar": ("model.pt", _pdf_tar),
    "v7_tar_legacy_torch": ("pytorch_model.bin", _legacy_torch_tar),
    "tar_unknown_member_type": ("model.tar", _tar_unknown_member_type),
    "hdf5_pickled_attribute": ("embeddings.h5", _hdf5_pickled_attribute),
    "onnx_claims_native_code": ("model.onnx", _onnx_model_with_external("libcustom.dylib")),
    "starmap_newobj": ("model.pkl", _starmap_newobj),
    "state_held_callable": ("model.joblib", _state_held_callable),
    "import_package_main": ("model.pkl", _imports_only("unittest.__main__")),
    "import_idle": ("model.pkl", _imports_only("idlelib.idle")),
    "gguf_duplicate_template": ("model.gguf", _gguf_duplicate_template),
    "keras_lambda_activation": ("model.keras", _keras_lambda_activation),
    "jsonpickle_reduce_alias": ("agent_config.json", _jsonpickle({"py/object": "agents.Config", "hook": {
        "py/reduce": [{"py/function": "sklearn.utils._testing.check_output"}, {"py/tuple": [["true"]]}]}})),
    "jsonpickle_repr": ("agent_config.json", _jsonpickle({"seed": {"py/repr": "os/os.system('true')"}})),
    "skops_dangerous_node": ("model.skops", _skops("ReduceNode", "os", "system")),
    "npy_object_by_name": ("array.npy", _npy_objects("object")),
    "npy_object_subarray": ("array.npy", _npy_objects(("|O", (1,)))),
    "template_groupby_keyword": ("tokenizer_config.json", _tokenizer_config(
        _LOOP + "{% for g in messages|groupby(attribute='__class__.__mro__') %}{{ g.grouper }}{% endfor %}")),
    "template_sort_positional": ("tokenizer_config.json", _tokenizer_config(
        _LOOP + "{{ messages|sort(false, false, '__class__')|list }}")),
    "template_join_positional": ("tokenizer_config.json", _tokenizer_config(
        _LOOP + "{{ [raise_exception]|join('', '__globals__') }}")),
    "template_format_fields": ("tokenizer_config.json", _tokenizer_config(
        _LOOP + "{% set f = '{0.__init__.__globals__[os].environ}' %}{{ f.format(raise_exception) }}")),
    "template_map_star_args": ("tokenizer_config.json", _tokenizer_config(
        _LOOP + "{{ [raise_exception]|map(*['attr', '__globals__'])|list }}")),
    "template_sort_star_kwargs": ("tokenizer_config.json", _tokenizer_config(
        _LOOP + "{{ messages|sort(**{'attribute': '__class__'})|list }}")),
    # benign controls: a long text file, ordinary filter use, a skops file of allowed classes
    "benign_skops": ("model.skops", _skops("ObjectNode", "sklearn.linear_model._logistic",
                                           "LogisticRegression")),
    "benign_long_text": ("vocab.txt", lambda: "".join(f"token{i}\n" for i in range(20000)).encode()),
    "benign_template_filters": ("tokenizer_config.json", _tokenizer_config(
        _LOOP + "{{ messages|map(attribute='role')|join(', ') }}{{ messages|sort(attribute='role')|length }}"
        "{{ messages|groupby('role')|length }}{{ messages|join(', ', 'content') }}")),
}


#: more files beside a sample's own
BESIDE: dict[str, dict[str, bytes]] = {"onnx_claims_native_code": {"libcustom.dylib": MACHO_32}}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every sample in its own folder, ``curator scan ROOT --json`` once; reports by sample name."""
    root = tmp_path_factory.mktemp("scan-round3")
    paths = {}
    for name, (filename, build) in SAMPLES.items():
        (root / name).mkdir()
        (root / name / filename).write_bytes(build())
        paths[f"{name}/{filename}"] = name
        for other, data in BESIDE.get(name, {}).items():
            (root / name / other).write_bytes(data)
            paths[f"{name}/{other}"] = f"{name}:{other}"
    return scan_folder(root, paths)


def test_text_then_zip(scanned: dict[str, dict[str, Any]]) -> None:
    """Only the first 64 KiB decided "text": a zip behind them was never looked at."""
    blocked_by_curator(scanned, "text_then_zip", "pickle-dangerous-global")


def test_pdf_tar(scanned: dict[str, dict[str, Any]]) -> None:
    """A tar face behind a document magic: faces were sought for zip and HDF5 only."""
    blocked_by_curator(scanned, "pdf_tar", "pickle-dangerous-global")


def test_v7_tar_legacy_torch(scanned: dict[str, dict[str, Any]]) -> None:
    """A tar without the ``ustar`` magic was not a tar to the sniffer (torch.load reads it as one)."""
    blocked_by_curator(scanned, "v7_tar_legacy_torch", "pickle-dangerous-global")
    assert scanned["v7_tar_legacy_torch"]["format"] == "tar"


def test_tar_unknown_member_type(scanned: dict[str, dict[str, Any]]) -> None:
    """Members tarfile reads as files although ``isfile()`` says no were skipped unread."""
    blocked_by_curator(scanned, "tar_unknown_member_type", "pickle-dangerous-global")


def test_hdf5_pickled_attribute(scanned: dict[str, dict[str, Any]]) -> None:
    """HDF5 attributes were read for a Keras config only; the "weights only" file was clean."""
    blocked_by_curator(scanned, "hdf5_pickled_attribute", "pickle-dangerous-global")
    own = [f for f in scanned["hdf5_pickled_attribute"]["findings"] if f["tool"] == "curator"]
    assert not [f for f in own if "/embeddings/note" in f["message"]], own  # plain text ending in "."


def test_starmap_newobj(scanned: dict[str, dict[str, Any]]) -> None:
    """A global handed to the constructor of an unknown class is called by it (starmap, map, filter)."""
    blocked_by_curator(scanned, "starmap_newobj", "pickle-unknown-call")


def test_state_held_callable(scanned: dict[str, dict[str, Any]]) -> None:
    """A global in the state of a class that is not allow-listed is the object's to call."""
    blocked_by_curator(scanned, "state_held_callable", "pickle-unknown-call")


@pytest.mark.parametrize("name", ["import_package_main", "import_idle"])
def test_import_runs_a_program(scanned: dict[str, dict[str, Any]], name: str) -> None:
    """Importing ``pkg.__main__`` or IDLE runs a program: an import alone was only low."""
    blocked_by_curator(scanned, name, "pickle-dangerous-global")


def test_gguf_duplicate_template(scanned: dict[str, dict[str, Any]]) -> None:
    """Of two chat templates under one key only the last was checked; llama.cpp renders the first."""
    blocked_by_curator(scanned, "gguf_duplicate_template", "template-injection")
    blocked_by_curator(scanned, "gguf_duplicate_template", "gguf-malformed")


@pytest.mark.parametrize("name", ["npy_object_by_name", "npy_object_subarray"])
def test_npy_object_dtype_spellings(scanned: dict[str, dict[str, Any]], name: str) -> None:
    """Only ``'|O'`` and object fields of structured dtypes were taken for object arrays."""
    blocked_by_curator(scanned, name, "pickle-dangerous-global")


def test_keras_lambda_activation(scanned: dict[str, dict[str, Any]]) -> None:
    """A marshalled lambda anywhere in a Keras config, not only in a Lambda layer."""
    blocked_by_curator(scanned, "keras_lambda_activation", "keras-lambda-layer")


@pytest.mark.parametrize(("name", "code"), [
    ("template_groupby_keyword", "template-injection"),
    ("template_sort_positional", "template-injection"),
    ("template_join_positional", "template-injection"),
    ("template_format_fields", "template-injection"),
    ("template_map_star_args", "template-suspicious"),
    ("template_sort_star_kwargs", "template-suspicious"),
])
def test_template_attribute_arguments(scanned: dict[str, dict[str, Any]], name: str, code: str) -> None:
    """Every filter parameter that names an attribute, however it is passed (keyword, position, ``*``,
    ``**``), walks attributes like ``x.__globals__`` does."""
    blocked_by_curator(scanned, name, code)


def test_native_code_is_not_onnx_external_data(scanned: dict[str, dict[str, Any]]) -> None:
    """An ONNX model "claims" raw data files as its tensor bytes, and they pass as clean: a 32-bit
    Mach-O library was raw data to the sniffer, so a model could vouch for it."""
    report = scanned["onnx_claims_native_code:libcustom.dylib"]
    assert report["format"] == "native-code", report
    assert report["verdict"] != "clean", report


@pytest.mark.parametrize(("name", "code"), [
    ("jsonpickle_reduce_alias", "json-unknown-call"),
    ("jsonpickle_repr", "json-object-code"),
    ("skops_dangerous_node", "json-dangerous-object"),
])
def test_json_that_names_python_objects(scanned: dict[str, dict[str, Any]], name: str, code: str) -> None:
    """jsonpickle and skops files are pickles written as JSON: they were inert JSON."""
    blocked_by_curator(scanned, name, code)


@pytest.mark.parametrize("name", ["benign_long_text", "benign_template_filters", "benign_skops"])
def test_benign_controls_stay_clean(scanned: dict[str, dict[str, Any]], name: str) -> None:
    assert scanned[name]["verdict"] == "clean", scanned[name]
