"""Pickle streams written opcode by opcode: nothing is pickled from a live object, nothing is loaded.

The payloads the malicious samples carry are harmless (``os.system('true')``, ``builtins.print``).
"""

from __future__ import annotations

import struct


class Ops:
    """A pickle stream under construction; every method appends one opcode and returns self."""

    def __init__(self, protocol: int | None = 2) -> None:
        self.data = bytearray()
        if protocol is not None and protocol >= 2:
            self.data += b"\x80" + bytes([protocol])

    def raw(self, data: bytes) -> Ops:
        self.data += data
        return self

    # -- values ----------------------------------------------------------------------------
    def string(self, text: str) -> Ops:
        """BINUNICODE (protocol 1+)."""
        encoded = text.encode()
        self.data += b"X" + struct.pack("<I", len(encoded)) + encoded
        return self

    def short_string(self, text: str) -> Ops:
        """SHORT_BINUNICODE (protocol 4)."""
        encoded = text.encode()
        self.data += b"\x8c" + bytes([len(encoded)]) + encoded
        return self

    def string0(self, text: str) -> Ops:
        """STRING, protocol 0: a quoted repr on one line."""
        self.data += b"S'" + text.encode() + b"'\n"
        return self

    def int_(self, value: int) -> Ops:
        if 0 <= value < 256:
            self.data += b"K" + bytes([value])
        elif 0 <= value < 65536:
            self.data += b"M" + struct.pack("<H", value)
        else:
            self.data += b"J" + struct.pack("<i", value)
        return self

    def long1(self, value: int) -> Ops:
        body = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
        self.data += b"\x8a" + bytes([len(body)]) + body
        return self

    def none(self) -> Ops:
        self.data += b"N"
        return self

    def bool_(self, value: bool) -> Ops:
        self.data += b"\x88" if value else b"\x89"
        return self

    def float_(self, value: float) -> Ops:
        self.data += b"G" + struct.pack(">d", value)
        return self

    # -- containers ------------------------------------------------------------------------
    def mark(self) -> Ops:
        self.data += b"("
        return self

    def tuple_(self) -> Ops:
        self.data += b"t"
        return self

    def tuple1(self) -> Ops:
        self.data += b"\x85"
        return self

    def tuple2(self) -> Ops:
        self.data += b"\x86"
        return self

    def tuple3(self) -> Ops:
        self.data += b"\x87"
        return self

    def empty_tuple(self) -> Ops:
        self.data += b")"
        return self

    def empty_dict(self) -> Ops:
        self.data += b"}"
        return self

    def empty_list(self) -> Ops:
        self.data += b"]"
        return self

    def setitem(self) -> Ops:
        self.data += b"s"
        return self

    def setitems(self) -> Ops:
        self.data += b"u"
        return self

    def appends(self) -> Ops:
        self.data += b"e"
        return self

    # -- memo ------------------------------------------------------------------------------
    def put(self, index: int) -> Ops:
        self.data += b"q" + bytes([index])
        return self

    def get(self, index: int) -> Ops:
        self.data += b"h" + bytes([index])
        return self

    def memoize(self) -> Ops:
        self.data += b"\x94"
        return self

    # -- the opcodes that reach code -------------------------------------------------------
    def global_(self, module: str, name: str) -> Ops:
        self.data += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
        return self

    def stack_global(self) -> Ops:
        self.data += b"\x93"
        return self

    def inst(self, module: str, name: str) -> Ops:
        self.data += b"i" + module.encode() + b"\n" + name.encode() + b"\n"
        return self

    def obj(self) -> Ops:
        self.data += b"o"
        return self

    def reduce(self) -> Ops:
        self.data += b"R"
        return self

    def newobj(self) -> Ops:
        self.data += b"\x81"
        return self

    def build(self) -> Ops:
        self.data += b"b"
        return self

    def binpersid(self) -> Ops:
        self.data += b"Q"
        return self

    def pop(self) -> Ops:
        self.data += b"0"
        return self

    def stop(self) -> Ops:
        self.data += b"."
        return self

    def bytes_(self) -> bytes:
        return bytes(self.data)


