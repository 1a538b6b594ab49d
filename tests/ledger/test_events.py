"""Typed ledger event payloads: one frozen dataclass per kind, written and read through the
same fields.

The chain's bytes are what its hashes and the checkpoints' signatures cover, so each event
type must write exactly the JSON the untyped writers wrote: ``OLD_WRITERS`` rebuilds each
payload with the expression the writer used before the types (copied from the code they
replaced) and the tests hold the typed payload to the same canonical bytes.
"""

from __future__ import annotations

import ast
import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.core.errors import LedgerError
from curator.core.events import (
    KINDS,
    CheckpointSigned,
    DecisionMade,
    LedgerEvent,
    ModelRechecked,
    ProductionMoved,
    Pushed,
    PushFailed,
    QuarterlyActionTaken,
    QuarterlyRunFinished,
    ReviewOpened,
    ReviewState,
    SignerSeen,
    Staged,
    StageDiscarded,
    StageRecorded,
    StateSigned,
    Supersession,
    SwapChange,
    TrustForgotten,
    Unstaged,
    WaiverGranted,
    parse,
)
from curator.core.models import Candidate, canonical_json
from curator.ledger import Ledger

CURATOR = {"name": "Ada Curator", "email": "ada@example.org", "keyid": "ab" * 32}
CANDIDATE = Candidate("acme/m", "main", "hub", commit="c" * 40).to_dict()
DIGEST = "sha256:" + "d" * 64
#: as ``Waiver.to_dict()``, ``swap_change`` and ``refuse_contradicted`` wrote them
WAIVERS = [{"stage": "eval", "reason": "no tasks", "expires": "2027-01-01", "status": "errored"}]
CHANGE = {"replaces": {"review_id": "r0", "repo_id": "acme/m", "revision": "b" * 40, "ref": "acme/m:old",
                       "digest": "sha256:" + "e" * 64},
          "justification": "newer", "rollback_plan": "curator rollback acme/m"}
SUPERSEDES = {"reason": "the newer review is abandoned",
              "over": [{"kind": "newer-review", "review_id": "r9", "text": "review r9 is newer"}]}
CHECKS = [{"name": "rescan", "outcome": "fail", "message": "a new finding"}]


def _opened(curator: dict[str, Any] | None) -> tuple[dict[str, Any], LedgerEvent]:
    opened: dict[str, Any] = {"candidate": CANDIDATE, "created": 1767225600.25}
    if curator:
        opened["curator"] = curator
    return opened, ReviewOpened(CANDIDATE, 1767225600.25, curator)


def _decision(change: dict[str, Any] | None, supersedes: dict[str, Any] | None,
              final: str = "approved") -> tuple[dict[str, Any], LedgerEvent]:
    old = {"decision_id": "dec1", "outcome": "approved", "final": final,
           "curator": CURATOR, "name": "acme/m", "tag": "cccccccccccc", "subject_digest": DIGEST,
           "rationale": "fine", "waivers": WAIVERS,
           "envelope": '{"payload": "e30="}', **({"change": change} if change else {}),
           **({"supersedes": supersedes} if supersedes else {})}
    return old, DecisionMade("approved", final, "dec1", CURATOR, "acme/m", "cccccccccccc", DIGEST, "fine",
                             tuple(WaiverGranted(**w) for w in WAIVERS), '{"payload": "e30="}',
                             SwapChange.from_payload(change) if change else None,
                             Supersession.from_payload(supersedes) if supersedes else None)


def _production(rollback: bool) -> tuple[dict[str, Any], LedgerEvent]:
    extra = {"decision_id": "rb1", "curator": CURATOR, "rationale": "bad release",
             "referrer": "sha256:" + "f" * 64, "envelope": "{}"} if rollback else None
    old = {"action": "rollback" if rollback else "promote", "name": "acme/m", "tag": "prod",
           "ref": "acme/m:prod", "digest": DIGEST, "previous": None, "registry": "/tmp/registry",
           "review_id": "r1", **(extra or {})}
    return old, ProductionMoved("rollback" if rollback else "promote", "acme/m", "prod", "acme/m:prod",
                                DIGEST, None, "/tmp/registry", "r1", **(extra or {}))


