"""The eval stage end to end on a tiny random GPT-2: the real child, the real lm-eval, offline."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from curator.core.evidence import CardEvidence, EvalEvidence
from curator.core.models import Status
from curator.stages.card import CardStage
from curator.stages.eval import EvalStage
from tests.eval.helpers import build_tiny_t5, policy_with, quiet_progress, review_context, with_card
from tests.readers import reads_fully

MODEL_INDEX = """model-index:
- name: tiny
  results:
  - task: {type: text-generation}
    dataset: {name: Tiny MC, type: tiny_mc}
    metrics:
    - {type: acc, value: 97.5, name: accuracy}
  - task: {type: text-generation}
    dataset: {name: Tiny MC, type: tiny_mc}
    metrics:
    - {type: acc_norm, value: MEASURED, name: normalized accuracy}
  - task: {type: text-generation}
    dataset: {name: Some Private Benchmark, type: acme/private}
    metrics:
    - {type: acc, value: 0.9}
"""


def test_stage_matches_lm_eval_and_flags_a_claim_far_above(tiny_model: Path, small_task: Path,
                                                           direct_small: dict[str, Any],
                                                           tmp_path: Path) -> None:
    direct = direct_small["tiny_mc"]
    index = MODEL_INDEX.replace("MEASURED", str(round(direct["acc_norm,none"] * 100, 2)))
    model = with_card(tiny_model, tmp_path / "carded", index)
    # the claim map learns tiny_mc the way a team adds its own tasks: data in checklists
    policy = policy_with(tasks={"causal": [str(small_task)]}, claims={"fail_sigma": 3, "warn_sigma": 2})
    checklists = tmp_path / "checklists"
    shutil.copytree(policy.directory, checklists)
    claim_map = checklists / "evals" / "claim-map.yaml"
    claim_map.write_text(claim_map.read_text() + "  - task: tiny_mc\n    datasets: [tiny_mc]\n"
                         "    metrics: [acc, acc_norm]\n")
    policy = type(policy)(policy.data, checklists)
    ctx = review_context(model, tmp_path / "work", policy)
    ctx.results["card"] = CardStage().run(ctx, quiet_progress("card"))
    assert len(ctx.results["card"].evidence["claims"]) == 3

    result = EvalStage().run(ctx, quiet_progress("eval"))

    measured = result.evidence["results"]["tiny_mc"]
    for metric in ("acc", "acc_stderr", "acc_norm", "acc_norm_stderr"):
        assert measured[metric] == direct[f"{metric},none"], metric
    assert result.status == Status.FAILED
    verdicts = {(c.get("metric"), c["verdict"]) for c in result.evidence["claims"]}
    assert verdicts == {("acc", "not-reproduced"), ("acc_norm", "consistent"), ("acc", "unchecked")}
    failed = [f for f in result.findings if f.code == "claim-not-reproduced"]
    assert len(failed) == 1 and "0.9750" in failed[0].message
    # what a report needs to stand on its own
    evidence = result.evidence
    assert evidence["model"]["files"]["model.safetensors"] == ctx.manifest.get("model.safetensors").sha256
    assert evidence["versions"]["lm_eval"] == "0.4.13"
    assert evidence["settings"]["trust_remote_code"] is False
    score = evidence["scores"][0]
    assert score["n_samples"] == {"original": 40, "effective": 40} and len(score["task_hash"]) == 64
    assert evidence["tasks"][0]["data_files"] and evidence["tasks"][0]["config_sha256"]
    assert evidence["requests"]["computed"] == 160
    # the typed readers hold every value recorded, and pair each claim with its measurement
    typed = reads_fully(EvalEvidence, evidence)
    reads_fully(CardEvidence, ctx.results["card"].evidence)
    judged = {c.metric: c for c in typed.claims if c.verdict == "consistent"}
    assert judged["acc_norm"].measured == measured["acc_norm"] and judged["acc_norm"].mapped_task == "tiny_mc"
    assert dict(typed.results["tiny_mc"]) == measured and typed.model.kind == "causal"


def test_curator_task_set_runs_offline_by_default(tiny_model: Path, tmp_path: Path) -> None:
    ctx = review_context(tiny_model, tmp_path / "work", policy_with(limit=10))
    result = EvalStage().run(ctx, quiet_progress("eval"))
    assert result.status == Status.PASSED, result.findings
    assert set(result.evidence["results"]) == {"curator_basics", "curator_completion"}
    assert {t["source"] for t in result.evidence["tasks"]} == {"curator"}
    assert result.evidence["claims_source"].startswith("the card stage did not run")
    assert all(s["n_samples"]["effective"] == 10 for s in result.evidence["scores"])


def test_a_seq2seq_model_runs_with_lm_evals_seq2seq_backend(tmp_path: Path) -> None:
    model = build_tiny_t5(tmp_path / "tiny-t5")
    ctx = review_context(model, tmp_path / "work", policy_with(limit=5))
    result = EvalStage(tasks=["curator_basics"]).run(ctx, quiet_progress("eval"))
    assert result.status == Status.PASSED, result.findings
    assert result.evidence["model"]["kind"] == "seq2seq"
    assert result.evidence["scores"][0]["n_samples"]["effective"] == 5


def test_builtin_task_runs_on_a_local_parquet_export(tiny_model: Path, tmp_path: Path) -> None:
    """arc_easy's own lm-eval YAML, pointed at a parquet export the test writes (ARC's columns)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": f"q{i}", "question": f"Which is number {i}?", "answerKey": "B",
             "choices": {"text": ["one", "two", "three", "four"], "label": ["A", "B", "C", "D"]}}
            for i in range(6)]
    export = tmp_path / "exports" / "allenai" / "ai2_arc" / "ARC-Easy"
    export.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), export / "test-00000-of-00001.parquet")
    policy = policy_with(datasets_dir=str(tmp_path / "exports"))
    ctx = review_context(tiny_model, tmp_path / "work", policy)

    result = EvalStage(tasks=["arc_easy", "hellaswag"]).run(ctx, quiet_progress("eval"))

    tasks = {t["task"]: t for t in result.evidence["tasks"]}
    assert tasks["arc_easy"]["status"] == "ran" and "local export" in tasks["arc_easy"]["origin"]
    assert result.evidence["scores"][0]["n_samples"]["effective"] == 6
    assert tasks["hellaswag"]["status"] == "unavailable"
    assert "Rowan/hellaswag is not on this machine" in tasks["hellaswag"]["reason"]
    assert result.status == Status.WARNED
    assert [f.code for f in result.findings] == ["task-unavailable"]


