"""Look-alike names: near misses of trusted publishers and inventory models, from the name alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.core.models import Candidate, Severity, Status
from curator.ledger import Ledger
from curator.ledger.standings import standings
from curator.stages.card import lookalike_findings
from curator.stages.card.lookalike import distance, skeleton, trusted_publishers
from tests.card.conftest import Grader
from tests.card.helpers import card_text, codes

TRUSTED = ["meta-llama", "mistralai", "google", "Qwen", "acme-labs"]
INVENTORY = ["meta-llama/Llama-3.1-8B", "google/gemma-2-2b"]


@pytest.mark.parametrize(("repo_id", "resembles", "why"), [
    ("meta-1lama/Llama-3.1-8B", "meta-llama", "look-alike characters"),  # 1 for l
    ("meta-Ilama/x", "meta-llama", "look-alike characters"),  # capital I for l
    ("rneta-llama/x", "meta-llama", "look-alike characters"),  # rn for m
    ("goog1e/x", "google", "look-alike characters"),
    ("g00gle/x", "google", "look-alike characters"),  # 0 for o
    ("metа-llama/x", "meta-llama", "look-alike characters"),  # Cyrillic а
    ("meta_llama/x", "meta-llama", "differs only in separators"),
    ("metallama/x", "meta-llama", "differs only in separators"),
    ("mistrai/x", "mistralai", "2 edits away"),
    ("mistarlai/x", "mistralai", "1 edit away"),  # swapped letters
    ("gogle/x", "google", "1 edit away"),
    ("acme-lab/x", "acme-labs", "1 edit away"),
])
def test_near_misses_of_trusted_publishers(repo_id: str, resembles: str, why: str) -> None:
    findings = lookalike_findings(repo_id, TRUSTED, [])
    publisher = [f for f in findings if f.code == "lookalike-publisher"]
    assert len(publisher) == 1, findings
    assert publisher[0].severity == Severity.HIGH
    assert f"'{resembles}'" in publisher[0].message and why in publisher[0].message


@pytest.mark.parametrize("repo_id", [
    "meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-70B", "Meta-Llama/anything", "google/t5",
    "someone/meta-llama-finetune", "bigscience/bloom", "openai/whisper", "qwen/Qwen2-7B",
    "ai/x", "microsoft/phi-2",
])
def test_real_names_are_not_flagged(repo_id: str) -> None:
    assert lookalike_findings(repo_id, TRUSTED, INVENTORY) == []


def test_inventory_model_near_miss_and_same_name_elsewhere() -> None:
    model = lookalike_findings("meta-llama/L1ama-3.1-8B", [], ["meta-llama/Llama-3.1-8B"])
    assert model == [], "the same publisher may publish what it likes"
    squat = lookalike_findings("meta-lama/Llama-3.1-8B", [], INVENTORY)
    assert [f.code for f in squat] == ["lookalike-publisher", "lookalike-model"]
    assert "'meta-llama/Llama-3.1-8B'" in squat[1].message
    reupload = lookalike_findings("someone/llama_3.1_8b", [], INVENTORY)
    assert [(f.code, f.severity) for f in reupload] == [("lookalike-name", Severity.MEDIUM)]


def test_short_names_need_exact_look_alike_letters() -> None:
    assert lookalike_findings("a1/x", ["ai"], []) != []  # 1 for i
    assert lookalike_findings("ab/x", ["ai"], []) == []  # 3 letters or fewer: no edits allowed
    assert lookalike_findings("Owen/x", ["Qwen"], [])[0].code == "lookalike-publisher"


def test_non_ascii_name_is_reported() -> None:
    assert [f.code for f in lookalike_findings("sоmeone/x", [], [])] == ["name-not-ascii"]


def test_skeleton_and_distance() -> None:
    assert skeleton("Meta-Llama") == skeleton("rneta_1lama") == "metallama"
    assert distance("mistralai", "mistarlai", 2) == 1
    assert distance("abc", "xyz", 1) == 2  # capped at cap + 1
    assert distance("a" * 96, "b" * 96, 2) == 3


def test_trusted_publishers_file_read_defensively(tmp_path: Path) -> None:
    section = {"lookalike": {"protected": ["extra-org", "org/model"]}}
    assert trusted_publishers(tmp_path, section) == (["extra-org", "org/model"], [])
    (tmp_path / "publishers.yaml").write_text(
        "publishers:\n  - match: acme-labs\n  - match: meta-llama/*\n  - match: '*-research/*'\n"
        "  - match: mistralai/Mistral-7B-v0.1\n  - just-a-string\n  - {required: true}\n")
    names, problems = trusted_publishers(tmp_path, {})
    assert names == ["acme-labs", "meta-llama", "mistralai/Mistral-7B-v0.1"] and problems == []
    (tmp_path / "publishers.yaml").write_text("publishers: [unclosed\n")
    names, problems = trusted_publishers(tmp_path, section)
    assert names == ["extra-org", "org/model"]
    assert [p.code for p in problems] == ["publishers-unreadable"]


def test_stage_flags_a_lookalike_of_publishers_yaml_and_fails(grade: Grader) -> None:
    result = grade(card_text("vendor_full.md"), repo_id="acme-1abs/acme-7b")
    assert result.status == Status.FAILED
    (finding,) = [f for f in result.findings if f.code == "lookalike-publisher"]
    assert "'acme-labs'" in finding.message
    assert result.evidence["lookalike"] == [{
        "kind": "publisher", "name": "acme-1abs", "resembles": "acme-labs",
        "source": "trusted", "why": "look-alike characters", "severity": "high"}]
    exact = grade(card_text("vendor_full.md"), repo_id="mistra1ai/Mistral-7B-v0.1")
    assert "lookalike-model" in codes(exact)
    assert grade(card_text("vendor_full.md"), repo_id="acme-labs/acme-7b").status == Status.PASSED


def test_stage_uses_the_ledger_inventory(grade: Grader, tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.db")
    review = ledger.create_review(Candidate("tiny-org/sentiment-v2", "main", "hub", commit="b" * 40))
    ledger.append("decision", {"outcome": "approved"}, review.id)
    ledger.set_state(review.id, "decided")
    result = grade(card_text("vendor_full.md"), repo_id="tiny_org/sentiment-v2", ledger=ledger)
    assert {"lookalike-publisher", "lookalike-model"} <= set(codes(result))
    local = grade(card_text("vendor_full.md"), repo_id="local/tiny_org", source="local",
                  ledger=ledger)
    assert local.evidence["lookalike"] == [], "a local folder's name imitates nothing"
    ledger.close()


def test_name_check_needs_only_the_name(checklists: Path, tmp_path: Path) -> None:
    """Before download: a hub candidate that does not even exist is checked without a network."""
    from curator.core.policy import Policy
    from curator.stages.card import name_check

    ledger = Ledger(tmp_path / "l.db")
    review = ledger.create_review(Candidate("tiny-org/sentiment-v2", "main", "hub", commit="b" * 40))
    ledger.append("decision", {"outcome": "approved"}, review.id)
    ledger.set_state(review.id, "decided")
    policy = Policy.load(checklists)
    known = standings(ledger)
    squat = Candidate("acme-1abs/acme-7b", "main", "hub", endpoint="http://127.0.0.1:9")
    assert [f.code for f in name_check(squat, policy, known)] == ["lookalike-publisher"]
    inventory = Candidate("tiny-0rg/sentiment-v2", "main", "hub")
    assert {f.code for f in name_check(inventory, policy, known)} == {
        "lookalike-publisher", "lookalike-model"}
    assert name_check(Candidate("acme-labs/acme-7b", "main", "hub"), policy, known) == []
    assert name_check(Candidate("local/acme-1abs", "local", "local"), policy, known) == []
    ledger.close()


def test_a_retired_impostor_never_poisons_the_genuine_name(checklists: Path, tmp_path: Path) -> None:
    """An impostor approved by mistake, then retired, is no longer inventory: the genuine model
    it imitated is not flagged as a look-alike of it."""
    from curator.core.policy import Policy
    from curator.stages.card import name_check

    ledger = Ledger(tmp_path / "l.db")
    impostor = ledger.create_review(Candidate("tiny-0rg/sentiment-v2", "main", "hub", commit="b" * 40))
    ledger.append("decision", {"outcome": "approved", "final": "approved",
                               "subject_digest": "sha256:" + "1" * 64}, impostor.id)
    ledger.set_state(impostor.id, "decided")
    policy = Policy.load(checklists)
    genuine = Candidate("tiny-org/sentiment-v2", "main", "hub")
    assert "lookalike-model" in {f.code for f in name_check(genuine, policy, standings(ledger))}
    ledger.append("quarterly_action", {"action": "retire", "rationale": "an impostor",
                                       "digest": "sha256:" + "1" * 64}, impostor.id)
    assert "lookalike-model" not in {f.code for f in name_check(genuine, policy, standings(ledger))}
    ledger.close()
