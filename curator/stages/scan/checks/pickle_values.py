"""The values a pickle walk pushes instead of objects, and the unpickler state it keeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
JOBLIB_WRAPPERS = {("joblib.numpy_pickle", "NumpyArrayWrapper"),
                   ("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper")}


class WalkError(Exception):
    """The stream stops being a pickle here: a real unpickler would raise at this offset."""

    def __init__(self, offset: int, message: str) -> None:
        super().__init__(f"at byte {offset}: {message}")
        self.offset = offset
        self.message = message


@dataclass(eq=False)
class Global:
    """One import the stream asks for, and what the stream does with it."""

    module: str
    name: str
    offset: int
    opcode: str
    uses: set[str] = field(default_factory=set)  # call | new | build | ext
    #: what it is handed to as a constructor argument: a class that keeps a callable may call it
    #: (``itertools.starmap(f, ...)``, ``map``, ``filter``) once anything iterates the object
    handed_to: list[object] = field(default_factory=list)

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(eq=False)
class Made:
    """The placeholder for an object a call or constructor would create."""

    by: object
    how: str
    args: object = None
    state: object = None
    items: list[Any] = field(default_factory=list)  # what APPENDS / SETITEMS put into it


@dataclass(eq=False)
class Blob:
    """Bytes not kept in memory (large arguments, out-of-band buffers)."""

    size: int


@dataclass(eq=False)
class DictVal:
    items: list[tuple[Any, Any]] = field(default_factory=list)

    def get(self, key: str) -> Any:
        return next((v for k, v in self.items if k == key), None)


class _Mark:
    pass


MARK = _Mark()


@dataclass
class Walk:
    """What the walk saw in one file (or member): every stream, global and call."""

    kind: str = "pickle"  # pickle | torch-legacy | joblib
    streams: list[tuple[int, int]] = field(default_factory=list)
    globals: list[Global] = field(default_factory=list)
    computed_calls: list[int] = field(default_factory=list)  # offsets of calls of computed values
    skipped: list[tuple[int, int]] = field(default_factory=list)  # array / storage bytes, not pickle
    error: WalkError | None = None
    end: int = 0  # first byte after the last stream
    opcodes: int = 0
    protocol: int = 0
    exhausted: bool = False  # stopped at the policy's opcode budget

    @property
    def invoked(self) -> bool:
        return bool(self.computed_calls) or any(g.uses & {"call", "new"} for g in self.globals)


class StreamState:
    """The unpickler's state for one stream; ``nested`` walks a stream embedded at the current offset."""

    def __init__(self, walk: Walk, nested: Callable[[], Any]) -> None:
        self.walk = walk
        self.nested = nested
        self.stack: list[Any] = []
        self.metastack: list[list[Any]] = []
        self.memo: dict[int, Any] = {}

    def pop(self, offset: int) -> Any:
        if not self.stack:
            raise WalkError(offset, "stack underflow")
        return self.stack.pop()

    def pop_mark(self, offset: int) -> list[Any]:
        if not self.metastack:
            raise WalkError(offset, "no MARK to pop to")
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    def top(self, offset: int) -> Any:
        if not self.stack:
            raise WalkError(offset, "stack underflow")
        return self.stack[-1]


