"""Two signatures per state change (``approvals_required: 2``): a retire, a rejection or a rollback
one curator signs is a proposal; the ledger, the inventory and the registry say so, and the deploy
gate keeps admitting what it admitted until a second curator co-signs with ``curator state sign``.

Each team is three curators in their own workspaces, one real PostgreSQL ledger and one real
docker-registry on loopback; a fresh deploy workspace runs ``curator verify``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tuf.api.metadata import Metadata, Targets

from curator.attest.keys import FileSigner, init_keys, public_key_of
from curator.decision.decide import DecisionRequest, decide
from curator.decision.swap import SwapRequest
from curator.registry import open_registry
from curator.review.session import parse_target
from curator.state.keys import CuratorSigner
from curator.state.store import StateStore
from tests.decision.helpers import cli, make_model
from tests.team.conftest import Team


def _review(team: Team, folder: Path, seed: int = 0) -> str:
    ada = team.members["ada"]
    session = ada.session(team.checklists)
    try:
        candidate = parse_target(str(make_model(folder, seed=seed)), name="acme/tiny")
        review = session.ledger.create_review(candidate, opened_by=ada.signer.identity.to_dict())
        session.run(review)
        return review.id
    finally:
        session.close()


def _decide(team: Team, member: str, review_id: str, swap: SwapRequest | None = None) -> dict[str, Any]:
    m = team.members[member]
    session = m.session(team.checklists)
    try:
        registry = open_registry(session.workspace.registry_dir, session.policy)
        request = DecisionRequest(review_id, True, f"{member} read it all", swap=swap or SwapRequest())
        return decide(session, request, m.signer, registry).to_dict()
    finally:
        session.close()


def _approved(team: Team, tmp_path: Path, seed: int = 0) -> dict[str, Any]:
    """A model approved by Bob and Carol (Ada opened it), under the team's rule of two."""
    review_id = _review(team, tmp_path / f"model-{seed}", seed)
    # a later revision replaces the one in production: a swap, said why and how to go back
    swap = SwapRequest(None, "fixes the tokenizer", "curator rollback acme/tiny") if seed else None
    assert _decide(team, "bob", review_id, swap)["outcome"] == "pending"
    final = _decide(team, "carol", review_id, swap)
    assert final["outcome"] == "approved" and final["ref"], final
    return final


def _deploy(team: Team, tmp_path: Path) -> dict[str, str]:
    return {**team.env("carol"), "CURATOR_HOME": str(tmp_path / "deploy")}


def _verify(team: Team, tmp_path: Path, ref: str) -> tuple[int, dict[str, Any]]:
    done = cli("verify", ref, "--json", env=_deploy(team, tmp_path))
    return done.returncode, json.loads(done.stdout)


def _inventory_entry(team: Team, member: str, digest: str) -> dict[str, Any]:
    done = cli("inventory", "--json", env=team.env(member))
    assert done.returncode == 0, done.stderr
    (entry,) = [m for m in json.loads(done.stdout)["models"] if m["manifest_digest"] == digest]
    return entry


def _proposals(team: Team, member: str) -> list[dict[str, Any]]:
    done = cli("state", "show", "--json", env=team.env(member))
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout)["proposals"])


def _retire(team: Team, member: str, ref: str) -> dict[str, Any]:
    done = cli("quarterly", "retire", ref, "--rationale", "superseded by a safer model", "--json",
               env=team.env(member))
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _sign(team: Team, member: str, proposal: str, *extra: str) -> Any:
    return cli("state", "sign", proposal, *extra, env=team.env(member))


def test_a_retire_waits_for_a_second_curator_and_the_three_agree_at_each_step(team: Team,
                                                                             tmp_path: Path) -> None:
    team.rules(approvals_required=2)
    final = _approved(team, tmp_path)
    digest, ref = final["manifest_digest"], final["ref"]
    retired = _retire(team, "bob", ref)
    proposal = retired["proposal"]
    assert proposal and not retired["effective"] and retired["tag_removed"] is None

    # one signature of two: the gate admits it, and nothing says it is retired
    assert _verify(team, tmp_path, final["digest_ref"])[0] == 0
    assert _verify(team, tmp_path, ref)[0] == 0  # the tag was not removed either
    entry = _inventory_entry(team, "carol", digest)
    assert entry["status"] == "needs-re-review", entry
    assert entry["proposed"]["action"] == "retire" and entry["proposed"]["proposal"] == proposal
    assert any("retire proposed by Bob" in r and f"curator state sign {proposal}" in r
               for r in entry["reasons"])
    run = cli("quarterly", "--headless", "--no-upstream", "--json", env=team.env("carol"))
    (checked,) = [m for m in json.loads(run.stdout)["models"] if m["manifest_digest"] == digest]
    assert checked["status"] == "needs-re-review" and checked["proposed"]["proposal"] == proposal

    (shown,) = _proposals(team, "carol")
    assert shown["id"] == proposal and shown["action"] == "retire" and not shown["stale"]
    assert [s["email"] for s in shown["signed_by"]] == ["bob@team.example"] and shown["proposed_by"] == "Bob"
    (change,) = shown["changes"]
    assert (change["action"], change["digest"]) == ("retire", digest)
    assert "superseded by a safer model" in change["detail"]

    again = _sign(team, "bob", proposal)  # the proposer cannot be the second curator
    assert again.returncode == 1 and "already signed" in again.stderr, again.stderr
    twice = cli("quarterly", "retire", ref, "--rationale", "me too", env=team.env("carol"))
    assert twice.returncode == 1 and f"curator state sign {proposal}" in twice.stderr, twice.stderr

    signed = _sign(team, "carol", proposal, "--json")
    assert signed.returncode == 0, signed.stderr
    result = json.loads(signed.stdout)
    assert result["published"] and result["signatures"] == 2 and result["referrer"]

    code, report = _verify(team, tmp_path, final["digest_ref"])
    assert code == 1 and report["reason"] == "retired", report
    assert "superseded by a safer model" in json.dumps(report)
    entry = _inventory_entry(team, "ada", digest)
    assert entry["status"] == "retired" and not entry["proposed"], entry
    assert _proposals(team, "ada") == []


