"""Round 2 of the scan gate's bypasses: one test per technique, each sample built here, never loaded.

The samples are written into one folder and scanned once, for real, through ``curator scan --json``
(all three scanners). Each test names the finding curator's *own* checks must raise: several of
these samples came out ``clean`` from the whole gate (scanners included) before the fix.
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

#: ``os.system('true')`` without a PROTO header: opcodes that can follow any prefix
PAYLOAD = Ops(None).global_("os", "system").string("true").tuple1().reduce().stop().bytes_()


def _gif_headed_pickle() -> bytes:
    """``GIF89a`` is BINFLOAT ('G') and 5 of its 8 bytes; POP the float, then the payload."""
    return b"GIF89a\x01\x00\x01" + b"0" + PAYLOAD


def _ftyp_headed_pickle() -> bytes:
    """``ftyp`` at byte 4 (ISO media) sits inside a LONG1 argument after a protocol 2 header."""
    return b"\x80\x02\x8a\x05ftyp\x00" + b"0" + PAYLOAD


def _tar_pax_name_pickle() -> bytes:
    """A pax tar whose extended-header block's name field is the pickle.

    tarfile never shows that name (it is the pax header's own), so no member-path check sees it;
    ``pickle.load`` / ``joblib.load`` / ``numpy.load(allow_pickle=True)`` read it from byte 0.
    """
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        data = b"hello world\n"
        info = tarfile.TarInfo("notes/\u00e9t\u00e9.txt")  # non-ASCII: tarfile writes a pax header
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    raw = bytearray(buffer.getvalue())
    assert raw[156:157] == b"x", "expected a pax extended header first"
    raw[0:100] = PAYLOAD.ljust(100, b"\x00")
    raw[148:156] = b" " * 8
    raw[148:156] = b"%06o\x00 " % sum(raw[0:512])
    return bytes(raw)


def _torch_zip_gif_data_pkl() -> bytes:
    """torch.load unpickles ``archive/data.pkl``; this one starts like a GIF (a small member, read whole)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("archive/data.pkl", _gif_headed_pickle())
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/version", "3\n")
    return buffer.getvalue()


def _png_bytes() -> bytes:
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def _benign_gif() -> bytes:
    """A real 1x1 GIF: its magic opens a BINFLOAT too, but nothing after it walks as a pickle."""
    return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
            b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def _benign_tar() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tf:
        data = b"hello world\n"
        info = tarfile.TarInfo("notes/\u00e9t\u00e9.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


#: ``namespace.__init__.__globals__.os.system('true')`` with every name put together at render time:
#: Jinja's ``x[key]`` falls back to getattr, so no attribute is ever spelled (unsandboxed engines run it)
BUILT_KEYS_TEMPLATE = (
    "{% set u = (raise_exception|string)[10] %}{% set g = [u, u, 'globals', u, u]|join %}"
    "{% set i = [u, u, 'init', u, u]|join %}{% set o = ['o', 's']|join %}{% set s = ['sys', 'tem']|join %}"
    "{% for m in messages %}{{ m['content'] }}{% endfor %}{{ namespace[i][g][o][s]('true') }}"
)
#: ``map(attribute=...)`` walks a dotted path with the same getitem/getattr fallback
MAP_ATTRIBUTE_TEMPLATE = (
    "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    "{{ messages|map(attribute='__class__.__mro__')|list }}"
)
#: ``map('attr', name)`` applies the attr filter without an attr Filter node
MAP_ATTR_FILTER_TEMPLATE = (
    "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    "{{ [raise_exception]|map('attr', ['__glo', 'bals__']|join)|list }}"
)


def _tokenizer_config(template: str) -> Callable[[], bytes]:
    return lambda: json.dumps({"bos_token": "<s>", "eos_token": "</s>", "chat_template": template}).encode()


def _npz_storage_named_object_array() -> bytes:
    """A zip with a data.pkl, so ``data/0`` looked like a torch storage and was skipped unread; but
    ``numpy.load(f, allow_pickle=True)['data/0']`` reads it as a .npy and unpickles its object array."""
    import numpy as np

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "|O", "fortran_order": False, "shape": (1,)})
    npy = buffer.getvalue() + pickles.os_system_call()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("data.pkl", pickles.benign_state_dict({"w": ("FloatStorage", (2,))}))
        zf.writestr("data/0", npy)
    return archive.getvalue()


def _safetensors_pickle_polyglot() -> bytes:
    """A valid safetensors file that is also a pickle from byte 0.

    Header length 0x43 + 256*n: byte 0 is SHORT_BINBYTES ('C') of n bytes, swallowing the zero length
    bytes and the JSON up to a metadata string; inside it, printable ``C~`` chunks (each skips 126
    bytes) run to the end of the header; the tensor's U8 bytes hold POP and the payload.
    """
    tail = b"0" + PAYLOAD
    tensor = json.dumps({"dtype": "U8", "shape": [len(tail)], "data_offsets": [0, len(tail)]})
    prefix = ('{"w":' + tensor + ',"__metadata__":{"p":"').encode()
    start = 8 + len(prefix)
    n = start - 2
    length = 0x43 + 256 * n
    end = 8 + length
    body = bytearray()
    while end - (start + len(body)) > 128 + 40:
        body += b"C~" + b"a" * 126
    last = end - (start + len(body)) - 2
    assert 32 <= last <= 126 and last not in (34, 92), last  # printable, no quote or backslash
    body += b"C" + bytes([last]) + b"a" * (last - 7) + b'"}}' + b" " * 4
    header = prefix + bytes(body)
    assert len(header) == length and json.loads(header)["w"]["dtype"] == "U8"
    return struct.pack("<Q", length) + header + tail


