"""Round-3 attacks on the deploy gate, against the OCI layout and a real docker-registry: a
curator who holds two keys of the team's root (a rotation, a second laptop) reaching a quorum
alone, and state a deploy workspace or a registry can serve that the gate must not accept."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from tuf.api.metadata import Metadata, Root

from curator.attest.keys import FileSigner, init_keys
from curator.attest.trust import TrustedCurator
from curator.core.errors import DecisionRefused
from curator.core.policy import Policy
from curator.decision.decide import DecisionRequest, decide
from curator.decision.signed_state import anchor_path, expiry, removal, sign_state_change
from curator.state import content
from curator.state.keys import CuratorSigner
from curator.state.roles import build_root
from curator.state.store import StateStore
from tests.decision.helpers import curator, isolated_checklists, make_model, open_session, reviewed, rotate
from tests.registry.test_attacks_round2 import OPENER, _edited
from tests.registry.test_gate import Approved, approved  # noqa: F401 (fixture)
from tests.registry.test_signed_state import _current_targets, _problem, _publish_raw, _swap, _verify


def _two_keys_and_bob(target: Approved, tmp_path: Path) -> tuple[FileSigner, FileSigner]:
    """The team lists Ada twice (her new key, her address spelled differently) and Bob, and moves
    to two approvals per change: a rotation Ada and Bob sign together. Returns (ada2, bob)."""
    init_keys(tmp_path / "ada-2027", "Ada", "ADA@example.org")
    init_keys(tmp_path / "bob", "Bob", "bob@example.org")
    ada2, bob = FileSigner(tmp_path / "ada-2027"), FileSigner(tmp_path / "bob")
    (target.checklists / "curators.yaml").write_text(yaml.safe_dump({"curators": [
        {"name": "Ada", "email": "ada@example.org", "public_key": target.ada.public_key_pem},
        {"name": "Ada", "email": "ADA@example.org", "public_key": ada2.public_key_pem},
        {"name": "Bob", "email": "bob@example.org", "public_key": bob.public_key_pem}]}))
    data = yaml.safe_load((target.checklists / "default.yaml").read_text())
    data["decision"]["approvals_required"] = 2
    (target.checklists / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    rotate(target.backend.registry, Policy.load(target.checklists), [target.ada, bob])
    return ada2, bob


def test_one_curator_with_two_root_keys_cannot_change_the_state_alone(approved: Approved,  # noqa: F811
                                                                      tmp_path: Path) -> None:
    ada2, bob = _two_keys_and_bob(approved, tmp_path)
    digest = approved.outcome.manifest_digest
    ref = f"{approved.name}@{digest}"
    # the model approved by Ada and Bob in one review: the gate passes it
    policy = {**approved.statement()["predicate"]["policy"], "approvals_required": 2}
    approved.replace_decision([_edited(approved.statement(), approved.ada, policy=policy, opened_by=OPENER),
                               _edited(approved.statement(), bob, policy=policy, opened_by=OPENER)])
    assert _verify(approved, ref)[0] == 0
    store = StateStore(approved.backend.registry)
    before = _current_targets(store)
    # the team retires it (Ada and Bob sign); the gate refuses it from then on
    session = approved.session
    session.policy = Policy.load(approved.checklists)
    retire = removal(approved.name, digest, content.RETIRED, approved.ada, "backdoor found", session.policy)
    assert sign_state_change(session, approved.backend.registry, retire, [approved.ada, bob],
                             "retire-1").published
    code, report = _verify(approved, ref)
    assert code == 1 and report["reason"] == "retired", report
    # Ada alone, with both her keys: curator's own signing makes it a proposal, not a state
    retire_again = removal(approved.name, digest, content.RETIRED, approved.ada, "x", session.policy)
    proposed = sign_state_change(session, approved.backend.registry, retire_again, [approved.ada, ada2],
                                 "ada-alone")
    assert not proposed.published and proposed.signatures == 1, proposed
    # ... and by hand: the pre-retirement targets re-signed with her two keys as the next version
    revived = _current_targets(store)
    revived.signatures.clear()
    revived.signed.targets = before.signed.targets
    ext = content.EXTENSION
    revived.signed.unrecognized_fields[ext] = before.signed.unrecognized_fields[ext]
    revived.signed.version += 1
    revived.sign(CuratorSigner(approved.ada), append=True)
    revived.sign(CuratorSigner(ada2), append=True)
    _publish_raw(store, revived, approved.ada)
    code, report = _verify(approved, ref)
    assert code == 1 and report["reason"] == "signed-state", report
    assert "1 curator" in _problem(report), report


def test_one_curator_with_two_root_keys_cannot_rotate_the_root_alone(approved: Approved,  # noqa: F811
                                                                     tmp_path: Path) -> None:
    ada2, _bob = _two_keys_and_bob(approved, tmp_path)
    init_keys(tmp_path / "mallory", "Mallory", "m@evil.example")
    mallory = FileSigner(tmp_path / "mallory")
    store = StateStore(approved.backend.registry)
    current = Metadata[Root].from_bytes(anchor_path(Policy.load(approved.checklists)).read_bytes())
    # Ada writes a root where Mallory alone decides, and signs it with both her keys
    team = [TrustedCurator("Mallory", "m@evil.example", mallory.keyid, mallory.public_key_pem)]
    expires = expiry(Policy.load(approved.checklists)).of("root", dt.datetime.now(dt.UTC))
    forged = Metadata(build_root(team, 1, current.signed.version + 1, expires))
    for signer in (approved.ada, ada2, mallory):
        forged.sign(CuratorSigner(signer), append=True)
    store.put(f"{forged.signed.version}.root.json", forged.to_bytes())
    # Mallory then signs the state and a decision of her own
    moved = _current_targets(store)
    moved.signatures.clear()
    moved.signed.version += 1
    moved.sign(CuratorSigner(mallory))
    _publish_raw(store, moved, mallory)
    approved.replace_decision([_edited(approved.statement(), mallory, opened_by=OPENER)])
    code, report = _verify(approved, f"{approved.name}@{approved.outcome.manifest_digest}")
    assert code == 1 and report["reason"] == "signed-state", report
    assert "root v3" in _problem(report) and "1 curator" in _problem(report), report


# -- the team's stages are the team's rule: a curator's copy of the checklists drops none ----------


def test_a_local_policy_without_a_team_stage_cannot_approve(tmp_path: Path) -> None:
    team = isolated_checklists(tmp_path / "team", ["fetch", "card"])
    session = open_session(team)
    try:
        ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
        # Ada's own copy of the policy repository lists fetch only: her review runs no card stage
        mine = tmp_path / "mine"
        shutil.copytree(team, mine)
        data = yaml.safe_load((mine / "default.yaml").read_text())
        data["stages"] = ["fetch"]
        (mine / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        session.policy = Policy.load(mine)
        review = reviewed(session, make_model(tmp_path / "tiny"))
        assert set(session.ledger.results(review.id)) == {"fetch"}
        with pytest.raises(DecisionRefused, match="card"):
            decide(session, DecisionRequest(review.id, True, "fetch is all we need"), ada)
        assert session.ledger.events(review.id, kind="decision") == []
    finally:
        session.close()


def test_the_gate_holds_each_decision_to_the_teams_stages(approved: Approved) -> None:  # noqa: F811
    # genuine signatures over decisions that skipped a stage the team requires, or approved a
    # blocking status with no waiver: what a curator's looser checklists (or own tool) would sign
    statement = approved.statement()
    fetch = statement["predicate"]["stages"]["fetch"]
    for stages, why in (({}, "does not show the fetch stage"),
                        ({"fetch": {**fetch, "status": "failed"}}, "fetch failed")):
        approved.replace_decision([_edited(statement, approved.ada, stages=stages)])
        code, report = approved.gate()
        assert code == 1 and report["reason"] == "policy-violation", report
        assert why in _problem(report), report
    approved.replace_decision([_edited(statement, approved.ada, stages={"fetch": fetch})])
    assert approved.gate()[0] == 0


# -- a deploy workspace without the state it saw before: a replayed timestamp --------------------


def _retire_keeping_last_weeks_timestamp(model: Approved) -> Callable[[], None]:
    """Retire the approved model in the signed state; the returned call replays the timestamp
    from before the retirement (every older file still there and validly signed)."""
    store = StateStore(model.backend.registry)
    last_week = store.get("timestamp.json")
    assert last_week is not None
    retire = removal(model.name, model.outcome.manifest_digest, content.RETIRED, model.ada,
                     "backdoor found", model.session.policy)
    sign_state_change(model.session, model.backend.registry, retire, [model.ada], "retire-1")
    return lambda: store.put("timestamp.json", last_week)


def test_a_replayed_timestamp_is_refused_by_a_gate_that_kept_no_state(approved: Approved,  # noqa: F811
                                                                      tmp_path: Path) -> None:
    # a CI job verifies from a fresh workspace (or the state folder was deleted): the registry
    # serves the timestamp of last week, from before the retirement, and every older file is
    # still there and validly signed
    digest = approved.outcome.manifest_digest
    ref = f"{approved.name}@{digest}"
    replay = _retire_keeping_last_weeks_timestamp(approved)
    code, report = _verify(approved, ref, "--state-dir", str(tmp_path / "first"))
    assert code == 1 and report["reason"] == "retired", report
    replay()
    code, report = _verify(approved, ref, "--state-dir", str(tmp_path / "fresh"))
    assert code == 1 and report["reason"] == "signed-state", report
    assert "newer" in _problem(report), report


def test_a_curator_never_signs_on_top_of_a_replayed_state(approved: Approved,  # noqa: F811
                                                          tmp_path: Path) -> None:
    # the same replay, then a curator's next change: signed on last week's targets it would
    # overwrite the retirement's version in the registry and drop the retirement for good
    digest = approved.outcome.manifest_digest
    _retire_keeping_last_weeks_timestamp(approved)()
    (approved.model / "config.json").write_text('{"model_type": "gpt2", "n_layer": 3}\n')
    review = reviewed(approved.session, approved.model)
    with pytest.raises(DecisionRefused, match="rolled back"):
        decide(approved.session, DecisionRequest(review.id, True, "v2", swap=_swap()), approved.ada,
               approved.backend.registry)
    code, report = _verify(approved, f"{approved.name}@{digest}", "--state-dir", str(tmp_path / "fresh"))
    assert code == 1, report
