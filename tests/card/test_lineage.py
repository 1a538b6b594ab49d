"""Lineage: bases from the card (and the adapter config), each checked against curator's ledger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.models import Candidate
from curator.ledger import Ledger
from curator.ledger.standings import standings
from tests.card.conftest import Grader
from tests.card.helpers import card_text, codes, field


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger(tmp_path / "ledger.db")
    yield opened
    opened.close()


def decide(ledger: Ledger, repo_id: str, outcome: str = "approved", state: str = "decided",
           digest: str | None = None) -> str:
    review = ledger.create_review(Candidate(repo_id=repo_id, revision="main", source="hub",
                                            commit="a" * 40))
    ledger.append("decision", {"outcome": outcome, "curator": {"name": "test"},
                               **({"subject_digest": digest} if digest else {})}, review.id)
    ledger.set_state(review.id, state)
    return review.id


def test_approved_models_reads_decided_approvals_only(ledger: Ledger) -> None:
    decide(ledger, "acme-labs/acme-7b")
    decide(ledger, "acme-labs/rejected", outcome="rejected")
    decide(ledger, "acme-labs/pending", state="open")
    later = decide(ledger, "acme-labs/changed-mind")
    ledger.append("decision", {"outcome": "rejected"}, later)  # the latest decision counts
    assert set(standings(ledger).approved()) == {"acme-labs/acme-7b"}
    assert standings(None).approved() == {}


def test_a_retired_base_is_reported_as_retired_not_approved(grade: Grader, ledger: Ledger) -> None:
    """A base model retired in the quarterly review no longer lends a derived model its
    approval: the lineage names the retirement (who, when, why) and blocks."""
    review = decide(ledger, "acme-labs/acme-7b", digest="sha256:" + "a" * 64)
    assert "base-model-not-approved" in codes(grade(card_text("adapter_list.md"), ledger=ledger))
    ledger.append("quarterly_action", {"action": "retire", "rationale": "licence withdrawn",
                                       "curator": {"name": "Lee Lead"}, "digest": "sha256:" + "a" * 64},
                  review)
    result = grade(card_text("adapter_list.md"), ledger=ledger)
    base = result.evidence["lineage"]["bases"][0]
    assert (base["repo_id"], base["approved"]) == ("acme-labs/acme-7b", False)
    assert base["withdrawn"].startswith("retired on ") and "Lee Lead: licence withdrawn" in base["withdrawn"]
    (withdrawn,) = [f for f in result.findings if f.code == "base-model-withdrawn"]
    assert withdrawn.severity.value == "high" and "licence withdrawn" in withdrawn.message
    assert field(result, "lineage")["status"] != "verified"


def test_a_later_rejection_of_the_same_digest_wins(ledger: Ledger) -> None:
    decide(ledger, "acme-labs/acme-7b", digest="sha256:" + "b" * 64)
    assert set(standings(ledger).approved()) == {"acme-labs/acme-7b"}
    decide(ledger, "acme-labs/acme-7b", outcome="rejected", digest="sha256:" + "b" * 64)
    known = standings(ledger)
    assert known.approved() == {}
    withdrawn = known.withdrawn("ACME-labs/acme-7b")
    assert withdrawn is not None and withdrawn.status == "rejected"


def test_adapter_list_with_one_base_approved(grade: Grader, ledger: Ledger) -> None:
    decide(ledger, "acme-labs/acme-7b")
    result = grade(card_text("adapter_list.md"), ledger=ledger)
    lineage = result.evidence["lineage"]
    assert lineage["relation"] == "adapter"
    assert [(b["repo_id"], b["location"], b["line"], b["approved"]) for b in lineage["bases"]] == [
        ("acme-labs/acme-7b", "base_model[0]", 5, True),
        ("acme-labs/acme-7b-instruct", "base_model[1]", 6, False)]
    assert field(result, "lineage")["status"] == "declared"
    assert "acme-labs/acme-7b-instruct" in field(result, "lineage")["note"]
    (not_approved,) = [f for f in result.findings if f.code == "base-model-not-approved"]
    assert "acme-labs/acme-7b-instruct (base_model[1], line 6)" in not_approved.message


def test_every_base_approved_verifies_lineage(grade: Grader, ledger: Ledger) -> None:
    first = decide(ledger, "acme-labs/acme-7b-instruct")
    decide(ledger, "Community/ACME-7b-math")  # repo ids compare without case
    result = grade(card_text("merge.md"), ledger=ledger)
    lineage = field(result, "lineage")
    assert lineage["status"] == "verified"
    assert lineage["evidence"][0] == {
        "location": f"ledger review {first}", "kind": "ledger", "line": None,
        "excerpt": f"base model acme-labs/acme-7b-instruct is approved (review {first})"}
    assert "base-model-not-approved" not in codes(result)
    assert result.evidence["lineage"]["relation"] == "merge"


def test_adapter_config_names_another_base(grade: Grader) -> None:
    config = json.dumps({"base_model_name_or_path": "evil-org/acme-7b", "peft_type": "LORA"})
    result = grade(card_text("yaml_only.md"), files={"adapter_config.json": config.encode()})
    lineage = result.evidence["lineage"]
    assert lineage["inferred_relation"] == "adapter"
    assert [b["repo_id"] for b in lineage["bases"]] == ["acme-labs/acme-7b", "evil-org/acme-7b"]
    (mismatch,) = [f for f in result.findings if f.code == "lineage-mismatch"]
    assert mismatch.file == "adapter_config.json" and "evil-org/acme-7b" in mismatch.message


def test_adapter_config_pinned_and_broken(grade: Grader) -> None:
    config = json.dumps({"base_model_name_or_path": "evil-org/acme-7b"}).encode()
    result = grade(card_text("yaml_only.md"), files={"adapter_config.json": config}, pin=True)
    assert "lineage-mismatch" in codes(result)
    broken = grade(card_text("yaml_only.md"), files={"adapter_config.json": b"{not json"})
    assert "lineage-mismatch" not in codes(broken)


def test_odd_bases_and_relations(grade: Grader) -> None:
    result = grade("---\nlicense: mit\nbase_model: [./outputs/checkpoint-500, someone/model, 7]\n"
                   "base_model_relation: distilled\n---\n# m\n", repo_id="someone/model")
    assert {"base-model-not-a-repo-id", "base-model-is-itself", "base-model-unreadable",
            "base-model-relation-unknown"} <= set(codes(result))
    no_base = grade("---\nlicense: mit\nbase_model_relation: merge\n---\n# m\n")
    assert "base-model-relation-without-base" in codes(no_base)


def test_prose_lineage_label_and_trainer_sentence(grade: Grader) -> None:
    result = grade("---\nlicense: mit\n---\n# m\n\n- **Finetuned from model:** "
                   "[org/base](https://huggingface.co/org/base)\n")
    (base,) = result.evidence["lineage"]["bases"]
    assert (base["repo_id"], base["source"], base["location"]) == (
        "org/base", "label", "m > Finetuned from model")
    assert field(result, "lineage")["evidence"][0]["kind"] == "label"
