"""A swap across names and its rollback: model B (another repository) approved with
``--replaces A:prod`` takes A's production slot; rolling back puts A back exactly as approved,
signed and recorded, and the deploy gate, the signed state, the ledger, the inventory and the
reports agree. Refused where it would be unsafe (A retired or rejected since, A's bytes gone,
a pointer moved since), and a forged, replayed or untrusted rollback never verifies.

Against the OCI layout and a real docker-registry; real stages, ledger, keys and TUF state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tuf.api.metadata import Metadata, Targets

from curator.attest.keys import FileSigner, init_keys
from curator.changes.rollback import ROLLBACK_ARTIFACT_TYPE, RollbackOutcome, rollback
from curator.core.errors import CuratorError, DecisionRefused
from curator.core.events import ProductionMoved
from curator.decision.decide import DecisionOutcome, DecisionRequest, decide
from curator.decision.signed_state import current_state, removal, sign_state_change
from curator.decision.swap import SwapRequest
from curator.registry.interface import Reference
from curator.review.session import Session
from curator.state.content import RETIRED, target_path
from curator.state.store import StateStore
from tests.decision.helpers import (
    cli,
    curator,
    gate,
    isolated_checklists,
    make_model,
    model_tags,
    open_session,
    reviewed,
    state_for,
)
from tests.registry.conftest import Backend, backend  # noqa: F401 (fixture)

JUSTIFICATION = "tiny-next answers the support set better"
WHY = "tiny-next times out under production load"


@dataclass
class Swapped:
    backend: Backend
    session: Session
    ada: FileSigner
    checklists: Path
    a: DecisionOutcome
    b: DecisionOutcome
    a_name: str
    b_name: str
    a_target: dict[str, Any]  # A's signed target entry before the swap
    models: dict[str, Path]

    @property
    def registry(self) -> Any:
        return self.backend.registry

    def ref(self, name: str, tag: str = "prod") -> str:
        if self.backend.distribution:
            return f"{self.backend.distribution.host}/{name}:{tag}"
        return f"oci:{self.registry.location}:{name}:{tag}"

    def verify(self, name: str, tag: str = "prod") -> tuple[int, dict[str, Any]]:
        done = cli("verify", self.ref(name, tag), "--json", env={"CURATOR_CHECKLISTS": str(self.checklists)})
        assert done.returncode in (0, 1), done.stderr
        return done.returncode, json.loads(done.stdout)

    def roll_back(self, name: str, why: str = WHY, to: str | None = None,
                  signer: FileSigner | None = None) -> RollbackOutcome:
        return rollback(self.session, self.registry, name, signer or self.ada,
                        gate(self.session, self.registry), to, why)

    def state_version(self) -> int:
        return current_state(self.registry, self.session.policy).version


def _name(outcome: DecisionOutcome, remote: bool) -> str:
    assert outcome.ref
    return Reference.parse(outcome.ref.split("/", 1)[1] if remote else outcome.ref).name


def _entry(registry: Any, session: Session, name: str, digest: str) -> dict[str, Any]:
    target = current_state(registry, session.policy).approved()[target_path(name, digest)]
    return {"length": target.length, "hashes": dict(target.hashes),
            "custom": target.unrecognized_fields.get("custom")}


@pytest.fixture
def swapped(backend: Backend, tmp_path: Path) -> Iterator[Swapped]:  # noqa: F811
    checklists = isolated_checklists(tmp_path / "checklists", ["fetch"])
    session = open_session(checklists)
    ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
    state_for(backend.registry, session.workspace)
    models = {"a": make_model(tmp_path / "tiny", size=1 << 18, seed=0),
              "b": make_model(tmp_path / "tiny-next", size=1 << 18, seed=1)}
    a = decide(session, DecisionRequest(reviewed(session, models["a"]).id, True, "first adoption"), ada,
               backend.registry)
    remote = backend.distribution is not None
    a_name = _name(a, remote)
    a_target = _entry(backend.registry, session, a_name, a.manifest_digest)
    b = decide(session, DecisionRequest(
        reviewed(session, models["b"]).id, True, "the next model",
        swap=SwapRequest(replaces=f"{a_name}:prod", justification=JUSTIFICATION,
                         rollback_plan=f"curator rollback {a_name}")), ada, backend.registry)
    assert b.outcome == "approved"
    yield Swapped(backend, session, ada, checklists, a, b, a_name, _name(b, remote), a_target, models)
    session.close()


def _problem(report: dict[str, Any]) -> tuple[str, str]:
    problems = report["problems"]
    assert problems, report
    return str(problems[0]["code"]), str(problems[0]["message"])


def test_the_swap_hands_a_production_to_b(swapped: Swapped) -> None:
    s = swapped
    assert s.a_name != s.b_name
    code, report = s.verify(s.a_name)
    assert code == 1, report
    reason, message = _problem(report)
    assert reason == "replaced"
    assert s.a.manifest_digest in message and s.b_name in message and JUSTIFICATION in message
    code, report = s.verify(s.b_name)
    assert code == 0 and report["manifest_digest"] == s.b.manifest_digest
    # A itself stays approved (its own tag verifies): only its production slot moved
    a_tag = Reference.parse(s.a.ref.split("/", 1)[1] if s.backend.distribution else str(s.a.ref)).tag
    assert s.verify(s.a_name, str(a_tag))[0] == 0


def test_rollback_puts_a_back_exactly_as_approved_signed_and_recorded(swapped: Swapped) -> None:
    from curator.attest.dsse import verify_envelope
    from curator.attest.trust import load_trusted
    from curator.inventory.build import build_inventory

    s = swapped
    before = s.state_version()
    done = s.roll_back(s.a_name)
    assert done.to.digest == s.a.manifest_digest and done.from_digest == s.b.manifest_digest
    assert done.from_name == s.b_name and done.name == s.a_name
    assert s.state_version() == before + 1  # one signed version moves both pointers

    code, report = s.verify(s.a_name)
    assert code == 0 and report["manifest_digest"] == s.a.manifest_digest, report
    code, report = s.verify(s.b_name)
    assert code == 1
    reason, message = _problem(report)
    assert reason == "rolled-back" and WHY in message and "Ada" in message and s.a_name in message
    # exactly as approved before: the same signed target entry, decisions and all
    assert _entry(s.registry, s.session, s.a_name, s.a.manifest_digest) == s.a_target
    state = current_state(s.registry, s.session.policy)
    assert state.production(s.a_name) == s.a.manifest_digest and state.production(s.b_name) is None

    # the signed rollback, attached to A's artifact, verifies with Ada's trusted key
    referrers = [d for d in s.registry.referrers(s.a_name, s.a.manifest_digest)
                 if d.artifact_type == ROLLBACK_ARTIFACT_TYPE]
    assert len(referrers) == 1
    moves = [e.event for e in s.session.ledger.read(ProductionMoved)]
    back, withdrawn = moves[-2], moves[-1]
    assert (back.name, back.action, back.digest, back.previous, back.from_name) == (
        s.a_name, "rollback", s.a.manifest_digest, s.b.manifest_digest, s.b_name)
    assert back.rationale == WHY and (back.curator or {})["email"] == "ada@example.org"
    # B holds no production any more: the move names no digest, and where production went
    assert (withdrawn.name, withdrawn.digest, withdrawn.previous) == (s.b_name, "", s.b.manifest_digest)
    assert withdrawn.to == f"{s.a_name}@{s.a.manifest_digest}"
    assert back.envelope is not None
    verified = verify_envelope(back.envelope.encode(), load_trusted(s.checklists))
    predicate = verified.statement["predicate"]
    assert (predicate["from_name"], predicate["from_digest"], predicate["to_digest"]) == (
        s.b_name, s.b.manifest_digest, s.a.manifest_digest)
    assert s.session.ledger.verify().ok

    entries = {e.manifest_digest: e for e in build_inventory(s.session, s.registry).entries}
    a, b = entries[s.a.manifest_digest], entries[s.b.manifest_digest]
    assert a.production["current"] and a.cell("production") == "yes (prod)"
    assert not b.production["current"] and b.cell("production") == f"no: prod moved to {s.a_name}"
    assert [r["rationale"] for r in a.lifecycle.rollbacks] == [WHY]
    assert b.lifecycle.rolled_back_from and b.lifecycle.rollbacks[0]["to"].endswith(s.a.manifest_digest)
    assert a.replaced_by == [f"{s.b_name}:{b.ref.rsplit(':', 1)[1]}"]


def test_the_report_and_inventory_cli_show_the_rollback(swapped: Swapped, tmp_path: Path) -> None:
    s = swapped
    s.roll_back(s.b_name)  # naming the model that took over works too
    env = {"CURATOR_CHECKLISTS": str(s.checklists)}
    where = s.backend.distribution.url if s.backend.distribution else f"oci:{s.registry.location}"
    a_review = s.session.ledger.events(kind="production")[-2]["payload"]["review_id"]
    out = tmp_path / "a.md"
    done = cli("report", a_review, "--format", "md", "-o", str(out), env=env)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert "Rollbacks of this name" in text and WHY in text and s.b.manifest_digest in text
    b_review = s.session.ledger.events(kind="production")[-1]["payload"]["review_id"]
    done = cli("report", b_review, "--format", "md", "-o", str(tmp_path / "b.md"), env=env)
    assert done.returncode == 0, done.stderr
    b_text = (tmp_path / "b.md").read_text()
    assert f"is {s.a_name}@{s.a.manifest_digest}" in b_text and "None" not in b_text
    listed = cli("inventory", "--json", "--registry", where, env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {m["manifest_digest"]: m for m in json.loads(listed.stdout)["models"]}
    assert rows[s.a.manifest_digest]["production"]["in_production"]
    assert not rows[s.b.manifest_digest]["production"]["in_production"]
    assert rows[s.a.manifest_digest]["rollbacks"][0]["rationale"] == WHY
    bom = tmp_path / "bom.json"
    made = cli("bom", "-o", str(bom), "--registry", where, env=env)
    assert made.returncode == 0, made.stderr
    rolled = [p["value"] for c in json.loads(bom.read_text())["components"]
              for p in c.get("properties", []) if p["name"] == "curator:rollback"]
    assert any(WHY in r and s.b.manifest_digest in r for r in rolled), rolled


def test_rollback_refuses_a_retired_a(swapped: Swapped) -> None:
    s = swapped
    retire = removal(s.a_name, s.a.manifest_digest, RETIRED, s.ada, "a backdoor found since",
                     s.session.policy)
    sign_state_change(s.session, s.registry, retire, [s.ada], "retire-test")
    before = s.state_version()
    for name in (s.a_name, s.b_name):
        with pytest.raises(DecisionRefused, match=r"retired on .* a backdoor found since"):
            s.roll_back(name)
    assert s.state_version() == before
    assert s.verify(s.b_name)[1]["manifest_digest"] == s.b.manifest_digest
    assert _problem(s.verify(s.a_name)[1])[0] == "replaced"


def test_rollback_refuses_an_a_rejected_since(swapped: Swapped) -> None:
    s = swapped
    again = reviewed(s.session, s.models["a"])  # A's very bytes, reviewed again and rejected
    rejected = decide(s.session, DecisionRequest(again.id, False, "contains a backdoor"), s.ada, s.registry)
    assert rejected.manifest_digest == s.a.manifest_digest
    before = s.state_version()
    with pytest.raises(DecisionRefused, match=r"rejected.*contains a backdoor"):
        s.roll_back(s.a_name)
    assert s.state_version() == before and s.verify(s.b_name)[0] == 0


def test_rollback_refuses_when_a_bytes_are_gone(swapped: Swapped) -> None:
    s = swapped
    body, _ = s.registry.get_manifest(s.a_name, s.a.manifest_digest)
    layer = next(x["digest"] for x in json.loads(body)["layers"]  # A's own weights (B shares the rest)
                 if x["annotations"]["org.opencontainers.image.title"] == "model.safetensors")
    s.backend.blob_file(layer).unlink()
    before = s.state_version()
    with pytest.raises(DecisionRefused, match="fails the deploy gate"):
        s.roll_back(s.a_name)
    assert s.state_version() == before and s.verify(s.b_name)[0] == 0


def test_rollback_refuses_when_b_moved_since(swapped: Swapped, tmp_path: Path) -> None:
    s = swapped
    (s.models["b"] / "config.json").write_text('{"model_type": "gpt2", "n_layer": 3}\n')
    b2 = decide(s.session, DecisionRequest(reviewed(s.session, s.models["b"]).id, True, "b v2",
                                           swap=SwapRequest(justification="newer", rollback_plan="rollback")),
                s.ada, s.registry)
    assert s.verify(s.b_name)[1]["manifest_digest"] == b2.manifest_digest
    before = s.state_version()
    with pytest.raises(DecisionRefused, match=f"{s.b_name}:prod moved since it replaced {s.a_name}"):
        s.roll_back(s.a_name)
    assert s.state_version() == before
    # rolling B back to the revision that took over, then once more, hands production back to A
    assert s.roll_back(s.b_name).to.digest == s.b.manifest_digest
    assert s.roll_back(s.b_name).to.digest == s.a.manifest_digest
    assert s.verify(s.a_name)[1]["manifest_digest"] == s.a.manifest_digest


def test_rollback_refuses_when_a_moved_since(swapped: Swapped) -> None:
    s = swapped
    (s.models["a"] / "config.json").write_text('{"model_type": "gpt2", "n_layer": 4}\n')
    a2 = decide(s.session, DecisionRequest(reviewed(s.session, s.models["a"]).id, True, "a v2",
                                           swap=SwapRequest(justification="newer", rollback_plan="rollback")),
                s.ada, s.registry)
    assert s.verify(s.a_name)[1]["manifest_digest"] == a2.manifest_digest
    before = s.state_version()
    with pytest.raises(DecisionRefused, match=f"{s.a_name}:prod moved since"):
        s.roll_back(s.b_name)
    assert s.state_version() == before and s.verify(s.b_name)[0] == 0


def test_a_forged_rollback_never_verifies(swapped: Swapped, tmp_path: Path) -> None:
    """Someone with registry write access (and a key of their own) writes the rolled-back state
    by hand: the gate refuses it, and A:prod stays refused."""
    from tests.registry.test_signed_state import _current_targets, _publish_raw

    s = swapped
    store = StateStore(s.registry)
    forged: Metadata[Targets] = _current_targets(store)
    names = forged.signed.unrecognized_fields["x-curator"]["names"]
    names[s.a_name]["production"], names[s.b_name]["production"] = s.a.manifest_digest, None
    names[s.a_name].pop("replaced")
    forged.signed.version += 1
    init_keys(tmp_path / "mallory", "Mallory", "m@evil.example")
    mallory = FileSigner(tmp_path / "mallory")
    forged.signatures.clear()
    from curator.state.keys import CuratorSigner

    forged.sign(CuratorSigner(mallory))
    _publish_raw(store, forged, mallory)
    code, report = s.verify(s.a_name)
    assert code == 1 and _problem(report)[0] == "signed-state", report


def test_a_replayed_rollback_never_verifies(swapped: Swapped) -> None:
    """The state right after a rollback, served again after a later swap, is refused (TUF)."""
    s = swapped
    store = StateStore(s.registry)
    s.roll_back(s.a_name)
    assert s.verify(s.a_name)[0] == 0  # the deploy side has seen the rolled-back state
    replay = store.get("timestamp.json")
    assert replay is not None
    (s.models["b"] / "config.json").write_text('{"model_type": "gpt2", "n_layer": 5}\n')
    decide(s.session, DecisionRequest(
        reviewed(s.session, s.models["b"]).id, True, "b v2", swap=SwapRequest(
            replaces=f"{s.a_name}:prod", justification="fixed the timeouts", rollback_plan="rollback")),
        s.ada, s.registry)
    assert _problem(s.verify(s.a_name)[1])[0] == "replaced"
    store.put("timestamp.json", replay)
    code, report = s.verify(s.a_name)
    assert code == 1 and _problem(report)[0] == "signed-state" and "rolled back" in _problem(report)[1]


def test_a_rollback_by_a_key_outside_the_team_moves_nothing(swapped: Swapped, tmp_path: Path) -> None:
    s = swapped
    init_keys(tmp_path / "mallory", "Mallory", "m@evil.example")
    before = s.state_version()
    with pytest.raises(CuratorError):
        s.roll_back(s.a_name, signer=FileSigner(tmp_path / "mallory"))
    assert s.state_version() == before
    assert _problem(s.verify(s.a_name)[1])[0] == "replaced" and s.verify(s.b_name)[0] == 0


def test_a_rollback_one_curator_signed_under_a_threshold_of_two_moves_nothing(tmp_path: Path) -> None:
    """Two approvals per change: the swap is signed by two curators; one curator's rollback only
    proposes the next state, so neither the gate, the registry's tags nor the ledger move."""
    from curator.registry.layout import LayoutRegistry

    session = open_session(isolated_checklists(tmp_path / "cl", ["fetch"], approvals_required=2))
    try:
        ws = session.workspace
        ada = curator(ws, tmp_path / "ada", "Ada", "ada@example.org")
        bob = curator(ws, tmp_path / "bob", "Bob", "bob@example.org")
        cy = curator(ws, tmp_path / "cy", "Cy", "cy@example.org")
        registry = LayoutRegistry(tmp_path / "layout")
        state_for(registry, ws)
        outcomes = []
        for folder, seed, swap in (("tiny", 0, SwapRequest()), ("tiny-next", 1, SwapRequest(
                "local/tiny:prod", JUSTIFICATION, "curator rollback local/tiny"))):
            review = reviewed(session, make_model(tmp_path / folder, size=1 << 16, seed=seed), opened_by=ada)
            first = decide(session, DecisionRequest(review.id, True, "ok", swap=swap), bob, registry)
            assert first.outcome == "pending"
            outcomes.append(decide(session, DecisionRequest(review.id, True, "agreed", swap=swap), cy,
                                   registry))
        a, b = outcomes
        state = current_state(registry, session.policy)
        assert state.production("local/tiny") is None
        assert state.production("local/tiny-next") == b.manifest_digest
        moves = len(session.ledger.events(kind="production"))
        tags = sorted(model_tags(registry))  # the state's own repository gains the proposal
        with pytest.raises(DecisionRefused, match="signed by 1 of the 2 curators"):
            rollback(session, registry, "local/tiny", bob, gate(session, registry), None, WHY)
        state = current_state(registry, session.policy)
        assert state.production("local/tiny") is None
        assert state.production("local/tiny-next") == b.manifest_digest
        assert len(session.ledger.events(kind="production")) == moves and sorted(model_tags(registry)) == tags
        assert a.manifest_digest != b.manifest_digest
    finally:
        session.close()
