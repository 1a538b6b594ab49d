"""`curator card PATH [--json]`: the CLI contract (JSON keys, exit codes, one clean document)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.card.helpers import CARDS


def run(*args: str, checklists: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CURATOR_CHECKLISTS": str(checklists)}
    return subprocess.run([sys.executable, "-m", "curator", "card", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_json_document_for_a_folder(tmp_path: Path, checklists: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    shutil.copy(CARDS / "vendor_full.md", folder / "README.md")
    done = run(str(folder), "--json", checklists=checklists)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)  # the whole of stdout is one document
    assert doc["status"] == "passed"
    assert set(doc["fields"]) == {"publisher_identity", "training_data", "training_pipeline",
                                  "eval_summary", "lineage"}
    for grade in doc["fields"].values():
        assert grade["status"] in ("verified", "declared", "missing")
        assert all(set(e) >= {"location", "excerpt"} for e in grade["evidence"])
    assert set(doc["claims"][0]) >= {"task", "dataset", "split", "metric", "value", "n_shot",
                                     "verified", "location"}
    assert set(doc["license"]) >= {"id", "verdict", "link"}
    assert doc["license"]["verdict"] in ("allowed", "needs-legal", "denied", "missing")


def test_a_readme_file_and_exit_one_when_failed(tmp_path: Path, checklists: Path) -> None:
    done = run(str(CARDS / "template_bare.md"), "--json", checklists=checklists)
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["status"] == "failed" and doc["card"]["path"] == "template_bare.md"


def test_warned_exits_zero_and_human_output_goes_to_stderr(checklists: Path) -> None:
    done = run(str(CARDS / "trainer_bare.md"), checklists=checklists)
    assert done.returncode == 0
    assert done.stdout == ""
    assert "card warned" in done.stderr and "Training pipeline" in done.stderr
    assert "base-model-not-approved" in done.stderr


def test_repo_id_option_runs_the_name_check(tmp_path: Path, checklists: Path) -> None:
    done = run(str(CARDS / "vendor_full.md"), "--repo-id", "acme-1abs/acme-7b", "--json",
               checklists=checklists)
    assert done.returncode == 1
    assert json.loads(done.stdout)["lookalike"][0]["resembles"] == "acme-labs"


def test_no_such_path_is_a_usage_error(tmp_path: Path, checklists: Path) -> None:
    done = run(str(tmp_path / "nope"), "--json", checklists=checklists)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "no such file or folder" in lines[0] and "nope" in lines[0]
