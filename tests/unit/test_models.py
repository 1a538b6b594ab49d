"""Manifest digests are canonical; unsafe repo paths are recognised."""

from __future__ import annotations

import hashlib

import pytest

from curator.core.models import FileEntry, Manifest, canonical_json
from curator.core.paths import unsafe_reason


def test_manifest_digest_is_order_independent_and_content_bound() -> None:
    a, b = FileEntry("a.bin", 1, "0" * 64), FileEntry("b.json", 2, "1" * 64)
    m1, m2 = Manifest((a, b)), Manifest((b, a))
    assert m1.digest == m2.digest
    expected = hashlib.sha256(canonical_json([a.to_dict(), b.to_dict()])).hexdigest()
    assert m1.digest == f"sha256:{expected}"
    assert Manifest((a, FileEntry("b.json", 2, "2" * 64))).digest != m1.digest


@pytest.mark.parametrize("path", ["../evil", "a/../../b", "/etc/passwd", "C:\\x", "a\\b", "", "a//b",
                                  "./a", "a/", "x\x00y"])
def test_unsafe_paths_are_refused(path: str) -> None:
    assert unsafe_reason(path) is not None


@pytest.mark.parametrize("path", ["model.safetensors", "sub/dir/tokenizer.json", "a..b", ".gitattributes"])
def test_ordinary_paths_are_allowed(path: str) -> None:
    assert unsafe_reason(path) is None