#: (the payload as the untyped writer built it, the typed event), per kind and shape
OLD_WRITERS: dict[str, Callable[[], tuple[dict[str, Any], LedgerEvent]]] = {
    "review_opened": lambda: _opened(CURATOR),
    "review_opened without keys": lambda: _opened(None),
    "review_state": lambda: ({"state": "decided"}, ReviewState("decided")),
    "stage_result": lambda: ({"stage": "scan", "status": "passed", "digest": DIGEST},
                             StageRecorded("scan", "passed", DIGEST)),
    "stage_discarded": lambda: ({"stage": "scan"}, StageDiscarded("scan")),
    "staged": lambda: ({"registry": "http://127.0.0.1:5000", "name": "staging/r1", "digest": DIGEST,
                        "files": 3, "uploaded_bytes": 10, "skipped_bytes": 0},
                       Staged("http://127.0.0.1:5000", "staging/r1", DIGEST, 3, 10, 0)),
    "unstaged": lambda: ({"registry": "http://127.0.0.1:5000", "name": "staging/r1",
                          "files": ["a.bin", "b.json"], "curator": None},
                         Unstaged("http://127.0.0.1:5000", "staging/r1", ("a.bin", "b.json"), None)),
    "signer_seen": lambda: ({"publisher": "acme", "endpoint": "https://huggingface.co",
                             "signer": {"kind": "key", "fingerprint": "sha256:01"}},
                            SignerSeen("acme", "https://huggingface.co",
                                       {"kind": "key", "fingerprint": "sha256:01"})),
    "trust_forgotten": lambda: ({"publisher": "acme", "endpoint": "https://huggingface.co",
                                 "forgotten_seq": 4, "curator": CURATOR,
                                 "public_key": "PEM", "envelope": "{}"},
                                TrustForgotten("acme", "https://huggingface.co", 4, CURATOR, "PEM", "{}")),
    "decision": lambda: _decision(None, None),
    "decision pending": lambda: _decision(None, None, final="pending"),
    "decision of a swap that supersedes": lambda: _decision(CHANGE, SUPERSEDES),
    "push_failed": lambda: ({"registry": "http://127.0.0.1:9", "error": "refused: retry"},
                            PushFailed("http://127.0.0.1:9", "refused: retry")),
    "pushed": lambda: ({"ref": "acme/m:ccc", "digest_ref": "acme/m@" + DIGEST, "digest": DIGEST,
                        "registry": "/tmp/registry", "uploaded_bytes": 12, "skipped_bytes": 3},
                       Pushed("acme/m:ccc", "acme/m@" + DIGEST, DIGEST, "/tmp/registry", 12, 3)),
    "production promote": lambda: _production(rollback=False),
    "production rollback": lambda: _production(rollback=True),
    "state": lambda: ({"registry": "/tmp/registry", "targets_version": 3, "published": False,
                       "proposal": "r1", "signatures": 1, "threshold": 2, "curators": [CURATOR]},
                      StateSigned("/tmp/registry", 3, False, "r1", 1, 2, (CURATOR,))),
    "checkpoint": lambda: ({"rows": 9, "head": "a" * 64, "checkpoint_id": "cp1", "ref": "ckpt:rows-9",
                            "registry": "/tmp/registry", "curator": CURATOR},
                           CheckpointSigned(9, "a" * 64, "cp1", "ckpt:rows-9", "/tmp/registry", CURATOR)),
    "quarterly_check": lambda: ({"run_id": "q1", "ref": "acme/m:ccc", "outcome": "fail", "failed": ["rescan"],
                                 "checks": CHECKS},
                                ModelRechecked("q1", "acme/m:ccc", "fail", ("rescan",), tuple(CHECKS))),
    "quarterly_run": lambda: ({"run_id": "q1", "date": "2027-01-01", "counts": {"ok": 1, "fail": 1},
                               "scanners_now": {"modelscan": "0.8.8"}, "registry": "/tmp/registry"},
                              QuarterlyRunFinished("q1", "2027-01-01", {"ok": 1, "fail": 1},
                                                   {"modelscan": "0.8.8"}, "/tmp/registry")),
    "quarterly_action retire": lambda: ({
        "action_id": "qa1", "action": "retire", "ref": "acme/m:ccc", "name": "acme/m",
        "tag": "ccc", "digest": DIGEST, "repo_id": "acme/m", "rationale": "licence withdrawn",
        "replacement": None, "curator": CURATOR, "envelope": "{}",
        "rejection_id": "rj1", "rejection_envelope": "{}", "tag_removed": True,
        "registry": "/tmp/registry"},
        QuarterlyActionTaken("retire", "qa1", "acme/m:ccc", "acme/m", "ccc", DIGEST, "acme/m",
                             "licence withdrawn", None, CURATOR, "{}", "rj1", "{}", True, "/tmp/registry")),
}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    led = Ledger(tmp_path / "ledger.db")
    yield led
    led.close()


def test_every_kind_has_a_case() -> None:
    assert {writer()[1].KIND for writer in OLD_WRITERS.values()} == set(KINDS)


@pytest.mark.parametrize("case", sorted(OLD_WRITERS))
def test_typed_payload_is_the_bytes_the_untyped_writer_chained(case: str) -> None:
    old, event = OLD_WRITERS[case]()
    assert canonical_json(event.to_payload()) == canonical_json(old)
    # and the text the ledger stores
    assert json.dumps(event.to_payload(), sort_keys=True) == json.dumps(old, sort_keys=True)


