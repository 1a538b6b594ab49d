"""Typed reads of stored evidence: one JSON object at a time, every wrong type a curator error.

Evidence is JSON in the ledger, written by whichever curator version ran the stage. A key an
older version did not write reads as its honest default (empty, zero, None: never an invented
value); a key of the wrong type is refused with one line that names the stage, the key's path
and what was expected, instead of a crash deep in a panel or a report.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from curator.core.errors import CuratorError

#: an open record of facts shown as they are (a signer, a sandbox, a scanner's command)
Facts = Mapping[str, Any]
NO_FACTS: Facts = MappingProxyType({})


class EvidenceError(CuratorError):
    """Stored stage evidence does not have the shape curator reads."""

    exit_code = 1


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


class Fields:
    """One JSON object of a stage's evidence, read key by key with the type each key must have.

    ``None`` (JSON null) counts as absent: older versions wrote it for "not known"."""

    def __init__(self, data: object, stage: str, where: str = "evidence",
                 parent: Fields | None = None, key: str | int = "") -> None:
        self.stage = stage
        # the path is spelled out only for an error message: reading thousands of results stays cheap
        self._where, self._parent, self._key = where, parent, key
        if data is None:
            data = {}
        if type(data) is not dict and not isinstance(data, Mapping):  # JSON gives dicts: skip the ABC
            raise self._error(stage, self.where, "an object", data)
        self.data: Mapping[str, Any] = data

    @property
    def where(self) -> str:
        """``evidence.files[3].scanners.modelscan``: where this object sits in the evidence."""
        return self._parent.path(self._key) if self._parent is not None else self._where

    @staticmethod
    def _error(stage: str, where: str, expected: str, value: object) -> EvidenceError:
        return EvidenceError(
            f"the stored {stage} evidence is not readable: {where} should be {expected}, got "
            f"{_kind(value)} {str(value)[:40]!r}",
            f"run the review's {stage} stage again (the ledger keeps the old result), "
            "and run 'curator ledger verify' if nobody edited it on purpose")

    def fail(self, key: str, expected: str) -> EvidenceError:
        """The error for ``key`` holding something other than ``expected``."""
        return self._error(self.stage, self.path(key), expected, self.data.get(key))

    def path(self, key: str | int) -> str:
        return f"{self.where}[{key}]" if isinstance(key, int) else f"{self.where}.{key}"

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def keys(self) -> frozenset[str]:
        return frozenset(self.data)

    def frozen(self) -> Facts:
        """This object as a read-only mapping (shallow: the stage's own JSON values)."""
        return MappingProxyType(dict(self.data))

    # -- scalars -------------------------------------------------------------------------
    def opt_text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is None or isinstance(value, str):
            return value
        raise self.fail(key, "a string")

    def text(self, key: str, default: str = "") -> str:
        value = self.opt_text(key)
        return default if value is None else value

    def opt_integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self.fail(key, "an integer")

    def integer(self, key: str, default: int = 0) -> int:
        value = self.opt_integer(key)
        return default if value is None else value

    def opt_number(self, key: str) -> float | None:
        """An int or a float, kept as written (a report prints ``61``, not ``61.0``)."""
        value = self.data.get(key)
        if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            return value
        raise self.fail(key, "a number")

    def number(self, key: str, default: float = 0.0) -> float:
        value = self.opt_number(key)
        return default if value is None else value

    def opt_flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(key, "true or false")

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.opt_flag(key)
        return default if value is None else value

    def scalar(self, key: str) -> str | float | bool | None:
        """A value that may be text or a number (a card's claimed score, lm-eval's "N/A" stderr)."""
        value = self.data.get(key)
        if value is None or isinstance(value, str | int | float | bool):
            return value
        raise self.fail(key, "a string or a number")

    # -- containers ----------------------------------------------------------------------
    def items(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise self.fail(key, "a list")

    def texts(self, key: str) -> tuple[str, ...]:
        items = self.items(key)
        if all(isinstance(item, str) for item in items):
            return tuple(items)
        raise self.fail(key, "a list of strings")

    def obj(self, key: str) -> Fields:
        """A nested object (absent: an empty one)."""
        value = self.data.get(key)
        if value is not None and type(value) is not dict and not isinstance(value, Mapping):
            raise self.fail(key, "an object")
        return Fields(value, self.stage, parent=self, key=key)

    def opt_obj(self, key: str) -> Fields | None:
        return self.obj(key) if self.has(key) else None

    def objs(self, key: str) -> list[Fields]:
        """A list of objects."""
        items = self.items(key)
        holder = Fields(NO_FACTS, self.stage, parent=self, key=key)  # names the list in errors
        return [Fields(item, self.stage, parent=holder, key=i) for i, item in enumerate(items)]

    def named_objs(self, key: str) -> dict[str, Fields]:
        """An object of objects (``{scanner name: run}``), in the order written."""
        outer = self.obj(key)
        return {name: outer.obj(name) for name in outer.data}

    def facts(self, key: str) -> Facts:
        """An open object shown as it is; only its being an object is checked."""
        value = self.data.get(key)
        if value is None:
            return NO_FACTS
        if isinstance(value, Mapping):
            return MappingProxyType(dict(value))
        raise self.fail(key, "an object")

    def str_map(self, key: str) -> Mapping[str, str]:
        facts = self.facts(key)
        if all(isinstance(v, str) for v in facts.values()):
            return facts
        raise self.fail(key, "an object of strings")

    def int_map(self, key: str) -> Mapping[str, int]:
        facts = self.facts(key)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in facts.values()):
            return facts
        raise self.fail(key, "an object of integers")