def test_a_rejection_of_an_approved_digest_waits_for_a_second_curator(team: Team, tmp_path: Path) -> None:
    team.rules(approvals_required=2)
    final = _approved(team, tmp_path)
    again = _review(team, tmp_path / "model-again")  # the same bytes, reviewed again
    rejected = cli("decide", again, "--reject", "--rationale", "a backdoor was found", "--json",
                   env=team.env("bob"))
    assert rejected.returncode == 0, rejected.stderr
    outcome = json.loads(rejected.stdout)
    assert outcome["outcome"] == "rejected" and outcome["proposal"] == f"reject-{again}"
    assert _verify(team, tmp_path, final["digest_ref"])[0] == 0
    entry = _inventory_entry(team, "bob", final["manifest_digest"])
    assert entry["status"] == "needs-re-review" and entry["proposed"]["action"] == "reject"

    shown = cli("state", "sign", final["digest_ref"].split("/", 1)[-1], env=team.env("carol"))
    assert shown.returncode == 0, shown.stderr
    assert "reject" in shown.stderr and "a backdoor was found" in shown.stderr  # shown before it is signed
    code, report = _verify(team, tmp_path, final["digest_ref"])
    assert code == 1 and report["reason"] == "rejected", report
    assert _inventory_entry(team, "ada", final["manifest_digest"])["status"] == "retired"


def test_a_rollback_moves_production_only_once_co_signed(team: Team, tmp_path: Path) -> None:
    team.rules(approvals_required=2)
    first = _approved(team, tmp_path, seed=0)
    second = _approved(team, tmp_path, seed=1)
    prod = first["ref"].rsplit(":", 1)[0] + ":prod"
    assert _verify(team, tmp_path, prod)[1]["manifest_digest"] == second["manifest_digest"]

    proposed = cli("rollback", "acme/tiny", "--rationale", "v2 breaks the eval", env=team.env("bob"))
    assert proposed.returncode == 1 and "curator state sign rollback-" in proposed.stderr, proposed.stderr
    assert _verify(team, tmp_path, prod)[1]["manifest_digest"] == second["manifest_digest"]
    twice = cli("rollback", "acme/tiny", "--rationale", "me too", env=team.env("carol"))
    assert twice.returncode == 1 and "already proposed by Bob" in twice.stderr, twice.stderr
    (shown,) = _proposals(team, "carol")  # one proposal, not two that would never reach the threshold
    assert shown["action"] == "rollback"
    assert [(c["action"], c["digest"]) for c in shown["changes"]] == [("rollback", first["manifest_digest"])]

    signed = _sign(team, "carol", shown["id"])
    assert signed.returncode == 0, signed.stderr
    code, report = _verify(team, tmp_path, prod)
    assert code == 0 and report["manifest_digest"] == first["manifest_digest"], report
    session = team.members["ada"].session(team.checklists)
    try:
        moves = [e["payload"] for e in session.ledger.events(kind="production")]
    finally:
        session.close()
    assert moves[-1]["action"] == "rollback" and moves[-1]["digest"] == first["manifest_digest"]
    assert moves[-1]["rationale"] == "v2 breaks the eval" and moves[-1]["curator"]["name"] == "Bob"


# -- the attacker's co-signature requests ----------------------------------------------------------


def _retire_proposal(team: Team, tmp_path: Path) -> tuple[dict[str, Any], str]:
    team.rules(approvals_required=2)
    final = _approved(team, tmp_path)
    return final, str(_retire(team, "bob", final["ref"])["proposal"])


def test_a_stale_proposal_is_refused_and_can_be_proposed_again(team: Team, tmp_path: Path) -> None:
    final, proposal = _retire_proposal(team, tmp_path)
    team.sign_root()  # the state moves on (a root rotation re-signs the targets)
    (shown,) = _proposals(team, "carol")
    assert shown["stale"]
    stale = _sign(team, "carol", proposal)
    assert stale.returncode == 1 and "stale" in stale.stderr and "proposed again" in stale.stderr
    assert _verify(team, tmp_path, final["digest_ref"])[0] == 0
    renewed = _retire(team, "bob", final["ref"])["proposal"]  # a stale proposal does not block a new one
    assert renewed != proposal and _sign(team, "carol", renewed).returncode == 0
    assert _verify(team, tmp_path, final["digest_ref"])[1]["reason"] == "retired"


