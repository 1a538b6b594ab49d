"""Attacks 5 and 6: ``decide`` signs only what it re-checked.

The attacker edits the ledger's stage results and re-chains it (so ``ledger verify`` alone
cannot tell), or relies on a stale or contradicted review. Each must end in a refusal
(exit 1, one line naming why) with nothing signed or pushed; the legitimate path next to
it still works. Candidates are real folders reviewed by the real stages; the pickle is
built by the tests with a harmless payload and never loaded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from curator.attest.keys import FileSigner
from curator.core.models import StageResult, Status
from curator.decision.decide import DecisionRequest, decide
from curator.registry.layout import LayoutRegistry
from curator.review.session import Session, parse_target
from tests.decision.helpers import cli, isolated_checklists, make_model, open_session
from tests.recheck.helpers import rechain, sqlite_raw, team_curator
from tests.scan.pickles import os_system_call


def _review(session: Session, folder: Path, name: str | None = None,
            opened_by: FileSigner | None = None) -> str:
    candidate = parse_target(str(folder), name=name)
    review = session.ledger.create_review(candidate,
                                          opened_by=opened_by.identity.to_dict() if opened_by else None)
    session.run(review)
    return review.id


def _as(tmp: Path, who: str) -> list[str]:
    return ["--key-dir", str(tmp / who)]


def _decide(*args: str) -> tuple[int, dict[str, Any], str]:
    done = cli("decide", *args, "--json")
    return done.returncode, json.loads(done.stdout) if done.returncode == 0 else {}, done.stderr


def _forge(session: Session, review_id: str, stage: str, change: Any) -> None:
    """Edit a stored stage result, its digest and the chained event that recorded it, then
    re-chain the whole ledger: the chain is consistent again."""
    raw = sqlite_raw(session.workspace.ledger_path)
    (result,) = raw("SELECT result FROM stage_results WHERE review_id = ? AND stage = ?", review_id, stage)[0]
    forged = StageResult.from_dict(change(json.loads(result)))
    raw("UPDATE stage_results SET result = ?, digest = ? WHERE review_id = ? AND stage = ?",
        json.dumps(forged.to_dict()), forged.digest, review_id, stage)
    rows = {seq for (seq,) in raw("SELECT seq FROM events WHERE review_id = ? AND kind = 'stage_result'",
                                  review_id)}

    def edit(seq: int, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        if seq in rows and payload.get("stage") == stage:
            return {**payload, "status": forged.status.value, "digest": forged.digest}
        return payload

    rechain(raw, edit)


# -- attack 5: a failed scan turned into a passed one --------------------------------------

Scanned = tuple[Session, FileSigner, str]
Team = tuple[Session, Path]


@pytest.fixture
def scanned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Scanned]:
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch", "scan"])
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))
    ada = team_curator(checklists, tmp_path / "ada", "Ada", "ada@example.org")
    model = make_model(tmp_path / "tiny")
    (model / "extra.pkl").write_bytes(os_system_call())
    carol = team_curator(checklists, tmp_path / "carol", "Carol", "carol@example.org")  # opens the review
    session = open_session(checklists)
    review_id = _review(session, model, opened_by=carol)
    scan = session.ledger.results(review_id)["scan"]
    assert scan.status is Status.FAILED and any(f.severity.value == "critical" for f in scan.findings)
    yield session, ada, review_id
    session.close()


def _nothing_pushed(session: Session) -> None:
    assert [t for t in LayoutRegistry(session.workspace.registry_dir).tags() if t[0] != "curator-state"] == []


def test_a_scan_flipped_to_passed_is_refused(scanned: Scanned, tmp_path: Path) -> None:
    session, _, review_id = scanned
    _forge(session, review_id, "scan", lambda r: {**r, "status": "passed"})
    assert cli("ledger", "verify").returncode == 0  # re-chained: the chain alone cannot tell
    code, _, err = _decide(review_id, "--approve", "--rationale", "looks fine", *_as(tmp_path, "ada"))
    assert code == 1 and "says passed but lists" in err and "nothing was signed" in err
    assert session.ledger.events(review_id, kind="decision") == []
    _nothing_pushed(session)


def test_a_scan_rewritten_to_look_clean_is_refused(scanned: Scanned,
                                                   tmp_path: Path) -> None:
    """Status, findings and every per-file verdict made clean: curator's own checks, run again
    on the pinned files at decide time, still block the pickle."""
    session, _, review_id = scanned

    def clean(r: dict[str, Any]) -> dict[str, Any]:
        files = [{**f, "verdict": "clean", "findings": [], "reasons": []} for f in r["evidence"]["files"]]
        return {**r, "status": "passed", "findings": [], "evidence": {**r["evidence"], "files": files}}

    _forge(session, review_id, "scan", clean)
    assert cli("ledger", "verify").returncode == 0
    code, _, err = _decide(review_id, "--approve", "--rationale", "looks fine", *_as(tmp_path, "ada"))
    assert code == 1 and "curator's own checks block extra.pkl" in err and "says passed" in err
    assert err.count("\n") == 1  # one line
    _nothing_pushed(session)


def test_a_deleted_scan_result_is_refused(scanned: Scanned, tmp_path: Path) -> None:
    session, _, review_id = scanned
    sqlite_raw(session.workspace.ledger_path)("DELETE FROM stage_results WHERE stage = 'scan'")
    code, _, err = _decide(review_id, "--approve", "--rationale", "x", "--waive", "scan=not run",
                           *_as(tmp_path, "ada"))
    assert code == 1 and "stage result scan" in err and "was deleted" in err


def test_a_renamed_candidate_is_refused_by_decide(scanned: Scanned, tmp_path: Path) -> None:
    session, _, review_id = scanned
    raw = sqlite_raw(session.workspace.ledger_path)
    candidate = json.loads(raw("SELECT candidate FROM reviews WHERE id = ?", review_id)[0][0])
    raw("UPDATE reviews SET candidate = ? WHERE id = ?",
        json.dumps({**candidate, "repo_id": "meta-llama/llama-3-8b"}), review_id)
    code, _, err = _decide(review_id, "--reject", "--rationale", "x", *_as(tmp_path, "ada"))
    assert code == 1 and "meta-llama/llama-3-8b" in err and "nothing was signed" in err


def test_one_curator_cannot_waive_critical_findings(scanned: Scanned,
                                                   tmp_path: Path) -> None:
    """'we trust it' over an os.system pickle: one approval is only a proposal; a second
    curator's approval, signing the waiver too, publishes it."""
    session, _, review_id = scanned
    bob = team_curator(session.policy.directory, tmp_path / "bob", "Bob", "bob@example.org")
    assert bob is not None
    waive = ["--waive", "scan=we trust it"]
    code, ada, err = _decide(review_id, "--approve", "--rationale", "ok", *waive, *_as(tmp_path, "ada"))
    assert code == 0, err
    assert ada["outcome"] == "pending" and ada["approvals"] == 1 and ada["approvals_required"] == 2
    _nothing_pushed(session)
    code, both, err = _decide(review_id, "--approve", "--rationale", "agreed", *waive,
                              *_as(tmp_path, "bob"))
    assert code == 0, err
    assert both["outcome"] == "approved" and both["approvals"] == 2 and both["ref"]


