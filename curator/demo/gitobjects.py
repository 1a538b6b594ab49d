"""How git and git-LFS name and split files, as the Hub applies it: blob ids, pointers, LFS rules."""

from __future__ import annotations

import fnmatch
import hashlib
from contextlib import nullcontext
from pathlib import Path

LFS_THRESHOLD = 10 << 20
#: the patterns of the Hub's default .gitattributes (plus GGUF): these are always LFS
LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gguf", "*.gz", "*.h5", "*.joblib",
    "*.keras", "*.lfs.*", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot",
    "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "*.tar",
    "*.tar.*", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
)


def git_blob_sha1(data: bytes) -> str:
    """The id git gives these bytes as a blob: sha1 of ``blob <size>\\0`` + content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The pointer file git stores in place of an LFS file."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def is_lfs(path: str, size: int) -> bool:
    """Whether the hub stores this file with LFS: big, or a weights/archive pattern."""
    name = path.rsplit("/", 1)[-1]
    return size >= LFS_THRESHOLD or any(fnmatch.fnmatch(name, p) for p in LFS_PATTERNS)


def hash_file(path: Path, copy_to: Path | None = None) -> tuple[int, str, str]:
    """Size, sha256 and git blob sha1 in one read pass (optionally copying the bytes)."""
    size = path.stat().st_size
    sha256, sha1 = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
    with open(path, "rb") as src, open(copy_to, "wb") if copy_to else nullcontext(None) as dst:
        while chunk := src.read(1 << 20):
            sha256.update(chunk)
            sha1.update(chunk)
            if dst:
                dst.write(chunk)
    return size, sha256.hexdigest(), sha1.hexdigest()