@pytest.mark.parametrize("case", sorted(OLD_WRITERS))
def test_round_trip_through_a_ledger(case: str, ledger: Ledger) -> None:
    old, event = OLD_WRITERS[case]()
    review = ledger.create_review(Candidate("acme/m", "main", "hub"))
    typed_seq = ledger.record(event, review.id)
    untyped_seq = ledger.append(event.KIND, old, review.id)  # what the old code path wrote
    rows = {row["seq"]: row for row in ledger.events(review.id, event.KIND)}
    assert rows[typed_seq]["payload"] == rows[untyped_seq]["payload"] == old
    read = {r.seq: r for r in ledger.read(type(event), review.id)}
    assert read[typed_seq].event == read[untyped_seq].event == event
    assert (read[typed_seq].review_id, read[typed_seq].hash) == (review.id, rows[typed_seq]["hash"])


def test_payloads_of_older_curators_still_read() -> None:
    old_decision = DecisionMade.from_payload({"outcome": "rejected"}, 3)  # before "final" was recorded
    assert (old_decision.final, old_decision.settled, old_decision.waivers, old_decision.change) == (
        None, "rejected", (), None)
    checkpoint = CheckpointSigned.from_payload({"rows": 4, "head": "a" * 64, "ref": "ckpt:rows-4"}, 5)
    assert checkpoint.registry is None  # matched by its ref, as before
    assert SignerSeen.from_payload({"publisher": "acme", "signer": {}}, 6).endpoint is None  # the default hub
    opened = ReviewOpened.from_payload({"candidate": CANDIDATE}, 1)
    assert (opened.created, opened.curator) == (None, None)
    assert Pushed.from_payload({"ref": "acme/m:v1"}, 2) == Pushed("acme/m:v1")
    # keys a newer curator added are passed over, not refused
    assert ReviewState.from_payload({"state": "open", "why": "reopened"}, 7) == ReviewState("open")


WRONG_TYPES = [
    (DecisionMade, {"outcome": "approved", "final": 1}, "'final' is a number, expected a string or null"),
    (DecisionMade, {"outcome": "approved", "waivers": "eval"}, "'waivers' is a string, expected a list"),
    (DecisionMade, {"outcome": "approved", "waivers": ["eval"]},
     "'waivers[0]' is a string, expected an object"),
    (DecisionMade, {"outcome": "approved", "waivers": [{"stage": "eval", "expires": 20270101}]},
     "'waivers[0].expires' is a number, expected a string"),
    (DecisionMade, {"outcome": "approved", "waivers": [{"reason": "no tasks"}]},
     "'waivers[0]' has no 'stage'"),
    (DecisionMade, {"outcome": "approved", "change": {"replaces": {"digest": 7}}},
     "'change.replaces.digest' is a number, expected a string"),
    (DecisionMade, {"outcome": "approved", "supersedes": {"reason": "x", "over": [{"kind": 1}]}},
     "'supersedes.over[0].kind' is a number, expected a string"),
    (DecisionMade, {"outcome": "approved", "curator": "Ada"}, "'curator' is a string, expected an object"),
    (DecisionMade, {"final": "approved"}, "has no 'outcome'"),
    (CheckpointSigned, {"rows": "9", "head": "a"}, "'rows' is a string, expected an integer"),
    (CheckpointSigned, {"rows": True, "head": "a"}, "'rows' is a boolean, expected an integer"),
    (StateSigned, {"registry": "r", "targets_version": 1, "published": "false"},
     "'published' is a string"),
    (ModelRechecked, {"run_id": "q1", "failed": "rescan"}, "'failed' is a string, expected a list"),
    (ReviewOpened, {"candidate": CANDIDATE, "created": "yesterday"},
     "'created' is a string, expected a number"),
    (TrustForgotten, {"publisher": "acme", "forgotten_seq": 1.5},
     "'forgotten_seq' is a number, expected an int"),
    (StageRecorded, ["scan", "passed"], "the payload is a list, not an object"),
]


@pytest.mark.parametrize(("kind", "payload", "problem"), WRONG_TYPES)
def test_a_payload_of_the_wrong_type_is_refused_naming_its_row(
        kind: type[LedgerEvent], payload: object, problem: str, ledger: Ledger) -> None:
    seq = ledger.append(kind.KIND, payload)
    with pytest.raises(LedgerError) as caught:
        ledger.read(kind)
    assert caught.value.message.startswith(f"ledger row {seq} ({kind.KIND}): ")
    assert problem in caught.value.message
    assert "curator ledger verify" in caught.value.advice
    assert "\n" not in caught.value.diagnostics()


