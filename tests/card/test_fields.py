"""Each test card gets the grade a curator would give each field, with the place it came from."""

from __future__ import annotations

import pytest

from curator.core.models import StageResult, Status
from tests.card.conftest import Grader
from tests.card.helpers import card_text, codes, field, locations

FIELDS = ("publisher_identity", "training_data", "training_pipeline", "eval_summary", "lineage")

# card -> expected grade of each field, in FIELDS order ("-" = missing, "d" = declared)
GRADES = {
    "vendor_full.md": "ddddd",
    "trainer_bare.md": "--d-d",
    "template_bare.md": "-----",
    "yaml_only.md": "-d-dd",
    "prose_only.md": "dd---",
    "malformed_yaml.md": "dd---",
    "duplicate_keys.md": "-d---",
    "model_index_multi.md": "---dd",
    "adapter_list.md": "-dd-d",
    "merge.md": "--d-d",
    "non_english_zh.md": "dddd-",
    "non_english_es.md": "dd---",
}
STATUS = {
    "vendor_full.md": Status.PASSED,
    "trainer_bare.md": Status.WARNED,  # 2 fields, base model not approved
    "template_bare.md": Status.FAILED,  # nothing, no license
    "yaml_only.md": Status.WARNED,
    "prose_only.md": Status.WARNED,
    "malformed_yaml.md": Status.FAILED,  # its license was in the broken YAML
    "duplicate_keys.md": Status.FAILED,  # the last 'license' wins: non-commercial, denied
    "model_index_multi.md": Status.WARNED,
    "adapter_list.md": Status.WARNED,
    "merge.md": Status.WARNED,
    "non_english_zh.md": Status.PASSED,
    "non_english_es.md": Status.FAILED,  # cc-by-nc-4.0
}


@pytest.mark.parametrize("name", sorted(GRADES))
def test_every_field_of_every_test_card(grade: Grader, name: str) -> None:
    result = grade(card_text(name))
    got = "".join({"declared": "d", "missing": "-", "verified": "v"}[field(result, f)["status"]]
                  for f in FIELDS)
    assert got == GRADES[name], f"{name}: {got} != {GRADES[name]}"
    assert result.status == STATUS[name]
    for name_ in FIELDS:
        grade_ = field(result, name_)
        if grade_["status"] != "missing":
            assert grade_["evidence"], "a present field says where it was found"
            assert all(e["location"] and e["excerpt"] for e in grade_["evidence"])


def test_vendor_card_evidence_locations(grade: Grader) -> None:
    result = grade(card_text("vendor_full.md"))
    assert locations(result, "publisher_identity")[:2] == [
        "Acme-7B > Model Details > Developed by", "Acme-7B > Model Details > Model Card Contact"]
    publisher = field(result, "publisher_identity")["evidence"][0]
    assert publisher["kind"] == "label" and publisher["line"] == 66
    assert "Acme Labs" in publisher["excerpt"]
    assert locations(result, "training_data")[:2] == [
        "datasets", "Acme-7B > Training Details > Training Data"]
    assert field(result, "training_data")["evidence"][0]["line"] == 7
    assert "Acme-7B > Training Details > Training Procedure" in locations(result, "training_pipeline")
    pipeline = " ".join(e["excerpt"] for e in field(result, "training_pipeline")["evidence"])
    assert "github.com/acme-labs/acme-train" in pipeline
    eval_first = field(result, "eval_summary")["evidence"][0]
    assert eval_first["location"] == "model-index" and eval_first["excerpt"].startswith("3 claims")
    assert field(result, "lineage")["evidence"][0]["excerpt"].startswith("Acme-7B is a 7-billion")
    assert result.evidence["license"] == {
        "id": "apache-2.0", "verdict": "allowed", "link": None, "name": None,
        "location": "license", "line": 4, "declared": result.evidence["license"]["declared"]}


def test_template_card_points_at_its_placeholders(grade: Grader) -> None:
    result = grade(card_text("template_bare.md"))
    data = field(result, "training_data")
    assert data["evidence"] == []
    assert data["placeholders"][0]["location"] == (
        "Model Card for Model ID > Training Details > Training Data")
    assert data["placeholders"][0]["line"] == 77
    assert "line 77" in data["note"]
    who = [p["location"] for p in field(result, "publisher_identity")["placeholders"]]
    assert "Model Card for Model ID > Model Details > Model Description > Developed by" in who
    assert "license-missing" in codes(result)
    assert result.evidence["license"]["verdict"] == "missing"


def test_trainer_card_empty_model_index_and_placeholder_data(grade: Grader) -> None:
    result = grade(card_text("trainer_bare.md"))
    assert field(result, "eval_summary")["placeholders"][0]["location"] == "model-index"
    assert field(result, "training_data")["placeholders"][0]["location"] == (
        "my-awesome-model > Training and evaluation data")
    assert locations(result, "lineage") == ["base_model", "my-awesome-model"]
    assert "Framework versions" in " ".join(locations(result, "training_pipeline"))
    assert codes(result) == ["base-model-not-approved"]


