"""model-index -> claims: every metric with its task, dataset, split, n-shot and key path."""

from __future__ import annotations

from curator.stages.card.claims import claims_from_model_index
from curator.stages.card.parse import parse_card
from tests.card.conftest import Grader
from tests.card.helpers import card_text, codes


def _claims(text: str) -> list[dict[str, object]]:
    card = parse_card(text.encode())
    claims, _ = claims_from_model_index(card.metadata, card.key_lines, card.name)
    return [c.to_dict() for c in claims]


def test_several_tasks_with_locations_and_hub_verification(grade: Grader) -> None:
    result = grade(card_text("model_index_multi.md"))
    claims = result.evidence["claims"]
    assert [(c["task"], c["dataset"], c["config"], c["split"], c["metric"], c["value"],
             c["n_shot"], c["verified"]) for c in claims] == [
        ("text-classification", "glue", "sst2", "validation", "accuracy", 0.9312, None, True),
        ("text-classification", "glue", "sst2", "validation", "f1", 93.1, None, False),
        ("question-answering", "rajpurkar/squad_v2", None, "validation", "exact_match", 71.5, 0,
         False),
        ("text-generation", "openai/gsm8k", "main", "test", "exact_match", 0.55, 8, False),
    ]
    assert [c["location"] for c in claims] == [
        "model-index[0].results[0].metrics[0]", "model-index[0].results[0].metrics[1]",
        "model-index[0].results[1].metrics[0]", "model-index[0].results[2].metrics[0]"]
    assert claims[0]["line"] == 16 and claims[0]["has_verify_token"] is True
    assert claims[1]["has_verify_token"] is False
    # the fourth result has no metrics: a finding naming it, and the hub library refuses it too
    unreadable = [f for f in result.findings if f.code == "claim-unreadable"]
    assert len(unreadable) == 1 and "model-index[0].results[3]" in unreadable[0].message
    assert "card-metadata-hub-rejects" in codes(result)


def test_vendor_leaderboard_style_args_and_source(grade: Grader) -> None:
    claims = grade(card_text("vendor_full.md")).evidence["claims"]
    assert [(c["dataset"], c["n_shot"]) for c in claims] == [
        ("allenai/ai2_arc", 25), ("Rowan/hellaswag", 10), ("cais/mmlu", 5)]
    assert claims[0]["source"] == {
        "name": "Open LLM Leaderboard",
        "url": "https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard"}
    assert claims[0]["dataset_name"] == "AI2 Reasoning Challenge (25-Shot)"


def test_hub_verified_claims_verify_eval_only_when_the_checklist_trusts_hub_tokens(
        grade: Grader, checklists) -> None:  # type: ignore[no-untyped-def]
    card = card_text("model_index_multi.md")
    assert grade(card).evidence["fields"]["eval_summary"]["status"] == "declared"
    path = checklists / "provenance.yaml"
    text = path.read_text()
    eval_rule = text.index("  eval_summary:")
    start = text.index("verified_by: []", eval_rule)
    path.write_text(text[:start] + "verified_by: [hub-token]" + text[start + 15:])
    grade_ = grade(card).evidence["fields"]["eval_summary"]
    assert grade_["status"] == "verified"
    assert grade_["evidence"][0] == {"location": "model-index[0].results[0].metrics[0]",
                                     "excerpt": "hub-verified: glue accuracy=0.9312", "kind": "hub",
                                     "line": 16}


def test_tolerant_shapes() -> None:
    # a dict where a list belongs, values as strings with %, shots in a metric name
    claims = _claims("---\nmodel-index:\n  name: m\n  results:\n    task: {type: tc}\n"
                     "    dataset: {type: d, name: D}\n    metrics:\n"
                     "      - {type: acc, value: '85.3 %', name: 5-shot accuracy}\n"
                     "      - {type: bleu, value: n/a}\n      - {type: x, value: true}\n---\n")
    assert [(c["metric"], c["value"], c["n_shot"]) for c in claims] == [
        ("acc", 85.3, 5), ("bleu", "n/a", None), ("x", "True", None)]
    assert claims[0]["location"] == "model-index.results.metrics[0]"


def test_garbage_model_index_never_raises() -> None:
    for doc in ("model-index: 3", "model-index: [1, 2]", "model-index: [{results: 5}]",
                "model-index: [{results: [{metrics: [{value: {a: 1}}]}]}]",
                "model-index: [{results: [{metrics: [7]}]}]"):
        card = parse_card(f"---\n{doc}\n---\n".encode())
        claims, problems = claims_from_model_index(card.metadata, card.key_lines, card.name)
        assert all(c.value is None or isinstance(c.value, float | str) for c in claims)
        assert all(p.code == "claim-unreadable" for p in problems)
