"""Making a finished folder durable before it is published by a rename."""

from __future__ import annotations

import os
from pathlib import Path


def sync_tree(folder: Path, recursive: bool = True) -> None:
    """fsync a folder (and the folders under it): their entries survive a crash after the rename.

    The files themselves are fsynced by whoever wrote them.
    """
    folders = [folder]
    if recursive:
        folders += [p for p in folder.rglob("*") if p.is_dir() and not p.is_symlink()]
    for path in folders:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
