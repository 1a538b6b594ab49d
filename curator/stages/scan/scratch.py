"""The scratch folder of one scan: where extracted members and inflated streams go, under one budget."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import IO


class Scratch:
    """Fresh paths under one folder, and bounded copies counted against ``max_unpacked_bytes``."""

    def __init__(self, root: Path, max_unpacked_bytes: int) -> None:
        self.root = root
        self.max_unpacked_bytes = max_unpacked_bytes
        self.unpacked = 0  # bytes written so far
        self._dirs = itertools.count(1)

    @property
    def left(self) -> int:
        return self.max_unpacked_bytes - self.unpacked

    def path(self, name: str) -> Path:
        """A fresh scratch file path keeping ``name``'s base name (scanners look at extensions)."""
        folder = self.root / f"x{next(self._dirs):05d}"
        folder.mkdir(parents=True)
        return folder / (Path(name).name or "member")

    def copy(self, src: IO[bytes], dest: Path, limit: int) -> int | None:
        """Copy at most ``limit`` bytes (and what the budget allows); None if more was there."""
        budget = min(limit, self.left)
        written = 0
        with open(dest, "wb") as out:
            while True:
                # one byte past the budget tells "exactly full" from "more was there"
                chunk = src.read(min(1 << 20, max(budget - written, 0) + 1))
                if not chunk:
                    break
                written += len(chunk)
                if written > budget:
                    break
                out.write(chunk)
        if written > budget:
            dest.unlink()
            return None
        self.unpacked += written
        return written
