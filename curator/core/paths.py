"""Which relative paths a candidate may contain: nothing that escapes its folder."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path


def control_characters(text: str) -> list[str]:
    """The C0/C1 control characters (newlines, ESC, DEL...) in ``text``, repr-escaped."""
    return sorted({repr(c)[1:-1] for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F})


#: names Windows opens as devices, whatever the extension (``aux.json``, ``COM1.txt``)
WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
                             *(f"LPT{i}" for i in range(10)), "CONIN$", "CONOUT$"})


def unsafe_reason(path: str) -> str | None:
    """Why a repo path may not be written under the candidate folder, or None if it is safe."""
    if not path or "\x00" in path:
        return "empty or NUL in the name"
    controls = control_characters(path)
    if controls:  # a name that can move a terminal's cursor or forge a line is never a model file
        return f"control character(s) {' '.join(controls)} in the name"
    if "\\" in path:
        return "backslash in the name"
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return "absolute path"
    if any(part in ("..", ".", "") for part in path.split("/")):
        return "traversal ('..' or '.') in the path"
    device = next((p for p in path.split("/")
                   if p.split(".")[0].rstrip(" ").upper() in WINDOWS_DEVICES), None)
    if device is not None:
        return f"{device!r} is a device on Windows, not a file"
    return None


def escapes(root: Path, path: Path) -> bool:
    """True if ``path`` (possibly a symlink) resolves outside ``root``."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    return os.path.commonpath([real_root, real]) != real_root


def fold(path: str) -> str:
    """``path`` as a case-insensitive, normalising file system (macOS, Windows) names it.

    NFC, case-folded, each part without Windows' trailing dots and spaces and without an NTFS
    stream suffix (``x::$DATA`` *is* ``x``, ``x:s`` is a stream of ``x``): two paths that fold
    alike are one file there, whichever of them was written last.
    """
    return "/".join(unicodedata.normalize("NFC", part.split(":", 1)[0]).casefold().rstrip(". ")
                    for part in path.split("/"))


def collisions(paths: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of paths that are one file, or a file and a folder, once folded (duplicates too)."""
    files: dict[str, str] = {}
    folders: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for path in paths:
        folded = fold(path)
        parts = folded.split("/")
        above = ["/".join(parts[:i]) for i in range(1, len(parts))]
        other = files.get(folded) or folders.get(folded) or next(
            (files[f] for f in above if f in files), None)
        if other is not None:
            pairs.append((other, path))
            continue
        files[folded] = path
        folders.update({f: path for f in above if f not in folders})
    return pairs