def test_a_tampered_proposal_is_never_co_signed(team: Team, tmp_path: Path) -> None:
    """Someone with write access to the registry edits the waiting proposal (a rejection turned into
    a retirement of another reason, and the like): the proposer's signature no longer verifies."""
    final, proposal = _retire_proposal(team, tmp_path)
    store = StateStore(open_registry(tmp_path, _policy(team), team.registry.url))
    md = Metadata[Targets].from_bytes(store.get(f"proposal.{proposal}.json") or b"")
    record = md.signed.unrecognized_fields["x-curator"]["retired"]
    next(iter(record.values()))["why"] = "nothing to see here"
    store.put(f"proposal.{proposal}.json", md.to_bytes())
    refused = _sign(team, "carol", proposal)
    assert refused.returncode == 1 and "tampered" in refused.stderr, refused.stderr
    (shown,) = _proposals(team, "carol")
    assert shown["problem"].startswith("tampered")
    assert _verify(team, tmp_path, final["digest_ref"])[0] == 0


def test_a_proposal_signed_by_an_outsider_or_dropping_a_model_is_refused(team: Team, tmp_path: Path) -> None:
    """Mallory (no key in the team's root) stores a proposal dropping the approved model with no
    record; Ada (a curator) stores one that does the same: neither is co-signed."""
    team.rules(approvals_required=2)
    final = _approved(team, tmp_path)
    store = StateStore(open_registry(tmp_path, _policy(team), team.registry.url))
    init_keys(tmp_path / "mallory", "Mallory", "mallory@evil.example")
    for who, signer in (("mallory", FileSigner(tmp_path / "mallory")), ("ada", team.members["ada"].signer)):
        md = _current_targets(store)
        md.signatures.clear()
        md.signed.version += 1
        md.signed.targets.clear()  # out of the approved set, with no retirement or rejection record
        md.sign(CuratorSigner(signer))
        store.put(f"proposal.drop-{who}.json", md.to_bytes())
        refused = _sign(team, "carol", f"drop-{who}")
        assert refused.returncode == 1, refused.stderr
        expected = "tampered" if who == "mallory" else "leaves the approved set"
        assert expected in refused.stderr, refused.stderr
    assert _verify(team, tmp_path, final["digest_ref"])[0] == 0


def test_an_outsider_or_a_second_key_of_the_proposer_cannot_co_sign(team: Team, tmp_path: Path) -> None:
    team.rules(approvals_required=2)
    second = tmp_path / "bob-laptop"
    init_keys(second, "Bob", "Bob@Team.Example ")
    _add_curator(team, "Bob", "Bob@Team.Example ", second)
    final, proposal = _retire_proposal(team, tmp_path)
    twice = _sign(team, "bob", proposal, "--key-dir", str(second))
    assert twice.returncode == 1 and "already signed" in twice.stderr, twice.stderr
    init_keys(tmp_path / "mallory", "Mallory", "mallory@evil.example")
    outsider = _sign(team, "carol", proposal, "--key-dir", str(tmp_path / "mallory"))
    assert outsider.returncode == 1 and "not a targets key" in outsider.stderr, outsider.stderr
    assert _verify(team, tmp_path, final["digest_ref"])[0] == 0


def test_an_approval_is_co_signed_by_approving_its_review(team: Team, tmp_path: Path) -> None:
    team.rules(approvals_required=2)
    review_id = _review(team, tmp_path / "model")
    assert _decide(team, "bob", review_id)["outcome"] == "pending"
    (shown,) = _proposals(team, "carol")
    assert shown["id"] == review_id and shown["action"] == "approve"
    refused = _sign(team, "carol", review_id)
    assert refused.returncode == 1 and f"curator decide {review_id} --approve" in refused.stderr


# -- helpers --------------------------------------------------------------------------------------


def _policy(team: Team) -> Any:
    from curator.core.policy import Policy

    return Policy.load(team.checklists)


def _current_targets(store: StateStore) -> Metadata[Targets]:
    timestamp = Metadata.from_bytes(store.get("timestamp.json") or b"")
    snapshot_file = f"{timestamp.signed.snapshot_meta.version}.snapshot.json"
    snapshot = Metadata.from_bytes(store.get(snapshot_file) or b"")
    version = snapshot.signed.meta["targets.json"].version
    return Metadata[Targets].from_bytes(store.get(f"{version}.targets.json") or b"")


def _add_curator(team: Team, name: str, email: str, keys: Path) -> None:
    import yaml

    data = yaml.safe_load((team.checklists / "curators.yaml").read_text())
    data["curators"].append({"name": name, "email": email, "public_key": public_key_of(keys)})
    (team.checklists / "curators.yaml").write_text(yaml.safe_dump(data))
    team.sign_root()