SAMPLES: dict[str, tuple[str, Callable[[], bytes]]] = {
    "safetensors_pickle_polyglot": ("model.safetensors", _safetensors_pickle_polyglot),
    "npz_storage_named_object_array": ("arrays.npz", _npz_storage_named_object_array),
    "template_built_keys": ("tokenizer_config.json", _tokenizer_config(BUILT_KEYS_TEMPLATE)),
    "template_map_attribute_path": ("chat_template.jinja", MAP_ATTRIBUTE_TEMPLATE.encode),
    "template_map_attr_filter": ("tokenizer_config.json", _tokenizer_config(MAP_ATTR_FILTER_TEMPLATE)),
    "gif_magic_pickle": ("preview.gif", _gif_headed_pickle),
    "ftyp_magic_pickle": ("clip.mp4", _ftyp_headed_pickle),
    "tar_pax_name_pickle": ("assets.tar", _tar_pax_name_pickle),
    "torch_zip_data_pkl_gif_magic": ("model.pt", _torch_zip_gif_data_pkl),
    "benign_gif": ("logo.gif", _benign_gif),
    "benign_png": ("logo.png", _png_bytes),
    "benign_pax_tar": ("notes.tar", _benign_tar),
}


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every sample in its own folder, ``curator scan ROOT --json`` once; reports by sample name."""
    root = tmp_path_factory.mktemp("scan-round2")
    paths = {}
    for name, (filename, build) in SAMPLES.items():
        (root / name).mkdir()
        (root / name / filename).write_bytes(build())
        paths[f"{name}/{filename}"] = name
    return scan_folder(root, paths)


def test_gif_magic_pickle(scanned: dict[str, dict[str, Any]]) -> None:
    """A pickle whose first bytes are ``GIF89a`` was sniffed as an image (inert) and never walked."""
    blocked_by_curator(scanned, "gif_magic_pickle", "pickle-dangerous-global")


def test_ftyp_magic_pickle(scanned: dict[str, dict[str, Any]]) -> None:
    """``ftyp`` at byte 4 made a protocol 2 pickle an inert video."""
    blocked_by_curator(scanned, "ftyp_magic_pickle", "pickle-dangerous-global")


def test_tar_pax_name_pickle(scanned: dict[str, dict[str, Any]]) -> None:
    """A tar whose pax header name is a pickle: members clean, the file itself runs os.system."""
    blocked_by_curator(scanned, "tar_pax_name_pickle", "pickle-dangerous-global")


def test_torch_zip_data_pkl_gif_magic(scanned: dict[str, dict[str, Any]]) -> None:
    """torch zip whose data.pkl starts with ``GIF89a``: settled as an inert image member."""
    blocked_by_curator(scanned, "torch_zip_data_pkl_gif_magic", "pickle-dangerous-global")


def test_template_built_keys(scanned: dict[str, dict[str, Any]]) -> None:
    """Item lookups by names the template joins together at render time reach ``__globals__``."""
    blocked_by_curator(scanned, "template_built_keys", "template-suspicious")


def test_template_map_attribute_path(scanned: dict[str, dict[str, Any]]) -> None:
    """``map(attribute='__class__.__mro__')`` walks attributes no Getattr node names."""
    blocked_by_curator(scanned, "template_map_attribute_path", "template-injection")


def test_template_map_attr_filter(scanned: dict[str, dict[str, Any]]) -> None:
    """``map('attr', ...)``: the attr filter without an attr filter node."""
    blocked_by_curator(scanned, "template_map_attr_filter", "template-suspicious")


def test_safetensors_pickle_polyglot(scanned: dict[str, dict[str, Any]]) -> None:
    """A safetensors header was trusted before any pickle probe; the same bytes unpickle."""
    blocked_by_curator(scanned, "safetensors_pickle_polyglot", "pickle-dangerous-global")


def test_npz_storage_named_object_array(scanned: dict[str, dict[str, Any]]) -> None:
    """A member named like a torch storage is still read when it is a .npy (numpy loads it by name)."""
    blocked_by_curator(scanned, "npz_storage_named_object_array", "pickle-dangerous-global")


@pytest.mark.parametrize("name", ["benign_gif", "benign_png", "benign_pax_tar"])
def test_benign_magic_files_stay_clean(scanned: dict[str, dict[str, Any]], name: str) -> None:
    """The pickle probe behind a magic number must not flag real images and archives."""
    report = scanned[name]
    assert report["verdict"] == "clean", report
    assert not [f for f in report["findings"] if f["code"] == "polyglot-pickle"], report


@pytest.mark.parametrize("template", [
    "{% for m in messages %}{{ messages[loop.index0 + 1] if not loop.last }}{% endfor %}",
    "{% for k in tools %}{{ tools[k] }}{% endfor %}",
    "{% set ns = namespace(i=0) %}{% set ns.i = messages|length - 1 %}{{ messages[ns.i]['content'] }}",
    "{{ messages|selectattr('role', 'equalto', 'system')|map(attribute='content')|join }}",
])
def test_context_keys_and_plain_attribute_paths_pass(template: str) -> None:
    """Keys read from the render context, index arithmetic and plain attribute names are no finding."""
    from curator.stages.scan.checks.templates import check_template

    assert check_template(template, "t") == []