def test_an_unknown_kind_is_refused_naming_its_row() -> None:
    with pytest.raises(LedgerError, match=r"ledger row 12 \(approval\): 'approval' is not a kind of event"):
        parse("approval", {"outcome": "approved"}, 12)
    assert parse("decision", {"outcome": "approved"}, 12) == DecisionMade("approved")


def test_readers_pass_over_rows_of_other_kinds(ledger: Ledger) -> None:
    ledger.append("note", {"text": "a row a tool wrote"})
    seq = ledger.record(DecisionMade("approved"), "r1")
    read = ledger.read_kinds(DecisionMade, Pushed)
    assert [(r.seq, r.event) for r in read] == [(seq, DecisionMade("approved"))]


def test_a_writer_cannot_chain_a_wrong_type(ledger: Ledger) -> None:
    bad = DecisionMade("approved", rationale=3)  # type: ignore[arg-type]
    with pytest.raises(LedgerError, match="'rationale' is a number, expected a string"):
        ledger.record(bad, "r1")
    assert ledger.events() == []  # nothing was chained


def test_ledger_verify_names_a_chained_row_of_the_wrong_type(ledger: Ledger) -> None:
    review = ledger.create_review(Candidate("acme/m", "main", "hub"))
    seq = ledger.append("review_state", {"state": ["decided"]}, review.id)  # chained, so the hash holds
    report = ledger.verify()
    assert (report.ok, report.first_bad) == (False, seq)
    assert "'state' is a list, expected a string" in report.reason


def test_nested_values_read_as_their_types(ledger: Ledger) -> None:
    seq = ledger.append("decision", _decision(CHANGE, SUPERSEDES)[0], "r1")
    [row] = ledger.read(DecisionMade, "r1")
    event = row.event
    assert row.seq == seq and event.waivers == (WaiverGranted("eval", "no tasks", "2027-01-01", "errored"),)
    assert event.change is not None and event.change.replaces is not None
    assert event.change.replaces.ref == "acme/m:old"
    assert event.change.rollback_plan == "curator rollback acme/m"
    assert event.supersedes is not None and [c.review_id for c in event.supersedes.over] == ["r9"]


def test_nested_values_of_older_rows_read_with_defaults(ledger: Ledger) -> None:
    """Older curators wrote waivers without their status (and with who signed them), and swaps
    that replaced nothing standing approved (``replaces`` null)."""
    ledger.append("decision", {"outcome": "approved", "waivers": [
        {"stage": "eval", "reason": "no tasks", "expires": "2027-01-01", "curator": "Ada"}],
        "change": {"replaces": None, "justification": "newer"}}, "r1")
    [row] = ledger.read(DecisionMade, "r1")
    assert row.event.waivers == (WaiverGranted("eval", "no tasks", "2027-01-01", ""),)
    assert row.event.change == SwapChange(None, "newer", "")
    assert ledger.verify().ok


def test_event_types_are_frozen() -> None:
    event = DecisionMade("approved")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.outcome = "rejected"  # type: ignore[misc]


CURATOR_SRC = Path(__file__).resolve().parents[2] / "curator"
#: the typed readers themselves: the one place a raw payload is read
RAW_READERS = {Path("ledger/base.py")}


def _payload_reads(tree: ast.AST) -> list[int]:
    found = []
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            key = node.slice.value
            if (isinstance(node.value, ast.Call) and getattr(node.value.func, "attr", "") == "loads") \
                    or getattr(node.value, "id", "") == "envelope":
                continue  # a DSSE envelope's payload, not a ledger row's
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "get" and node.args \
                and isinstance(node.args[0], ast.Constant):
            key = node.args[0].value
        if key == "payload":
            found.append(node.lineno)
    return found


def _raw_appends(tree: ast.AST) -> list[int]:
    """``something.ledger.append(kind, payload)``: a raw row instead of a typed event."""
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "append" and len(node.args) >= 2
            and "ledger" in ast.unparse(node.func.value)]


def test_no_module_reads_a_raw_payload_or_appends_a_raw_row() -> None:
    """Writers record typed events and readers read them back: a string-key read of a row's
    payload, or an untyped append, would let the two drift again."""
    offenders = []
    for path in sorted(CURATOR_SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        relative = path.relative_to(CURATOR_SRC)
        lines = _raw_appends(tree) + ([] if relative in RAW_READERS else _payload_reads(tree))
        offenders += [f"{relative}:{line}" for line in lines]
    assert offenders == []


def test_the_guard_sees_both_shapes() -> None:
    sample = ast.parse('p = event["payload"]\nq = row.get("payload")\nsession.ledger.append("x", {})\n'
                       'data = json.loads(envelope)["payload"]\nbody = envelope["payload"]\n')
    assert (_payload_reads(sample), _raw_appends(sample)) == ([1, 2], [3])
