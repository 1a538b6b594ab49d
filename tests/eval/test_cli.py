"""`curator eval PATH`: lm-eval's exact numbers, the JSON contract, and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.eval.helpers import with_card

CLAIMS = """model-index:
- name: tiny
  results:
  - task: {type: text-generation}
    dataset: {name: curator basics, type: curator/basics}
    metrics:
    - {type: accuracy, value: 99.0}
"""


def curator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True, text=True,
                          timeout=600)


def test_eval_json_has_lm_evals_numbers_and_a_failed_claim_exits_1(
        tiny_model: Path, small_task: Path, direct_small: dict[str, Any], tmp_path: Path) -> None:
    model = with_card(tiny_model, tmp_path / "claimed", CLAIMS)

    run = curator("eval", str(model), "--task", str(small_task), "--task", "curator_basics", "--json")

    assert run.returncode == 1, run.stderr
    document = json.loads(run.stdout)  # one JSON document, nothing else
    measured = document["results"]["tiny_mc"]
    assert measured == {m.removesuffix(",none"): v for m, v in direct_small["tiny_mc"].items()
                        if "," in m}
    assert set(document["results"]["curator_basics"]) == {"acc", "acc_stderr", "acc_norm", "acc_norm_stderr"}
    [claim] = document["claims"]
    assert (claim["mapped_task"], claim["mapped_metric"], claim["claimed"]) == ("curator_basics", "acc", 0.99)
    assert claim["verdict"] == "not-reproduced"
    assert document["stages"]["scan"] == "passed" and document["status"] == "failed"
    assert document["evidence"]["settings"]["trust_remote_code"] is False


def test_eval_usage_errors_exit_2_with_one_line(tiny_model: Path, tmp_path: Path) -> None:
    missing = curator("eval", str(tmp_path / "nope"), "--task", "curator_basics")
    assert missing.returncode == 2
    assert missing.stderr.strip().count("\n") == 0 and "is not a model folder" in missing.stderr

    unknown = curator("eval", str(tiny_model), "--task", "no_such_task_anywhere", "--json")
    assert unknown.returncode == 2
    document = json.loads(unknown.stdout)
    assert document["status"] == "errored"
    assert "'no_such_task_anywhere' is not an lm-eval task here" in document["findings"][0]["message"]
