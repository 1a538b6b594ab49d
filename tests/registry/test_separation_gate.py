"""The deploy gate's separation-of-duties check against decisions made by hand and signed with
genuine trusted keys: an approval that hides its opener, approvals naming different openers,
and the opener (under another e-mail, but their own key) among the approvers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from curator.attest.dsse import sign_statement
from curator.attest.keys import FileSigner, init_keys, public_key_of
from curator.core.policy import Policy
from tests.decision.helpers import rotate
from tests.registry.test_gate import Approved, approved  # noqa: F401 (fixture)


def _signed(statement: dict[str, Any], signer: FileSigner, opener: dict[str, str] | None) -> bytes:
    edited = json.loads(json.dumps(statement))
    edited["predicate"]["policy"]["approvals_required"] = 2
    edited["predicate"]["curator"] = signer.identity.to_dict()
    edited["predicate"].pop("opened_by", None)
    if opener is not None:
        edited["predicate"]["opened_by"] = opener
    return sign_statement(edited, signer)


@pytest.fixture
def bob(approved: Approved, tmp_path: Path) -> FileSigner:  # noqa: F811
    init_keys(tmp_path / "bob", "Bob", "bob@example.org")
    init_keys(tmp_path / "ada-laptop", "Ada", "ada@example.org")
    (approved.checklists / "curators.yaml").write_text(yaml.safe_dump({"curators": [
        {"name": "Ada", "email": "ada@example.org", "public_key": approved.ada.public_key_pem},
        {"name": "Ada", "email": "ada@example.org", "public_key": public_key_of(tmp_path / "ada-laptop")},
        {"name": "Bob", "email": "bob@example.org", "public_key": public_key_of(tmp_path / "bob")}]}))
    # and signed into the team's root, as a team adds curators ('curator state rotate')
    rotate(approved.backend.registry, Policy.load(approved.checklists),
           [approved.ada, FileSigner(tmp_path / "ada-laptop"), FileSigner(tmp_path / "bob")])
    return FileSigner(tmp_path / "bob")


def _gate(approved: Approved, bob: FileSigner, ada_says: dict[str, str] | None,  # noqa: F811
          bob_says: dict[str, str] | None) -> dict[str, Any]:
    statement = approved.statement()
    approved.replace_decision([_signed(statement, approved.ada, ada_says), _signed(statement, bob, bob_says)])
    code, report = approved.gate()
    assert code == (0 if not report["problems"] else 1)
    return report


OLGA = {"name": "Olga", "email": "olga@example.org", "keyid": "0" * 64}


def test_two_curators_who_did_not_open_the_review_pass(approved: Approved, bob: FileSigner) -> None:  # noqa: F811
    assert _gate(approved, bob, OLGA, OLGA)["problems"] == []


def test_an_approval_that_does_not_name_the_opener_is_refused(approved: Approved,  # noqa: F811
                                                              bob: FileSigner) -> None:
    report = _gate(approved, bob, OLGA, None)
    assert [p["code"] for p in report["problems"]] == ["separation-of-duties"]
    assert "does not say who opened it" in report["problems"][0]["message"]


def test_approvals_naming_different_openers_are_refused(approved: Approved,  # noqa: F811
                                                        bob: FileSigner) -> None:
    carl = {"name": "Carl", "email": "carl@example.org", "keyid": "1" * 64}
    report = _gate(approved, bob, OLGA, carl)
    assert report["reason"] == "separation-of-duties"
    assert "different curators" in report["problems"][0]["message"]


def test_the_opener_is_found_by_key_whatever_e_mail_the_record_shows(approved: Approved,  # noqa: F811
                                                                     bob: FileSigner, tmp_path: Path) -> None:
    from curator.attest.keys import read_identity

    laptop = read_identity(tmp_path / "ada-laptop")
    opener = {"name": "A. Nonymous", "email": "someone@else.example", "keyid": laptop.keyid}
    report = _gate(approved, bob, opener, opener)
    assert report["reason"] == "separation-of-duties"
    assert "Ada" in report["problems"][0]["message"]
