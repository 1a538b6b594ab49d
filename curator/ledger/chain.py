"""The hash chain over the event log: each row carries the previous row's hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from curator.core.models import canonical_json

GENESIS = "0" * 64


def row_hash(prev_hash: str, seq: int, time: float, kind: str, review_id: str | None,
             payload: object) -> str:
    body = canonical_json({"seq": seq, "time": repr(time), "kind": kind,
                           "review_id": review_id, "payload": payload})
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: how many rows, and the first bad one if any."""

    rows: int
    head: str
    first_bad: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "head": self.head,
                "first_bad": self.first_bad, "reason": self.reason}
