"""SHA-256 in one read pass: while downloading, or in parallel over files on disk."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20


def file_sha256(path: Path, on_bytes: Callable[[int], None] | None = None) -> tuple[int, str]:
    """Size and SHA-256 hex of one file, reading it once in 1 MiB chunks.

    hashlib releases the GIL on large updates, so several of these run truly in
    parallel on threads.
    """
    digest = hashlib.sha256()
    size = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
            size += n
            if on_bytes:
                on_bytes(n)
    return size, digest.hexdigest()


def hash_files(paths: Iterable[Path], workers: int | None = None,
               on_bytes: Callable[[int], None] | None = None) -> dict[Path, tuple[int, str]]:
    """Hash many files in parallel; biggest first so the pool stays busy to the end."""
    ordered = sorted(paths, key=lambda p: p.stat().st_size, reverse=True)
    workers = workers or min(8, (os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sizes = pool.map(lambda p: file_sha256(p, on_bytes), ordered)
        return dict(zip(ordered, sizes, strict=True))


class HashingWriter:
    """Writes a stream to a file while computing SHA-256 (and git's blob SHA-1).

    ``git_size`` is the final size when known, which git's blob header needs up
    front; without it no git digest is computed.
    """

    def __init__(self, fh: BinaryIO, git_size: int | None = None) -> None:
        self._fh = fh
        self.sha256 = hashlib.sha256()
        self.git_sha1 = hashlib.sha1(f"blob {git_size}\0".encode()) if git_size is not None else None
        self.size = 0

    def feed(self, data: bytes | memoryview) -> None:
        """Hash bytes already on disk (a resumed partial file) without writing them."""
        self.sha256.update(data)
        if self.git_sha1 is not None:
            self.git_sha1.update(data)
        self.size += len(data)

    def write(self, data: bytes) -> None:
        self._fh.write(data)
        self.feed(data)

    def absorb_existing(self, path: Path) -> None:
        """Hash the bytes of a partial download before appending to it."""
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                self.feed(chunk)


def changed_files(root: Path, pinned: Iterable[tuple[str, str]], workers: int | None = None) -> list[str]:
    """Which pinned ``(path, sha256)`` files under ``root`` are missing or hold other bytes now."""
    paths = {root / rel: (rel, digest) for rel, digest in pinned}
    missing = [rel for p, (rel, _) in paths.items() if not p.is_file()]
    hashed = hash_files([p for p in paths if p.is_file()], workers)
    return missing + sorted(paths[p][0] for p, (_, digest) in hashed.items() if digest != paths[p][1])
