"""What ``verify`` holds a ledger to: its hash chain, the head it recorded, an expected head
from outside (a checkpoint or the signed state), and the reviews and stage results tables
saying exactly what the chain recorded.

The tables are what readers use (a review's candidate, its state, its stage results), so an
edit there that the chain does not show would change what is decided without breaking a
link: every row of them is held to the event that recorded it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from curator.core.errors import LedgerError
from curator.core.events import ReviewOpened, ReviewState, StageDiscarded, StageRecorded, parse
from curator.core.models import StageResult, canonical_json
from curator.ledger.chain import GENESIS, ChainReport, row_hash


@dataclass(frozen=True)
class LedgerHead:
    """How long a ledger was and the hash of its last row: what a checkpoint or the signed
    state records, so a ledger can later be held to it."""

    rows: int
    head: str

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "head": self.head}


Row = Sequence[Any]


def audit(events: Sequence[Row], recorded_head: Row | None, reviews: Sequence[Row],
          results: Sequence[Row], anchor: LedgerHead | None = None) -> ChainReport:
    """Walk the chain and hold the tables to it.

    ``events`` are ``(seq, time, kind, review_id, payload, prev_hash, hash)`` in order,
    ``recorded_head`` the ``(row_count, head)`` the ledger kept (None if it keeps none),
    ``reviews`` ``(id, candidate, created, state)``, ``results`` ``(review_id, stage, result, digest)``.
    """
    prev, expected_seq = GENESIS, 1
    hashes: list[str] = []
    stage_results: dict[tuple[str, str], tuple[int, str]] = {}
    opened: dict[str, tuple[int, ReviewOpened]] = {}
    states: dict[str, tuple[int, str]] = {}
    n = len(events)
    for seq, when, kind, review_id, payload, prev_hash, digest in events:
        if seq != expected_seq:
            return ChainReport(n, prev, expected_seq, f"row {expected_seq} is missing (next row is {seq})")
        if prev_hash != prev:
            return ChainReport(n, prev, seq, f"row {seq} does not follow row {seq - 1}")
        data = json.loads(payload)
        if row_hash(prev, seq, when, kind, review_id, data) != digest:
            return ChainReport(n, prev, seq, f"row {seq} ({kind}) was edited")
        try:
            # every row must be an event this curator can read: a kind it does not know (a newer
            # curator's, or a forged one) or a payload that is not its kind's could say anything
            event = parse(kind, data, seq)
        except LedgerError as exc:
            return ChainReport(n, prev, seq, exc.message)
        if isinstance(event, StageRecorded):
            stage_results[(review_id, event.stage)] = (seq, event.digest)
        elif isinstance(event, StageDiscarded):
            stage_results.pop((review_id, event.stage), None)
        elif isinstance(event, ReviewOpened):
            opened[review_id] = (seq, event)
        elif isinstance(event, ReviewState):
            states[review_id] = (seq, event.state)
        hashes.append(digest)
        prev, expected_seq = digest, seq + 1
    problem = (_against_recorded_head(n, prev, recorded_head) or _against_anchor(hashes, anchor)
               or _reviews_as_chained(reviews, opened, states) or _results_as_chained(results, stage_results))
    if problem:
        return ChainReport(n, prev, problem[0], problem[1])
    return ChainReport(n, prev)


def _against_recorded_head(n: int, last: str, recorded: Row | None) -> tuple[int, str] | None:
    if recorded is None:
        return None
    rows, head = int(recorded[0]), str(recorded[1])
    if rows > n:
        return n + 1, (f"rows {n + 1} to {rows} were deleted: the ledger recorded {rows} rows "
                       f"(head {head[:16]}) and now ends at row {n}")
    if rows < n:
        return rows + 1, (f"rows {rows + 1} to {n} were added behind curator's back: the ledger "
                          f"recorded {rows} rows")
    if head != last:
        return n, f"row {n} is not the last row the ledger recorded (head {head[:16]}): it was replaced"
    return None


def _against_anchor(hashes: list[str], anchor: LedgerHead | None) -> tuple[int, str] | None:
    if anchor is None or anchor.rows == 0:
        return None
    if len(hashes) < anchor.rows:
        return len(hashes) + 1, (f"the ledger has {len(hashes)} rows but {anchor.rows} were recorded "
                                 f"outside it (head {anchor.head[:16]}): rows were deleted")
    if hashes[anchor.rows - 1] != anchor.head:
        return anchor.rows, (f"row {anchor.rows} does not hash to the head recorded outside the ledger "
                             f"({anchor.head[:16]}): the ledger was rewritten")
    return None


def _reviews_as_chained(reviews: Sequence[Row], opened: dict[str, tuple[int, ReviewOpened]],
                        states: dict[str, tuple[int, str]]) -> tuple[int, str] | None:
    seen = set()
    for review_id, candidate, created, state in reviews:
        seen.add(review_id)
        if review_id not in opened:
            return 0, f"review {review_id} is in the reviews table but no row of the chain opened it"
        seq, event = opened[review_id]
        chained = event.candidate
        if canonical_json(json.loads(candidate)) != canonical_json(chained):
            shown = json.loads(candidate).get("repo_id") if candidate else None
            return seq, (f"review {review_id}'s candidate was edited: row {seq} opened it for "
                         f"{chained.get('repo_id')!r}, the reviews table now says {shown!r}")
        if event.created is not None and repr(float(event.created)) != repr(float(created)):
            return seq, f"review {review_id}'s creation time was edited after row {seq} recorded it"
        state_seq, chained_state = states.get(review_id, (seq, "open"))
        if state != chained_state:
            return state_seq, (f"review {review_id}'s state was edited: the chain says {chained_state!r}, "
                               f"the reviews table {state!r}")
    gone = sorted(set(opened) - seen)
    if gone:
        return opened[gone[0]][0], f"review {gone[0]} was deleted from the reviews table"
    return None


def _results_as_chained(results: Sequence[Row],
                        recorded: dict[tuple[str, str], tuple[int, str]]) -> tuple[int, str] | None:
    for review_id, stage, result, digest in results:
        actual = StageResult.from_dict(json.loads(result)).digest
        seq, chained = recorded.get((review_id, stage), (0, ""))
        if chained != actual or digest != actual:
            return seq, f"stage result {stage} of review {review_id} was edited after row {seq} recorded it"
    stored = {(r[0], r[1]) for r in results}
    for (review_id, stage), (seq, _) in recorded.items():
        if (review_id, stage) not in stored:
            return seq, f"stage result {stage} of review {review_id} was deleted after row {seq} recorded it"
    return None
