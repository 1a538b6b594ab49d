"""Claim mapping, planning and judging, on the shipped claim map (no model needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from curator.core.policy import checklists_dir
from curator.stages.eval.claims import ClaimMap, Judgement, Mapping, claimed_value
from curator.stages.eval.plan import check_claims, make_plan


@pytest.fixture(scope="module")
def claim_map() -> ClaimMap:
    return ClaimMap.load(checklists_dir())


def claim(**fields: Any) -> dict[str, Any]:
    base = {"task": "text-generation", "task_name": None, "dataset": None, "dataset_name": None,
            "config": None, "split": None, "metric": "acc", "metric_name": None, "value": 0.5,
            "n_shot": None, "verified": False, "location": "model-index[0].results[0].metrics[0]"}
    return {**base, **fields}


@pytest.mark.parametrize(("fields", "expected"), [
    ({"dataset": "ai2_arc", "config": "ARC-Challenge", "metric": "acc_norm", "n_shot": 25},
     Mapping("arc_challenge", "acc_norm", 25)),
    ({"dataset": "ai2_arc", "config": "ARC-Easy"}, Mapping("arc_easy", "acc", None)),
    ({"dataset_name": "AI2 Reasoning Challenge (25-Shot)", "dataset": "ai2_arc", "n_shot": 25},
     Mapping("arc_challenge", "acc", 25)),
    ({"dataset": "Rowan/HellaSwag", "metric": "normalized accuracy"}, Mapping("hellaswag", "acc_norm", None)),
    ({"dataset": "truthful_qa", "config": "multiple_choice", "metric": "mc2"},
     Mapping("truthfulqa_mc2", "acc", None)),
    ({"dataset": "curator/basics", "metric": "accuracy"}, Mapping("curator_basics", "acc", None)),
])
def test_known_claims_map_to_an_lm_eval_task(claim_map: ClaimMap, fields: dict[str, Any],
                                              expected: Mapping) -> None:
    assert claim_map.map(claim(**fields)) == expected


@pytest.mark.parametrize(("fields", "why"), [
    ({"dataset": "acme/private-bench"}, "no lm-eval task known for dataset 'acme/private-bench'"),
    ({"dataset": "hellaswag", "metric": "f1"}, "metric 'f1' of 'hellaswag' has no lm-eval equivalent"),
    ({"dataset": "winogrande", "metric": "acc_norm"}, "metric 'acc_norm' of 'winogrande'"),
])
def test_other_claims_say_why_they_stay_unchecked(claim_map: ClaimMap, fields: dict[str, Any],
                                                   why: str) -> None:
    mapped = claim_map.map(claim(**fields))
    assert isinstance(mapped, str) and mapped.startswith(why)


def test_values_are_read_on_lm_evals_scale() -> None:
    assert claimed_value({"value": 61.2}, "acc") == (pytest.approx(0.612), "read as a percentage")
    assert claimed_value({"value": "61.2%"}, "acc") == (pytest.approx(0.612), "read as a percentage")
    assert claimed_value({"value": 0.612}, "acc") == (0.612, "")
    assert claimed_value({"value": 12.5}, "perplexity") == (12.5, "")
    assert claimed_value({"value": "high"}, "acc")[0] is None


def test_judgement_in_measured_stderr() -> None:
    judge = Judgement(fail_sigma=3, warn_sigma=2, min_stderr=0.01)
    assert judge.verdict(0.60, 0.50, 0.02)[0] == "not-reproduced"  # +5 stderr
    assert judge.verdict(0.55, 0.50, 0.02)[0] == "gap"  # +2.5
    assert judge.verdict(0.53, 0.50, 0.02)[0] == "consistent"
    assert judge.verdict(0.40, 0.50, 0.02)[0] == "understated"
    assert judge.verdict(0.52, 0.50, 0.0)[0] == "gap"  # stderr 0 counts as min_stderr


def test_plan_groups_runs_by_n_shot_and_measures_own_n_shot_in_the_default_run(
        claim_map: ClaimMap, tmp_path: Path) -> None:
    claims = [claim(dataset="ai2_arc", config="ARC-Challenge", metric="acc_norm", n_shot=25),
              claim(dataset="curator/basics", n_shot=0),  # curator_basics' own n-shot
              claim(dataset="curator/completion", n_shot=5),
              claim(dataset="nobody/knows")]
    plan = make_plan(["curator"], claims, claim_map, checklists_dir() / "evals", tmp_path)
    runs = {r["key"]: sorted(r["tasks"]) for r in plan.runs}
    assert runs == {"default": ["curator_basics", "curator_completion"], "25-shot": ["arc_challenge"],
                    "5-shot": ["curator_completion"]}
    assert {r.name: r.source for r in plan.refs} == {
        "curator_basics": "curator", "curator_completion": "curator", "arc_challenge": "builtin"}
    assert plan.claims[3]["verdict"] == "unchecked"


def test_check_claims_judges_against_the_right_run(claim_map: ClaimMap, tmp_path: Path) -> None:
    claims = [claim(dataset="curator/basics", value=90.0),
              claim(dataset="ai2_arc", config="ARC-Easy", value=0.5)]
    plan = make_plan(["curator_basics"], claims, claim_map, checklists_dir() / "evals", tmp_path)
    rows = {"curator_basics": {"task": "curator_basics", "run": "default", "n_shot": 0,
                               "metrics": {"acc": 0.5, "acc_stderr": 0.05, "acc_norm": 0.45},
                               "n_samples": {"original": 100, "effective": 100}}}
    missing = {"arc_easy": "dataset allenai/ai2_arc/ARC-Easy is not on this machine"}
    findings = check_claims(plan, rows, missing, Judgement(), {"dtype": "float32", "batch_size": 8},
                            True, "0.4.13")
    first, second = plan.claims
    assert (first["verdict"], first["z"]) == ("not-reproduced", 8.0)
    assert any("acc_norm (the other accuracy) measured 0.4500" in n for n in first["notes"])
    assert any("chat template" in n for n in first["notes"])
    assert second["verdict"] == "unchecked" and "not on this machine" in second["reason"]
    assert [f.code for f in findings] == ["claim-not-reproduced", "claims-unchecked"]
    assert "card claims 0.9000 but curator measured 0.5000 ± 0.0500" in findings[0].message


def test_a_score_that_is_not_a_finite_number_never_agrees_with_a_claim() -> None:
    """NaN compares false with everything: a child (or broken fp16 weights) reporting NaN or
    Infinity must not make a card's claim 'consistent' or its result readable."""
    from curator.stages.eval.runner import result_problem

    judge = Judgement(fail_sigma=3, warn_sigma=2, min_stderr=0.01)
    for measured, stderr in ((float("nan"), 0.01), (0.5, float("nan")), (0.5, float("inf"))):
        assert judge.verdict(0.9, measured, stderr)[0] == "not-reproduced", (measured, stderr)
    row = {"task": "arc_easy", "run": "default", "metrics": {"acc": float("nan")}}
    assert result_problem({"rows": [row]}) == "metric 'acc' is not a finite number"
    row["metrics"] = {"acc": 0.5, "acc_stderr": float("inf")}
    assert result_problem({"rows": [row]}) == "metric 'acc_stderr' is not a finite number"
