"""Events of one review's life: opened, its stage results, its state, its staged files, and
the signers first seen in it (trust on first use)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from curator.core.events.codec import OMIT_EMPTY, LedgerEvent


def curator_name(curator: dict[str, Any] | None, default: str = "") -> str:
    """A recorded curator identity's name (else email), for lines a human reads."""
    return str((curator or {}).get("name") or (curator or {}).get("email") or default)


@dataclass(frozen=True)
class ReviewOpened(LedgerEvent):
    """A review was opened: for which candidate (``Candidate.to_dict()``), when, by whom."""

    KIND: ClassVar[str] = "review_opened"
    candidate: dict[str, Any]
    created: float | None = None
    #: the opener's identity (``CuratorIdentity.to_dict()``), when their keys were set up
    curator: dict[str, Any] | None = field(default=None, metadata=OMIT_EMPTY)


@dataclass(frozen=True)
class ReviewState(LedgerEvent):
    """A review moved to ``state`` (open, decided, ...)."""

    KIND: ClassVar[str] = "review_state"
    state: str


@dataclass(frozen=True)
class StageRecorded(LedgerEvent):
    """A stage finished: its status and the digest of its stored result (not the evidence)."""

    KIND: ClassVar[str] = "stage_result"
    stage: str
    status: str
    digest: str


@dataclass(frozen=True)
class StageDiscarded(LedgerEvent):
    """A stage's stored result was dropped so that it runs again."""

    KIND: ClassVar[str] = "stage_discarded"
    stage: str


@dataclass(frozen=True)
class Staged(LedgerEvent):
    """A review's pinned files were put in the team registry's staging namespace."""

    KIND: ClassVar[str] = "staged"
    registry: str
    name: str
    digest: str
    files: int = 0
    uploaded_bytes: int = 0
    skipped_bytes: int = 0


@dataclass(frozen=True)
class Unstaged(LedgerEvent):
    """A curator pulled a staged review's files into their workspace."""

    KIND: ClassVar[str] = "unstaged"
    registry: str
    name: str
    files: tuple[str, ...] = ()
    curator: dict[str, Any] | None = None


@dataclass(frozen=True)
class SignerSeen(LedgerEvent):
    """The first verified signer of a publisher (trust on first use)."""

    KIND: ClassVar[str] = "signer_seen"
    publisher: str
    endpoint: str | None = None
    signer: dict[str, Any] | None = None


@dataclass(frozen=True)
class TrustForgotten(LedgerEvent):
    """A curator's signed reset of a publisher's first-seen signer (``curator trust forget``).

    Only the signed envelope makes it count; the other keys say what it claims to be."""

    KIND: ClassVar[str] = "trust_forgotten"
    publisher: str
    endpoint: str | None = None
    forgotten_seq: int | None = None
    curator: dict[str, Any] | None = None
    public_key: str | None = None
    envelope: str | None = None
