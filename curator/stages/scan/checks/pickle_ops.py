"""What each pickle opcode does to the walk's stack, memo and record of globals and calls."""

from __future__ import annotations

import _compat_pickle
from typing import Any, BinaryIO

from curator.stages.scan.checks.pickle_values import (
    JOBLIB_WRAPPERS,
    Blob,
    DictVal,
    Global,
    Made,
    StreamState,
    Walk,
    WalkError,
)
from curator.stages.scan.rules import CALL_GADGETS, IMPORTERS


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


def _invoke(walk: Walk, target: object, how: str, offset: int, args: object = None) -> None:
    if isinstance(target, Global):
        target.uses.add(how)
        gadget = CALL_GADGETS.get(target.dotted)
        if gadget and isinstance(args, tuple):
            _gadget_args(walk, gadget, args, offset)
        if how == "new":
            _hand(target, args)
    else:
        walk.computed_calls.append(offset)


def _hand(cls: object, value: object, depth: int = 0) -> None:
    """The globals in a constructor's arguments (or an object's state) are the object's to call.

    Objects inside are not followed into their own class: an instance is handed, not its class.
    """
    if depth > 8:
        return
    if isinstance(value, Global):
        value.handed_to.append(cls)
        return
    children: list[Any] = []
    if isinstance(value, (tuple, list)):
        children = list(value)
    elif isinstance(value, DictVal):
        children = [v for pair in value.items for v in pair]
    elif isinstance(value, Made):
        children = [value.args, value.state, *value.items]
    for child in children:
        _hand(cls, child, depth + 1)


def _gadget_args(walk: Walk, gadget: tuple[tuple[int, str], ...], args: tuple[Any, ...], offset: int) -> None:
    """An allowed function that calls what it is given: its callable arguments count as called."""
    for position, use in gadget:
        if position >= len(args):
            continue
        arg = args[position]
        if use == "hooks":  # a container of callables that run later
            for ref in _globals_in(arg, skip=arg.by if isinstance(arg, Made) else None):
                ref.uses.add("call")
        elif isinstance(arg, Global):
            arg.uses.add(use)
            if use == "new" and position == 0:  # copyreg.__newobj__(cls, *args): cls.__new__(cls, *args)
                _hand(arg, args[1:])
        elif use == "call" and isinstance(arg, Made):
            walk.computed_calls.append(offset)


def _hooks_in_state(state: object) -> None:
    """``_forward_hooks``, ``_backward_hooks``, ...: an object's state that names callables it will call."""
    if isinstance(state, tuple) and state:  # (dict state, slot state)
        state = state[0]
    if not isinstance(state, DictVal):
        return
    for key, value in state.items:
        if isinstance(key, str) and "hook" in key.lower():
            for ref in _globals_in(value, skip=value.by if isinstance(value, Made) else None):
                ref.uses.add("call")


def _globals_in(value: object, skip: object = None, depth: int = 0) -> list[Global]:
    if depth > 8:
        return []
    if isinstance(value, Global):
        return [] if value is skip else [value]
    children: list[Any] = []
    if isinstance(value, (tuple, list)):
        children = list(value)
    elif isinstance(value, DictVal):
        children = [v for pair in value.items for v in pair]
    elif isinstance(value, Made):
        children = [value.by, value.args, value.state, *value.items]
    return [g for child in children for g in _globals_in(child, skip, depth + 1)]


_LITERALS = {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "STRING", "BINSTRING",
             "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "UNICODE",
             "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "FLOAT", "BINFLOAT"}
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}


def apply(s: StreamState, name: str, arg: Any, offset: int, fh: BinaryIO, size: int) -> None:
    """Do to the symbolic stack what the unpickler would do for opcode ``name``."""
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
        if isinstance(target, (list, Made)):
            (target.items if isinstance(target, Made) else target).extend(values)
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
        elif isinstance(target, Made):
            target.items.extend(v for pair in pairs for v in pair)
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
        _invoke(walk, ref, "call", offset, tuple(args))
        s.stack.append(Made(ref, "inst", tuple(args)))
    elif name == "OBJ":
        items = s.pop_mark(offset)
        if not items:
            raise WalkError(offset, "OBJ without a class")
        _invoke(walk, items[0], "call", offset, tuple(items[1:]))
        s.stack.append(Made(items[0], "obj", tuple(items[1:])))
    elif name == "REDUCE":
        args, func = s.pop(offset), s.pop(offset)
        if isinstance(func, Global) and func.dotted in IMPORTERS:
            func.uses.add("call")
            if isinstance(args, tuple) and len(args) == 2 and all(isinstance(a, str) for a in args):
                s.stack.append(_global(walk, args[0], args[1], offset, "REDUCE"))  # the import it makes
                return
            walk.computed_calls.append(offset)  # an importer fed computed names imports anything
        _invoke(walk, func, "call", offset, args)
        s.stack.append(Made(func, "reduce", args))
    elif name in ("NEWOBJ", "NEWOBJ_EX"):
        if name == "NEWOBJ_EX":
            s.pop(offset)
        args, cls = s.pop(offset), s.pop(offset)
        _invoke(walk, cls, "new", offset, args)
        s.stack.append(Made(cls, "new", args))
    elif name == "BUILD":
        state, target = s.pop(offset), s.top(offset)
        if isinstance(target, Global):  # setattr on an imported class or function itself
            target.uses.add("setattr")
        elif isinstance(target, Made):
            target.state = state
            _hooks_in_state(state)
            if isinstance(target.by, Global):
                target.by.uses.add("build")
                if target.by.module != "__main__":  # a library class may call what its state holds;
                    _hand(target.by, state)         # the loading script's own classes are its author's
                if (target.by.module, target.by.name) in JOBLIB_WRAPPERS:
                    _skip_joblib_array(s, target, offset, fh, size)
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


def _skip_joblib_array(s: StreamState, wrapper: Made, offset: int, fh: BinaryIO, size: int) -> None:
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
        s.nested()
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
