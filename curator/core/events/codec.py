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
class Record:
    """A JSON object with a declared shape: a ledger event's payload, or a value nested in one
    (a waiver, a swap's change). Subclasses are frozen dataclasses; a field whose type is a
    ``Record`` (or a tuple of them) is written and read as a nested object."""

    KIND: ClassVar[str] = ""

    def to_payload(self) -> dict[str, Any]:
        """The JSON object recorded for it (for an event, its bytes are what the chain covers)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            problem = _problem(_plain(value), _hints(type(self))[f.name], f.name)
            if problem:  # never chain what no reader would accept
                raise LedgerError(f"{where(None, self._kind())}: {problem}",
                                  "nothing was recorded: report this curator bug")
            if f.metadata.get("omit_empty") and not value:
                continue
            out[f.name] = _plain(value)
        return out

    @classmethod
    def from_payload(cls, payload: object, seq: int | None = None) -> Self:
        """The value a recorded object holds; ``LedgerError`` naming the row when it is not one."""
        problem = _problem(payload, cls, "")
        if problem:
            raise refused(seq, cls._kind(), problem)
        built = _frozen(payload, cls)
        assert isinstance(built, cls)
        return built

    @classmethod
    def _kind(cls) -> str:
        return cls.KIND or cls.__name__


@dataclasses.dataclass(frozen=True)
class LedgerEvent(Record):
    """One kind of event in the ledger's chain; subclasses are frozen dataclasses of its payload."""


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Record):
        return value.to_payload()
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _is_record(expected: object) -> bool:
    return isinstance(expected, type) and issubclass(expected, Record)


def _problem(value: object, expected: object, path: str) -> str | None:
    """What is wrong with ``value`` as a JSON value of type ``expected`` (None: nothing).

    ``path`` names it in the message: ``'waivers[0].stage' is a number, expected a string``."""
    if expected is Any:
        return None
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    wrong = f"{path!r} is {_name(value)}, expected {_shown(expected)}" if path else \
        f"the payload is {_name(value)}, not an object"
    if origin in (typing.Union, types.UnionType):
        if any(_problem(value, a, path) is None for a in args):
            return None
        nested = [a for a in args if _is_record(a)]
        return _problem(value, nested[0], path) if nested and isinstance(value, dict) else wrong
    if _is_record(expected):
        if not isinstance(value, dict):
            return wrong
        assert isinstance(expected, type)
        for f in dataclasses.fields(expected):
            inner = f"{path}.{f.name}" if path else f.name
            if f.name not in value:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    return f"{'the payload' if not path else repr(path)} has no {f.name!r}"
                continue
            problem = _problem(value[f.name], _hints(expected)[f.name], inner)
            if problem:
                return problem
        return None
    if origin in (tuple, list):
        if not isinstance(value, list):
            return wrong
        return next((p for i, v in enumerate(value) if (p := _problem(v, args[0], f"{path}[{i}]"))), None)
    if origin is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            return wrong
        return next((p for k, v in value.items() if (p := _problem(v, args[1], f"{path}.{k}"))), None)
    return None if _leaf_fits(value, expected) else wrong


def _leaf_fits(value: object, expected: object) -> bool:
    if expected is type(None):
        return value is None
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(expected, type) and isinstance(value, expected)


def _frozen(value: object, expected: object) -> object:
    """A checked JSON value as its declared type: lists read for tuple fields become tuples,
    nested objects their ``Record``; everything else is kept as read."""
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        return next((_frozen(value, a) for a in typing.get_args(expected) if _problem(value, a, "v") is None),
                    value)
    if _is_record(expected) and isinstance(value, dict):
        assert isinstance(expected, type)
        hints = _hints(expected)
        return expected(**{f.name: _frozen(value[f.name], hints[f.name])
                           for f in dataclasses.fields(expected) if f.name in value})
    if origin is tuple and isinstance(value, list):
        inner = typing.get_args(expected)[0]
        return tuple(_frozen(v, inner) for v in value)
    return value


def _name(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value), type(value).__name__)


def _shown(expected: object) -> str:
    if typing.get_origin(expected) in (typing.Union, types.UnionType):
        return " or ".join(_shown(a) for a in typing.get_args(expected))
    if _is_record(expected):
        return "an object"
    origin = typing.get_origin(expected) or expected
    names: dict[object, str] = {dict: "an object", list: "a list", tuple: "a list", str: "a string",
                                bool: "a boolean", int: "an integer", float: "a number", type(None): "null"}
    return names.get(origin, str(expected))