def test_prose_only_card(grade: Grader) -> None:
    result = grade(card_text("prose_only.md"))
    assert result.evidence["card"]["front_matter"] is False
    assert locations(result, "training_data") == ["Tiny Sentiment Classifier > Training data"]
    outline = [s["location"] for s in result.evidence["card"]["outline"]]
    assert not any("Training procedure" in o for o in outline), "a heading inside code is not one"
    assert result.evidence["license"]["id"] == "apache-2.0"
    assert codes(result) == ["license-not-in-metadata"]


def test_malformed_yaml_still_grades_the_prose(grade: Grader) -> None:
    result = grade(card_text("malformed_yaml.md"))
    malformed = [f for f in result.findings if f.code == "card-metadata-malformed"]
    assert len(malformed) == 1 and "line 5" in malformed[0].message
    assert result.evidence["card"]["metadata_readable"] is False
    assert locations(result, "training_data") == ["broken-front-matter > Training Data"]
    assert locations(result, "publisher_identity") == ["broken-front-matter > Model Card Authors"]


def test_non_english_headings_count(grade: Grader) -> None:
    zh = grade(card_text("non_english_zh.md"))
    assert locations(zh, "training_data") == ["datasets", "中文对话模型 > 训练数据"]
    assert locations(zh, "training_pipeline") == ["中文对话模型 > 训练细节"]
    assert locations(zh, "eval_summary") == ["中文对话模型 > 评测结果"]
    es = grade(card_text("non_english_es.md"))
    # "TODO" is a placeholder, but not inside the Spanish "TODOS"
    assert field(es, "training_data")["evidence"][0]["excerpt"].startswith("TODOS los artículos")


def test_placeholder_only_field_is_missing_with_todo(grade: Grader) -> None:
    card = "# m\n\n## Training data\n\nTODO\n\n## Model Card Authors\n\n[More Information Needed]\n"
    result = grade(card)
    assert field(result, "training_data")["status"] == "missing"
    assert field(result, "publisher_identity")["status"] == "missing"


def test_repo_owner_counts_only_when_the_checklist_says_so(grade: Grader, checklists) -> None:  # type: ignore[no-untyped-def]
    card = "---\nlicense: mit\n---\n# m\n"
    assert field(grade(card, repo_id="acme-labs/m"), "publisher_identity")["status"] == "missing"
    path = checklists / "provenance.yaml"
    path.write_text(path.read_text().replace("repo_owner_counts: false", "repo_owner_counts: true"))
    owned = field(grade(card, repo_id="acme-labs/m"), "publisher_identity")
    assert owned["status"] == "declared"
    assert owned["evidence"][0]["kind"] == "hub-account"
    assert "acme-labs" in owned["evidence"][0]["excerpt"]
    assert field(grade(card, repo_id="local/m", source="local"),
                 "publisher_identity")["status"] == "missing"


def _signature(status: str, decision: str) -> StageResult:
    return StageResult("signature", Status.PASSED if status == "verified" else Status.FAILED,
                       evidence={"status": status, "trust": {
                           "decision": decision, "why": f"key abc is a listed signer ({decision})"}})


@pytest.mark.parametrize(("status", "decision", "grade_"), [
    ("verified", "expected", "verified"),
    ("verified", "tofu-match", "verified"),
    ("verified", "tofu-new", "declared"),
    ("verified", "mismatch", "declared"),
    ("failed", "expected", "declared"),
    ("unsigned", "unknown", "declared"),
])
def test_publisher_verified_only_by_a_trusted_verified_signature(
        grade: Grader, status: str, decision: str, grade_: str) -> None:
    result = grade(card_text("vendor_full.md"), repo_id="acme-labs/acme-7b",
                   results={"signature": _signature(status, decision)})
    publisher = field(result, "publisher_identity")
    assert publisher["status"] == grade_
    if grade_ == "verified":
        assert publisher["evidence"][0]["kind"] == "signature"
        assert publisher["evidence"][0]["location"] == "signature stage"
    else:
        assert decision in publisher["note"] or status in publisher["note"]


def test_a_trusted_signature_verifies_publisher_even_without_a_card_claim(grade: Grader) -> None:
    result = grade("---\nlicense: mit\n---\n# m\n",
                   results={"signature": _signature("verified", "expected")})
    assert field(result, "publisher_identity")["status"] == "verified"


def test_policy_counts_decide_the_status(grade: Grader, checklists) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from curator.core.policy import Policy

    path = checklists / "default.yaml"
    data = yaml.safe_load(path.read_text())
    data["card"]["passed"] = {"present": 5, "verified": 1}
    data["card"]["required"] = ["lineage"]
    path.write_text(yaml.safe_dump(data))
    vendor = grade(card_text("vendor_full.md"), policy=Policy.load(checklists))
    assert vendor.status == Status.WARNED, "5 present but none verified"
    assert any("passing needs 5 present, 1 verified" in r for r in vendor.evidence["summary"])
    prose = grade(card_text("prose_only.md"), policy=Policy.load(checklists))
    assert prose.status == Status.FAILED
    assert "Lineage is required and missing" in prose.evidence["summary"]
