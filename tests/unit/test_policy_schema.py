"""A policy typo is refused when the policy loads, never read as something weaker.

Each case writes one mistake into a copy of the shipped checklists and expects one line naming
the file, the key path and what the key takes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from curator.core.errors import UsageError
from curator.core.policy import Policy, checklists_dir
from curator.core.policy_schema import PolicyDocument, problems


@pytest.fixture()
def checklists(tmp_path: Path) -> Path:
    folder = tmp_path / "checklists"
    shutil.copytree(checklists_dir(), folder)
    return folder


def _write(folder: Path, section: str, key: str, value: Any) -> None:
    path = folder / "default.yaml"
    data = yaml.safe_load(path.read_text())
    data[section][key] = value
    path.write_text(yaml.safe_dump(data))


def _refusal(folder: Path) -> str:
    with pytest.raises(UsageError) as caught:
        Policy.load(folder)
    line = str(caught.value.diagnostics())
    assert "\n" not in line
    assert str(folder / "default.yaml") in line
    return line


def test_block_on_without_brackets_is_refused(checklists: Path) -> None:
    _write(checklists, "decision", "block_on", "failed")
    assert "default.yaml: decision.block_on must be a list" in _refusal(checklists)


def test_unwaivable_as_a_string_is_refused(checklists: Path) -> None:
    _write(checklists, "decision", "unwaivable", "fetch")
    assert "default.yaml: decision.unwaivable must be a list" in _refusal(checklists)


def test_quoted_false_is_not_a_bool(checklists: Path) -> None:
    _write(checklists, "decision", "separation_of_duties", "false")
    line = _refusal(checklists)
    assert "default.yaml: decision.separation_of_duties must be true or false" in line
    assert "'false'" in line


def test_safe_globals_as_a_string_is_refused(checklists: Path) -> None:
    _write(checklists, "scan", "safe_globals", "sklearn.*")
    assert "default.yaml: scan.safe_globals must be a list" in _refusal(checklists)


def test_a_misspelt_key_names_the_closest_one(checklists: Path) -> None:
    _write(checklists, "scan", "timout_seconds", 60)
    assert ("default.yaml: scan.timout_seconds is not a known key; did you mean 'timeout_seconds'?"
            in _refusal(checklists))


def test_a_negative_limit_is_refused(checklists: Path) -> None:
    _write(checklists, "fetch", "max_file_bytes", -1)
    assert "default.yaml: fetch.max_file_bytes must be a number >= 0" in _refusal(checklists)


@pytest.mark.parametrize(("section", "key", "value", "expected"), [
    ("decision", "block_on", ["failed", "erored"], "decision.block_on[1] must be one of"),
    ("decision", "unwaivable", ["fech"], "decision.unwaivable[0] must be one of"),
    ("scan", "scanners", ["modelscan", "clamav"], "scan.scanners[1] must be one of"),
    ("scan", "max_depth", True, "scan.max_depth must be a whole number"),
    ("scan", "timeout_seconds", "600", "scan.timeout_seconds must be a number"),
    ("scan", "modelaudit_skip_state_dicts", "yes", "must be true or false"),
    ("scan", "tool_severity", {"modelaudit": {"S201": "hihg"}}, "scan.tool_severity.modelaudit.S201"),
    ("card", "lookalike", {"protectd": []}, "card.lookalike.protectd is not a known key; did you mean"),
    ("eval", "sandbox", "off", "eval.sandbox must be one of"),
    ("quarterly", "fail_on", "verify", "quarterly.fail_on must be a list"),
    ("registry", "retries", -2, "registry.retries must be a number >= 0"),
    ("decision", "approvals_required", 0, "decision.approvals_required must be a number >= 1"),
])
def test_the_class_of_typo_is_refused(checklists: Path, section: str, key: str, value: Any,
                                      expected: str) -> None:
    _write(checklists, section, key, value)
    assert expected in _refusal(checklists)


def test_an_unknown_stage_in_stages_is_refused(checklists: Path) -> None:
    path = checklists / "default.yaml"
    data = yaml.safe_load(path.read_text())
    data["stages"] = ["fetch", "scna"]
    path.write_text(yaml.safe_dump(data))
    assert "default.yaml: stages[1] must be one of" in _refusal(checklists)


def test_a_misspelt_section_names_the_closest_one(checklists: Path) -> None:
    path = checklists / "default.yaml"
    data = yaml.safe_load(path.read_text())
    data["decison"] = data.pop("decision")
    path.write_text(yaml.safe_dump(data))
    assert "decison is not a known key; did you mean 'decision'?" in _refusal(checklists)


def test_the_shipped_policy_is_sound() -> None:
    data = yaml.safe_load((checklists_dir() / "default.yaml").read_text())
    assert problems(data) == []
    Policy.load(checklists_dir())


def test_every_key_a_reader_takes_is_in_the_schema() -> None:
    """The schema gates the readers: a key one reads that the schema lacks would be refused."""
    from curator.decision.rules import RULE_KEYS
    from curator.quarterly.settings import KEYS as QUARTERLY_KEYS
    from curator.registry import SECTION_KEYS as REGISTRY_KEYS
    from curator.stages.card.grade import SECTION_KEYS as CARD_KEYS
    from curator.stages.eval.settings import SECTION_KEYS as EVAL_KEYS
    from curator.stages.scan.config import _KEYS as SCAN_KEYS
    from curator.stages.signature import SECTION_KEYS as SIGNATURE_KEYS

    fields = PolicyDocument.model_fields
    readers = {"scan": SCAN_KEYS, "card": CARD_KEYS, "eval": EVAL_KEYS, "signature": SIGNATURE_KEYS,
               "decision": RULE_KEYS, "registry": REGISTRY_KEYS, "quarterly": QUARTERLY_KEYS}
    for section, keys in readers.items():
        model = fields[section].annotation.__args__[0]  # type: ignore[union-attr]
        assert set(model.model_fields) == set(keys), section


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "curator", *args], capture_output=True, text=True,
                          env=dict(os.environ), timeout=120, check=False)


def test_policy_check_passes_the_shipped_folder() -> None:
    done = _cli("policy", "check", str(checklists_dir()))
    assert done.returncode == 0, done.stderr
    assert "the policy is sound" in done.stderr


def test_policy_check_prints_every_problem_and_exits_1(checklists: Path) -> None:
    _write(checklists, "decision", "block_on", "failed")
    _write(checklists, "scan", "safe_globals", "sklearn.*")
    (checklists / "publishers.yaml").write_text("publishers: oops\n")
    done = _cli("policy", "check", str(checklists), "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False
    lines = report["problems"]
    assert any("decision.block_on must be a list" in line for line in lines)
    assert any("scan.safe_globals must be a list" in line for line in lines)
    assert any("publishers.yaml" in line for line in lines)
    plain = _cli("policy", "check", str(checklists))
    assert plain.returncode == 1
    assert "decision.block_on" in plain.stderr and "scan.safe_globals" in plain.stderr


def test_a_command_refuses_a_typo_with_exit_2(checklists: Path, tmp_path: Path) -> None:
    _write(checklists, "decision", "block_on", "failed")
    (tmp_path / "notes.txt").write_text("hello\n")
    done = subprocess.run([sys.executable, "-m", "curator", "scan", str(tmp_path / "notes.txt")],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "CURATOR_CHECKLISTS": str(checklists),
                               "CURATOR_HOME": str(tmp_path / "home")})
    assert done.returncode == 2, done.stderr
    assert "default.yaml: decision.block_on must be a list" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