# -- attack 6: stale and contradicted reviews ----------------------------------------------

@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    # the card stage is left out of the policy (a hand-made card fails it for reasons of its own):
    # the name check at decide time does not depend on it having run
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch"])
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))
    for who in ("ada", "bob"):
        team_curator(checklists, tmp_path / who, who.title(), f"{who}@example.org")
    session = open_session(checklists)
    yield session, tmp_path
    session.close()


GENUINE, IMPOSTOR = "acme-labs/tinyllama-clean", "acme-1abs/tinyllama-clean"


def test_an_old_review_of_a_look_alike_is_refused(team: Team) -> None:
    """The impostor's review was made before the genuine model was adopted, so its card stage
    saw nothing to resemble; at decide time the name check runs against today's inventory."""
    session, tmp = team
    old = _review(session, make_model(tmp / "impostor"), IMPOSTOR)
    genuine = _review(session, make_model(tmp / "genuine", seed=1), GENUINE)
    code, _, err = _decide(genuine, "--approve", "--rationale", "the real one", *_as(tmp, "ada"))
    assert code == 0, err
    code, _, err = _decide(old, "--approve", "--rationale", "fine", *_as(tmp, "ada"))
    assert code == 1 and "name-check" in err and "looks like inventory publisher 'acme-labs'" in err
    code, doc, err = _decide(old, "--approve", "--rationale", "fine", "--waive",
                             "name-check=acme-1abs is the lab's own mirror, confirmed by phone",
                             *_as(tmp, "ada"))
    assert code == 0 and doc["outcome"] == "approved", err


def test_a_retired_impostor_never_poisons_the_genuine_name(team: Team) -> None:
    session, tmp = team
    impostor = _review(session, make_model(tmp / "impostor"), IMPOSTOR)
    code, first, err = _decide(impostor, "--approve", "--rationale", "looked fine", *_as(tmp, "ada"))
    assert code == 0, err
    genuine = parse_target(str(make_model(tmp / "genuine", seed=1)), name=GENUINE)
    # while the impostor is approved, the genuine name looks like it
    assert any(f.code == "lookalike-publisher" for f in session.name_check(genuine))
    retired = cli("quarterly", "retire", first["ref"], "--rationale", "an impostor", *_as(tmp, "bob"))
    assert retired.returncode == 0, retired.stderr
    assert session.name_check(genuine) == []
    review_id = _review(session, Path(str(genuine.path)), GENUINE)
    card = session.run(session.ledger.get_review(review_id), ["card"])["card"]  # the card stage agrees
    assert card.evidence["lookalike"] == []
    code, doc, err = _decide(review_id, "--approve", "--rationale", "the real one", *_as(tmp, "ada"))
    assert code == 0 and doc["outcome"] == "approved", err