def test_custom_code_is_refused_without_running_it(tiny_model: Path, tmp_path: Path) -> None:
    model = tmp_path / "evil"
    shutil.copytree(tiny_model, model)
    marker = tmp_path / "IMPORTED"
    config = json.loads((model / "config.json").read_text())
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilModel"}
    (model / "config.json").write_text(json.dumps(config))
    (model / "modeling_evil.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "from transformers import GPT2LMHeadModel as EvilModel\n")
    ctx = review_context(model, tmp_path / "work", policy_with())

    result = EvalStage().run(ctx, quiet_progress("eval"))

    assert result.status == Status.FAILED
    assert [f.code for f in result.findings] == ["custom-code-refused"]
    assert "modeling_evil.EvilModel" in result.findings[0].message
    assert "child" not in result.evidence  # nothing was started
    assert not marker.exists()


def test_not_a_language_model_is_skipped_with_the_reason(tmp_path: Path) -> None:
    model = tmp_path / "classifier"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"architectures": ["BertForSequenceClassification"],
                                                   "model_type": "bert"}))
    (model / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
    result = EvalStage().run(review_context(model, tmp_path / "work", policy_with()), quiet_progress("eval"))
    assert result.status == Status.SKIPPED
    assert "BertForSequenceClassification is not a causal or seq2seq" in result.evidence["reason"]


def test_weights_load_only_after_scan_passed(tiny_model: Path, tmp_path: Path) -> None:
    ctx = review_context(tiny_model, tmp_path / "work", policy_with(), scan=Status.WARNED)
    result = EvalStage().run(ctx, quiet_progress("eval"))
    assert result.status == Status.SKIPPED
    assert result.evidence["reason"] == "scan is warned: weights are loaded only after scan is passed"


def test_pickled_weights_are_not_loaded_unless_policy_allows(tmp_path: Path, tiny_model: Path) -> None:
    model = tmp_path / "pickled"
    model.mkdir()
    shutil.copy(tiny_model / "config.json", model / "config.json")
    (model / "pytorch_model.bin").write_bytes(b"not even read")
    result = EvalStage().run(review_context(model, tmp_path / "work", policy_with()), quiet_progress("eval"))
    assert result.status == Status.SKIPPED
    assert "found: bin" in result.evidence["reason"]


def test_a_model_without_tokenizer_is_skipped(tmp_path: Path, tiny_model: Path) -> None:
    model = tmp_path / "no-tokenizer"
    model.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(tiny_model / name, model / name)
    result = EvalStage().run(review_context(model, tmp_path / "work", policy_with()), quiet_progress("eval"))
    assert result.status == Status.SKIPPED
    assert result.evidence["reason"].startswith("no tokenizer files")


def test_files_changed_after_fetch_are_not_loaded(tiny_model: Path, tmp_path: Path) -> None:
    model = tmp_path / "swapped"
    shutil.copytree(tiny_model, model)
    ctx = review_context(model, tmp_path / "work", policy_with())
    with (model / "model.safetensors").open("r+b") as fh:  # same size, other bytes
        fh.seek(-4, os.SEEK_END)
        fh.write(b"\x00\x01\x02\x03")
    result = EvalStage().run(ctx, quiet_progress("eval"))
    assert result.status == Status.FAILED
    assert [f.code for f in result.findings] == ["files-changed"]


@pytest.mark.parametrize("bad", ["seven", None])
def test_policy_typos_are_refused(bad: Any, tiny_model: Path, tmp_path: Path) -> None:
    from curator.core.errors import UsageError

    section = {"batchsize": 8} if bad is None else {"backend": {"kind": bad}}
    ctx = review_context(tiny_model, tmp_path / "work", policy_with(**section))
    with pytest.raises(UsageError):
        EvalStage().run(ctx, quiet_progress("eval"))
