"""Ways the local hub misbehaves on purpose, so tests can watch the fetch stage catch it."""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

#: a fault key that matches every file
EVERY_FILE = "*"


def hits(keys: Container[str], path: str) -> bool:
    """Whether a per-path fault applies to ``path`` (its own key, or ``"*"``)."""
    return path in keys or EVERY_FILE in keys


@dataclass
class Faults:
    """Settable at run time (``server.faults.corrupt.add("model.safetensors")``).

    Keys are file paths inside the repo; ``"*"`` means every file.
    """

    #: bodies served with one byte flipped (the middle one): same length, other bytes
    corrupt: set[str] = field(default_factory=set)
    #: resolve answers whose X-Repo-Commit names another commit than the one served
    wrong_commit: set[str] = field(default_factory=set)
    #: cut the connection when the body reaches this file offset (once per path, then heal)
    drop_after: dict[str, int] = field(default_factory=dict)
    #: keep cutting at the same offset on every request, resumes included
    drop_every_time: bool = False
    #: files announced in siblings and the tree, and served, e.g. ``{"../evil.txt": b"..."}``
    extra_files: dict[str, bytes] = field(default_factory=dict)
    #: the size siblings and the tree announce for a path, instead of the real one
    declared_size: dict[str, int] = field(default_factory=dict)
    #: files listed by name only: no size, blob id or LFS pointer in the siblings
    bare_listing: set[str] = field(default_factory=set)
    #: bodies with no Content-Length that never end (until the client hangs up)
    endless: set[str] = field(default_factory=set)
    #: bodies sent one byte every this many seconds
    drip: dict[str, float] = field(default_factory=dict)
    #: bytes sent in endless bodies so far (observable by tests)
    endless_sent: int = 0
    #: connections cut so far (observable by tests)
    drops: int = 0

    def drop_offset(self, path: str) -> int | None:
        """Where to cut the body of ``path``, if anywhere."""
        if path in self.drop_after:
            return self.drop_after[path]
        return self.drop_after.get(EVERY_FILE)

    def dropped(self, path: str) -> None:
        """Count a cut and, unless every time, heal that path."""
        self.drops += 1
        if not self.drop_every_time:
            self.drop_after.pop(path if path in self.drop_after else EVERY_FILE, None)