def os_system_call(protocol: int = 2, command: str = "true") -> bytes:
    """``os.system('true')``: the textbook payload, harmless."""
    return Ops(protocol).global_("os", "system").string(command).tuple1().reduce().stop().bytes_()


def print_call(protocol: int = 2, text: str = "curator-test") -> bytes:
    """``builtins.print('curator-test')``."""
    return Ops(protocol).global_("builtins", "print").string(text).tuple1().reduce().stop().bytes_()


def dotted_stack_global() -> bytes:
    """STACK_GLOBAL with a dotted name: ``getattr(logging, 'os').system('true')`` resolves at load."""
    return (Ops(4).short_string("logging").memoize().short_string("os.system").memoize()
            .stack_global().memoize().short_string("true").memoize().tuple1().reduce().stop().bytes_())


def memo_hidden_stack_global() -> bytes:
    """Module and name pushed, memoized, popped, fetched back: names never sit next to the opcode."""
    return (Ops(4).short_string("os").memoize().pop().short_string("system").memoize().pop()
            .raw(b"h\x00h\x01").stack_global().short_string("true").tuple1().reduce().stop().bytes_())


def inst_call() -> bytes:
    """Protocol 0 INST: ``os.system('true')`` without GLOBAL or REDUCE."""
    return Ops(None).mark().string0("true").inst("os", "system").stop().bytes_()


def obj_call() -> bytes:
    """Protocol 1 OBJ: MARK, callable, args, OBJ."""
    return Ops(None).mark().global_("os", "system").string0("true").obj().stop().bytes_()


def getattr_gadget() -> bytes:
    """``getattr(__import__('os'), 'system')('true')`` built from builtins only."""
    return (Ops(2).global_("builtins", "getattr")
            .global_("builtins", "__import__").string("os").tuple1().reduce()
            .string("system").tuple2().reduce()
            .string("true").tuple1().reduce().stop().bytes_())


def broken_after_payload() -> bytes:
    """nullifAI: the payload runs, then the stream breaks so strict parsers give up."""
    return Ops(2).global_("os", "system").string("true").tuple1().reduce().raw(b"\xff\xfe garbage").bytes_()


def benign_state_dict(tensors: dict[str, tuple[str, tuple[int, ...]]], protocol: int = 2,
                      legacy: bool = False) -> bytes:
    """``data.pkl`` as torch.save writes it for a state dict: OrderedDict of _rebuild_tensor_v2.

    ``tensors`` maps name -> (storage class, shape); storage keys are "0", "1", ...
    The legacy (pre-zip) format's persistent ids carry a sixth item, the view metadata.
    """
    ops = Ops(protocol).global_("collections", "OrderedDict").empty_tuple().reduce().mark()
    for key, (name, (storage, shape)) in enumerate(tensors.items()):
        numel = 1
        for dim in shape:
            numel *= dim
        ops.string(name).global_("torch._utils", "_rebuild_tensor_v2")
        ops.mark().mark().string("storage").global_("torch", storage).string(str(key)).string("cpu")
        ops.int_(numel)
        if legacy:
            ops.none()
        ops.tuple_().binpersid().int_(0)
        _int_tuple(ops, shape)
        _int_tuple(ops, _strides(shape))
        ops.bool_(False).global_("collections", "OrderedDict").empty_tuple().reduce().tuple_().reduce()
    return ops.setitems().stop().bytes_()


def _int_tuple(ops: Ops, values: tuple[int, ...]) -> None:
    ops.mark()
    for value in values:
        ops.int_(value)
    ops.tuple_()


def _strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for dim in reversed(shape):
        strides.append(step)
        step *= dim
    return tuple(reversed(strides))
