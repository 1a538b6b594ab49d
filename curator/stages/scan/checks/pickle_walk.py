"""Walk pickle streams opcode by opcode on a symbolic stack: see every global and call, run nothing.

The walk mirrors what ``pickle.Unpickler`` would do (stack, marks, memo) but pushes
placeholders instead of objects, so a ``STACK_GLOBAL`` whose names come out of the memo is
still resolved, and a call of something computed at load time is still seen. It also knows
the two model formats whose files are not one clean pickle: legacy ``torch.save`` (five
pickles, then raw storages) and joblib (array bytes written into the middle of the stream).
"""

from __future__ import annotations

import _compat_pickle
import pickletools
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

LEGACY_TORCH_MAGIC = 0x1950A86A20F9469CFC6C
JOBLIB_WRAPPERS = {("joblib.numpy_pickle", "NumpyArrayWrapper"),
                   ("sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper")}
#: byte arguments larger than this are skipped over, not read into memory
BIG_ARG = 1 << 20
LINE_LIMIT = 1 << 16
CODE2OP = {op.code.encode("latin-1"): op for op in pickletools.opcodes}
_LENGTH_PREFIXED = {"bytes4": 4, "bytes8": 8, "bytearray8": 8, "string4": 4,
                    "unicodestring4": 4, "unicodestring8": 8}


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

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass(eq=False)
class Made:
    """The placeholder for an object a call or constructor would create."""

    by: Any
    how: str
    args: Any = None
    state: Any = None


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

    @property
    def invoked(self) -> bool:
        return bool(self.computed_calls) or any(g.uses & {"call", "new"} for g in self.globals)


class _Stream:
    """The unpickler's state for one stream."""

    def __init__(self, walk: Walk) -> None:
        self.walk = walk
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


def walk_file(fh: BinaryIO, size: int, max_opcodes: int = 50_000_000, probe: bool = False) -> Walk:
    """Walk every pickle stream from the start of ``fh`` (``size`` bytes long).

    Stops at the first malformed opcode (recorded in ``error``), after the fifth stream of a
    legacy torch file, or where the bytes after a stream are not another pickle. With
    ``probe`` the walk stops at the end of the first stream (format sniffing).
    """
    walk = Walk()
    budget = [max_opcodes]
    fh.seek(0)
    while True:
        start = fh.tell()
        globals_before = len(walk.globals)
        try:
            top = _stream(fh, size, walk, budget)
        except WalkError as exc:
            later_stream_is_junk = (walk.streams and len(walk.globals) == globals_before
                                    and exc.offset - start < 64)
            if later_stream_is_junk:
                del walk.globals[globals_before:]  # bytes after the last pickle, not a pickle
                break
            walk.error = exc
            walk.end = exc.offset
            return walk
        walk.streams.append((start, fh.tell()))
        walk.end = fh.tell()
        if len(walk.streams) == 1 and top == LEGACY_TORCH_MAGIC:
            walk.kind = "torch-legacy"
        if probe or walk.end >= size or (walk.kind == "torch-legacy" and len(walk.streams) == 5):
            break
    if walk.end < size and walk.kind == "torch-legacy":
        walk.skipped.append((walk.end, size))
    return walk


def _stream(fh: BinaryIO, size: int, walk: Walk, budget: list[int]) -> Any:
    state = _Stream(walk)
    while True:
        offset = fh.tell()
        code = fh.read(1)
        if not code:
            raise WalkError(offset, "stream ends before STOP")
        op = CODE2OP.get(code)
        if op is None:
            raise WalkError(offset, f"byte {code!r} is not a pickle opcode")
        budget[0] -= 1
        walk.opcodes += 1
        if budget[0] < 0:
            raise WalkError(offset, "more opcodes than the walk allows")
        arg = _read_arg(fh, op, offset, size)
        if op.name == "STOP":
            return state.pop(offset)
        _apply(state, op.name, arg, offset, fh, size, budget)


def _read_arg(fh: BinaryIO, op: pickletools.OpcodeInfo, offset: int, size: int) -> Any:
    if op.arg is None:
        return None
    if op.name in ("GLOBAL", "INST"):
        return (_line(fh, offset), _line(fh, offset))
    width = _LENGTH_PREFIXED.get(op.arg.name)
    if width is not None:
        raw = fh.read(width)
        if len(raw) != width:
            raise WalkError(offset, f"{op.name} length truncated")
        length = int.from_bytes(raw, "little", signed=op.arg.name == "string4")
        if length < 0 or fh.tell() + length > size:
            raise WalkError(offset, f"{op.name} claims {length} bytes past the end of the data")
        if length > BIG_ARG:
            fh.seek(length, 1)
            return Blob(length)
        data = fh.read(length)
        if "unicode" in op.arg.name:
            return data.decode("utf-8", "surrogatepass")
        # protocol 0-2 str: the unpickler decodes it (ASCII by default), so STACK_GLOBAL accepts it
        return data.decode("latin-1") if op.arg.name == "string4" else data
    try:
        return op.arg.reader(fh)
    except (ValueError, UnicodeDecodeError, struct.error) as exc:
        raise WalkError(offset, f"{op.name}: {exc}") from exc


