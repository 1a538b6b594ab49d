"""The registry's signed state (TUF) against the OCI layout and a real docker-registry: the
attacks of issue #15 on the deploy gate, and the TUF properties the gate relies on (rollback,
freeze, threshold, key rotation, the two-person rule). Every attack is made the way someone
with write access to the registry or the deploy workspace would: by writing bytes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from tuf.api.metadata import Metadata, MetaFile, Snapshot, Targets, Timestamp

from curator.attest.dsse import sign_statement
from curator.attest.keys import FileSigner, init_keys
from curator.core.errors import DecisionRefused
from curator.core.policy import Policy
from curator.decision.decide import DecisionRequest, assess, decide
from curator.decision.signed_state import anchor_path, expiry, removal, sign_state_change
from curator.registry.artifact import ModelArtifact, model_artifact
from curator.registry.interface import MANIFEST_TYPE, fallback_tag
from curator.registry.transfer import push_model
from curator.state import content
from curator.state.client import read_anchor
from curator.state.keys import CuratorSigner
from curator.state.roles import refresh_state
from curator.state.store import StateStore
from tests.decision.helpers import add_to_team, cli, curator, make_model, reviewed, rotate
from tests.registry.conftest import Backend
from tests.registry.test_gate import Approved, approved  # noqa: F401 (fixture)


def _store(target: Approved) -> StateStore:
    return StateStore(target.backend.registry)


def _env(target: Approved) -> dict[str, str]:
    return {"CURATOR_CHECKLISTS": str(target.checklists)}


def _ref(target: Approved, ref: str) -> str:
    if target.backend.distribution:
        return f"{target.backend.distribution.host}/{ref}"
    return f"oci:{target.backend.registry.location}:{ref}"


def _verify(target: Approved, ref: str, *extra: str) -> tuple[int, dict[str, object]]:
    done = cli("verify", _ref(target, ref), "--json", *extra, env=_env(target))
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def _problem(report: dict[str, object]) -> str:
    problems = report["problems"]
    assert isinstance(problems, list) and problems, report
    return f"{problems[0]['code']}: {problems[0]['message']}"


def _evil_copy(target: Approved) -> ModelArtifact:
    """The approved model with an extra evil.py, reviewed, its artifact not pushed."""
    (target.model / "evil.py").write_text("import os\nos.system('true')\n")
    review = reviewed(target.session, target.model)
    manifest = assess(target.session, review.id).manifest
    assert manifest is not None
    _n, _t, artifact = model_artifact(target.session.policy, review, manifest)
    return artifact


def _publish_raw(store: StateStore, targets: Metadata[Targets], signer: FileSigner) -> None:
    """Publish targets + snapshot + timestamp signed by ``signer`` alone, by hand: what an
    attacker holding one key (or none the root trusts) can write into the registry."""
    old_ts = Metadata[Timestamp].from_bytes(store.get("timestamp.json") or b"")
    old_snap = old_ts.signed.snapshot_meta.version
    store.put(f"{targets.signed.version}.targets.json", targets.to_bytes())
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    snapshot = Metadata(
        Snapshot(
            version=old_snap + 1, expires=expires, meta={"targets.json": MetaFile(targets.signed.version)}
        )
    )
    snapshot.sign(CuratorSigner(signer))
    store.put(f"{old_snap + 1}.snapshot.json", snapshot.to_bytes())
    timestamp = Metadata(
        Timestamp(version=old_ts.signed.version + 1, expires=expires, snapshot_meta=MetaFile(old_snap + 1))
    )
    timestamp.sign(CuratorSigner(signer))
    store.put("timestamp.json", timestamp.to_bytes())


def _current_targets(store: StateStore) -> Metadata[Targets]:
    ts = Metadata[Timestamp].from_bytes(store.get("timestamp.json") or b"")
    snap = Metadata[Snapshot].from_bytes(store.get(f"{ts.signed.snapshot_meta.version}.snapshot.json") or b"")
    version = snap.signed.meta["targets.json"].version
    return Metadata[Targets].from_bytes(store.get(f"{version}.targets.json") or b"")


# -- attack 1: a forged approval from keys in the deploy workspace ------------------------------


def test_attack1_workspace_keys_and_a_self_signed_state_are_refused(
    approved: Approved,  # noqa: F811
    tmp_path: Path,
) -> None:
    home = approved.session.workspace
    made = cli("keys", "init", "--name", "Mallory", "--email", "m@evil.example", env=_env(approved))
    assert made.returncode == 0 and "curator state rotate" in made.stderr
    mallory = FileSigner(home.keys_dir)
    # the old trust file, written by hand in the deploy workspace, means nothing
    (home.keys_dir / "trusted.yaml").write_text(
        yaml.safe_dump(
            {
                "curators": [
                    {"name": "Mallory", "email": "m@evil.example", "public_key": mallory.public_key_pem}
                ]
            }
        )
    )
    artifact = _evil_copy(approved)
    statement = json.loads(json.dumps(approved.statement()))
    statement["subject"][0]["digest"]["sha256"] = artifact.digest.split(":", 1)[1]
    statement["predicate"]["curator"] = mallory.identity.to_dict()
    push_model(
        approved.backend.registry,
        approved.name,
        approved.tag,
        artifact,
        approved.model,
        [sign_statement(statement, mallory)],
    )
    code, report = _verify(approved, f"{approved.name}:{approved.tag}")
    assert code == 1 and report["reason"] == "tag-mismatch", report
    code, report = _verify(approved, f"{approved.name}@{artifact.digest}")
    assert code == 1 and report["reason"] == "unknown-target", report
    # Mallory also writes a signed state approving the evil digest, signed with her key
    store = _store(approved)
    forged = _current_targets(store)
    forged.signatures.clear()
    content.approve(
        forged.signed, approved.name, artifact.digest, len(artifact.manifest), approved.tag, {}, True
    )
    forged.signed.version += 1
    forged.sign(CuratorSigner(mallory))
    _publish_raw(store, forged, mallory)
    code, report = _verify(approved, f"{approved.name}@{artifact.digest}")
    assert code == 1 and report["reason"] == "signed-state"
    assert "not signed by enough trusted curator keys" in _problem(report)


# -- attack 2: revocation that lived in a mutable index; a later rejection -----------------------


def test_attack2_retired_stays_retired_whatever_the_index_says(approved: Approved) -> None:  # noqa: F811
    digest = approved.outcome.manifest_digest
    ref = f"{approved.name}@{digest}"
    # what 'curator quarterly retire' signs into the state (its CLI run: tests/quarterly)
    sign_state_change(
        approved.session,
        approved.backend.registry,
        removal(
            approved.name, digest, content.RETIRED, approved.ada, "backdoor found", approved.session.policy
        ),
        [approved.ada],
        "retire-test",
    )
    # the attacker re-PUTs the fallback tag with the genuine approval only (no rejection)
    approved.replace_decision([approved.envelope()])
    index, _ = approved.backend.registry.get_manifest(approved.name, fallback_tag(digest))
    assert len(json.loads(index)["manifests"]) == 1
    # and puts the tag back
    body, _ = approved.backend.registry.get_manifest(approved.name, digest)
    approved.backend.registry.put_manifest(approved.name, body, MANIFEST_TYPE, approved.tag)
    for text in (ref, f"{approved.name}:{approved.tag}"):
        code, report = _verify(approved, text)
        assert code == 1 and report["reason"] == "retired", report
        today = dt.datetime.now(dt.UTC).date().isoformat()
        assert f"retired on {today} by Ada: backdoor found" in _problem(report)


def test_attack2_a_later_rejection_of_an_approved_digest_wins(
    approved: Approved,  # noqa: F811
    tmp_path: Path,
) -> None:
    session = approved.session
    again = reviewed(session, approved.model)  # the same bytes, reviewed again: the same digest
    outcome = decide(
        session,
        DecisionRequest(again.id, False, "contains a backdoor"),
        approved.ada,
        approved.backend.registry,
    )
    assert outcome.manifest_digest == approved.outcome.manifest_digest
    for text in (f"{approved.name}:{approved.tag}", f"{approved.name}@{outcome.manifest_digest}"):
        code, report = _verify(approved, text)
        assert code == 1 and report["reason"] == "rejected", report
        assert "contains a backdoor" in _problem(report)
    # and the same bytes are never approved again: refused before anything is signed
    third = reviewed(session, approved.model)
    # refused before anything is signed: by the re-check (a rejection of the same artifact) or the state
    refusal = r"(rejected on |rejected the same artifact ).*contains a backdoor"
    with pytest.raises(DecisionRefused, match=refusal):
        decide(session, DecisionRequest(third.id, True, "fine now"), approved.ada, approved.backend.registry)
    assert session.ledger.events(third.id, kind="decision") == []


# -- attack 3: rollback and freeze by re-tagging; a rollback to a rejected digest ----------------


def _second_version(target: Approved, tmp_path: Path) -> str:
    (target.model / "config.json").write_text('{"model_type": "gpt2", "n_layer": 3}\n')
    review = reviewed(target.session, target.model)
    outcome = decide(
        target.session,
        DecisionRequest(review.id, True, "v2", swap=_swap()),
        target.ada,
        target.backend.registry,
    )
    return outcome.manifest_digest


def _swap() -> object:
    from curator.decision.swap import SwapRequest

    return SwapRequest(justification="newer config", rollback_plan="curator rollback")


def test_attack3_retagging_prod_to_the_superseded_digest_is_refused(
    approved: Approved,  # noqa: F811
    tmp_path: Path,
) -> None:
    v1 = approved.outcome.manifest_digest
    v2 = _second_version(approved, tmp_path)
    assert _verify(approved, f"{approved.name}:prod")[0] == 0
    body, _ = approved.backend.registry.get_manifest(approved.name, v1)
    approved.backend.registry.put_manifest(approved.name, body, MANIFEST_TYPE, "prod")  # no signed rollback
    code, report = _verify(approved, f"{approved.name}:prod")
    assert code == 1 and report["reason"] == "tag-mismatch"
    assert v1 in _problem(report) and v2 in _problem(report)


def test_attack3_rollback_refuses_a_rejected_digest(approved: Approved, tmp_path: Path) -> None:  # noqa: F811
    from curator.changes.rollback import rollback
    from curator.core.errors import DecisionRefused
    from tests.decision.helpers import gate

    v1 = approved.outcome.manifest_digest
    _second_version(approved, tmp_path)
    (approved.model / "config.json").write_text('{"model_type": "gpt2", "n_layer": 2}\n')
    again = reviewed(approved.session, approved.model)  # v1's bytes again, now rejected
    rejected = decide(
        approved.session,
        DecisionRequest(again.id, False, "contains a backdoor"),
        approved.ada,
        approved.backend.registry,
    )
    assert rejected.manifest_digest == v1
    registry = approved.backend.registry
    try:
        rollback(
            approved.session,
            registry,
            approved.name,
            approved.ada,
            gate(approved.session, registry),
            None,
            "v2 misbehaves",
        )
        raise AssertionError("rollback picked a rejected digest")
    except DecisionRefused as exc:
        assert "no earlier approved artifact" in exc.message
    try:
        rollback(
            approved.session,
            registry,
            approved.name,
            approved.ada,
            gate(approved.session, registry),
            approved.outcome.ref,
            "v2 misbehaves",
        )
        raise AssertionError("rollback --to a rejected digest")
    except DecisionRefused as exc:
        assert "rejected" in exc.message and "contains a backdoor" in exc.message


# -- TUF properties: rollback, freeze, threshold, rotation ---------------------------------------


def test_older_timestamp_snapshot_or_targets_are_refused(approved: Approved, tmp_path: Path) -> None:  # noqa: F811
    store = _store(approved)
    old = {name: store.get(name) for name in ("timestamp.json",)}
    old_targets = _current_targets(store)
    _second_version(approved, tmp_path)
    assert _verify(approved, f"{approved.name}:prod")[0] == 0  # the state folder has seen the new one
    new_ts = store.get("timestamp.json")
    assert new_ts is not None and old["timestamp.json"] is not None
    store.put("timestamp.json", old["timestamp.json"])
    code, report = _verify(approved, f"{approved.name}:prod")
    assert code == 1 and "rolled back" in _problem(report), report
    store.put("timestamp.json", new_ts)
    # an older snapshot or targets served under the current names
    ts = Metadata[Timestamp].from_bytes(new_ts)
    snap_name = f"{ts.signed.snapshot_meta.version}.snapshot.json"
    snap = Metadata[Snapshot].from_bytes(store.get(snap_name) or b"")
    targets_name = f"{snap.signed.meta['targets.json'].version}.targets.json"
    current_targets = store.get(targets_name)
    store.put(targets_name, old_targets.to_bytes())
    code, report = _verify(approved, f"{approved.name}:prod", "--state-dir", str(tmp_path / "fresh"))
    assert code == 1 and report["reason"] == "signed-state", report
    assert current_targets is not None
    store.put(targets_name, current_targets)
    older_snap = store.get(f"{ts.signed.snapshot_meta.version - 1}.snapshot.json")
    assert older_snap is not None
    store.put(snap_name, older_snap)
    code, report = _verify(approved, f"{approved.name}:prod", "--state-dir", str(tmp_path / "fresh2"))
    assert code == 1 and "mixes versions" in _problem(report), report


def test_an_expired_timestamp_is_refused_until_refreshed(
    approved: Approved,  # noqa: F811
    tmp_path: Path,
) -> None:
    policy = approved.session.policy
    anchor = read_anchor(anchor_path(policy))
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
    refresh_state(_store(approved), anchor, [approved.ada], expiry(policy), now=long_ago)
    code, report = _verify(approved, f"{approved.name}:{approved.tag}")
    assert code == 1 and "expired" in _problem(report) and "state refresh" in _problem(report)
    where = ["--registry", approved.backend.distribution.url] if approved.backend.distribution else []
    if where:  # the CLI a scheduled job runs (the workspace layout is not this backend's folder)
        done = cli("state", "refresh", "--key-dir", str(tmp_path / "ada"), *where, env=_env(approved))
        assert done.returncode == 0, done.stderr
    else:
        refresh_state(_store(approved), anchor, [approved.ada], expiry(policy))
    assert _verify(approved, f"{approved.name}:{approved.tag}")[0] == 0


def test_one_signature_under_a_threshold_of_two_is_refused(approved: Approved, tmp_path: Path) -> None:  # noqa: F811
    # the team moves to two signatures per change; Ada alone then publishes a change by hand
    bob = _join(approved, tmp_path, "Bob", threshold=2)
    artifact = _evil_copy(approved)
    push_model(approved.backend.registry, approved.name, "evil", artifact, approved.model, [])
    store = _store(approved)
    alone = _current_targets(store)
    alone.signatures.clear()
    content.approve(alone.signed, approved.name, artifact.digest, len(artifact.manifest), "evil", {}, False)
    alone.signed.version += 1
    alone.sign(CuratorSigner(approved.ada))
    _publish_raw(store, alone, approved.ada)
    code, report = _verify(approved, f"{approved.name}:evil")
    assert code == 1 and "not signed by enough trusted curator keys" in _problem(report), report
    assert bob.keyid  # Bob's signature was the one missing


def test_rotation_makes_a_revoked_keys_later_signatures_worthless(
    approved: Approved,  # noqa: F811
    tmp_path: Path,
) -> None:
    bob = _join(approved, tmp_path, "Bob")
    add_to_team(
        approved.checklists, "Ada", "ada@example.org", approved.ada.public_key_pem, revoked="2026-12-01"
    )
    rotate(approved.backend.registry, Policy.load(approved.checklists), [approved.ada, bob])
    store = _store(approved)
    late = _current_targets(store)
    late.signatures.clear()
    content.promote(late.signed, approved.name, approved.outcome.manifest_digest, "promote")
    late.signed.version += 1
    late.sign(CuratorSigner(approved.ada))  # Ada's key, after the root dropped it
    _publish_raw(store, late, approved.ada)
    code, report = _verify(approved, f"{approved.name}@{approved.outcome.manifest_digest}")
    assert code == 1 and report["reason"] == "signed-state", report


def _join(target: Approved, tmp_path: Path, name: str, threshold: int = 1) -> FileSigner:
    init_keys(tmp_path / name.lower(), name, f"{name.lower()}@example.org")
    signer = FileSigner(tmp_path / name.lower())
    add_to_team(target.checklists, name, f"{name.lower()}@example.org", signer.public_key_pem)
    if threshold != 1:
        data = yaml.safe_load((target.checklists / "default.yaml").read_text())
        data["decision"]["approvals_required"] = threshold
        (target.checklists / "default.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    rotate(target.backend.registry, Policy.load(target.checklists), [target.ada, signer])
    return signer


# -- the two-person rule -------------------------------------------------------------------------


def test_a_proposal_is_refused_until_a_second_curator_co_signs(backend: Backend, tmp_path: Path) -> None:
    from tests.decision.helpers import isolated_checklists, open_session, state_for

    session = open_session(isolated_checklists(tmp_path / "cl", ["fetch"], approvals_required=2))
    try:
        ws = session.workspace
        ada = curator(ws, tmp_path / "ada", "Ada", "ada@example.org")
        bob = curator(ws, tmp_path / "bob", "Bob", "bob@example.org")
        cy = curator(ws, tmp_path / "cy", "Cy", "cy@example.org")
        state_for(backend.registry, ws)
        review = reviewed(session, make_model(tmp_path / "tiny"), opened_by=ada)
        first = decide(session, DecisionRequest(review.id, True, "looks right"), bob, backend.registry)
        assert first.outcome == "pending"
        proposal = StateStore(backend.registry).get(f"proposal.{review.id}.json")
        assert proposal is not None and len(Metadata[Targets].from_bytes(proposal).signatures) == 1
        env = {"CURATOR_CHECKLISTS": str(session.policy.directory)}
        digest_ref = f"local/tiny@{first.manifest_digest}"
        ref = (
            f"{backend.distribution.host}/{digest_ref}"
            if backend.distribution
            else f"oci:{backend.registry.location}:{digest_ref}"
        )
        refused = cli("verify", ref, "--json", env=env)
        assert refused.returncode == 1 and json.loads(refused.stdout)["reason"] == "unknown-target"
        second = decide(session, DecisionRequest(review.id, True, "agreed"), cy, backend.registry)
        assert second.outcome == "approved"
        passed = cli("verify", ref, "--json", env=env)
        assert passed.returncode == 0, passed.stdout
        published = _current_targets(StateStore(backend.registry))
        assert {bob.keyid, cy.keyid} <= set(published.signatures)
    finally:
        session.close()


# -- the ledger is anchored in the state ---------------------------------------------------------


def test_ledger_verify_fails_when_rows_the_state_recorded_are_gone(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from curator.registry.layout import LayoutRegistry
    from tests.decision.helpers import isolated_checklists, open_session

    checklists = isolated_checklists(tmp_path / "cl", ["fetch"])
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists))
    session = open_session(checklists)
    try:
        ada = curator(session.workspace, tmp_path / "ada", "Ada", "ada@example.org")
        layout = LayoutRegistry(session.workspace.registry_dir)
        for i in range(2):
            review = reviewed(session, make_model(tmp_path / f"m{i}", seed=i))
            decide(session, DecisionRequest(review.id, True, "ok"), ada, layout)
        ledger_path = session.workspace.ledger_path
    finally:
        session.close()
    assert cli("ledger", "verify", "--no-checkpoint").returncode == 0
    head = _current_targets(StateStore(layout)).signed.unrecognized_fields["x-curator"]["ledger"]
    db = sqlite3.connect(ledger_path)
    db.execute("DELETE FROM events WHERE seq >= ?", (head["rows"],))  # the chain itself stays intact
    db.commit()
    db.close()
    done = cli("ledger", "verify", "--no-checkpoint")
    # the ledger's own recorded head names it first; the signed state's head would too
    assert done.returncode == 1 and "were deleted" in done.stderr, done.stderr


def test_the_inventory_follows_the_registrys_signed_state(approved: Approved) -> None:  # noqa: F811
    """A rejection signed into the registry's state by another curator's workspace (this ledger
    never heard of it) makes this workspace's inventory say so, with who and why; the ledger
    alone would still say approved."""
    from curator.inventory.build import build_inventory

    registry = approved.backend.registry
    (before,) = [e for e in build_inventory(approved.session, registry).entries
                 if e.manifest_digest == approved.outcome.manifest_digest]
    assert before.status == "approved", before.reasons
    change = removal(approved.name, approved.outcome.manifest_digest, "rejected", approved.ada,
                     "a backdoor found by the red team", approved.session.policy)
    sign_state_change(approved.session, registry, change, [approved.ada], "elsewhere-0001")
    (after,) = [e for e in build_inventory(approved.session, registry).entries
                if e.manifest_digest == approved.outcome.manifest_digest]
    assert after.status == "retired"
    assert after.reasons and "rejected on" in after.reasons[0] and "red team" in after.reasons[0]


def test_a_curator_key_folder_is_a_signer_uri(approved: Approved, tmp_path: Path) -> None:  # noqa: F811
    """``curator-key:DIR`` loads the curator's key for TUF signing, only for its own public key."""
    from curator.core.errors import UsageError

    folder = tmp_path / "ada-uri"
    init_keys(folder, "Ada", "ada@example.org")
    mine = CuratorSigner(FileSigner(folder))
    loaded = CuratorSigner.from_priv_key_uri(f"curator-key:{folder}", mine.public_key)
    assert loaded.keyid == mine.keyid and loaded.sign(b"x").keyid == mine.keyid
    with pytest.raises(UsageError, match="not"):
        CuratorSigner.from_priv_key_uri(f"curator-key:{folder}", CuratorSigner(approved.ada).public_key)
    with pytest.raises(UsageError, match="not a curator key URI"):
        CuratorSigner.from_priv_key_uri(f"file:{folder}", mine.public_key)
