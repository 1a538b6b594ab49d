"""What every ledger event type shares: its payload written from its fields and read back
through the same fields, each checked against its declared type.

A writer calls ``to_payload()`` and a reader ``from_payload()``, so the two cannot drift:
a key exists in the ledger only because a field of the event type names it. Reading is
strict about types (a row whose payload has a wrong type is an error naming the row, never a
silently defaulted value) and lenient about age: a key an older curator did not write yet
reads as the field's default. Keys nobody declares are ignored, so a payload a newer curator
wrote still reads.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, ClassVar, Self

from curator.core.errors import LedgerError

#: field metadata: leave the key out of the payload when the value is empty (None, "", {}, [])
OMIT_EMPTY = {"omit_empty": True}


def where(seq: int | None, kind: str) -> str:
    """How an error names the row it is about."""
    return f"ledger row {seq} ({kind})" if seq is not None else f"a {kind} event"


def refused(seq: int | None, kind: str, problem: str) -> LedgerError:
    return LedgerError(f"{where(seq, kind)}: {problem}",
                       "curator did not write this row: run 'curator ledger verify' and find out who did")


@dataclasses.dataclass(frozen=True)
class LedgerEvent:
    """One kind of event in the ledger's chain; subclasses are frozen dataclasses of its payload."""

    KIND: ClassVar[str]

    def to_payload(self) -> dict[str, Any]:
        """The JSON payload the chain records (its bytes are what the hash chain covers)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            expected = _hints(type(self))[f.name]
            if not _fits(_plain(value), expected):  # never chain what no reader would accept
                raise LedgerError(f"{where(None, self.KIND)}: {f.name!r} is {_name(value)}, expected "
                                  f"{_shown(expected)}", "nothing was recorded: report this curator bug")
            if f.metadata.get("omit_empty") and not value:
                continue
            out[f.name] = _plain(value)
        return out

    @classmethod
    def from_payload(cls, payload: object, seq: int | None = None) -> Self:
        """The event a recorded payload holds; ``LedgerError`` naming the row when it is not one."""
        if not isinstance(payload, dict):
            raise refused(seq, cls.KIND, f"the payload is {_name(payload)}, not an object")
        values = {}
        for f in dataclasses.fields(cls):
            if f.name not in payload:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    raise refused(seq, cls.KIND, f"the payload has no {f.name!r}")
                continue
            value, expected = payload[f.name], _hints(cls)[f.name]
            if not _fits(value, expected):
                raise refused(seq, cls.KIND, f"{f.name!r} is {_name(value)}, expected {_shown(expected)}")
            values[f.name] = _frozen(value, expected)
        return cls(**values)


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fits(value: object, expected: object) -> bool:
    if expected is Any:
        return True
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, a) for a in args)
    if expected is type(None):
        return value is None
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin is dict:
        return isinstance(value, dict) and all(
            isinstance(k, str) and _fits(v, args[1]) for k, v in value.items())
    if origin is tuple:
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value)
    if origin is list:
        return isinstance(value, list) and all(_fits(v, args[0]) for v in value)
    return isinstance(expected, type) and isinstance(value, expected)


def _frozen(value: object, expected: object) -> object:
    """Lists read for tuple fields become tuples; everything else is kept as read."""
    if typing.get_origin(expected) is tuple and isinstance(value, list):
        return tuple(value)
    if typing.get_origin(expected) in (typing.Union, types.UnionType) and isinstance(value, list):
        return next((_frozen(value, a) for a in typing.get_args(expected) if _fits(value, a)), value)
    return value


def _name(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _shown(expected: object) -> str:
    if typing.get_origin(expected) in (typing.Union, types.UnionType):
        return " or ".join(_shown(a) for a in typing.get_args(expected))
    origin = typing.get_origin(expected) or expected
    names: dict[object, str] = {dict: "an object", list: "a list", tuple: "a list", str: "a string",
                                bool: "a boolean", int: "an integer", float: "a number", type(None): "null"}
    return names.get(origin, str(expected))
