"""Two revisions of a hub model (one weight file, the card's license and the signer differ):
the diff shows all three, a swap without justification is refused, and rollback puts the
old digest back into production where `curator verify` accepts it. All through the CLI,
against the local hub, the real stages, ledger, layout registry and keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from curator.registry.layout import LayoutRegistry
from tests.changes.helpers import checklists, files_of, key_publisher, keys, revision
from tests.decision.helpers import cli, cli_curator

REPO = "acme/tiny"
NAME = "acme/tiny"


def _json(*args: str) -> Any:
    done = cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def revisions(hub: Any, hub_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    signing = keys(tmp_path / "publisher-keys", "old", "new")
    v1 = revision(tmp_path / "v1", 0, "apache-2.0", signing["old"])
    v2 = revision(tmp_path / "v2", 1, "mit", signing["new"])
    c1 = hub_store.publish(REPO, files_of(v1), message="v1")
    c2 = hub_store.publish(REPO, files_of(v2), message="v2")
    publisher = key_publisher("acme", *(k.with_suffix(".pub") for k in signing.values()))
    monkeypatch.setenv("CURATOR_CHECKLISTS", str(checklists(tmp_path / "checklists",
                                                            ["fetch", "signature", "card"], [publisher])))
    assert cli_curator("Ada", "ada@example.org").returncode == 0
    r1 = _json("review", REPO, "--revision", c1, "--endpoint", hub.url, "--headless")
    r2 = _json("review", REPO, "--revision", c2, "--endpoint", hub.url, "--headless")
    return {"c1": c1, "c2": c2, "r1": r1, "r2": r2, "url": hub.url}


def test_diff_shows_weight_license_and_signer(revisions: dict[str, Any]) -> None:
    r1, r2 = revisions["r1"], revisions["r2"]
    assert r1["stages"]["signature"]["status"] == "passed", r1["stages"]["signature"]
    doc = _json("diff", r1["review_id"], r2["review_id"])
    changed = {f["path"]: f for f in doc["files"]["changed"]}
    weights = changed["model.safetensors"]
    assert weights["a"]["sha256"] != weights["b"]["sha256"] and weights["a"]["size"] != weights["b"]["size"]
    assert doc["card"]["license"]["a"] == "apache-2.0" and doc["card"]["license"]["b"] == "mit"
    old_pub, new_pub = doc["signature"]["signer"]["a"], doc["signature"]["signer"]["b"]
    assert old_pub and new_pub and old_pub != new_pub
    assert [h["what"] for h in doc["highlights"]][:2] == ["signer", "license"]
    assert next(iter(doc)) == "highlights"  # the top of the document, as of the screen
    human = cli("diff", r1["review_id"], r2["review_id"])
    assert human.returncode == 0 and human.stdout == ""
    assert "signer changed" in human.stderr and "license changed" in human.stderr


def test_swap_needs_justification_then_rollback_restores_the_old_digest(revisions: dict[str, Any]) -> None:
    r1, r2 = revisions["r1"]["review_id"], revisions["r2"]["review_id"]
    first = _json("decide", r1, "--approve", "--rationale", "first adoption")
    assert _json("verify", f"{NAME}:prod")["manifest_digest"] == first["manifest_digest"]

    refused = cli("decide", r2, "--approve", "--rationale", "newer weights")
    assert refused.returncode == 1 and refused.stdout == ""
    assert "swap needs --justification and --rollback-plan" in refused.stderr
    assert first["ref"] in refused.stderr  # names the model it would replace

    second = _json("decide", r2, "--approve", "--rationale", "newer weights", "--justification",
                   "fixes the tokenizer bug", "--rollback-plan", f"curator rollback {NAME}")
    prod = _json("verify", f"{NAME}:prod")
    assert prod["ok"] and prod["manifest_digest"] == second["manifest_digest"] != first["manifest_digest"]
    registry = LayoutRegistry(Path(_home()) / "registry")
    envelopes = _signed_change(registry, second["manifest_digest"])
    assert envelopes["replaces"]["digest"] == first["manifest_digest"]
    assert envelopes["justification"] == "fixes the tokenizer bug"
    by_ref = _json("diff", first["ref"], f"{NAME}:prod")  # registry refs work as sides too
    assert (by_ref["a"]["review_id"], by_ref["b"]["review_id"]) == (r1, r2)
    assert "model.safetensors" in {f["path"] for f in by_ref["files"]["changed"]}

    for blank in ([], ["--rationale", "  "]):  # like decide and retire, a rollback says why
        refused = cli("rollback", NAME, *blank)
        assert refused.returncode == 2 and "--rationale" in refused.stderr, refused.stderr
    assert _json("verify", f"{NAME}:prod")["manifest_digest"] == second["manifest_digest"]
    rolled = _json("rollback", NAME, "--rationale", "regression in production")
    assert rolled["to_digest"] == first["manifest_digest"]
    assert rolled["from_digest"] == second["manifest_digest"]
    after = _json("verify", f"{NAME}:prod")
    assert after["ok"] and after["manifest_digest"] == first["manifest_digest"]
    tags = {f"{n}:{t}": d for n, t, d in registry.tags()}
    assert tags[f"{NAME}:prod"] == first["manifest_digest"]
    assert tags[second["ref"]] == second["manifest_digest"]  # the registry keeps the newer artifact too
    # the rollback is signed, attached to the restored artifact, and recorded with the tag move
    assert any(d.artifact_type == "application/vnd.curator.rollback.v1+json"
               for d in registry.referrers(NAME, first["manifest_digest"]))
    _json("push", r2)  # pushing the rolled-back review again does not sneak it back into production
    assert _json("verify", f"{NAME}:prod")["manifest_digest"] == first["manifest_digest"]
    again = cli("rollback", NAME, "--rationale", "again")
    assert again.returncode == 1 and "no earlier approved artifact" in again.stderr
    assert cli("ledger", "verify").returncode == 0


def _home() -> str:
    import os

    return os.environ["CURATOR_HOME"]


def _signed_change(registry: LayoutRegistry, digest: str) -> dict[str, Any]:
    """The ``change`` inside the signed decision attached to ``digest`` (read from the registry)."""
    import base64

    from curator.registry.artifact import read_decision

    for descriptor in registry.referrers(NAME, digest):
        body, _ = registry.get_manifest(NAME, descriptor.digest)
        parsed = read_decision(body)
        if parsed:
            with registry.open_blob(NAME, parsed[1][0].digest) as chunks:
                envelope = json.loads(b"".join(chunks))
            change: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))["predicate"]["change"]
            return change
    raise AssertionError("no decision attached")


def test_a_retired_revision_is_withdrawn_for_rollback_swap_and_inventory(revisions: dict[str, Any]) -> None:
    """One projection of "approved": once v1 is retired in the quarterly review, rollback cannot
    pick it (nor name it with --to), a swap no longer replaces it, and the inventory says retired."""
    from curator.decision.history import approved_models
    from curator.ledger import Ledger

    r1, r2 = revisions["r1"]["review_id"], revisions["r2"]["review_id"]
    first = _json("decide", r1, "--approve", "--rationale", "first adoption")
    second = _json("decide", r2, "--approve", "--rationale", "newer weights", "--justification",
                   "fixes the tokenizer bug", "--rollback-plan", f"curator rollback {NAME}")
    assert cli("quarterly", "retire", first["ref"], "--rationale", "contains a backdoor").returncode == 0

    refused = cli("rollback", NAME, "--rationale", "regression")
    assert refused.returncode == 1 and "no earlier approved artifact" in refused.stderr, refused.stderr
    named = cli("rollback", NAME, "--to", first["ref"], "--rationale", "regression")
    assert named.returncode == 1 and "is no longer approved: retired on" in named.stderr, named.stderr
    assert "contains a backdoor" in named.stderr
    assert _json("verify", f"{NAME}:prod")["manifest_digest"] == second["manifest_digest"]

    with Ledger(Path(_home()) / "ledger.db") as ledger:
        assert [m.digest for m in approved_models(ledger)] == [second["manifest_digest"]]
    status = {e["manifest_digest"]: e["status"] for e in _json("inventory")["models"]}
    assert status[first["manifest_digest"]] == "retired" and status[second["manifest_digest"]] == "approved"