def test_an_impostor_in_the_inventory_protects_no_name_of_a_trusted_publisher(team: Team) -> None:
    session, tmp = team
    (session.policy.directory / "publishers.yaml").write_text(yaml.safe_dump(
        {"publishers": [{"match": "acme-labs", "required": False, "signers": []}]}))
    impostor = _review(session, make_model(tmp / "impostor"), IMPOSTOR)
    code, _, err = _decide(impostor, "--approve", "--rationale", "x", "--waive", "name-check=checked",
                           *_as(tmp, "ada"))
    assert code == 0, err
    genuine = parse_target(str(make_model(tmp / "genuine", seed=1)), name=GENUINE)
    assert session.name_check(genuine) == []


def test_a_rejected_commit_is_not_approved_in_a_fresh_review(team: Team) -> None:
    session, tmp = team
    model = make_model(tmp / "tiny")
    first = _review(session, model, "acme/tiny")
    code, _, err = _decide(first, "--reject", "--rationale", "contains a backdoor", *_as(tmp, "bob"))
    assert code == 0, err
    again = _review(session, model, "acme/tiny")
    code, _, err = _decide(again, "--approve", "--rationale", "we trust it", *_as(tmp, "ada"))
    assert code == 1 and f"Bob rejected the same artifact in review {first}" in err
    assert "contains a backdoor" in err and "--supersede" in err
    code, doc, err = _decide(again, "--approve", "--rationale", "re-examined", "--supersede",
                             "the 'backdoor' was the publisher's test fixture, removed upstream",
                             *_as(tmp, "ada"))
    assert code == 0 and doc["outcome"] == "approved", err
    (event,) = session.ledger.events(again, kind="decision")
    supersedes = event["payload"]["supersedes"]
    assert supersedes["reason"].startswith("the 'backdoor'")
    assert supersedes["over"][0]["review_id"] == first
    from curator.attest.dsse import verify_envelope
    from curator.attest.trust import load_trusted

    trusted = load_trusted(session.policy.directory)
    signed = verify_envelope(event["payload"]["envelope"].encode(), trusted)
    assert signed.statement["predicate"]["supersedes"] == supersedes  # signed into the decision


def test_a_stale_review_of_the_same_commit_is_refused(team: Team) -> None:
    session, tmp = team
    model = make_model(tmp / "tiny")
    old = _review(session, model, "acme/tiny")
    new = _review(session, model, "acme/tiny")
    request = DecisionRequest(old, True, "fine")
    with pytest.raises(Exception, match=f"review {new} of the same commit"):
        decide(session, request, FileSigner(tmp / "ada"))
    assert decide(session, DecisionRequest(new, True, "fine"), FileSigner(tmp / "ada")).outcome == "approved"


def test_publishers_yaml_changed_since_the_review(team: Team) -> None:
    session, tmp = team
    review_id = _review(session, make_model(tmp / "tiny"), "acme/tiny")
    (session.policy.directory / "publishers.yaml").write_text(yaml.safe_dump(
        {"publishers": [{"match": "acme", "required": True, "signers": []}]}))
    code, _, err = _decide(review_id, "--approve", "--rationale", "x", *_as(tmp, "ada"))
    assert code == 1 and "publisher" in err and "now requires acme to sign" in err
    code, doc, err = _decide(review_id, "--approve", "--rationale", "x", "--waive",
                             "publisher=signed release pending; bytes compared with the lab's mirror",
                             *_as(tmp, "ada"))
    assert code == 0 and doc["outcome"] == "approved", err


def test_policy_cannot_let_one_curator_waive_a_critical_finding(tmp_path: Path) -> None:
    lenient = isolated_checklists(tmp_path / "c", ["fetch"], critical_waiver_approvals=1)
    done = cli("policy", "check", str(lenient))
    assert done.returncode == 1 and "critical_waiver_approvals" in done.stderr + done.stdout
    from curator.core.errors import UsageError
    from curator.core.policy import Policy
    from curator.decision.rules import DecisionRules

    with pytest.raises(UsageError, match="critical_waiver_approvals"):
        DecisionRules.from_policy(Policy.load(isolated_checklists(tmp_path / "d", ["fetch"],
                                                                   critical_waiver_approvals=1)))
