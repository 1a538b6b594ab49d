"""Copy a local candidate into the review's own folder, hashing the bytes that land there.

Hashing a folder in place and reading it again later lets anyone who can write to it swap
a file between fetch and scan. A copy taken while hashing (or a reflink, whose blocks a
later write to the source cannot change) is what every later stage reads. A hard link is
never used: it shares the inode, so an in-place edit of the source changes the "copy".
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path

from curator.core.hashing import CHUNK, file_sha256

FICLONE = 0x40049409  # linux/fs.h: _IOW(0x94, 9, int)


def copy_pinned(source: Path, dest: Path, on_bytes: Callable[[int], None] | None = None) -> tuple[int, str]:
    """Copy ``source`` to ``dest`` (a new file); the size and SHA-256 of what ``dest`` holds.

    ``source`` is opened without following a final symlink: callers resolve links they allow.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    src_fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        with open(src_fd, "rb", closefd=False) as fin, open(dest, "xb") as fout:
            try:
                fcntl.ioctl(fout.fileno(), FICLONE, fin.fileno())
            except OSError:  # no reflinks on this file system (or across two): copy while hashing
                return _copy_hashing(fin, fout, on_bytes)
        return file_sha256(dest, on_bytes)  # a reflink's blocks are ours now: hash what we hold
    finally:
        os.close(src_fd)


def _copy_hashing(fin: io.BufferedReader, fout: io.BufferedWriter,
                  on_bytes: Callable[[int], None] | None) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    while n := fin.readinto(buffer):
        digest.update(view[:n])
        fout.write(view[:n])
        size += n
        if on_bytes:
            on_bytes(n)
    # no fsync: a copy torn by a crash no longer matches its pinned digest, and decide re-hashes
    return size, digest.hexdigest()
