"""The ledger's event payloads, typed: one frozen dataclass per kind of event, a closed set.

Every writer records an event object (its ``to_payload()`` is what the chain stores) and every
reader gets one back (``from_payload()``), so the two cannot drift. A row of a kind not named
here, or whose payload has a wrong type, is a ``LedgerError`` naming the row.

They live in ``core`` (not ``ledger``) because a running stage records one too: the signature
stage's first-seen signers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from curator.core.events.codec import LedgerEvent, Record, refused
from curator.core.events.decision import (
    CheckpointSigned,
    Contradicted,
    DecisionMade,
    ProductionMoved,
    Pushed,
    PushFailed,
    ReplacedModel,
    StateSigned,
    Supersession,
    SwapChange,
    WaiverGranted,
)
from curator.core.events.quarterly import ModelRechecked, QuarterlyActionTaken, QuarterlyRunFinished
from curator.core.events.review import (
    ReviewOpened,
    ReviewState,
    SignerSeen,
    Staged,
    StageDiscarded,
    StageRecorded,
    TrustForgotten,
    Unstaged,
    curator_name,
)

__all__ = [
    "KINDS",
    "CheckpointSigned",
    "Contradicted",
    "DecisionMade",
    "LedgerEvent",
    "ModelRechecked",
    "ProductionMoved",
    "PushFailed",
    "Pushed",
    "QuarterlyActionTaken",
    "QuarterlyRunFinished",
    "Record",
    "Recorded",
    "ReplacedModel",
    "ReviewOpened",
    "ReviewState",
    "SignerSeen",
    "StageDiscarded",
    "StageRecorded",
    "Staged",
    "StateSigned",
    "Supersession",
    "SwapChange",
    "TrustForgotten",
    "Unstaged",
    "WaiverGranted",
    "curator_name",
    "parse",
]

#: every kind of event curator writes, by the ``kind`` its rows carry
KINDS: dict[str, type[LedgerEvent]] = {cls.KIND: cls for cls in (
    ReviewOpened, ReviewState, StageRecorded, StageDiscarded, Staged, Unstaged, SignerSeen, TrustForgotten,
    DecisionMade, Pushed, PushFailed, ProductionMoved, StateSigned, CheckpointSigned,
    QuarterlyRunFinished, ModelRechecked, QuarterlyActionTaken)}

E = TypeVar("E", bound=LedgerEvent)


def parse(kind: str, payload: object, seq: int | None = None) -> LedgerEvent:
    """The event a row holds; ``LedgerError`` for a kind curator never writes or a wrong payload."""
    cls = KINDS.get(kind)
    if cls is None:
        raise refused(seq, kind, f"{kind!r} is not a kind of event this curator reads "
                                 "(a newer curator wrote it, or somebody forged it)")
    return cls.from_payload(payload, seq)


@dataclass(frozen=True)
class Recorded(Generic[E]):
    """An event as the chain holds it: where (``seq``), when, for which review, its hash."""

    seq: int
    time: float
    review_id: str | None
    hash: str
    event: E

    @classmethod
    def of(cls, row: dict[str, Any], event: E) -> Recorded[E]:
        return cls(int(row["seq"]), float(row["time"]), row["review_id"], str(row["hash"]), event)