def _line(fh: BinaryIO, offset: int) -> str:
    raw = fh.readline(LINE_LIMIT)
    if not raw.endswith(b"\n"):
        raise WalkError(offset, "GLOBAL/INST name is not terminated")
    try:
        return raw[:-1].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WalkError(offset, "GLOBAL/INST name is not UTF-8") from exc


def _global(walk: Walk, module: str, name: str, offset: int, opcode: str) -> Global:
    if not _is_dotted_identifier(module) or not all(p.isidentifier() for p in name.split(".")):
        raise WalkError(offset, f"{opcode} names no importable object ({module!r}, {name!r})")
    # protocol 0-2 streams may use Python 2 names; the unpickler maps them, so does the walk
    module, name = _compat_pickle.NAME_MAPPING.get((module, name), (module, name))
    module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    ref = Global(module, name, offset, opcode)
    walk.globals.append(ref)
    return ref


def _is_dotted_identifier(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def _invoke(walk: Walk, target: Any, how: str, offset: int) -> None:
    if isinstance(target, Global):
        target.uses.add(how)
    else:
        walk.computed_calls.append(offset)


_LITERALS = {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "STRING", "BINSTRING",
             "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "UNICODE",
             "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "FLOAT", "BINFLOAT"}
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}


def _apply(s: _Stream, name: str, arg: Any, offset: int, fh: BinaryIO, size: int,
           budget: list[int]) -> None:
    walk = s.walk
    if name in _LITERALS:
        s.stack.append(arg)
    elif name in _CONSTANTS:
        s.stack.append(_CONSTANTS[name])
    elif name == "MARK":
        s.metastack.append(s.stack)
        s.stack = []
    elif name in ("PROTO", "FRAME", "READONLY_BUFFER"):
        if name == "PROTO":
            walk.protocol = max(walk.protocol, int(arg))
    elif name in ("EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"):
        count = {"EMPTY_TUPLE": 0, "TUPLE1": 1, "TUPLE2": 2, "TUPLE3": 3}.get(name)
        # pop before touching s.stack: popping to a MARK replaces the list itself
        items = s.pop_mark(offset) if count is None else [s.pop(offset) for _ in range(count)][::-1]
        s.stack.append(tuple(items))
    elif name in ("EMPTY_LIST", "LIST"):
        values = [] if name == "EMPTY_LIST" else list(s.pop_mark(offset))
        s.stack.append(values)
    elif name in ("EMPTY_DICT", "DICT"):
        items = [] if name == "EMPTY_DICT" else s.pop_mark(offset)
        s.stack.append(DictVal(list(zip(items[::2], items[1::2], strict=False))))
    elif name in ("EMPTY_SET", "FROZENSET"):
        made: Any = set() if name == "EMPTY_SET" else Made(None, "frozenset", s.pop_mark(offset))
        s.stack.append(made)
    elif name in ("APPEND", "APPENDS", "ADDITEMS"):
        values = [s.pop(offset)] if name == "APPEND" else s.pop_mark(offset)
        target = s.top(offset)
        if isinstance(target, list):
            target.extend(values)
    elif name in ("SETITEM", "SETITEMS"):
        if name == "SETITEM":
            value, key = s.pop(offset), s.pop(offset)
            pairs = [(key, value)]
        else:
            items = s.pop_mark(offset)
            pairs = list(zip(items[::2], items[1::2], strict=False))
        target = s.top(offset)
        if isinstance(target, DictVal):
            target.items.extend(pairs)
    elif name == "POP":
        if s.stack:
            s.stack.pop()
        else:
            s.pop_mark(offset)
    elif name == "POP_MARK":
        s.pop_mark(offset)
    elif name == "DUP":
        s.stack.append(s.top(offset))
    elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
        s.memo[int(arg)] = s.top(offset)
    elif name == "MEMOIZE":
        s.memo[len(s.memo)] = s.top(offset)
    elif name in ("GET", "BINGET", "LONG_BINGET"):
        if int(arg) not in s.memo:
            raise WalkError(offset, f"memo key {arg} was never stored")
        s.stack.append(s.memo[int(arg)])
    elif name == "GLOBAL":
        s.stack.append(_global(walk, arg[0], arg[1], offset, name))
    elif name == "STACK_GLOBAL":
        attr, module = s.pop(offset), s.pop(offset)
        if not isinstance(module, str) or not isinstance(attr, str):
            raise WalkError(offset, "STACK_GLOBAL needs two strings")
        s.stack.append(_global(walk, module, attr, offset, name))
    elif name == "INST":
        args = s.pop_mark(offset)
        ref = _global(walk, arg[0], arg[1], offset, name)
        ref.uses.add("call")
        s.stack.append(Made(ref, "inst", tuple(args)))
    elif name == "OBJ":
        items = s.pop_mark(offset)
        if not items:
            raise WalkError(offset, "OBJ without a class")
        _invoke(walk, items[0], "call", offset)
        s.stack.append(Made(items[0], "obj", tuple(items[1:])))
    elif name == "REDUCE":
        args, func = s.pop(offset), s.pop(offset)
        _invoke(walk, func, "call", offset)
        s.stack.append(Made(func, "reduce", args))
    elif name in ("NEWOBJ", "NEWOBJ_EX"):
        if name == "NEWOBJ_EX":
            s.pop(offset)
        args, cls = s.pop(offset), s.pop(offset)
        _invoke(walk, cls, "new", offset)
        s.stack.append(Made(cls, "new", args))
    elif name == "BUILD":
        state, target = s.pop(offset), s.top(offset)
        if isinstance(target, Global):  # setattr on an imported class or function itself
            target.uses.add("setattr")
        elif isinstance(target, Made):
            target.state = state
            if isinstance(target.by, Global):
                target.by.uses.add("build")
                if (target.by.module, target.by.name) in JOBLIB_WRAPPERS:
                    _skip_joblib_array(s, target, offset, fh, size, budget)
    elif name in ("PERSID", "BINPERSID"):
        pid = arg if name == "PERSID" else s.pop(offset)
        s.stack.append(Made(None, "persistent", pid))
    elif name in ("EXT1", "EXT2", "EXT4"):
        ref = Global("copyreg-extension", str(arg), offset, name, {"ext"})
        walk.globals.append(ref)
        s.stack.append(ref)
    elif name == "NEXT_BUFFER":
        s.stack.append(Blob(0))
    else:
        raise WalkError(offset, f"opcode {name} is not understood by the walk")


def _skip_joblib_array(s: _Stream, wrapper: Made, offset: int, fh: BinaryIO, size: int,
                       budget: list[int]) -> None:
    """joblib writes an array's bytes right after its wrapper's BUILD; step over them."""
    walk = s.walk
    walk.kind = "joblib"
    state = wrapper.state if isinstance(wrapper.state, DictVal) else DictVal()
    shape = state.get("shape")
    try:
        itemsize = _itemsize(state.get("dtype"))
    except ValueError as exc:
        raise WalkError(offset, str(exc)) from exc
    if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise WalkError(offset, "joblib array wrapper without a usable shape")
    start = fh.tell()
    if itemsize is None:  # object arrays are pickled, as a nested stream, right here
        _stream(fh, size, walk, budget)
        return
    numel = 1
    for dim in shape:
        numel *= dim
    if state.get("numpy_array_alignment_bytes") is not None:
        pad = fh.read(1)
        if not pad:
            raise WalkError(offset, "joblib array padding truncated")
        fh.seek(pad[0], 1)
    end = fh.tell() + numel * itemsize
    if end > size:
        raise WalkError(offset, "joblib array runs past the end of the data")
    fh.seek(end)
    walk.skipped.append((start, end))


def _itemsize(dtype: Any) -> int | None:
    """Bytes per element of a pickled ``numpy.dtype(...)``; None for object arrays."""
    if not isinstance(dtype, Made) or not isinstance(dtype.args, tuple) or not dtype.args:
        raise ValueError("joblib array wrapper without a usable dtype")
    descr = dtype.args[0]
    if not isinstance(descr, str) or not descr:
        raise ValueError("joblib array dtype is not a type string")
    kind, digits = descr.lstrip("<>|=")[:1], descr.lstrip("<>|=")[1:]
    if kind == "O":
        return None
    if digits.isdigit() and int(digits) > 0:
        return int(digits) * (4 if kind == "U" else 1)
    state = dtype.state
    if isinstance(state, tuple) and len(state) > 5 and isinstance(state[5], int) and state[5] > 0:
        return state[5]  # structured and void dtypes carry their element size in the state
    if kind == "?":
        return 1
    raise ValueError(f"joblib array dtype {descr!r} has no known size")
