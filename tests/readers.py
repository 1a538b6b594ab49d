"""Round trips of stage evidence through its typed reader (``curator.core.evidence``).

``reads_fully`` is called on evidence a stage really wrote: every key the stage wrote must be
one its reader knows (a writer cannot add a key the readers silently drop), and every value the
reader exposes under a recorded key must equal what was recorded, all the way down.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")

#: recorded spellings a reader turns into its own value: the scan policy's "any" formats is None
ALIASES = {("allowed_formats", "any"): None}


def reads_fully(reader: type[T], evidence: dict[str, Any]) -> T:
    """The typed evidence, after checking it holds everything ``evidence`` recorded."""
    unknown = set(evidence) - reader.KEYS  # type: ignore[attr-defined]
    assert not unknown, f"{reader.__name__} does not read {sorted(unknown)}"
    stored = json.loads(json.dumps(evidence))  # as the ledger gives it back
    typed = reader.from_evidence(stored)  # type: ignore[attr-defined]
    compared = same(typed, stored, "evidence")
    assert compared >= len([v for v in stored.values() if v is not None]) // 2, compared
    return typed  # type: ignore[no-any-return]


def same(typed: object, raw: object, where: str, key: str = "") -> int:
    """Compare a typed value with the recorded one; returns how many leaves matched."""
    if raw is None:
        return 0
    if isinstance(raw, str) and (key, raw) in ALIASES:
        assert typed == ALIASES[(key, raw)], where
        return 1
    if dataclasses.is_dataclass(typed):
        assert isinstance(raw, Mapping), f"{where}: {raw!r} is not an object"
        return sum(same(getattr(typed, f.name), raw[f.name], f"{where}.{f.name}", f.name)
                   for f in dataclasses.fields(typed) if f.name in raw)
    if isinstance(typed, enum.Enum):
        assert typed.value == raw, where
        return 1
    if isinstance(typed, tuple):
        assert isinstance(raw, list) and len(typed) == len(raw), f"{where}: {typed!r} vs {raw!r}"
        return sum(same(t, r, f"{where}[{i}]") for i, (t, r) in enumerate(zip(typed, raw, strict=True))) or 1
    if isinstance(typed, Mapping):
        assert isinstance(raw, Mapping) and set(typed) == set(raw), f"{where}: {typed!r} vs {raw!r}"
        return sum(same(typed[k], raw[k], f"{where}.{k}", str(k)) for k in raw) or 1
    assert typed == raw, f"{where}: read {typed!r}, recorded {raw!r}"
    return 1
