"""Round-2 attacks on the verify gate: approvals that are genuine signatures, yet do not
approve what the deploy pipeline is about to run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import yaml

from curator.attest.dsse import sign_statement
from curator.attest.keys import FileSigner, init_keys
from curator.core.policy import Policy
from curator.decision.decide import assess
from curator.registry.artifact import model_artifact
from curator.registry.transfer import push_model
from tests.decision.helpers import cli, rotate
from tests.registry.test_gate import Approved, approved  # noqa: F401 (fixture)


def _edited(statement: dict[str, Any], signer: FileSigner, **predicate: object) -> bytes:
    edited = json.loads(json.dumps(statement))
    edited["predicate"].update(predicate)
    edited["predicate"]["curator"] = signer.identity.to_dict()
    return sign_statement(edited, signer)


#: who opened the review these hand-made decisions approve: a third curator (separation of duties)
OPENER = {"name": "Olga", "email": "olga@example.org", "keyid": "0" * 64}


def _team(target: Approved, *members: tuple[str, str, FileSigner]) -> None:
    """The team trust file holds exactly these (name, email, key) entries, signed into the
    registry's root by everyone (``curator state rotate``)."""
    (target.checklists / "curators.yaml").write_text(yaml.safe_dump({"curators": [
        {"name": n, "email": e, "public_key": s.public_key_pem} for n, e, s in members]}))
    rotate(target.backend.registry, Policy.load(target.checklists), [target.ada, *(s for _, _, s in members)])


def test_approval_is_for_its_repository_only(approved: Approved) -> None:  # noqa: F811
    # someone with write access copies an approved model, decision and all, under another
    # model's name: the deploy asking for that name must not get these bytes
    statement = approved.statement()
    review = approved.session.ledger.get_review(statement["predicate"]["review_id"])
    manifest = assess(approved.session, review.id).manifest
    assert manifest is not None
    _name, _tag, artifact = model_artifact(approved.session.policy, review, manifest)
    push_model(approved.backend.registry, "acme/other-model", "prod", artifact, approved.model,
               [approved.envelope()])
    if approved.backend.distribution:
        ref = f"{approved.backend.distribution.host}/acme/other-model:prod"
    else:
        ref = f"oci:{approved.backend.registry.location}:acme/other-model:prod"
    done = cli("verify", ref, "--json", env={"CURATOR_CHECKLISTS": str(approved.checklists)})
    report = json.loads(done.stdout)
    # the signed state approves these bytes as approved.name only: under another name they
    # are no approved target at all
    assert done.returncode == 1 and report["reason"] == "unknown-target", report
    assert "acme/other-model" in report["problems"][0]["message"]


def test_one_curator_with_two_keys_is_one_approval(approved: Approved,  # noqa: F811
                                                   tmp_path: Path) -> None:
    # Ada rotated her key and the team file lists both: her two signatures are one approval
    init_keys(tmp_path / "ada-2027", "Ada", "ada@example.org")
    ada2 = FileSigner(tmp_path / "ada-2027")
    _team(approved, ("Ada", "ada@example.org", approved.ada), ("Ada L.", "ADA@example.org", ada2))
    policy = {**approved.statement()["predicate"]["policy"], "approvals_required": 2}
    approved.replace_decision([_edited(approved.statement(), approved.ada, policy=policy, opened_by=OPENER),
                               _edited(approved.statement(), ada2, policy=policy, opened_by=OPENER)])
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "insufficient-approvals", report


def test_approvals_from_different_reviews_do_not_add_up(approved: Approved,  # noqa: F811
                                                        tmp_path: Path) -> None:
    # two pending approvals of the same bytes, each from a review that never reached two
    # approvals (one may have been rejected afterwards), stitched into one decision referrer
    init_keys(tmp_path / "bob", "Bob", "bob@example.org")
    bob = FileSigner(tmp_path / "bob")
    _team(approved, ("Ada", "ada@example.org", approved.ada), ("Bob", "bob@example.org", bob))
    policy = {**approved.statement()["predicate"]["policy"], "approvals_required": 2}
    approved.replace_decision([_edited(approved.statement(), approved.ada, policy=policy, opened_by=OPENER),
                               _edited(approved.statement(), bob, policy=policy, opened_by=OPENER,
                                       review_id="rev-other-0001")])
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "insufficient-approvals", report
    # the same two curators in one review pass: the rule is about the review, not the people
    approved.replace_decision([_edited(approved.statement(), approved.ada, policy=policy, opened_by=OPENER),
                               _edited(approved.statement(), bob, policy=policy, opened_by=OPENER)])
    code, report = approved.gate()
    assert code == 0, report


def test_the_gate_holds_waivers_to_the_team_rules(approved: Approved) -> None:  # noqa: F811
    # a curator whose local checklists let fetch be waived, or a waiver run for ten years, signs
    # a genuine decision: the deploy gate applies the team's unwaivable and max_waiver_days
    statement = approved.statement()
    signed_on = dt.date.fromisoformat(statement["predicate"]["time"][:10])
    fetch = {"stage": "fetch", "reason": "mirror flaky", "status": "failed",
             "expires": (signed_on + dt.timedelta(days=30)).isoformat()}
    approved.replace_decision([_edited(statement, approved.ada, waivers=[fetch])])
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "policy-violation", report
    assert "fetch" in report["problems"][0]["message"]
    decade = {"stage": "eval", "reason": "no GPU", "status": "errored",
              "expires": (signed_on + dt.timedelta(days=3650)).isoformat()}
    approved.replace_decision([_edited(statement, approved.ada, waivers=[decade])])
    code, report = approved.gate()
    assert code == 1 and report["reason"] == "policy-violation", report
    year = {**decade, "expires": (signed_on + dt.timedelta(days=365)).isoformat()}
    approved.replace_decision([_edited(statement, approved.ada, waivers=[year])])
    code, report = approved.gate()
    assert code == 0, report
