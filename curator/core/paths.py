"""Which relative paths a candidate may contain: nothing that escapes its folder."""

from __future__ import annotations

import os
from pathlib import Path


def unsafe_reason(path: str) -> str | None:
    """Why a repo path may not be written under the candidate folder, or None if it is safe."""
    if not path or "\x00" in path:
        return "empty or NUL in the name"
    if "\\" in path:
        return "backslash in the name"
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return "absolute path"
    if any(part in ("..", ".", "") for part in path.split("/")):
        return "traversal ('..' or '.') in the path"
    return None


def escapes(root: Path, path: Path) -> bool:
    """True if ``path`` (possibly a symlink) resolves outside ``root``."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return os.path.commonpath([real_root, real]) != real_root
